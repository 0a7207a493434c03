"""Every kind of offer the sourcing engine buys from, in one place: market listings (with their
price breaks), listings awarded to the buyer from RFQ bids, and assembly offers. RFQs write
offers; sourcing only reads them here."""

from collections import defaultdict
from datetime import datetime

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from marketplace.catalogue.models import Listing, PriceBreak
from marketplace.kits.models import Kit
from marketplace.sourcing.allocation import Offer
from marketplace.sourcing.models import AssemblyOffer
from marketplace.sourcing.options import QuoteOptions
from marketplace.sql import InArray
from marketplace.sourcing.rates import QuoteRates
from organizations.models import Organization


def load_offers(*, part_ids: set[int], rates: QuoteRates, buyer: Organization, options: QuoteOptions | None = None
                ) -> dict[int, list[Offer]]:
    """Live offers by part: active, in stock, in a currency with a rate into the quote's (their
    prices converted at it), from verified vendors (never the buyer itself), within the buyer's
    lead time and not from excluded vendors."""
    options = options or QuoteOptions()
    listings = (
        Listing.objects.filter(InArray("part_id", part_ids), is_active=True, stock__gt=0,
                               currency__in=list(rates.rates),
                               vendor_verified=True)  # the listing's copy of the vendor's flag: no join
        .exclude(vendor_id=buyer.pk)
    )
    if options.exclude_vendors:
        listings = listings.exclude(vendor_id__in=options.exclude_vendors)
    if options.max_lead_time_days is not None:
        listings = listings.filter(lead_time_days__lte=options.max_lead_time_days)
    offers = offers_from(listings, rates)
    # Awarded RFQ bids: offers only this buyer's quotes use, until they expire (docs/rfqs.md).
    for part_id, own in awarded_offers_for(buyer=buyer, part_ids=part_ids, rates=rates).items():
        offers[part_id].extend(o for o in own if o.vendor_id not in (options.exclude_vendors or ())
                               and (options.max_lead_time_days is None or o.lead_time_days <= options.max_lead_time_days))
    return offers


# --- Awarded offers: the hook into quoting ----------------------------------------------------


def awarded_listing_q(buyer: Organization, now: datetime | None = None) -> Q:
    """Listings that are the buyer's awarded RFQ offers, still valid."""
    return Q(reserved_for=buyer, expires_at__gt=now or timezone.now())


def awarded_listing_list(*, buyer: Organization) -> QuerySet[Listing]:
    """The buyer's awarded RFQ offers (private listings), still valid: it may order them by id."""
    return Listing.objects.filter(awarded_listing_q(buyer)).select_related("vendor", "part").prefetch_related(
        Prefetch("price_breaks", queryset=PriceBreak.objects.order_by("min_qty")))


def awarded_offers_for(*, buyer: Organization, part_ids: set[int], rates: QuoteRates) -> dict[int, list[Offer]]:
    """The buyer's awarded, unexpired bid lines for these parts as the quote engine's offers
    (stock = what is left of the awarded quantity), in every currency `rates` has a rate for,
    priced in the quote's currency (the currencies converted are added to `rates.used`). Merged
    into the public offers by load_offers."""
    return offers_from(Listing.objects.filter(InArray("part_id", part_ids), reserved_for=buyer, expires_at__gt=timezone.now(),
                                              stock__gt=0, currency__in=list(rates.rates), vendor__verified=True), rates)


def assembly_offer_for(*, buyer: Organization, kit: Kit, quantity: int) -> AssemblyOffer | None:
    """The buyer's newest unexpired awarded assembly bid for this kit (any revision of it) that
    covers the batch, or None (the kit's own factory assembles)."""
    family = kit.family_id or kit.pk
    offers = (AssemblyOffer.objects.filter(buyer=buyer, expires_at__gt=timezone.now(), factory__verified=True)
              .filter(Q(kit_id=family) | Q(kit__family_id=family))
              .filter(bid_line__quantity_available__gte=quantity)
              .select_related("factory", "bid_line").prefetch_related("bid_line__price_breaks")
              .order_by("-created_at", "-id"))
    return offers.first()


def assembly_offer_breaks(offer: AssemblyOffer) -> list[tuple[int, object]]:
    return [(b.min_qty, b.unit_price) for b in offer.bid_line.price_breaks.all()]


def offers_from(listings: QuerySet[Listing], rates) -> dict[int, list[Offer]]:
    """The quote engine's offers, by part, for these listings, priced in `rates.currency`
    (`sourcing.rates.QuoteRates`; each converted currency is added to `rates.used`).

    Two index-shaped reads: the listings (as the caller filtered them), then their price breaks
    by listing in break order. A single join ordered by price break let PostgreSQL, on stale
    statistics, walk every price break in the market for each quote (seconds each)."""
    heads = {row[0]: row for row in listings.values_list(
        "id", "vendor_id", "part_id", "moq", "multiple", "stock", "lead_time_days", "currency")}
    breaks_by_listing: dict[int, list] = defaultdict(list)
    for listing_id, min_qty, unit_price in _price_breaks(list(heads)):
        breaks_by_listing[listing_id].append((min_qty, unit_price))
    offers: dict[int, list[Offer]] = defaultdict(list)
    for listing_id in sorted(breaks_by_listing):  # listing order: ties resolve the same way every time
        head, breaks = heads[listing_id], breaks_by_listing[listing_id]
        if head[7] != rates.currency:
            rates.used.add(head[7])
            breaks = [(q, rates.unit_price(p, head[7])) for q, p in breaks]
        offers[head[2]].append(Offer(*head[:7], tuple(breaks)))
    return offers


def _price_breaks(listing_ids: list[int]) -> list[tuple[int, int, object]]:
    """(listing id, min qty, unit price) of these listings, by listing then quantity. On PostgreSQL
    the ids go as one array parameter (`= ANY(%s)`): a 300-line quote reads ~5,000 listings, and
    Django and the driver spent ≈ 100 ms of CPU preparing that many separate IN parameters."""
    if not listing_ids:
        return []
    if connection.vendor != "postgresql":
        return list(PriceBreak.objects.filter(listing_id__in=listing_ids).order_by("listing_id", "min_qty")
                    .values_list("listing_id", "min_qty", "unit_price"))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT listing_id, min_qty, unit_price FROM {PriceBreak._meta.db_table} "  # noqa: S608 (no input)
                       "WHERE listing_id = ANY(%s) ORDER BY listing_id, min_qty", [listing_ids])
        return cursor.fetchall()
