"""Catalogue reads: parts and the listing search with prices at a quantity, in the database."""

import re

from django.db.models import Case, DecimalField, ExpressionWrapper, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When

from marketplace.models import Listing, Organization, Part, PriceBreak, normalize_mpn

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
    """Listings from verified vendors, plus the viewer's own."""
    visible = Q(vendor__verified=True)
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
        qs = qs.filter(part__category__iexact=category)
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
    return qs.order_by(*LISTING_ORDERINGS[ordering])
