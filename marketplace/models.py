from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from organizations.models import Organization


# --- Catalogue ---------------------------------------------------------------------------------

MONEY = {"max_digits": 14, "decimal_places": 2}
UNIT_PRICE = {"max_digits": 14, "decimal_places": 6}  # passives cost fractions of a cent


class Currency(models.TextChoices):
    CNY = "CNY", "Chinese yuan"
    USD = "USD", "US dollar"


def normalize_mpn(mpn: str) -> str:
    """Search key for a manufacturer part number: upper case, only letters and digits, so that
    `esp32-c3-mini-1` finds `ESP32-C3-MINI-1` and `ESP32C3MINI1`."""
    return "".join(ch for ch in mpn.upper() if ch.isalnum())


def search_text_of(*, manufacturer: str, mpn: str, category: str, description: str, parameters: dict) -> str:
    """The words a keyword search matches: lower case, punctuation as spaces, padded with spaces so
    ` cap ` matches the whole word (`LIKE '% cap %'`, trigram-indexed on PostgreSQL)."""
    text = " ".join([manufacturer, mpn, normalize_mpn(mpn), category, description,
                     *(str(v) for v in (parameters or {}).values())]).lower()
    words = "".join(ch if ch.isalnum() or ch in ".µ" else " " for ch in text).split()
    return f" {' '.join(words)} "[:2000]


def part_search_fields(part: "Part") -> None:
    """Fill the part's derived search fields (also for bulk inserts, which skip save())."""
    from marketplace.units import normalise_parameters

    part.mpn_normalized = normalize_mpn(part.mpn)
    part.parameter_values = normalise_parameters(part.parameters or {}, category=part.category)
    part.search_text = search_text_of(manufacturer=part.manufacturer, mpn=part.mpn, category=part.category,
                                      description=part.description, parameters=part.parameters)


class Part(models.Model):
    class Lifecycle(models.TextChoices):
        ACTIVE = "active", "Active"
        NRND = "nrnd", "Not recommended for new designs"
        EOL = "eol", "End of life"
        OBSOLETE = "obsolete", "Obsolete"

    manufacturer = models.CharField(max_length=100)
    mpn = models.CharField("MPN", max_length=100)
    mpn_normalized = models.CharField(max_length=100, editable=False)
    category = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=300, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    # Derived in save(): parameters in base units under the quantity's name ({"capacitance": 1e-05})
    # for range filters and facets, and the words keyword search matches.
    parameter_values = models.JSONField(default=dict, db_default={}, editable=False)
    search_text = models.TextField(default="", db_default="", editable=False)
    lifecycle = models.CharField(max_length=10, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["manufacturer", "mpn"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer", "mpn_normalized"], name="part_unique_manufacturer_mpn"),
        ]
        indexes = [
            # varchar_pattern_ops lets PostgreSQL use the index for `LIKE 'ESP32%'` (MPN prefix search).
            models.Index(fields=["mpn_normalized"], name="part_mpn_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["category"], name="part_category_idx"),
            models.Index(Upper("category"), name="part_category_upper_idx"),  # category__iexact
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.mpn}"

    def save(self, *args, **kwargs):
        part_search_fields(self)
        if (update_fields := kwargs.get("update_fields")) is not None:
            kwargs["update_fields"] = {*update_fields, "mpn_normalized", "parameter_values", "search_text"}
        adding = self._state.adding
        super().save(*args, **kwargs)
        if not adding:  # listings search by a copy of the category
            Listing.objects.filter(part=self).exclude(category_key=Upper(models.Value(self.category))).refresh_search_columns()


class ListingQuerySet(models.QuerySet):
    def refresh_search_columns(self) -> int:
        """Recompute the copied search columns of these listings from their part, vendor, MOQ and
        price breaks (one UPDATE). Every write path that changes one of those sources calls it."""
        breaks = PriceBreak.objects.filter(listing=models.OuterRef("pk"))
        return self.update(
            category_key=models.Subquery(Part.objects.filter(pk=models.OuterRef("part_id"))
                                         .values(key=Upper("category"))[:1]),
            vendor_verified=models.Subquery(Organization.objects.filter(pk=models.OuterRef("vendor_id"))
                                            .values("verified")[:1]),
            min_unit_price=models.Subquery(breaks.order_by("unit_price").values("unit_price")[:1]),
            max_unit_price=models.Subquery(breaks.order_by("-unit_price").values("unit_price")[:1]),
            first_break_qty=models.Subquery(breaks.order_by("min_qty").values("min_qty")[:1]),
            min_spend=models.F("moq") * models.Subquery(breaks.order_by("unit_price").values("unit_price")[:1]),
        )


class Listing(models.Model):
    """A vendor's offer of one part: stock on hand (reserved by orders with conditional F()
    updates), MOQ, order multiple and price breaks."""

    class Condition(models.TextChoices):
        NEW = "new", "New, original"
        REFURBISHED = "refurbished", "Refurbished"
        PULLED = "pulled", "Pulled / used"

    vendor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="listings")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="listings")
    stock = models.PositiveIntegerField(default=0)
    moq = models.PositiveIntegerField("MOQ", default=1)
    multiple = models.PositiveIntegerField(default=1, help_text="Order quantities are multiples of this.")
    lead_time_days = models.PositiveIntegerField(default=0, help_text="0 = on the shelf.")
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.CNY)
    condition = models.CharField(max_length=12, choices=Condition.choices, default=Condition.NEW)
    date_code = models.CharField(max_length=20, blank=True)
    location = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    # An awarded RFQ bid line is a listing only `reserved_for`'s quotes use until `expires_at`; it
    # is never on the public market (is_active stays False), so every public read skips it.
    reserved_for = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Search columns copied from the part, the vendor and the price breaks (kept in step by
    # `listing_search_columns_refresh`), so browsing a category sorted by the price at a quantity
    # can find its top page by a threshold scan of an index instead of pricing every match.
    category_key = models.CharField(max_length=100, default="", db_default="", editable=False,
                                    help_text="UPPER(part.category)")
    vendor_verified = models.BooleanField(default=False, db_default=False, editable=False)
    min_unit_price = models.DecimalField(null=True, editable=False, **UNIT_PRICE)
    max_unit_price = models.DecimalField(null=True, editable=False, **UNIT_PRICE)
    first_break_qty = models.PositiveIntegerField(null=True, editable=False)
    # The least an order of this listing can cost (MOQ × cheapest break): a lower bound of its
    # extended price at any quantity. (Not a GeneratedField: its system check needs a database
    # connection, which `check --deploy` must not.)
    min_spend = models.DecimalField(null=True, editable=False, max_digits=24, decimal_places=6)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "part"], condition=Q(reserved_for__isnull=True),
                                    name="listing_unique_vendor_part_public"),
            models.CheckConstraint(condition=Q(moq__gte=1), name="listing_moq_positive"),
            models.CheckConstraint(condition=Q(multiple__gte=1), name="listing_multiple_positive"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="listing_stock_not_negative"),
        ]
        indexes = [
            models.Index(fields=["part", "is_active"], name="listing_part_active_idx"),
            models.Index(fields=["vendor", "is_active"], name="listing_vendor_active_idx"),
            # Top of a category by price: the k-th dearest "dearest break" bounds the page; the
            # trailing columns let COUNT(*) of a category be an index-only scan.
            models.Index(fields=["category_key", "max_unit_price", "part", "is_active", "vendor_verified"],
                         name="listing_cat_max_price_idx"),
            models.Index(fields=["category_key", "min_unit_price"], name="listing_cat_min_price_idx"),
            # The same bounds across the whole market, for searches without a category.
            models.Index(fields=["max_unit_price"], name="listing_max_price_idx"),
            models.Index(fields=["min_unit_price"], name="listing_min_price_idx"),
            # Sorting by extended price at small quantities: big MOQs cost more than they look.
            models.Index(fields=["min_spend"], name="listing_min_spend_idx"),
            models.Index(fields=["category_key", "min_spend"], name="listing_cat_min_spend_idx"),
        ]

    objects = ListingQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.part} from {self.vendor_id}"


class PriceBreak(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="price_breaks")
    min_qty = models.PositiveIntegerField()
    unit_price = models.DecimalField(**UNIT_PRICE)

    class Meta:
        ordering = ["listing", "min_qty"]
        constraints = [
            # Also the index behind "unit price at qty": (listing, min_qty) → the largest break ≤ qty.
            models.UniqueConstraint(fields=["listing", "min_qty"], name="pricebreak_unique_listing_qty"),
            models.CheckConstraint(condition=Q(min_qty__gte=1), name="pricebreak_min_qty_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="pricebreak_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"≥{self.min_qty}: {self.unit_price}"


class ListingPriceChange(models.Model):
    """A listing's price breaks as they were from `created_at` on: written by the listing services
    whenever a listing is created or its breaks or currency change; the part page's price history."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="price_changes")
    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    price_breaks = models.JSONField(help_text='[[min_qty, "unit_price"], ...]')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["part", "created_at"], name="pricechange_part_created_idx")]


# --- Kits --------------------------------------------------------------------------------------


class Kit(models.Model):
    """A solution house's design: BOM, sub-kits, an assembly offer and fees. Revisions share a
    `family`; once a quote, order or trial used a revision it is frozen and edits make a new one."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="kits")
    family = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="revisions",
                               help_text="The first revision; null on the first revision itself.")
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True, help_text="The latest revision of its family.")
    frozen = models.BooleanField(default=False, help_text="Used by a quote, order or trial: edits make a new revision.")
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.CNY)
    design_fee_per_unit = models.DecimalField(default=0, **UNIT_PRICE)
    nre = models.DecimalField("NRE", default=0, **MONEY)
    assembly_factory = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="assembly_kits")
    assembly_setup_cost = models.DecimalField(default=0, **MONEY)
    is_active = models.BooleanField(default=True)
    private = models.BooleanField(default=False, help_text="A buyer's own BOM: only its owner sees, quotes and orders it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "-revision"]
        constraints = [
            models.CheckConstraint(condition=Q(design_fee_per_unit__gte=0), name="kit_design_fee_not_negative"),
            models.CheckConstraint(condition=Q(nre__gte=0), name="kit_nre_not_negative"),
            models.CheckConstraint(condition=Q(assembly_setup_cost__gte=0), name="kit_setup_not_negative"),
        ]
        indexes = [models.Index(fields=["owner", "is_current"], name="kit_owner_current_idx")]

    def __str__(self) -> str:
        return f"{self.name} rev {self.revision}"

    @property
    def family_id_or_self(self) -> int:
        return self.family_id or self.pk


class AssemblyBreak(models.Model):
    """Per-unit assembly cost from the kit's factory, at the largest break ≤ the batch size."""

    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="assembly_breaks")
    min_qty = models.PositiveIntegerField()
    unit_cost = models.DecimalField(**UNIT_PRICE)

    class Meta:
        ordering = ["kit", "min_qty"]
        constraints = [
            models.UniqueConstraint(fields=["kit", "min_qty"], name="assemblybreak_unique_kit_qty"),
            models.CheckConstraint(condition=Q(min_qty__gte=1), name="assemblybreak_min_qty_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="assemblybreak_cost_not_negative"),
        ]


class BomLine(models.Model):
    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="bom_lines")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="bom_lines")
    quantity = models.DecimalField(max_digits=12, decimal_places=4, help_text="Per kit unit.")
    designators = models.CharField(max_length=500, blank=True, help_text="e.g. C1,C2,C7")
    attrition = models.DecimalField(max_digits=5, decimal_places=4, default=0, help_text="Fraction: 0.05 = 5 %.")
    substitutes = models.ManyToManyField(Part, blank=True, related_name="substitute_in")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["kit", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bomline_quantity_positive"),
            models.CheckConstraint(condition=Q(attrition__gte=0) & Q(attrition__lt=1), name="bomline_attrition_range"),
        ]


class SubKit(models.Model):
    """Lego-style modules: `kit` contains `quantity` × `child` (cycles are rejected by kit_create)."""

    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="subkits")
    child = models.ForeignKey(Kit, on_delete=models.PROTECT, related_name="used_in")
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["kit", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="subkit_quantity_positive"),
            models.CheckConstraint(condition=~Q(kit=models.F("child")), name="subkit_not_itself"),
            models.UniqueConstraint(fields=["kit", "child"], name="subkit_unique_kit_child"),
        ]


# --- Buyer BOMs --------------------------------------------------------------------------------


class Bom(models.Model):
    """A BOM a buyer uploaded from its EDA tool, matched to catalogue parts line by line. Quoting
    it materialises its matched lines as a private kit revision (`kit`), so quotes, orders and
    trials work on it as on any kit; an edit after a quote makes a new revision."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="boms")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    name = models.CharField(max_length=200)
    filename = models.CharField(max_length=255, blank=True)
    columns = models.JSONField(default=dict, blank=True, help_text="The column mapping used: field -> column name(s).")
    columns_chosen = models.BooleanField(default=False, help_text="The buyer chose the mapping: reuse it for files "
                                                                   "with the same columns.")
    header_row = models.PositiveIntegerField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    dnp_rows = models.PositiveIntegerField(default=0)
    kit = models.ForeignKey(Kit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                            help_text="The current private kit revision of the matched lines.")
    published_kit = models.ForeignKey(Kit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                      help_text="Solution houses: the published kit this BOM edits.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="bom_owner_created_idx")]

    def __str__(self) -> str:
        return self.name


class MatchStatus(models.TextChoices):
    EXACT = "exact", "Exact"
    PROBABLE = "probable", "Probable"
    AMBIGUOUS = "ambiguous", "Ambiguous"
    NONE = "none", "No match"


class BomItem(models.Model):
    """One merged line of an uploaded BOM: what the file said and the part it matched."""

    Status = MatchStatus

    bom = models.ForeignKey(Bom, on_delete=models.CASCADE, related_name="items")
    line = models.PositiveIntegerField(help_text="1-based line number in the BOM.")
    designators = models.TextField(blank=True, help_text="Comma-separated.")
    quantity = models.DecimalField(max_digits=12, decimal_places=4, help_text="Per assembled board.")
    manufacturer = models.CharField(max_length=100, blank=True)
    mpn = models.CharField("MPN", max_length=100, blank=True)
    alternates = models.JSONField(default=list, blank=True, help_text="[[manufacturer, mpn], …] after the first MPN.")
    description = models.CharField(max_length=300, blank=True)
    value = models.CharField(max_length=100, blank=True)
    footprint = models.CharField(max_length=200, blank=True)
    rows = models.JSONField(default=list, blank=True, help_text="The file rows merged into this line.")
    dnp = models.BooleanField(default=False, help_text="Marked do-not-populate by the buyer.")
    status = models.CharField(max_length=10, choices=MatchStatus.choices, default=MatchStatus.NONE)
    part = models.ForeignKey(Part, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    confidence = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    reason = models.CharField(max_length=300, blank=True)
    candidates = models.JSONField(default=list, blank=True)
    substitutes = models.ManyToManyField(Part, blank=True, related_name="+")
    confirmed = models.BooleanField(default=False, help_text="The buyer chose or confirmed the part.")

    class Meta:
        ordering = ["bom", "line"]
        constraints = [
            models.UniqueConstraint(fields=["bom", "line"], name="bomitem_unique_line"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bomitem_quantity_positive"),
        ]

    @property
    def designator_list(self) -> list[str]:
        return [d for d in self.designators.split(",") if d]


# --- Quotes ------------------------------------------------------------------------------------


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
    fx = models.JSONField(default=dict, blank=True, help_text=(
        "The exchange-rate snapshot the quote priced at: rates into its currency, their FxRate ids, "
        "the time, and currencies left out for want of a rate."))
    valid_until = models.DateTimeField()
    # The buyer's awarded assembly bid used for the kit itself (None: the kit's own factory).
    assembly_offer = models.ForeignKey("marketplace.AssemblyOffer", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="quotes")
    unsourced = models.JSONField(default=list, blank=True,
                                 help_text="BOM quotes: [{line, mpn, quantity}] for lines no part was matched to.")
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
    def has_shortages(self) -> bool:
        return any(line.shortfall for line in self.lines.all())

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


class VendorOrderTerms(models.Model):
    """A supplier's terms per purchase order: a shipping fee (waived at or above
    `free_shipping_over`) and a minimum order value. Quotes in other currencies ignore them."""

    vendor = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="order_terms")
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.CNY)
    shipping_fee = models.DecimalField(default=0, **MONEY)
    free_shipping_over = models.DecimalField(null=True, blank=True, **MONEY)
    min_order_value = models.DecimalField(default=0, **MONEY)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(shipping_fee__gte=0), name="orderterms_shipping_not_negative"),
            models.CheckConstraint(condition=Q(min_order_value__gte=0), name="orderterms_min_order_not_negative"),
            models.CheckConstraint(condition=Q(free_shipping_over__isnull=True) | Q(free_shipping_over__gte=0),
                                   name="orderterms_free_over_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Order terms of {self.vendor_id}"


# --- Orders ------------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    CONFIRMED = "confirmed", "Confirmed"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class Order(models.Model):
    """What a buyer placed; split into one PurchaseOrder per vendor. Its status rolls up from
    its purchase orders (the least advanced open one; cancelled when all are)."""

    class Payment(models.TextChoices):
        DEPOSIT = "deposit", "Deposit into escrow"
        CREDIT = "credit", "Supplier credit"

    Status = OrderStatus

    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="orders")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, null=True, blank=True, related_name="orders")
    payment = models.CharField(max_length=10, choices=Payment.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    fx = models.JSONField(default=dict, blank=True, help_text="An order from a quote: the quote's exchange-rate snapshot.")
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    total = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative")]
        indexes = [models.Index(fields=["buyer", "-created_at"], name="order_buyer_created_idx")]

    def __str__(self) -> str:
        return f"Order {self.pk}"


class PurchaseOrder(models.Model):
    Status = OrderStatus

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="purchase_orders")
    vendor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="purchase_orders")
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    total = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_supplier = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="purchaseorder_total_not_negative")]
        indexes = [models.Index(fields=["vendor", "status", "-created_at"], name="po_vendor_status_idx")]

    def __str__(self) -> str:
        return f"PO {self.pk} (order {self.order_id})"

    @property
    def buyer(self) -> Organization:
        return self.order.buyer


class PurchaseOrderLine(models.Model):
    """A listing bought at a price, or (listing null) a service line: assembly, design fee, NRE."""

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**UNIT_PRICE)
    extended_price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["purchase_order", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="poline_quantity_positive")]


# RFQs, bids, capabilities and the inbox live in their own module.
from marketplace.models_rfqs import (  # noqa: E402,F401
    AssemblyOffer,
    Bid,
    BidLine,
    BidPriceBreak,
    CapacityBooking,
    MarketWebhookDelivery,
    MarketWebhookEndpoint,
    Notification,
    Rfq,
    RfqLine,
    SupplierProfile,
)
