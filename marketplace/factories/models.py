"""What suppliers can do: declared categories and processes (capabilities), weekly assembly
capacity and its bookings."""

from django.db import models
from django.db.models import Q

from organizations.models import Organization

PROCESSES = ("smt", "through_hole", "box_build", "testing")
PROCESS_CHOICES = (*PROCESSES, "tht")  # what a card or a quote may name (tht: through-hole, as makers write it)
PROCESS_LABELS = {"smt": "SMT", "through_hole": "Through-hole", "box_build": "Box build", "testing": "Testing"}


class SupplierProfile(models.Model):
    """What a supplier declares beyond its catalogue: the part categories it can source (RFQs in
    them reach it) and, for factories, capabilities and weekly assembly capacity."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="market_profile")
    categories = models.JSONField(default=list, blank=True, help_text="Part categories it sources, e.g. [\"MCU\"]")
    smt = models.BooleanField("SMT", default=False)
    through_hole = models.BooleanField(default=False)
    box_build = models.BooleanField(default=False)
    testing = models.BooleanField(default=False)
    min_batch = models.PositiveIntegerField(default=1)
    max_batch = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no upper limit.")
    weekly_capacity = models.PositiveIntegerField(default=0, help_text="Boards assembled per week; 0 = not declared.")
    lead_time_days = models.PositiveIntegerField(default=0, help_text="Days before a new job can start.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(min_batch__gte=1), name="supplierprofile_min_batch_positive"),
            models.CheckConstraint(condition=Q(max_batch__isnull=True) | Q(max_batch__gte=models.F("min_batch")),
                                   name="supplierprofile_batch_range"),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.organization_id}"

    @property
    def processes(self) -> list[str]:
        return [p for p in PROCESSES if getattr(self, p)]

    @property
    def process_labels(self) -> list[str]:
        return [PROCESS_LABELS[p] for p in self.processes]


class CapacityBooking(models.Model):
    """Assembly units of one order booked in one week (Monday) of a factory's capacity."""

    factory = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="capacity_bookings")
    order = models.ForeignKey("marketplace.Order", on_delete=models.CASCADE, related_name="capacity_bookings")
    week = models.DateField(help_text="The Monday of the week.")
    units = models.PositiveIntegerField()
    released_at = models.DateTimeField(null=True, blank=True, help_text="Set when the order's assembly was cancelled.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["factory", "week", "id"]
        constraints = [models.CheckConstraint(condition=Q(units__gte=1), name="capacitybooking_units_positive")]
        indexes = [models.Index(fields=["factory", "week"], name="capbooking_factory_week_idx")]


class RateCard(models.Model):
    """A factory's published assembly price, JLCPCB-style: a setup fee per batch, a price per
    placement (solder joint of a populated part) and a loading fee per unique part the factory does
    not stock itself. Publishing a new card adds a version; quotes keep the version they used."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="rate_cards")
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    currency = models.CharField(max_length=3)
    setup_fee = models.DecimalField(max_digits=14, decimal_places=2)
    per_placement = models.DecimalField(max_digits=14, decimal_places=6)
    per_unique_part = models.DecimalField(max_digits=14, decimal_places=2)
    processes = models.JSONField(default=list, help_text='What it assembles, e.g. ["smt", "through_hole"].')
    min_batch = models.PositiveIntegerField(default=1)
    max_batch = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no upper limit.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="ratecard_unique_version"),
            models.UniqueConstraint(fields=["organization"], condition=Q(is_current=True), name="ratecard_one_current"),
            models.CheckConstraint(condition=Q(setup_fee__gte=0) & Q(per_placement__gte=0) & Q(per_unique_part__gte=0),
                                   name="ratecard_prices_not_negative"),
            models.CheckConstraint(condition=Q(min_batch__gte=1), name="ratecard_min_batch_positive"),
            models.CheckConstraint(condition=Q(max_batch__isnull=True) | Q(max_batch__gte=models.F("min_batch")),
                                   name="ratecard_batch_range"),
        ]

    def __str__(self) -> str:
        return f"Rate card v{self.version} of {self.organization_id}"

    @property
    def process_labels(self) -> list[str]:
        return [PROCESS_LABELS.get(p, p) for p in self.processes]

    def takes_batch(self, boards: int) -> bool:
        return self.min_batch <= boards and (self.max_batch is None or boards <= self.max_batch)
