"""The first page of a price-sorted search with filters on the offers themselves (in stock at the
quantity, lead time, listing currency) or by extended price over a broad scope, from the parts'
price summaries read as LOWER bounds: parts are taken in the order of the bound of what their
offers can cost (`best_lo` ascending; `dear_hi` descending for dearest first; `ext_lo` ascending
for extended price), a batch at a time; the batch's matching offers are priced exactly; the walk
stops when the page's k-th value beats the bound of the next part not yet read — no unread part
can then place an offer (or, grouped, its best offer) on the page. (Fagin's threshold algorithm
over one sorted list.) Then the few parts that can be on the page are ordered in SQL, exactly as
pricing every match orders them (the property test compares).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, Q, Value
from django.db.models.functions import Upper

from marketplace.catalogue.models import Listing

from marketplace.catalogue.search.pricing import SLACK
from marketplace.sql import InArray

# ordering → (the summaries' bound column, read descending?, the priced value)
WALKS = {
    "unit_price_at_qty": ("best_lo", False, "sort_unit_price"),
    "-unit_price_at_qty": ("dear_hi", True, "sort_unit_price"),
    "extended_price": ("ext_lo", False, "sort_extended_price"),
}


class ThresholdSearch:
    BATCHES = (100, 400, 1500)  # parts (or listings) per list read at each step; then the engine's other paths
    SMALL_EXTENDED = 25  # below this quantity extended price walks the listings' cheapest orders

    def __init__(self, engine, banded):
        self.engine, self.banded = engine, banded  # the banded search: its scopes, part filter and rows

    def applies(self) -> bool:
        e = self.engine
        # Grouped dearest first is not walked: a part's place is its cheapest matching offer, which
        # the dearest offer's bound (all there is for a filter on the offers) bounds too loosely.
        return bool(e.qty and e.ordering in WALKS and not (e.group and e.ordering == "-unit_price_at_qty")
                    and e.display.complete and not self.banded._viewer_sees_more() and self.banded.summaries_exist())

    def first(self, k: int) -> list[int] | None:
        e, banded = self.engine, self.banded
        descending, value_name = WALKS[e.ordering][1:]
        scopes = [banded.category] if banded.category else (banded._inferred_categories() or [None])
        if scopes != [None] and not banded.category:
            e.categories = scopes
        lists = self._lists(scopes)
        offsets = [0] * len(lists)
        exhausted: set[int] = set()
        rows: dict[int, tuple] = {}  # listing → (part, value) of the matching offers priced so far
        for size in self.BATCHES:
            next_bounds, parts, listings = [], set(), set()
            for i, (ordered, factor, of_parts) in enumerate(lists):
                if i in exhausted:
                    continue
                read = list(ordered[offsets[i]:offsets[i] + size + 1])
                offsets[i] += size
                if len(read) <= size:
                    exhausted.add(i)
                else:  # the first unread row's bound, converted: nothing unread in this list does better
                    next_bounds.append(read[size][1] * factor)
                (parts if of_parts else listings).update(item for item, _ in read[:size])
            if parts and banded.filtered:
                parts = banded._passing(parts)
            rows.update(self._priced(parts, listings, value_name))
            page_value = self._kth(rows, k, descending)
            if not next_bounds:  # every list read to its end: what was priced is everything
                # (fewer than k priced rows: the page ends with unpriced offers, the engine's other paths)
                return self._ordered(rows, page_value, descending, k) if page_value is not None else None
            threshold = max(next_bounds) if descending else min(next_bounds)
            if page_value is not None and (page_value > threshold * (1 + SLACK) if descending
                                           else page_value < threshold * (1 - SLACK)):
                return self._ordered(rows, page_value, descending, k)
        return None

    def _lists(self, scopes: list[str | None]) -> list[tuple]:
        """(rows of (item, bound) in the walk's order, the bound's factor into the display currency,
        whether the items are parts) per currency and scope. Extended price at small quantities
        walks the listings' `min_spend` (MOQ × cheapest break: the least any order of the listing
        costs, nearly exact below the MOQ) instead of the band's bound per unit asked, which a reel's
        MOQ loosens over a band's quantities."""
        e = self.engine
        column, descending, _ = WALKS[e.ordering]
        out = []
        for currency in e.bound_currencies():
            rate = e.display.rates[currency]
            for scope in scopes:
                if e.ordering == "extended_price" and e.qty < self.SMALL_EXTENDED:
                    listings = Listing.objects.filter(is_active=True, min_spend__isnull=False)
                    if scope:
                        listings = listings.filter(category_key=Upper(Value(scope)))
                    out.append((e.in_currency(listings, currency).order_by("min_spend", "pk").values_list("pk", "min_spend"),
                                rate, False))
                    continue
                ordered = (self.banded.rows(currency, scope).filter(**{f"{column}__isnull": False})
                           .order_by(F(column).desc() if descending else F(column).asc(), "part_id")
                           .values_list("part_id", column))
                out.append((ordered, rate * (e.qty if e.ordering == "extended_price" else 1), True))  # ext_lo: per unit asked
        return out

    def _priced(self, parts: set[int], listings: set[int], value_name: str) -> dict[int, tuple]:
        """The matching offers of these parts, and these listings if they match, priced exactly."""
        if not parts and not listings:
            return {}
        e = self.engine
        scope = InArray("part_id", parts) if parts else InArray("pk", listings)
        if parts and listings:
            scope = Q(scope) | Q(InArray("pk", listings))
        qs = e.priced(e.matches().filter(scope)).filter(**{f"{value_name}__isnull": False})
        return {pk: (part_id, value) for pk, part_id, value in qs.values_list("pk", "part_id", value_name)}

    def _kth(self, rows: dict[int, tuple], k: int, descending: bool) -> Decimal | None:
        """The page's k-th value so far (grouped: of the parts' best offers), or None with fewer."""
        if self.engine.group:
            best: dict[int, Decimal] = {}
            for part_id, value in rows.values():  # a part's place is its cheapest offer's, either way
                best[part_id] = min(value, best.get(part_id, value))
            values = list(best.values())
        else:
            values = [value for _, value in rows.values()]
        if len(values) < k:
            return None
        return sorted(values, reverse=descending)[k - 1]

    def _ordered(self, rows: dict[int, tuple], page_value: Decimal | None, descending: bool, k: int) -> list[int]:
        """The page in the search's exact order: the parts that can be on it (every offer, or best
        offer, as good as the k-th or tied with it, with slack) ordered by the engine in SQL."""
        e = self.engine
        if e.group:
            best: dict[int, Decimal] = {}
            for part_id, value in rows.values():
                best[part_id] = min(value, best.get(part_id, value))
            values = best.items()
        else:
            values = [(part_id, value) for part_id, value in rows.values()]
        if page_value is None:
            parts = {part_id for part_id, _ in values}
        elif descending:
            parts = {part_id for part_id, value in values if value >= page_value * (1 - SLACK)}
        else:
            parts = {part_id for part_id, value in values if value <= page_value * (1 + SLACK)}
        if not parts:
            return []
        return e._order_ids(e.matches().filter(Q(InArray("part_id", parts))), k=k)
