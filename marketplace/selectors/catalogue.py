"""Catalogue reads: parts and the listing search with prices at a quantity, in the database."""

import re

from django.db.models import Case, DecimalField, ExpressionWrapper, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Upper

from organizations.models import Organization
from marketplace.models import Listing, Part, PriceBreak, normalize_mpn

LISTING_ORDERINGS = {
    "unit_price_at_qty": [F("unit_price_at_qty").asc(nulls_last=True), "lead_time_days", "id"],
    "-unit_price_at_qty": [F("unit_price_at_qty").desc(nulls_last=True), "id"],
    "extended_price": [F("extended_price").asc(nulls_last=True), "lead_time_days", "id"],
    "lead_time_days": ["lead_time_days", "id"],
    "-stock": ["-stock", "id"],
    "stock": ["stock", "id"],
    "-updated_at": ["-updated_at", "-id"],
    "id": ["id"],
}
PARAMETER_KEY = re.compile(r"^[A-Za-z0-9_]{1,40}$")


def parse_parameters(text: str) -> dict[str, str]:
    """`package:QFN32, radio:BLE` → {"package": "QFN32", "radio": "BLE"} (unknown shapes ignored)."""
    pairs = (pair.split(":", 1) for pair in text[:300].split(",") if ":" in pair)
    return {key.strip(): value.strip() for key, value in pairs if PARAMETER_KEY.match(key.strip())}


def part_list(*, q: str | None = None, mpn: str | None = None, category: str | None = None) -> QuerySet[Part]:
    qs = Part.objects.all()
    if mpn and (key := normalize_mpn(mpn)):
        qs = qs.filter(mpn_normalized__startswith=key)
    if q:
        qs = qs.filter(_keyword_q(q, prefix=""))
    if category:
        qs = qs.filter(category__iexact=category)
    return qs.order_by("manufacturer", "mpn", "id")


def _keyword_q(q: str, *, prefix: str) -> Q:
    """Each word must match the MPN, the manufacturer or the description."""
    cond = Q()
    for word in q.split()[:6]:
        word_q = Q(**{f"{prefix}manufacturer__iexact": word}) | Q(**{f"{prefix}description__icontains": word})
        if key := normalize_mpn(word):
            word_q |= Q(**{f"{prefix}mpn_normalized__contains": key})
        cond &= word_q
    return cond


def listing_visible_q(viewer: Organization | None) -> Q:
    """Listings from verified vendors (the listing's copy of the flag: no join), plus the
    viewer's own."""
    visible = Q(vendor_verified=True)
    return visible | Q(vendor=viewer) if viewer is not None else visible


def listing_list(*, viewer: Organization | None, vendor: Organization | None = None) -> QuerySet[Listing]:
    """Listings the viewer may open (with joins for the API shape); `vendor` narrows to one
    vendor (a supplier's own listings include inactive ones)."""
    qs = Listing.objects.select_related("vendor", "part").prefetch_related(
        Prefetch("price_breaks", queryset=PriceBreak.objects.order_by("min_qty"))
    )
    if vendor is not None and viewer is not None and vendor.pk == viewer.pk:
        return qs.filter(vendor=vendor)
    qs = qs.filter(listing_visible_q(viewer), is_active=True)
    return qs.filter(vendor=vendor) if vendor is not None else qs


def listing_search(
    *,
    viewer: Organization | None,
    q: str | None = None,
    mpn: str | None = None,
    category: str | None = None,
    vendor_id: int | None = None,
    currency: str | None = None,
    in_stock: bool = False,
    qty: int | None = None,
    parameters: dict[str, str] | None = None,
    ordering: str | None = None,
) -> QuerySet[Listing]:
    """Active, visible listings. With `qty` every row carries `order_qty` (qty raised to the
    MOQ, then up to the multiple), `unit_price_at_qty` (the largest break ≤ order_qty) and
    `extended_price`, all computed in SQL so ordering by them works on the whole catalogue; the
    price lookup is an index probe on (listing, min_qty)."""
    qs = listing_list(viewer=viewer).filter(is_active=True)
    if mpn and (key := normalize_mpn(mpn)):
        qs = qs.filter(part__mpn_normalized__startswith=key)
    if q:
        qs = qs.filter(_keyword_q(q, prefix="part__"))
    if category:
        qs = qs.filter(category_key=Upper(Value(category)))  # the part's category, copied (indexed with prices)
    if vendor_id:
        qs = qs.filter(vendor_id=vendor_id)
    if currency:
        qs = qs.filter(currency=currency)
    for key, value in (parameters or {}).items():
        if PARAMETER_KEY.match(key):
            qs = qs.filter(**{f"part__parameters__{key}": value})
    if qty:
        wanted = Value(int(qty))
        raised = Case(When(moq__gt=wanted, then=F("moq")), default=wanted)
        qs = qs.annotate(order_qty=(raised + F("multiple") - 1) / F("multiple") * F("multiple"))
        price = (PriceBreak.objects.filter(listing=OuterRef("pk"), min_qty__lte=OuterRef("order_qty"))
                 .order_by("-min_qty").values("unit_price")[:1])
        qs = qs.annotate(unit_price_at_qty=Subquery(price, output_field=DecimalField(max_digits=14, decimal_places=6)))
        qs = qs.annotate(extended_price=ExpressionWrapper(F("order_qty") * F("unit_price_at_qty"),
                                                         output_field=DecimalField(max_digits=24, decimal_places=6)))
        if in_stock:
            qs = qs.filter(stock__gte=F("order_qty"))
    elif in_stock:
        qs = qs.filter(stock__gt=0)
    if ordering not in LISTING_ORDERINGS or (not qty and "price" in ordering):
        ordering = "unit_price_at_qty" if qty else "id"
    qs = qs.order_by(*LISTING_ORDERINGS[ordering])
    if qty and category and ordering in PRICE_BOUNDED_ORDERINGS:
        return PriceBoundedSearch.wrap(qs, category=category)
    return qs


PRICE_BOUNDED_ORDERINGS = ("unit_price_at_qty", "-unit_price_at_qty")


class PriceBoundedSearch(QuerySet):
    """A search at a quantity ordered by the price at that quantity, whose pages skip pricing
    every match (a category can hold 100k+ listings).

    A listing's price at any quantity lies between its cheapest and its dearest break
    (`min_unit_price`, `max_unit_price`). For the first `n` rows in ascending order, take any `T`
    such that at least `n` matches that have a price at the quantity have `max_unit_price` ≤ T: those
    `n` cost ≤ T, so the first `n` rows all cost ≤ T and have `min_unit_price` ≤ T. Pricing only
    the matches with `min_unit_price` ≤ T (an index range on (category_key, min_unit_price)) gives
    the same rows in the same order. T is found among the category's listings with the lowest
    `max_unit_price` (an index range on (category_key, max_unit_price): 5 × n of them, then 20 × n, 80 × n),
    filtered by the full search. Descending is the mirror image. If those hold fewer
    than `n` matches, or the queryset was re-ordered, it pages as an ordinary queryset."""

    _bounded_order: tuple = ()
    _category_key: str = ""
    SAMPLES = (5, 20, 80)  # look for T among the category's (5, 20, 80) × depth cheapest listings
    MAX_CANDIDATES = 5000

    def _clone(self):
        clone = super()._clone()
        clone._bounded_order, clone._category_key = self._bounded_order, self._category_key
        return clone

    @classmethod
    def wrap(cls, qs: QuerySet, *, category: str) -> "PriceBoundedSearch":
        bounded = cls(model=qs.model, query=qs.query.chain(), using=qs._db, hints=qs._hints)
        bounded._prefetch_related_lookups = qs._prefetch_related_lookups
        bounded._bounded_order, bounded._category_key = qs.query.order_by, category
        return bounded

    def count(self) -> int:
        if self._result_cache is None and self._category_key:
            # Same rows (category_key is the part's category, upper-cased); with the part's own
            # indexed category the planner counts from the category's parts.
            return super(PriceBoundedSearch, self.filter(part__category__iexact=self._category_key)).count()
        return super().count()

    def __getitem__(self, k):
        if (isinstance(k, slice) and k.step is None and k.stop is not None and 0 < k.stop and self._result_cache is None
                and self.query.order_by == self._bounded_order and "order_qty" in self.query.annotations):
            narrowed = self._within_price_bound(k.stop)
            if narrowed is not None:
                return super(PriceBoundedSearch, narrowed).__getitem__(k)
        return super().__getitem__(k)

    def _within_price_bound(self, depth: int) -> QuerySet | None:
        ascending = not self._bounded_order[0].descending
        bound_field, other = ("max_unit_price", "min_unit_price") if ascending else ("min_unit_price", "max_unit_price")
        order = F(bound_field).asc() if ascending else F(bound_field).desc(nulls_last=True)
        category = Listing.objects.filter(category_key=Upper(Value(self._category_key)), is_active=True)
        priced = self.filter(first_break_qty__lte=F("order_qty"))
        # Ids are fetched first and passed as lists: with them the planner starts from these few
        # listings instead of from every part that matches the keywords.
        for factor in self.SAMPLES:
            size = factor * depth
            sample = list(category.order_by(order).values_list("pk", flat=True)[:size])
            bound = list(priced.filter(pk__in=sample).order_by(order).values_list(bound_field, flat=True)[depth - 1:depth])
            if bound and bound[0] is not None:
                break
            if len(sample) < size:
                return None  # the whole category was looked at
        else:
            return None
        # Ordered, so that the range is read from the (category_key, other bound) index.
        candidates = list(category.filter(**{f"{other}__{'lte' if ascending else 'gte'}": bound[0]})
                          .order_by(other if ascending else f"-{other}").values_list("pk", flat=True)[:self.MAX_CANDIDATES + 1])
        if len(candidates) > self.MAX_CANDIDATES:
            return self.filter(**{f"{other}__{'lte' if ascending else 'gte'}": bound[0]})
        return self.filter(pk__in=candidates)
