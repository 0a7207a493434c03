"""RFQs: buyers ask, suppliers bid, awarded bids become offers. See docs/rfqs.md for the flow."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.catalogue.models import MONEY, UNIT_PRICE
from marketplace.factories.models import PROCESSES
from organizations.models import Organization


class Rfq(models.Model):
    """A buyer's request for quotation: part lines, or one assembly job (a kit at a batch size)."""

    class Kind(models.TextChoices):
        PARTS = "parts", "Parts"
        ASSEMBLY = "assembly", "Assembly"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        AWARDED = "awarded", "Awarded"
        CANCELLED = "cancelled", "Cancelled"

    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="rfqs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PARTS)
    title = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closes_at = models.DateTimeField()
    max_bids = models.PositiveIntegerField(null=True, blank=True, help_text="Close once this many suppliers bid.")
    needed_by = models.DateField(null=True, blank=True)
    source_quote = models.ForeignKey("marketplace.Quote", on_delete=models.SET_NULL, null=True, blank=True, related_name="rfqs")
    source_order = models.ForeignKey("marketplace.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="rfqs")
    # Assembly RFQs: the kit, the batch and the processes it needs.
    kit = models.ForeignKey("marketplace.Kit", on_delete=models.PROTECT, null=True, blank=True, related_name="rfqs")
    quantity = models.PositiveIntegerField(null=True, blank=True)
    needs_smt = models.BooleanField(default=False)
    needs_through_hole = models.BooleanField(default=False)
    needs_box_build = models.BooleanField(default=False)
    needs_testing = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    awarded_at = models.DateTimeField(null=True, blank=True)
    closing_reminded_at = models.DateTimeField(null=True, blank=True, help_text="When 'closing soon' went out.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(max_bids__isnull=True) | Q(max_bids__gte=1), name="rfq_max_bids_positive"),
            models.CheckConstraint(condition=Q(kind="parts") | Q(kit__isnull=False, quantity__gte=1),
                                   name="rfq_assembly_has_kit_and_quantity"),
        ]
        indexes = [
            models.Index(fields=["status", "closes_at"], name="rfq_status_closes_idx"),
            models.Index(fields=["buyer", "-created_at"], name="rfq_buyer_created_idx"),
        ]

    def __str__(self) -> str:
        return f"RFQ {self.pk}: {self.title}"

    @property
    def needed_processes(self) -> list[str]:
        return [p for p in PROCESSES if getattr(self, f"needs_{p}")]


class RfqLine(models.Model):
    """One thing asked for: a part (known to the catalogue or not yet), or the assembly job."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    part = models.ForeignKey("marketplace.Part", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    manufacturer = models.CharField(max_length=100, blank=True)
    mpn = models.CharField("MPN", max_length=100, blank=True)
    mpn_normalized = models.CharField(max_length=100, blank=True, db_index=True)
    category_key = models.CharField(max_length=100, blank=True, help_text="UPPER(category): routes the line")
    quantity = models.PositiveIntegerField()
    target_unit_price = models.DecimalField(null=True, blank=True, **UNIT_PRICE)
    needed_by = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["rfq", "position", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="rfqline_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.manufacturer} {self.mpn}".strip()


class Bid(models.Model):
    """A supplier's answer to an RFQ: one per supplier, revised in place until the RFQ closes."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="bids")
    supplier = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="bids")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    valid_until = models.DateTimeField()
    setup_cost = models.DecimalField(default=0, help_text="Assembly bids: one-time setup.", **MONEY)
    note = models.CharField(max_length=500, blank=True)
    revision = models.PositiveIntegerField(default=1)
    awarded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rfq", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rfq", "supplier"], name="bid_unique_rfq_supplier"),
            models.CheckConstraint(condition=Q(setup_cost__gte=0), name="bid_setup_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Bid {self.pk} by {self.supplier_id} on RFQ {self.rfq_id}"


class BidLine(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(RfqLine, on_delete=models.CASCADE, related_name="bid_lines")
    quantity_available = models.PositiveIntegerField()
    moq = models.PositiveIntegerField("MOQ", default=1)
    multiple = models.PositiveIntegerField(default=1)
    lead_time_days = models.PositiveIntegerField(default=0)
    # Set by the award: the private listing (parts) this line became.
    awarded_listing = models.OneToOneField("marketplace.Listing", on_delete=models.SET_NULL, null=True, blank=True,
                                           related_name="bid_line")

    class Meta:
        ordering = ["bid", "line__position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "line"], name="bidline_unique_bid_line"),
            models.CheckConstraint(condition=Q(quantity_available__gte=1), name="bidline_quantity_positive"),
            models.CheckConstraint(condition=Q(moq__gte=1), name="bidline_moq_positive"),
            models.CheckConstraint(condition=Q(multiple__gte=1), name="bidline_multiple_positive"),
        ]


class BidPriceBreak(models.Model):
    bid_line = models.ForeignKey(BidLine, on_delete=models.CASCADE, related_name="price_breaks")
    min_qty = models.PositiveIntegerField()
    unit_price = models.DecimalField(**UNIT_PRICE)

    class Meta:
        ordering = ["bid_line", "min_qty"]
        constraints = [
            models.UniqueConstraint(fields=["bid_line", "min_qty"], name="bidpricebreak_unique_line_qty"),
            models.CheckConstraint(condition=Q(min_qty__gte=1), name="bidpricebreak_min_qty_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="bidpricebreak_price_not_negative"),
        ]
