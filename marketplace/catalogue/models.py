"""The catalogue: parts, vendors' listings with their price breaks and price history, and each
vendor's order terms (shipping, free-shipping threshold, minimum order)."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from marketplace.catalogue.units import normalise_parameters
from organizations.models import Organization

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
            # The same ranges over the listings priced in another currency than the platform's
            # (a few %): search compares prices converted into the buyer's currency and reads one
            # range per currency (docs/search.md); without these, the minority's wider native range
            # would be read through the majority's rows.
            *[models.Index(fields=fields, condition=~Q(currency=Currency.CNY), name=f"listing_fx_{name}_idx")
              for fields, name in ((["category_key", "max_unit_price"], "cat_max"), (["category_key", "min_unit_price"], "cat_min"),
                                   (["category_key", "min_spend"], "cat_spend"), (["max_unit_price"], "max"),
                                   (["min_unit_price"], "min"), (["min_spend"], "spend"))],
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
