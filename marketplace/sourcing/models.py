"""Quotes (a kit or BOM sourced at a batch size: lines, allocations, purchase orders per vendor)
and assembly offers (awarded assembly bids, which quotes use like any other offer)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.catalogue.models import MONEY, UNIT_PRICE, Currency, Listing, Part
from marketplace.kits.models import Kit
from organizations.models import Organization


class Quote(models.Model):
    """A priced snapshot of a kit at a batch size; orders placed from it use its prices."""

    kit = models.ForeignKey(Kit, on_delete=models.PROTECT, related_name="quotes")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="quotes")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    quantity = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, choices=Currency.choices)
    components_cost = models.DecimalField(**MONEY)
    assembly_cost = models.DecimalField(**MONEY)
    design_fees = models.DecimalField(**MONEY)
    nre = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    unit_cost = models.DecimalField(**MONEY)
    lead_time_days = models.PositiveIntegerField(default=0)
    shipping_cost = models.DecimalField(default=0, **MONEY)
    optimality_gap = models.DecimalField(max_digits=9, decimal_places=6, default=0,
                                         help_text="Proven: (total − lower bound) ÷ total of the sourcing; 0 = optimal.")
    options = models.JSONField(default=dict, blank=True, help_text="The buyer's sourcing options, as validated.")
    nre_paid = models.JSONField(default=list, blank=True, help_text=(
        "Kit revisions whose one-time NRE the buyer had already paid: left out of this quote and its order "
        '([{"kit", "name", "amount", "currency", "order"}]).'))
    fx = models.JSONField(default=dict, blank=True, help_text=(
        "The exchange-rate snapshot the quote priced at: rates into its currency, their FxRate ids, "
        "the time, and currencies left out for want of a rate."))
    valid_until = models.DateTimeField()
    # The buyer's awarded assembly bid used for the kit itself (None: the kit's own factory).
    assembly_offer = models.ForeignKey("marketplace.AssemblyOffer", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="quotes")
    # `"assembly": "auto"`: the factory's rate card the engine chose for the kit itself, and why
    # (`assembly`: the card's items, the next best factory and the difference; docs/quotes.md).
    rate_card = models.ForeignKey("marketplace.RateCard", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="quotes")
    assembly = models.JSONField(default=dict, blank=True, help_text=(
        "How the kit itself is assembled: mode (author, auto, none) and, for auto, the chosen factory, "
        "the card's items, the runner-up and the difference."))
    unsourced = models.JSONField(default=list, blank=True,
                                 help_text="BOM quotes: [{line, mpn, quantity}] for lines no part was matched to.")
    remainder_of = models.PositiveIntegerField(null=True, blank=True, help_text=(
        "A quote for the remainder of this order (its id): only the parts the order still lacks, no "
        "assembly, design fees or NRE (the order paid those)."))
    held = models.JSONField(default=dict, blank=True, help_text=(
        "Purchase plans: units of each part (by id) the buyer's own stock covered, left out of the sourcing."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="quote_quantity_positive")]
        indexes = [models.Index(fields=["organization", "-created_at"], name="quote_org_created_idx")]

    def __str__(self) -> str:
        return f"Quote {self.pk}: {self.quantity} × {self.kit}"

    @property
    def optimality_gap_percent(self):
        return self.optimality_gap * 100

    @property
    def held_units(self) -> dict[int, int]:
        """`held` with integer keys: what the buyer's stock covered, by part id."""
        return {int(p): int(q) for p, q in (self.held or {}).items()}

    @property
    def has_shortages(self) -> bool:
        return any(line.shortfall for line in self.lines.all())

    @property
    def lacks_parts(self) -> bool:
        """Short of stock, or (BOM quotes) lines no catalogue part matched: one rule for both, an
        order of the whole quote is refused and the buyer is asked (`order_place`)."""
        return self.has_shortages or any(int(row.get("quantity") or 0) >= 1 for row in self.unsourced or [])

    @property
    def fx_as_of(self):
        """When the quote's exchange rates were read (None for a quote that used none)."""
        from django.utils.dateparse import parse_datetime

        return parse_datetime((self.fx or {}).get("as_of") or "")

    @property
    def fx_rate_rows(self) -> list[dict]:
        """The snapshot's rates for display: [{currency, rate, valid_from}] (valid_from None on
        quotes saved before it was recorded)."""
        from django.utils.dateparse import parse_datetime

        fx = self.fx or {}
        since = fx.get("valid_from") or {}
        return [{"currency": c, "rate": Decimal(rate), "valid_from": parse_datetime(since.get(c) or "")}
                for c, rate in sorted((fx.get("rates") or {}).items())]


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    needed_qty = models.PositiveIntegerField()
    cost = models.DecimalField(**MONEY)
    shortfall = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["quote", "position", "id"]


class QuoteAllocation(models.Model):
    line = models.ForeignKey(QuoteLine, on_delete=models.CASCADE, related_name="allocations")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="+")
    vendor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", help_text="May be a substitute.")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**UNIT_PRICE)
    extended_price = models.DecimalField(max_digits=18, decimal_places=6)

    class Meta:
        ordering = ["line", "id"]


class QuoteVendor(models.Model):
    """One purchase order the quote priced: what it buys from the vendor and the shipping it pays."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="vendors")
    vendor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    subtotal = models.DecimalField(**MONEY)
    shipping = models.DecimalField(default=0, **MONEY)
    lead_time_days = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["quote", "vendor_id"]
        constraints = [models.UniqueConstraint(fields=["quote", "vendor"], name="quotevendor_unique_quote_vendor")]


class AssemblyOffer(models.Model):
    """An awarded assembly bid: the kit's assembly for this buyer (instead of the kit's own
    factory) in the buyer's quotes until it expires. Unit-cost breaks are the bid line's."""

    buyer = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="assembly_offers")
    kit = models.ForeignKey("marketplace.Kit", on_delete=models.PROTECT, related_name="assembly_offers")
    factory = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="assembly_offers_made")
    bid_line = models.OneToOneField("marketplace.BidLine", on_delete=models.PROTECT, related_name="assembly_offer")
    setup_cost = models.DecimalField(default=0, **MONEY)
    lead_time_days = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["buyer", "kit", "expires_at"], name="assemblyoffer_buyer_kit_idx")]
