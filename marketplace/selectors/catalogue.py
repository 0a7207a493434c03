"""Catalogue reads: parts and the listing search with prices at a quantity, in the database."""

from collections import defaultdict

from django.db.models import Prefetch, Q, QuerySet

from organizations.models import Organization
from marketplace.allocation import Offer
from marketplace.models import Listing, Part, PriceBreak, normalize_mpn
from marketplace.selectors.search import ORDERINGS, keyword_q

LISTING_ORDERINGS = ORDERINGS  # one definition, in selectors/search.py


def part_list(*, q: str | None = None, mpn: str | None = None, category: str | None = None) -> QuerySet[Part]:
    qs = Part.objects.all()
    if mpn and (key := normalize_mpn(mpn)):
        qs = qs.filter(mpn_normalized__startswith=key)
    if q:
        qs = qs.filter(keyword_q(q, prefix=""))
    if category:
        qs = qs.filter(category__iexact=category)
    return qs.order_by("manufacturer", "mpn", "id")


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
        return qs.filter(vendor=vendor, reserved_for__isnull=True)  # awarded RFQ offers are not stock-list rows
    qs = qs.filter(listing_visible_q(viewer), is_active=True)
    return qs.filter(vendor=vendor) if vendor is not None else qs


def search_filters(*, q: str | None = None, mpn: str | None = None, category: str | None = None,
                   vendor_id: int | None = None, currency: str | None = None, in_stock: bool = False,
                   parameters: dict[str, str] | str | None = None, manufacturer: str | None = None,
                   max_lead_time_days: int | None = None):
    """The search's filters from loose inputs (API query parameters, the browser form)."""
    from marketplace.selectors.search import SearchFilters, parse_parameter_filters

    if isinstance(parameters, dict):
        parameters = ",".join(f"{k}:{v}" for k, v in parameters.items())
    return SearchFilters(q=(q or "").strip(), mpn=mpn or "", category=(category or "").strip(),
                         manufacturer=(manufacturer or "").strip(), vendor_id=vendor_id, currency=currency,
                         in_stock=bool(in_stock), max_lead_time_days=max_lead_time_days,
                         parameters=parse_parameter_filters(parameters or ""))


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
    parameters: dict[str, str] | str | None = None,
    ordering: str | None = None,
    display=None,
) -> QuerySet[Listing]:
    """Every matching listing priced at `qty` and sorted — the plain queryset that `offer_search`
    pages without pricing every match (and the reference its tests compare against)."""
    from marketplace.selectors.search import Engine

    filters = search_filters(q=q, mpn=mpn, category=category, vendor_id=vendor_id, currency=currency,
                             in_stock=in_stock, parameters=parameters)
    engine = Engine(viewer=viewer, filters=filters, qty=qty, ordering=ordering, group=False, display=display)
    return engine.ordered(engine.matches()).select_related("vendor", "part").prefetch_related(
        Prefetch("price_breaks", queryset=PriceBreak.objects.order_by("min_qty")))


def offers_from(listings: QuerySet[Listing], rates) -> dict[int, list[Offer]]:
    """The quote engine's offers, by part, for these listings, priced in `rates.currency`
    (`services.quotes.QuoteRates`; each converted currency is added to `rates.used`).

    Two index-shaped reads: the listings (as the caller filtered them), then their price breaks
    by listing in break order. A single join ordered by price break let PostgreSQL, on stale
    statistics, walk every price break in the market for each quote (seconds each)."""
    heads = {row[0]: row for row in listings.values_list(
        "id", "vendor_id", "part_id", "moq", "multiple", "stock", "lead_time_days", "currency")}
    breaks_by_listing: dict[int, list] = defaultdict(list)
    if heads:
        for listing_id, min_qty, unit_price in (PriceBreak.objects.filter(listing_id__in=list(heads))
                                                .order_by("listing_id", "min_qty")
                                                .values_list("listing_id", "min_qty", "unit_price")):
            breaks_by_listing[listing_id].append((min_qty, unit_price))
    offers: dict[int, list[Offer]] = defaultdict(list)
    for listing_id in sorted(breaks_by_listing):  # listing order: ties resolve the same way every time
        head, breaks = heads[listing_id], breaks_by_listing[listing_id]
        if head[7] != rates.currency:
            rates.used.add(head[7])
            breaks = [(q, rates.unit_price(p, head[7])) for q, p in breaks]
        offers[head[2]].append(Offer(*head[:7], tuple(breaks)))
    return offers
