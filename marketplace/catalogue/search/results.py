"""Catalogue reads: parts and the listing search with prices at a quantity, in the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import (
    Count,
    F,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)

from marketplace.catalogue.models import Listing, Part, PriceBreak, normalize_mpn
from marketplace.catalogue.search.engine import ORDERINGS, Engine
from marketplace.catalogue.search.facets import search_facets  # noqa: F401  (its callers import it from here)
from marketplace.catalogue.search.filters import (
    SearchFilters,
    mpn_suggestions,
    search_filters,
)
from marketplace.catalogue.search.offers import Offer, PartRef, load_offers, price_offers
from marketplace.catalogue.search.pricing import DisplayCurrency, _order_qty
from organizations.models import Organization


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

    filters = search_filters(q=q, mpn=mpn, category=category, vendor_id=vendor_id, currency=currency,
                             in_stock=in_stock, parameters=parameters)
    engine = Engine(viewer=viewer, filters=filters, qty=qty, ordering=ordering, group=False, display=display)
    return engine.ordered(engine.matches()).select_related("vendor", "part").prefetch_related(
        Prefetch("price_breaks", queryset=PriceBreak.objects.order_by("min_qty")))


# --- Public selectors -----------------------------------------------------------------------------


@dataclass
class SearchPage:
    rows: list  # Offer rows (flat) or PartGroup (grouped), priced at the quantity
    count: int
    count_is_estimate: bool
    has_next: bool
    path: str = ""
    suggestions: list[Part] = field(default_factory=list)  # close MPNs when a typed one found nothing
    fuzzy: bool = False  # the rows are for the suggestions, not the words typed


@dataclass
class PartGroup:
    part: PartRef
    best: Offer  # the best offer at the quantity: the cheapest that can fill it, else the cheapest
    offers: int  # matching offers of this part
    total_stock: int
    shortest_lead_time_days: int
    fillable_offers: int | None = None  # offers that can fill the quantity from stock
    cheaper: Offer | None = None  # a cheaper offer that cannot fill the quantity (shown after best, marked)


def offer_search(*, viewer: Organization | None, filters: SearchFilters, qty: int | None = None,
                 ordering: str | None = None, offset: int = 0, limit: int = 50, exact_count: bool = False,
                 group: bool = False, display: DisplayCurrency | None = None) -> SearchPage:
    """One page of the search: offers (flat) or parts with their best offer (grouped), prices
    compared in `display` (the platform's default currency when not given)."""
    engine = Engine(viewer=viewer, filters=filters, qty=qty, ordering=ordering, group=group, display=display)
    suggestions, fuzzy = [], False
    found = engine.first(offset + limit + 1)
    if found.complete and not found.ids and filters.q:
        # Nothing for the words typed: an MPN-like word may be mistyped. Search the closest MPNs.
        words = [w for w in filters.q.split() if any(ch.isdigit() for ch in w) and len(normalize_mpn(w)) >= 4]
        suggestions = [p for w in words[:2] for p in mpn_suggestions(w)]
        if suggestions:
            rest = " ".join(w for w in filters.q.split() if w not in words)
            engine.filters = SearchFilters(**{**filters.__dict__, "q": rest})
            engine.part_ids = [p.pk for p in suggestions]
            found, fuzzy = engine.first(offset + limit + 1), True
    page_ids = found.ids[offset:offset + limit]
    has_next = len(found.ids) > offset + limit
    if found.complete:
        count, estimated = found.count if found.count is not None else len(found.ids), False
    elif found.count is not None:  # exact without asking (the price summaries count the matches)
        count, estimated = found.count, False
    elif exact_count or found.estimate is None:
        count, estimated = engine.exact_count(), False
    else:
        count, estimated = max(found.estimate, offset + len(page_ids) + int(has_next)), True
    if group and all(pk in engine.part_stats for pk in page_ids):
        rows, fillers = _groups_read(engine, page_ids)
        offers = [g.cheaper or g.best for g in rows]
    else:
        offers = load_offers(page_ids, qty)
        rows = _groups(engine, offers) if group else offers
        fillers = [g.best for g in rows if g.cheaper is not None] if group else []
    # Every offer shown (with the grouped page's fillers) gets its breaks and prices in one query.
    price_offers(offers + fillers, qty, engine.display)
    return SearchPage(rows=rows, count=count, count_is_estimate=estimated, has_next=has_next, path=found.path,
                      suggestions=suggestions, fuzzy=fuzzy)


def _groups_read(engine: Engine, page_ids: list[int]) -> tuple[list[PartGroup], list[Offer]]:
    """The grouped page from the statistics the engine read with it (`Engine.part_stats`): the page's
    best offers and their fillers loaded in one query, nothing else asked. Returns the groups and
    the fillers shown."""
    stats = {pk: engine.part_stats[pk] for pk in page_ids}
    filler_ids = [s.filler_id for pk, s in stats.items() if s.filler_id not in (None, pk)]
    loaded = {o.pk: o for o in load_offers(page_ids + filler_ids, engine.qty)}
    groups, fillers = [], []
    for pk in page_ids:
        if (cheapest := loaded.get(pk)) is None:
            continue
        part = stats[pk]
        # A part whose best offer is short shows first the cheapest that fills (`_cheapest_fillers`).
        short = engine.qty and cheapest.stock < cheapest.order_qty
        filler = loaded.get(part.filler_id) if short and part.filler_id != pk else None
        if filler is not None:
            fillers.append(filler)
        groups.append(PartGroup(part=cheapest.part, best=filler or cheapest, cheaper=cheapest if filler else None,
                                offers=part.offers, total_stock=part.total_stock,
                                shortest_lead_time_days=part.shortest_lead_time_days,
                                fillable_offers=part.fillable_offers if engine.qty else None))
    return groups, fillers


def _groups(engine: Engine, best: list[Offer]) -> list[PartGroup]:
    """Per part on the page: its matching offers' count, stock and shortest lead (one query), and
    the offer shown first (`_cheapest_fillers`). The offers are not priced yet: only their stock and
    order quantity are read here."""
    part_ids = [o.part_id for o in best]
    qs = engine.matches().filter(part_id__in=part_ids)
    aggregates = {"offers": Count("id"), "total_stock": Sum("stock"), "lead": Min("lead_time_days")}
    if engine.qty:
        aggregates["fillable"] = Count("id", filter=Q(stock__gte=_order_qty(engine.qty)))
    stats = {r["part_id"]: r for r in qs.values("part_id").annotate(**aggregates)}
    # A part whose best offer is short has a filler only if some offer of it is fillable.
    short = [o for o in best if engine.qty and o.stock < o.order_qty and stats.get(o.part_id, {}).get("fillable")]
    fillers = _cheapest_fillers(engine, short)
    groups = []
    for cheapest in best:
        if cheapest.part_id not in stats:
            continue
        filler = fillers.get(cheapest.part_id)
        groups.append(PartGroup(part=cheapest.part, best=filler or cheapest, cheaper=cheapest if filler else None,
                                offers=stats[cheapest.part_id]["offers"], total_stock=stats[cheapest.part_id]["total_stock"] or 0,
                                shortest_lead_time_days=stats[cheapest.part_id]["lead"],
                                fillable_offers=stats[cheapest.part_id].get("fillable")))
    return groups


def _cheapest_fillers(engine: Engine, short: list[Offer]) -> dict[int, Offer]:
    """For the parts whose best offer in the search's order (the cheapest, for price orderings) cannot
    fill the quantity from stock: their first offer in that order that can (one query over those
    parts' matching offers, priced), loaded like the page's rows (not priced yet). Parts keep their
    place in the search's order; only the offer shown first changes."""
    if not short:
        return {}
    order = "unit_price_at_qty" if engine.ordering == "-unit_price_at_qty" else engine.ordering
    rows = (engine.priced(engine.matches().filter(part_id__in=[o.part_id for o in short]))
            .filter(stock__gte=F("order_qty"), unit_price_at_qty__isnull=False)
            .order_by("part_id", *ORDERINGS[order]).values_list("part_id", "pk"))
    first: dict[int, int] = {}
    for part_id, pk in rows:
        first.setdefault(part_id, pk)
    loaded = {o.pk: o for o in load_offers(list(first.values()), engine.qty)}
    return {part_id: loaded[pk] for part_id, pk in first.items() if pk in loaded}
