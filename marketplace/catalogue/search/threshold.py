"""The first page of a price-sorted search with filters on the offers themselves (in stock at the
quantity, lead time, listing currency) or by extended price over a broad scope, from the parts'
price summaries read as LOWER bounds: parts are taken in the order of the bound of what their
offers can cost (`best_lo` ascending; `dear_hi` descending for dearest first; for extended price
two lists side by side, `ext_lo` × the quantity and `order_lo`), a batch at a time; the batch's
matching offers are priced exactly; the walk stops when the page's k-th value beats the bound of
the next part not yet read — no unread part can then place an offer (or, grouped, its best offer)
on the page (Fagin's threshold algorithm). Then the few parts that can be on the page are ordered
in SQL, exactly as pricing every match orders them (the property test compares).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from django.db.models import BooleanField, ExpressionWrapper, F, Min, OuterRef, Subquery, Window
from django.db.models.functions import Rank

from marketplace.catalogue.models import Part, PartPackBand
from marketplace.catalogue.price_bands import band_of
from marketplace.catalogue.search.pricing import BOUND_PLACES, SLACK, _order_qty

# ordering → (the summaries' bound column, read descending?, the priced value)
WALKS = {
    "unit_price_at_qty": ("best_lo", False, "sort_unit_price"),
    "-unit_price_at_qty": ("dear_hi", True, "sort_unit_price"),
    "extended_price": ("ext_lo", False, "sort_extended_price"),
}


class ThresholdSearch:
    BATCHES = (100, 400, 1500)  # parts per list read at each step; then the engine's other paths
    # Grouped dearest first reads on: its bound is loose, and the other way prices every match
    # (refused beyond FULL_LIMIT). At 1M listings, in stock at 10 pieces, ~2,200 parts are read.
    LOOSE_BATCHES = (1000, 2000, 4000)
    RANGE_LIMIT = 20_000  # summary rows read at once down to the page's value (`_rest_of_range`)
    RANGE_HEAD = 4  # × the page's rows: the range's most promising parts, priced before the rest
    MAX_PACKS = 8  # pack multiples walked as lists of their own (extended price); more: `ext_lo`

    def __init__(self, engine, banded):
        self.engine, self.banded = engine, banded  # the banded search: its scopes, part filter and rows

    def applies(self) -> bool:
        e = self.engine
        # Grouped dearest first too: a part's place is its cheapest matching offer, which is at most
        # its dearest offer's bound (`dear_hi`, the list walked) — loose, so the walk may read more.
        return bool(e.qty and e.ordering in WALKS and e.display.complete
                    and not self.banded._viewer_sees_more() and self.banded.summaries_exist())

    def first(self, k: int) -> list[int] | None:
        e, banded = self.engine, self.banded
        descending, value_name = WALKS[e.ordering][1:]
        scopes = [banded.category] if banded.category else (banded._inferred_categories() or [None])
        if scopes != [None] and not banded.category:
            e.categories = scopes
        groups = self._lists(scopes)
        offsets = {(g, i): 0 for g, lists in enumerate(groups) for i in range(len(lists))}
        read_whole: set[tuple[int, int]] = set()  # lists read to their end
        exhausted: set[int] = set()  # groups read to their end (every part of theirs priced)
        rows: dict[int, tuple] = {}  # listing (grouped: part) → (part, value) of the matching offers priced so far
        priced: set[int] = set()  # parts whose offers are in `rows` (a part read again in another list is not priced again)
        loose = e.group and e.ordering == "-unit_price_at_qty"
        page_value = None
        for size in self.BATCHES + (self.LOOSE_BATCHES if loose else ()):
            thresholds, parts = [], {}  # parts read at this step → their most promising bound read
            for g, lists in enumerate(groups):
                if g in exhausted:
                    continue
                whole_bounds, pack_bounds = [], []  # the first unread row's bound, converted, per list
                for i, (ordered, factor, _, whole) in enumerate(lists):
                    if (g, i) in read_whole:
                        continue
                    read = list(ordered[offsets[g, i]:offsets[g, i] + size + 1])
                    offsets[g, i] += size
                    for part, bound in read[:size]:
                        bound *= factor
                        parts[part] = (max if descending else min)(bound, parts.get(part, bound))
                    if len(read) <= size:
                        read_whole.add((g, i))
                    else:  # no unread part of this list does better
                        (whole_bounds if whole else pack_bounds).append(read[size][1] * factor)
                packs = [i for i, lst in enumerate(lists) if not lst[3]]
                if any((g, i) in read_whole for i, lst in enumerate(lists) if lst[3]) or (
                        packs and all((g, i) in read_whole for i in packs)):
                    exhausted.add(g)  # every part of the group is read (and priced, or out of reach)
                    continue
                # A part unread in every list of the group is bounded by each list of all its offers
                # (the tightest counts) and, its offers split by pack multiple, by the loosest of those.
                if pack_bounds:
                    whole_bounds.append(max(pack_bounds) if descending else min(pack_bounds))
                thresholds.append(min(whole_bounds) if descending else max(whole_bounds))
            # Only parts that can still reach the page are priced: the page's k-th value only gets
            # better as more is priced, so a part whose bound (of the offers in that row's currency)
            # is already beyond it never will. Its other currencies' rows are read on their own.
            if page_value is not None:
                parts = {p: b for p, b in parts.items() if _reaches(b, page_value, descending)}
            bounds, parts = parts, self._new_matches(set(parts), priced)
            if loose and page_value is not None:
                parts = set(self._may_reach(parts, page_value))
            page_value = self._price_promising_first(parts, bounds, rows, priced, k, value_name, descending)
            if not thresholds:  # every list read to its end: what was priced is everything
                # (fewer than k priced rows: the page ends with unpriced offers, the engine's other paths)
                return self._ordered(rows, page_value, descending, k) if page_value is not None else None
            threshold = max(thresholds) if descending else min(thresholds)
            if page_value is not None and (page_value > threshold * (1 + SLACK) if descending
                                           else page_value < threshold * (1 - SLACK)):
                return self._ordered(rows, page_value, descending, k)
            if loose and page_value is not None and (found := self._rest_of_range(groups, rows, priced, page_value,
                                                                               value_name, k)) is not None:
                return found
        return None

    def _rest_of_range(self, groups, rows: dict, priced: set[int], page_value: Decimal, value_name: str,
                       k: int) -> list[int] | None:
        """Grouped dearest first, once the page has a k-th value: every part that can still reach it
        has a bound at least that high, so those rows are read at once (one index range per list)
        instead of batch after batch — ~2,000 parts in stock over the 1M market, where the batches
        took five steps of four queries each. Parts already priced are skipped; the rest are
        pruned (`_may_reach`) and priced; no unread part can then place. None (the batches go on)
        when the range is too wide to read at once."""
        parts: set[int] = set()
        for lists in groups:
            for ordered, factor, column, _ in lists:
                limit = (page_value * (1 - SLACK) / factor).quantize(BOUND_PLACES, ROUND_FLOOR)
                read = list(ordered.filter(**{f"{column}__gte": limit}).values_list("part_id", flat=True)[:self.RANGE_LIMIT + 1])
                if len(read) > self.RANGE_LIMIT:
                    return None
                parts.update(read)
        parts = self._new_matches(parts, priced)
        # Dearest bound first: the first few parts priced raise the page's k-th value, which rules
        # out more of the rest before they are priced.
        reach = self._may_reach(parts, page_value)
        page_value = self._price_promising_first(set(reach), reach, rows, priced, k, value_name, True)
        return self._ordered(rows, page_value, True, k)

    def _new_matches(self, parts: set[int], priced: set[int]) -> set[int]:
        """Those of the parts read that were not priced yet (now marked priced) and pass the part
        filter (asked once per part; a prefix alone was joined to the lists)."""
        parts = parts - priced
        priced |= parts
        banded = self.banded
        return banded._passing(parts) if parts and banded.filtered and not banded.prefix_only else parts

    def _lists(self, scopes: list[str | None]) -> list[list[tuple]]:
        """Per currency and scope, the lists walked side by side: rows of (part, bound) in the walk's
        order, with the bound's factor into the display currency, the bound's column and whether a
        row bounds all the part's offers (or, per pack multiple, those sold in it). Extended price
        reads the cheapest order in money (`order_lo`; tight for a reel whose MOQ covers the
        quantity) beside the cheapest order per unit asked: one list per pack multiple m, whose
        offers order at least o = ⌈q / m⌉ × m (`PartPackBand`, the band of o; exact between pack
        sizes, where `ext_lo` × the quantity is half the truth for reels of 100 at 108), or
        `ext_lo` over a scope sold in more than MAX_PACKS multiples — an unread part is bounded by
        each list of all its offers, and by the least of the pack lists (Fagin's threshold
        algorithm)."""
        e, banded = self.engine, self.banded
        column, descending, _ = WALKS[e.ordering]
        if e.group and descending and e.filters.part_level:
            # Parts by their cheapest offer, dearest first, every offer counted: `best_ub` bounds
            # that offer from above, much tighter than the dearest offer's `dear_hi`.
            column = "best_ub"
        groups = []
        for currency in e.bound_currencies():
            rate = e.display.rates[currency]
            for scope in scopes:
                if e.ordering != "extended_price":
                    lists = [(banded.rows(currency, scope), column, 1, True)]
                else:
                    multiples = banded.multiples(currency, scope)
                    # Pack lists where a multiple below the quantity does not divide it (the order is
                    # rounded up past it); otherwise `ext_lo` is as tight and one list, not six, is read
                    # (a reel above the quantity: its MOQ order, `order_lo`, is exact).
                    rounded_up = any(m < e.qty and e.qty % m for m in multiples)
                    if rounded_up and len(multiples) <= self.MAX_PACKS:
                        lists = [(banded.rows(currency, scope, PartPackBand, band_of(order)).filter(multiple=m),
                                  "unit_lo", order, False) for m in multiples if (order := -(-e.qty // m) * m)]
                    else:
                        lists = [(banded.rows(currency, scope), "ext_lo", e.qty, True)]
                    lists.append((banded.rows(currency, scope), "order_lo", 1, True))
                groups.append([self._ordered_list(rows, name, descending, rate * factor, whole)
                               for rows, name, factor, whole in lists])
        return groups

    def _ordered_list(self, rows, name: str, descending: bool, factor: Decimal, whole: bool) -> tuple:
        if self.banded.prefix_only:
            # The prefix asked of each row's part as it is read, in the list's order (a subquery per
            # row, one probe of the part's key): joined, the planner hashed all the prefix's parts
            # and the list's whole range for every list (GRM: ~15 ms a list, six lists a currency).
            matches = (Part.objects.filter(pk=OuterRef("part_id"))
                       .annotate(matches=ExpressionWrapper(self.banded.part_q, output_field=BooleanField())).values("matches"))
            rows = rows.filter(Subquery(matches, output_field=BooleanField()))
        return (rows.filter(**{f"{name}__isnull": False}).order_by(F(name).desc() if descending else F(name).asc(), "part_id")
                .values_list("part_id", name), factor, name, whole)

    def _may_reach(self, parts: set[int], page_value: Decimal) -> dict[int, Decimal]:
        """Grouped, dearest first: the parts whose cheapest priced offer can still reach the page.
        That offer costs at most its dearest break (`max_unit_price`, on the listing row: no probe
        into the breaks), so a part whose priced offers all have their dearest break below the
        page's k-th value never will. Read with one aggregate, where pricing would probe every
        offer's breaks: at 10 pieces, in stock, ~1 part in 10 that the loose bound reads is left.
        Part → that upper bound of its place."""
        if not parts:
            return {}
        e = self.engine
        # Priced at the quantity: a break at or below the order quantity (`price_at_qty`'s rule).
        offers = e.offers_of(parts).alias(oq=_order_qty(e.qty)).filter(first_break_qty__lte=F("oq"))
        reach = (offers.values("part_id").annotate(ub=Min(F("max_unit_price") * e.display.rate_sql()))
                 .filter(ub__gte=page_value * (1 - SLACK)).values_list("part_id", "ub"))
        return dict(reach)

    def _priced(self, parts: set[int], value_name: str, k: int, descending: bool) -> dict[int, tuple]:
        """The matching offers of these parts, priced exactly: per offer (listing → part, value),
        or grouped per part (part → part, its cheapest offer's value; all a grouped page's place
        needs, and 1 row in ~10 to read). Per offer, only the k best and those tied with the k-th
        are read: any other has k better offers, so it is never on the page (~2,000 offers priced
        at a step, 51 read: converting the rest cost ~6 ms)."""
        if not parts:
            return {}
        e = self.engine
        qs = e.priced(e.offers_of(parts))
        if e.group:  # MIN skips the offers without a price at the quantity
            best = qs.values("part_id").annotate(best=Min(value_name)).values_list("part_id", "best")
            return {part_id: (part_id, value) for part_id, value in best if value is not None}
        # Offers without a price at the quantity rank last and are dropped here, not in SQL (a filter
        # on the price would probe the offer's breaks a second time).
        value = F(value_name).desc(nulls_last=True) if descending else F(value_name).asc(nulls_last=True)
        best = qs.annotate(place=Window(Rank(), order_by=value)).filter(place__lte=k)
        return {pk: (part_id, value) for pk, part_id, value in best.values_list("pk", "part_id", value_name) if value is not None}

    def _price_promising_first(self, parts: set[int], bounds: dict, rows: dict, priced: set[int], k: int,
                               value_name: str, descending: bool) -> Decimal | None:
        """Prices the parts read at a step, the RANGE_HEAD × k with the most promising bound first:
        they set the page's k-th value, which rules out most of the rest unpriced (a first step of
        six lists per currency reads ~800 parts, of which ~100 can place). A part ruled out here is
        unmarked, so that another list's row for it (a pack multiple not read yet) can bring it back.
        Returns the page's k-th value."""
        ranked = sorted(parts, key=bounds.__getitem__, reverse=descending)
        head, tail = ranked[:self.RANGE_HEAD * k], ranked[self.RANGE_HEAD * k:]
        rows.update(self._priced(set(head), value_name, k, descending))
        page_value = self._kth(rows, k, descending)
        if tail and page_value is not None:
            out = {p for p in tail if not _reaches(bounds[p], page_value, descending)}
            priced -= out
            tail = [p for p in tail if p not in out]
        rows.update(self._priced(set(tail), value_name, k, descending))
        return self._kth(rows, k, descending)

    def _kth(self, rows: dict[int, tuple], k: int, descending: bool) -> Decimal | None:
        """The page's k-th value so far, or None with fewer."""
        values = [value for _, value in rows.values()]  # grouped rows are one per part
        return sorted(values, reverse=descending)[k - 1] if len(values) >= k else None

    def _ordered(self, rows: dict[int, tuple], page_value: Decimal | None, descending: bool, k: int) -> list[int]:
        """The page in the search's exact order: the parts that can be on it (every offer, or best
        offer, as good as the k-th or tied with it, with slack) ordered by the engine in SQL."""
        e = self.engine
        values = rows.values()
        if page_value is None:
            parts = {part_id for part_id, _ in values}
        else:
            parts = {part_id for part_id, value in values if _reaches(value, page_value, descending)}
        if not parts:
            return []
        return e._order_ids(e.offers_of(parts), k=k, whole_parts=True)


def _reaches(bound: Decimal, page_value: Decimal, descending: bool) -> bool:
    """Whether a row with this bound can still be on the page (as good as its k-th value, with slack)."""
    return bound >= page_value * (1 - SLACK) if descending else bound <= page_value * (1 + SLACK)
