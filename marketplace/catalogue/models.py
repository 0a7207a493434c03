"""The catalogue: parts, vendors' listings with their price breaks and price history, and each
vendor's order terms (shipping, free-shipping threshold, minimum order)."""

import threading

from django.conf import settings
from django.db import connection, connections, models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Upper

from marketplace.catalogue.price_bands import BOUND_COLUMNS, PACK_COLUMNS, SUMMARY_COLUMNS, summarise_with_packs
from marketplace.catalogue.units import measure_tokens, normalise_parameters
from marketplace.catalogue.vocabulary import MAKER, PARAMETER, REBUILD_SQL, WORD, Narrowing, vocabulary_terms, vocabulary_text
from organizations.models import Organization

MONEY = {"max_digits": 14, "decimal_places": 2}
UNIT_PRICE = {"max_digits": 14, "decimal_places": 6}  # passives cost fractions of a cent


class Currency(models.TextChoices):
    CNY = "CNY", "Chinese yuan"
    USD = "USD", "US dollar"


def normalize_mpn(mpn: str) -> str:
    """Search key for a manufacturer part number: upper case, only letters and digits, so that
    `esp32-c3-mini-1` finds `ESP32-C3-MINI-1` and `ESP32C3MINI1`."""
    return "".join(filter(str.isalnum, mpn.upper()))


def search_text_of(*, manufacturer: str, mpn: str, category: str, description: str, parameters: dict) -> str:
    """The words a keyword search matches: lower case, punctuation as spaces, padded with spaces so
    ` cap ` matches the whole word (`LIKE '% cap %'`, trigram-indexed on PostgreSQL).
    Values with units (`10uF`, `10 µF`, a resistance of `4k7`) also appear as one canonical word
    each (`10uf`, `4.7kohm`: units.measure_tokens), which is what a keyword with a unit looks for."""
    raw_values = [str(v) for v in (parameters or {}).values()]
    text = " ".join([manufacturer, mpn, normalize_mpn(mpn), category, description, *raw_values]).lower()
    words = "".join(ch if ch.isalnum() or ch in ".µ" else " " for ch in text).split()
    tokens = measure_tokens(" , ".join([description, *raw_values]),
                            normalise_parameters(parameters or {}, category=category))
    return f" {' '.join([*tokens, *words])} "[:2000]


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
        if not adding:  # listings search by a copy of the category; its vocabulary gains the new words
            Listing.objects.filter(part=self).exclude(category_key=Upper(models.Value(self.category))).refresh_search_columns()
            CategoryVocabulary.objects.add_parts([self.pk])


def listing_search_values(*, category: str, vendor_verified: bool, moq: int, breaks: list[tuple[int, object]]) -> tuple:
    """The copied search columns of one listing, computed in Python the way
    `refresh_search_columns` computes them in SQL, for bulk loads that write them directly:
    (category_key, vendor_verified, min_unit_price, max_unit_price, first_break_qty, min_spend)."""
    prices = [price for _, price in breaks]
    cheapest = min(prices) if prices else None
    return (category.upper(), vendor_verified, cheapest, max(prices) if prices else None,
            min((qty for qty, _ in breaks), default=None), moq * cheapest if cheapest is not None else None)


class ListingQuerySet(models.QuerySet):
    def refresh_search_columns(self) -> int:
        """Recompute the copied search columns of these listings from their part, vendor, MOQ and
        price breaks (one UPDATE). Every write path that changes one of those sources calls it."""
        breaks = PriceBreak.objects.filter(listing=models.OuterRef("pk"))
        # Read first: the update may change what selects the rows (a part's new category).
        part_ids = None if not self.query.where else set(self.values_list("part_id", flat=True))
        updated = self.update(
            category_key=models.Subquery(Part.objects.filter(pk=models.OuterRef("part_id"))
                                         .values(key=Upper("category"))[:1]),
            vendor_verified=models.Subquery(Organization.objects.filter(pk=models.OuterRef("vendor_id"))
                                            .values("verified")[:1]),
            min_unit_price=models.Subquery(breaks.order_by("unit_price").values("unit_price")[:1]),
            max_unit_price=models.Subquery(breaks.order_by("-unit_price").values("unit_price")[:1]),
            first_break_qty=models.Subquery(breaks.order_by("min_qty").values("min_qty")[:1]),
            min_spend=models.F("moq") * models.Subquery(breaks.order_by("unit_price").values("unit_price")[:1]),
        )
        # The parts' price summaries follow their listings (every write path calls this method),
        # and their categories' vocabulary knows their words.
        PartPriceBand.objects.refresh(part_ids=part_ids)
        if part_ids:
            CategoryVocabulary.objects.add_parts(part_ids)
        elif part_ids is None:
            CategoryVocabulary.objects.rebuild()
        return updated


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
    `free_shipping_over`) and a minimum order value (quotes in other currencies ignore them), and
    its promises: confirm within hours, ship within days, a late credit per day with a cap."""

    vendor = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="order_terms")
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.CNY)
    shipping_fee = models.DecimalField(default=0, **MONEY)
    free_shipping_over = models.DecimalField(null=True, blank=True, **MONEY)
    min_order_value = models.DecimalField(default=0, **MONEY)
    # Promises on every purchase order (copied onto it when placed; see orders/promises.py).
    confirm_within_hours = models.PositiveIntegerField(default=48, help_text="Confirm each purchase order within this "
                                                       "many hours, or the market cancels it.")
    ship_within_days = models.PositiveIntegerField(null=True, blank=True, help_text="Ship within this many days of "
                                                   "confirmation; empty: the listing's lead time (at least a day).")
    late_credit_percent_per_day = models.DecimalField(max_digits=5, decimal_places=2, default=0, help_text=(
        "Credit to the buyer per day shipped late, in % of the purchase order."))
    late_credit_cap_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0, help_text=(
        "The most the late credit can reach, in % of the purchase order."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(confirm_within_hours__gte=1, confirm_within_hours__lte=720),
                                   name="orderterms_confirm_hours_range"),
            models.CheckConstraint(condition=Q(late_credit_percent_per_day__gte=0, late_credit_percent_per_day__lte=100,
                                               late_credit_cap_percent__gte=0, late_credit_cap_percent__lte=100),
                                   name="orderterms_late_credit_range"),
            models.CheckConstraint(condition=Q(shipping_fee__gte=0), name="orderterms_shipping_not_negative"),
            models.CheckConstraint(condition=Q(min_order_value__gte=0), name="orderterms_min_order_not_negative"),
            models.CheckConstraint(condition=Q(free_shipping_over__isnull=True) | Q(free_shipping_over__gte=0),
                                   name="orderterms_free_over_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Order terms of {self.vendor_id}"


class StockListImport(models.Model):
    """An uploaded stock list on its way in: previewed on the page, then applied in the request
    (small files) or by a worker with progress (files over STOCK_LIST_SYNC_MAX_ROWS rows). The file
    is kept here, so what is applied is exactly what was previewed, on any web or worker machine."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    vendor = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="stock_list_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    filename = models.CharField(max_length=200, blank=True)
    content = models.BinaryField(help_text="The file as uploaded (CSV or XLSX); emptied once applied.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["vendor", "created_at"], name="stockimport_vendor_created_idx")]

    def __str__(self) -> str:
        return f"stock list {self.filename or self.pk} of {self.vendor_id} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if self.status == self.Status.DONE else int(100 * self.processed_rows / max(self.total_rows, 1))


class PartPriceBandQuerySet(models.QuerySet):
    REBUILD_CHUNK = 5000  # parts per read when the whole market is summarised

    def refresh(self, *, part_ids: set[int] | None = None) -> int:
        """Recompute the price summaries of these parts (None: every part) from their active
        listings of verified vendors, what every search reader sees (`price_bands`): their
        `PartPriceBand` and `PartPackBand` rows. The parts' rows are locked first, in id order, so
        that two writes to one part's listings do not interleave their summaries. Returns the
        `PartPriceBand` rows written."""
        tables = (PartPriceBand, PartPackBand)
        with transaction.atomic():
            rebuilt_indexes: list[str] = []
            if part_ids is None:
                rebuilt_indexes = [d for model in tables for d in _empty_for_rebuild(model)]
                ids = list(Part.objects.order_by("pk").values_list("pk", flat=True))
            else:
                ids = sorted(part_ids)
                list(Part.objects.filter(pk__in=ids).order_by("pk").select_for_update().values_list("pk", flat=True))
                for model in tables:
                    model.objects.filter(part_id__in=ids).delete()
            chunks = [ids[i:i + self.REBUILD_CHUNK] for i in range(0, len(ids), self.REBUILD_CHUNK)]
            written = 0
            for chunk in chunks:
                bands, packs = self._summaries(chunk[0], chunk[-1], set(chunk) if part_ids is not None else None)
                for model, columns, rows in ((PartPriceBand, SUMMARY_COLUMNS, bands), (PartPackBand, PACK_COLUMNS, packs)):
                    if connection.vendor == "postgresql" and len(rows) > 1000:
                        _copy(model, columns, rows)
                    else:
                        model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)
                written += len(bands)
            if rebuilt_indexes:
                with connection.cursor() as cursor:
                    # The rows' deferred foreign-key checks first: an index cannot be built with them pending.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                    for definition in rebuilt_indexes:
                        cursor.execute(definition)
                    for model in tables:  # the new rows' statistics for the planner
                        cursor.execute(f'ANALYZE "{model._meta.db_table}"')
            return written

    @staticmethod
    def _summaries(first: int, last: int, only: set[int] | None) -> tuple[list[dict], list[dict]]:
        listings = Listing.objects.filter(part_id__gte=first, part_id__lte=last, is_active=True, vendor_verified=True)
        breaks = (PriceBreak.objects.filter(listing__in=listings).order_by("listing_id", "min_qty")
                  .values_list("listing_id", "min_qty", "unit_price"))
        return summarise_with_packs(listings.order_by("pk").values_list("pk", "part_id", "currency", "moq", "multiple",
                                                                        "category_key"), breaks, only=only)


def _empty_for_rebuild(model) -> list[str]:
    """Every row of a summary table deleted; on PostgreSQL by TRUNCATE, with the plain indexes
    dropped so that they are built once after the load (14 indexes kept up row by row made a
    1M-listing rebuild crawl). Returns the statements that build them again."""
    if connection.vendor != "postgresql":
        model.objects.all().delete()
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        # Checks deferred to the commit (rows written earlier in this transaction) must run
        # first: TRUNCATE refuses a table with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(f'TRUNCATE "{table}"')
        cursor.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                       "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique", [table])
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes]


def _copy(model, columns: tuple[str, ...], rows: list[dict]) -> None:
    with connection.cursor() as cursor, cursor.copy(
            f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


class PartPriceBand(models.Model):
    """A part's offers in one listing currency, summarised for one band of quantities (bounds of
    the cheapest and dearest offer's unit price and of the cheapest order's extended price,
    `price_bands`): searches sorted by price find their page here and price only the candidates'
    offers exactly. Derived data: rewritten by `refresh_search_columns` with the listings."""

    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    category_key = models.CharField(max_length=100, help_text="UPPER(part.category), as on the listings")
    band = models.PositiveSmallIntegerField(help_text="index into price_bands.TIERS")
    offers = models.PositiveIntegerField(help_text="active listings of verified vendors in this currency")
    best_lo = models.DecimalField(null=True, **UNIT_PRICE)
    best_hi = models.DecimalField(null=True, **UNIT_PRICE)
    best_ub = models.DecimalField(null=True, **UNIT_PRICE)
    dear_lo = models.DecimalField(null=True, **UNIT_PRICE)
    dear_hi = models.DecimalField(null=True, **UNIT_PRICE)
    ext_lo = models.DecimalField(null=True, max_digits=24, decimal_places=6)
    ext_hi = models.DecimalField(null=True, max_digits=24, decimal_places=6)
    order_lo = models.DecimalField(null=True, max_digits=24, decimal_places=6, help_text="the cheapest order in the band, from below")

    objects = PartPriceBandQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["part", "currency", "band"], name="partpriceband_unique")]
        # Each bound in order over the market, and within a category (as the listings' indexes).
        indexes = [*[models.Index(fields=["band", "currency", column, "part"], name=f"partband_{column}_idx")
                     for column in BOUND_COLUMNS],
                   *[models.Index(fields=["band", "currency", "category_key", column, "part"], name=f"partband_cat_{column}_idx")
                     for column in BOUND_COLUMNS]]

    def __str__(self) -> str:
        return f"{self.part_id} {self.currency} band {self.band}"


class PartPackBand(models.Model):
    """A part's offers in one listing currency and pack multiple, for one band of quantities: the
    least break reachable there (`price_bands`). At a quantity q they order at least ⌈q / multiple⌉
    × multiple, so this bounds their extended price exactly where `PartPriceBand.ext_lo` cannot
    (between pack sizes); the threshold walk reads one list per multiple. Derived data, rewritten
    with `PartPriceBand`."""

    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="+", db_index=False)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    category_key = models.CharField(max_length=100, help_text="UPPER(part.category), as on the listings")
    band = models.PositiveSmallIntegerField(help_text="index into price_bands.TIERS")
    multiple = models.PositiveIntegerField()
    unit_lo = models.DecimalField(**UNIT_PRICE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["part", "currency", "band", "multiple"], name="partpackband_unique")]
        indexes = [models.Index(fields=["band", "currency", "multiple", "unit_lo", "part"], name="partpack_unit_lo_idx"),
                   models.Index(fields=["band", "currency", "category_key", "multiple", "unit_lo", "part"],
                                name="partpack_cat_unit_lo_idx")]

    def __str__(self) -> str:
        return f"{self.part_id} {self.currency} band {self.band} ×{self.multiple}"


_VOCABULARY_COPIES: dict[str, dict[int, tuple[str, str, str, str]]] = {}  # database → id → (version, category, kind, text)
_VOCABULARY_LOCK = threading.Lock()
# (database and the rows' versions, the filters) → categories: a search asked again reads no text
_VOCABULARY_ANSWERS: dict[tuple, frozenset[str]] = {}
_VOCABULARY_ANSWERS_MAX = 1024


class CategoryVocabularyQuerySet(models.QuerySet):
    def add_parts(self, part_ids) -> None:
        """These parts' words, parameter keys and makers added to their categories' texts (kept
        when a part changes: the vocabulary only grows). A write whose words are all known already
        (most listing writes) reads and locks nothing more; the texts that gain words are locked in
        (category, kind) order and appended to."""
        terms = vocabulary_terms(Part.objects.filter(pk__in=list(part_ids)).order_by()
                                 .values_list("category", "search_text", "parameter_values", "manufacturer"))
        if not terms:
            return
        known = {(category, kind): text for category, kind, text in self._texts()}
        pending = {key: words for key, words in terms.items()
                   if key not in known or any(f" {w} " not in known[key] for w in words)}
        if not pending:
            return
        with transaction.atomic():
            self.bulk_create([CategoryVocabulary(category_key=c, kind=k) for c, k in sorted(pending)], ignore_conflicts=True)
            keys = Q()
            for category, kind in pending:
                keys |= Q(category_key=category, kind=kind)
            for row in self.filter(keys).order_by("category_key", "kind").select_for_update():
                new = sorted(t for t in pending[(row.category_key, row.kind)] if f" {t} " not in row.terms)
                if new:
                    self.filter(pk=row.pk).update(terms=Concat(F("terms"), Value(" ".join(new) + " ")))

    def rebuild(self) -> int:
        """Every category's texts again, exactly (PostgreSQL: in SQL, ~1 s for 100k parts)."""
        with transaction.atomic():
            self.all().delete()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(REBUILD_SQL)
                    return cursor.rowcount
            terms = vocabulary_terms(Part.objects.values_list("category", "search_text", "parameter_values", "manufacturer")
                                     .iterator(chunk_size=5000))
            self.bulk_create([CategoryVocabulary(category_key=c, kind=k, terms=vocabulary_text(t))
                              for (c, k), t in sorted(terms.items())], batch_size=500)
            return len(terms)

    def _texts(self) -> list[tuple[str, str, str]]:
        return self._snapshot()[1]

    def _snapshot(self) -> tuple[tuple | None, list[tuple[str, str, str]]]:
        """(a key naming this state of the rows, or None; every (category, kind, text)), from this
        process's copy of the rows whose version (PostgreSQL's xmin: new with every write, never
        reused) has not changed; only changed rows are read again (the texts are ~1.5 MB for the
        1M-listing world)."""
        db = connections[self.db]  # the search's database (a replica, when routed there)
        if db.vendor != "postgresql":
            return None, list(self.order_by().values_list("category_key", "kind", "terms"))
        table = CategoryVocabulary._meta.db_table
        with db.cursor() as cursor:
            cursor.execute(f'SELECT id, xmin::text FROM "{table}"')
            versions = dict(cursor.fetchall())
            with _VOCABULARY_LOCK:
                held = _VOCABULARY_COPIES.setdefault(db.settings_dict["NAME"], {})
                stale = [pk for pk, version in versions.items() if held.get(pk, ("",))[0] != version]
                if stale:
                    cursor.execute(f'SELECT id, xmin::text, category_key, kind, terms FROM "{table}" WHERE id = ANY(%s)', [stale])
                    held.update({pk: rest for pk, *rest in cursor.fetchall()})
                for pk in held.keys() - versions.keys():
                    del held[pk]
                key = (db.settings_dict["NAME"], tuple(sorted(versions.items())))
                return key, [(category, kind, text) for version, category, kind, text in held.values()]

    def categories_for(self, *, q_terms: list[list[str]], parameter_keys: list[str], manufacturer: str,
                       mpn_key: str) -> set[str] | None:
        """The categories (UPPER) whose parts can pass these part filters — a superset — or None when
        nothing narrows them (`vocabulary.Narrowing`: one query over the categories' texts)."""
        narrowing = Narrowing(q_terms=q_terms, parameter_keys=parameter_keys, manufacturer=manufacturer, mpn_key=mpn_key)
        if not narrowing.needles:
            return None
        state, texts = self._snapshot()
        # The same filters over the same rows give the same answer (the substring tests over the
        # texts cost ~7 ms at 1M listings): kept per state of the rows, in this process.
        answer_key = None if state is None else (state, repr((q_terms, parameter_keys, manufacturer, mpn_key)))
        if answer_key is not None and answer_key in _VOCABULARY_ANSWERS:
            return set(_VOCABULARY_ANSWERS[answer_key])
        hits: dict[int, set[str]] = {}
        for category, kind, text in texts:
            for i, (needle_kind, needle) in enumerate(narrowing.needles):
                if needle_kind == kind and needle in text:
                    hits.setdefault(i, set()).add(category)
        found = narrowing.categories(hits)
        if answer_key is not None:
            with _VOCABULARY_LOCK:
                if len(_VOCABULARY_ANSWERS) >= _VOCABULARY_ANSWERS_MAX:
                    _VOCABULARY_ANSWERS.clear()
                _VOCABULARY_ANSWERS[answer_key] = frozenset(found)
        return found


class CategoryVocabulary(models.Model):
    """One category's words of the search text (or parameter keys, or makers) as one space-padded
    text: what a search without a category reads to know which categories' price summaries to walk
    (`vocabulary`). Derived, and only grows between rebuilds: kept by the part and listing writes."""

    category_key = models.CharField(max_length=100, help_text="UPPER(part.category)")
    kind = models.CharField(max_length=1, choices=[(WORD, "words"), (PARAMETER, "parameter keys"), (MAKER, "makers")])
    terms = models.TextField(default=" ", help_text="' term term … ', each once")

    objects = CategoryVocabularyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["category_key", "kind"], name="categoryvocabulary_unique")]

    def __str__(self) -> str:
        return f"{self.category_key} ({self.get_kind_display()})"
