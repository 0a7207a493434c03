"""A buyer's stock list, and purchase plans: several BOMs and kits at their own quantities,
summed per part, net of that stock, sourced in one joint plan saved as a quote."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.boms.models import Bom
from marketplace.catalogue.models import MONEY, Part
from marketplace.kits.models import Kit
from marketplace.sourcing.models import Quote
from organizations.models import Organization

MAX_STOCK = 2_000_000_000  # units of one part (the sourcing's largest need)


class BuyerStock(models.Model):
    """Units of one part an organisation holds itself: netted out of its purchase plans."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="buyer_stock")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True, help_text="Where it is (bin, shelf), or anything else.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "part_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "part"], name="buyerstock_unique_org_part"),
            models.CheckConstraint(condition=Q(quantity__lte=MAX_STOCK), name="buyerstock_quantity_max"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × part {self.part_id} held by {self.organization_id}"


class PurchasePlan(models.Model):
    """Several BOMs and kits bought at once: the summed need per part, the buyer's stock taken off
    it, the rest sourced jointly in `quote` (an order from that quote buys the plan), and beside it
    what quoting each source alone would have cost."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="purchase_plans")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    name = models.CharField(max_length=200)
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="purchase_plan")
    use_stock = models.BooleanField(default=True)
    currency = models.CharField(max_length=3)
    separate_total = models.DecimalField(help_text="Each source quoted alone, no stock: the sum of their totals.",
                                         **MONEY)
    separate_shortfall = models.PositiveBigIntegerField(default=0)
    separate_purchase_orders = models.PositiveIntegerField(default=0)
    together_total = models.DecimalField(help_text="All sources planned jointly, before the stock is taken off.",
                                         **MONEY)
    together_shortfall = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="plan_org_created_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def saving(self):
        """What the plan saves against quoting each source alone (negative: it costs more)."""
        return self.separate_total - self.quote.total


class PurchasePlanSource(models.Model):
    """One BOM or kit of a plan at its build quantity, with its own quote's figures (made alone)."""

    plan = models.ForeignKey(PurchasePlan, on_delete=models.CASCADE, related_name="sources")
    position = models.PositiveIntegerField()
    bom = models.ForeignKey(Bom, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kit = models.ForeignKey(Kit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                            help_text="The kit revision planned (a BOM's private kit); null: a BOM with no matched line.")
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    components = models.DecimalField(**MONEY)
    shipping = models.DecimalField(**MONEY)
    services = models.DecimalField(help_text="Assembly, design fees and NRE of its kit tree.", **MONEY)
    total = models.DecimalField(**MONEY)
    shortfall = models.PositiveBigIntegerField(default=0)
    vendors = models.PositiveIntegerField(default=0, help_text="Parts vendors its own quote would order from.")
    unsourced = models.PositiveIntegerField(default=0, help_text="BOM lines with no matched part.")

    class Meta:
        ordering = ["plan", "position"]
        constraints = [models.UniqueConstraint(fields=["plan", "position"], name="plansource_unique_position")]


class PurchasePlanNeed(models.Model):
    """One part of a plan: what all its sources need, what the buyer's stock covered, what is bought."""

    plan = models.ForeignKey(PurchasePlan, on_delete=models.CASCADE, related_name="needs")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    needed = models.PositiveBigIntegerField(help_text="All sources together (rounded up once).")
    from_stock = models.PositiveBigIntegerField(default=0)
    to_buy = models.PositiveBigIntegerField()
    by_source = models.JSONField(default=list, help_text='[{"source": position, "quantity": n}]: each source alone.')
    stock = models.JSONField(default=list, help_text='[{"part", "mpn", "quantity"}]: the stock rows it used (its '
                                                     'own part first, then substitutes).')

    class Meta:
        ordering = ["plan", "position"]
