"""The first page of a price-sorted search from the parts' price summaries (`PartPriceBand`, one row
per part, listing currency and band of quantities): a bound T from the part table, then exact
pricing of the offers of the few parts that can beat it (docs/search.md, "Price bands").

Why it is exact (the same rows and order as pricing every match; the property test compares):
cheapest first, any k matching parts whose cheapest offer costs at most `best_hi` each give k rows
(offers, or parts) costing ≤ T, the k-th smallest such bound; so every row of the page costs ≤ T,
and its part's `best_lo` ≤ T. Dearest first is the mirror (`dear_lo` / `dear_hi` for offers;
grouped, the part's cheapest offer from below by `best_lo` over all its currencies, from above by
`best_ub`); extended price uses `ext_lo` / `ext_hi`. Bounds are converted into the display currency
(each currency's rows read apart, through their own index range).

It answers only what the summaries describe: a quantity, a price ordering, filters on the part
alone, every listing currency with a rate, and a viewer who sees exactly the public market (not
one with unverified listings of its own). Anything else, or a bound that leaves too many
candidates, goes to the listing-level engine.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connections
from django.db.models import F, Min, Value
from django.db.models.functions import Upper

from marketplace.catalogue.models import Listing, Part, PartPackBand, PartPriceBand
from marketplace.catalogue.price_bands import TIERS, band_of
from marketplace.catalogue.search.filters import SearchFilters, part_filter_q
from marketplace.catalogue.search.pricing import SLACK
from marketplace.catalogue.sql import InArray

# ordering → (column bounding T, its direction, column selecting the candidates, comparison)
BOUNDS = {
    ("unit_price_at_qty", False): ("best_hi", "asc", "best_lo", "lte"),
    ("unit_price_at_qty", True): ("best_hi", "asc", "best_lo", "lte"),
    ("extended_price", False): ("ext_hi", "asc", "ext_lo", "lte"),
    ("extended_price", True): ("ext_hi", "asc", "ext_lo", "lte"),
    ("-unit_price_at_qty", False): ("dear_lo", "desc", "dear_hi", "gte"),
    ("-unit_price_at_qty", True): ("best_lo", "desc", "best_ub", "gte"),
}


class WalkFailed(Exception):
    """The part filter's matches are not among the first rows of the summaries' order."""


class BandedSearch:
    MAX_PARTS = 3000  # candidate parts priced exactly; more, and the listing-level engine answers
    WALK = 800  # summary rows read in index order before the part filter is applied to every part
    MAX_SCOPES = 6  # words without a category: at most this many categories, each walked apart

    def __init__(self, engine):
        self.engine = engine
        self.band = band_of(engine.qty) if engine.qty else 0
        f = engine.filters
        # Filters read from the part itself (words, parameters, MPN, maker); the category is on the row.
        self.part_q = part_filter_q(SearchFilters(q=f.q, mpn=f.mpn, manufacturer=f.manufacturer, parameters=f.parameters))
        self.category = f.category or None
        self._walk_failed = self.join_when_walk_fails = False
        self._checked: dict[int, bool] = {}  # part → passes the part filter
        # Joining the part filter to the whole band is slow for broad words (the trigram index finds
        # every matching part first): worth it only where the listing-level engine prices every
        # match (parts by their best offer, dearest first).
        self.price_every_match = engine.group and engine.ordering == "-unit_price_at_qty"

    def applies(self) -> bool:
        e = self.engine
        return bool(e.qty and (e.ordering, e.group) in BOUNDS and e.filters.part_level and e.display.complete
                    and not self._viewer_sees_more() and self.summaries_exist())

    @staticmethod
    def summaries_exist() -> bool:
        return PartPriceBand.objects.exists()

    def _viewer_sees_more(self) -> bool:
        """The summaries count the public market; a vendor also sees its own unverified listings."""
        viewer = self.engine.viewer
        return viewer is not None and Listing.objects.filter(vendor=viewer, is_active=True, vendor_verified=False).exists()

    # the part filter ---------------------------------------------------------------------------
    def matching_parts(self):
        """Every part that passes the part filter, as a subquery (the database joins it once)."""
        parts = Part.objects.filter(self.part_q).order_by()
        if self.category:
            parts = parts.filter(category__iexact=self.category)
        if self.engine.part_ids is not None:
            parts = parts.filter(pk__in=self.engine.part_ids)
        return parts.values("pk")

    def _passing(self, part_ids: set[int]) -> set[int]:
        """Those of the parts that pass the part filter (each part asked once per search)."""
        unknown = part_ids - self._checked.keys()
        if unknown:
            parts = Part.objects.filter(self.part_q, InArray("pk", unknown)).order_by()
            if self.engine.part_ids is not None:
                parts = parts.filter(pk__in=self.engine.part_ids)
            passing = set(parts.values_list("pk", flat=True))
            self._checked.update({p: p in passing for p in unknown})
        return {p for p in part_ids if self._checked[p]}

    @property
    def filtered(self) -> bool:
        return bool(self.part_q) or self.engine.part_ids is not None

    @property
    def prefix_only(self) -> bool:
        """An MPN prefix is the only part filter: its parts come from the prefix index in a few
        milliseconds, so it is joined to the summaries at once (every row read is a match) instead
        of asking it of the rows read (a prefix such as `GRM` is a quarter of its category)."""
        f = self.engine.filters
        return bool(f.mpn and not (f.q or f.parameters or f.manufacturer) and self.engine.part_ids is None)

    def rows(self, currency: str, scope: str | None, model=PartPriceBand, band: int | None = None):
        qs = model.objects.filter(band=self.band if band is None else band, currency=currency)
        return qs.filter(category_key=Upper(Value(scope))) if scope else qs  # as the listings' copy

    def multiples(self, currency: str, scope: str | None) -> list[int]:
        """The pack multiples the scope's offers in this currency are sold in (`PartPackBand`), read
        as a loose index scan: one probe per multiple, where DISTINCT would read every row. (Band 15,
        100,000 and up, holds every multiple: an order of any size falls in it.)"""
        db = connections[PartPackBand.objects.all().db]  # the search's database (a replica, when routed there)
        table = db.ops.quote_name(PartPackBand._meta.db_table)
        where, params = "band = %s AND currency = %s", [len(TIERS) - 1, currency]
        if scope:
            where, params = where + " AND category_key = UPPER(%s)", params + [scope]
        with db.cursor() as cursor:
            cursor.execute(f"WITH RECURSIVE m(multiple) AS (SELECT MIN(multiple) FROM {table} WHERE {where} "
                           f"UNION ALL SELECT (SELECT MIN(multiple) FROM {table} WHERE {where} AND multiple > m.multiple) "
                           "FROM m WHERE m.multiple IS NOT NULL) SELECT multiple FROM m WHERE multiple IS NOT NULL",
                           params + params)
            return [multiple for (multiple,) in cursor.fetchall()]

    def walk(self, rows, column: str, *, descending: bool, limit: int) -> list[tuple[int, Decimal]]:
        """The first `limit` matching parts' (part, value) in the column's order. The first WALK rows
        of the index are read and the part filter checked on those parts (matches are usually among
        them); when they are not, the filter is joined to the whole scope, or `WalkFailed`."""
        ordered = rows.order_by(f"-{column}" if descending else column, "part_id").values_list("part_id", column)
        if not self.filtered:
            return list(ordered[:limit])
        if self.prefix_only:
            return list(ordered.filter(part_id__in=self.matching_parts())[:limit])
        if not self._walk_failed:
            for size in (min(4 * limit, self.WALK), self.WALK):  # a few rows first: broad filters stop there
                head = list(ordered[:size])
                passing = self._passing({p for p, _ in head})
                found = [r for r in head if r[0] in passing]
                if len(found) >= limit or len(head) < size:
                    return found[:limit]
            self._walk_failed = True
        if not self.join_when_walk_fails:
            raise WalkFailed
        return list(ordered.filter(part_id__in=self.matching_parts())[:limit])

    # the bound and the candidates ------------------------------------------------------------
    def candidates(self, k: int) -> list[int] | None:
        """The parts whose offers can be on the first k rows, or None when the summaries cannot
        narrow it to MAX_PARTS. Without a category, the few categories whose vocabulary holds the
        filter's words, parameter keys or maker are walked, each in its own order (a category's
        part filter joined when its first rows hold too few matches); else the market's order."""
        scopes = None if self.category else self._inferred_categories()
        if scopes:
            self.engine.categories = scopes
            self._walk_failed, self.join_when_walk_fails = False, True
            return self._candidates(k, scopes=scopes)
        if scopes is not None:  # no category has those words: the listing-level engine says so (and suggests MPNs)
            raise WalkFailed
        # A join over the whole market only saves pricing every match (parts by best offer, dearest first).
        self._walk_failed, self.join_when_walk_fails = False, self.price_every_match
        return self._candidates(k, scopes=[self.category])

    def _inferred_categories(self) -> list[str] | None:
        """The categories whose vocabulary can match the part filter (`inferred_categories`), if few."""
        if not self.part_q:
            return None
        categories = self.engine.inferred_categories()
        return None if categories is None or len(categories) > self.MAX_SCOPES else sorted(categories)

    def _candidates(self, k: int, *, scopes: list[str | None]) -> list[int] | None:
        e = self.engine
        bound_col, direction, cand_col, op = BOUNDS[(e.ordering, e.group)]
        descending = direction == "desc"
        grouped_dearest = e.ordering == "-unit_price_at_qty" and e.group
        seen: dict[int, Decimal] = {}
        for currency in e.bound_currencies():
            rate = e.display.rates[currency]
            for scope in scopes:
                rows = self.rows(currency, scope).filter(**{f"{bound_col}__isnull": False})
                if grouped_dearest:
                    rows = rows.filter(best_hi__isnull=False)  # parts surely priced at the quantity
                for part_id, value in self.walk(rows, bound_col, descending=descending, limit=k):
                    value *= rate
                    seen[part_id] = (max if descending else min)(value, seen.get(part_id, value))
        if grouped_dearest and seen:
            seen = self._cheapest_from_below(seen)
        if len(seen) < k:
            return None
        bound = sorted(seen.values(), reverse=descending)[k - 1]
        ranges = e.display.native_ranges(cand_col, op, bound)
        parts: set[int] = set()
        for currency in e.bound_currencies():
            for scope in scopes:
                in_range = self.rows(currency, scope).filter(ranges[currency])
                if self.prefix_only:
                    in_range = in_range.filter(part_id__in=self.matching_parts())
                elif self.filtered:
                    head = list(in_range.values_list("part_id", flat=True)[: self.WALK + 1])
                    if len(head) <= self.WALK:  # the whole range read: filter those parts only
                        parts |= self._passing(set(head))
                        continue
                    if not self.join_when_walk_fails:
                        raise WalkFailed
                    in_range = in_range.filter(part_id__in=self.matching_parts())
                parts.update(in_range.values_list("part_id", flat=True)[: self.MAX_PARTS + 1])
                if len(parts) > self.MAX_PARTS:
                    return None
        if grouped_dearest and len(e.bound_currencies()) > 1:
            parts -= self._cheaper_elsewhere(parts, bound)
        return sorted(parts)

    def _cheaper_elsewhere(self, parts: set[int], bound: Decimal) -> set[int]:
        """Grouped dearest first: the candidates whose cheapest offer surely costs less than the
        bound. A part is a candidate when one currency's offers may cost that much (its `best_ub`
        there), but its place is its cheapest offer in any currency, at most each currency's
        `best_hi` (offers priced throughout the band, so at the quantity): one summary row below
        the bound rules it out. Most parts have offers in both currencies: at 1M listings this
        leaves ~1 candidate in 5 to price (433 → 66 at 11 pieces)."""
        e = self.engine
        rows = PartPriceBand.objects.filter(band=self.band, best_hi__isnull=False, part_id__in=sorted(parts))
        below = (rows.values("part_id").annotate(ub=Min(F("best_hi") * e.display.rate_sql()))
                 .filter(ub__lt=bound * (1 - SLACK)).values_list("part_id", flat=True))
        return set(below)

    def _cheapest_from_below(self, seen: dict[int, Decimal]) -> dict[int, Decimal]:
        """Grouped dearest first: a part's cheapest offer is at least its least `best_lo` over all
        its currencies (one currency's alone bounds only that currency's offers)."""
        rates = self.engine.display.rates
        low: dict[int, Decimal] = {}
        for part_id, currency, value in (PartPriceBand.objects.filter(band=self.band, part_id__in=list(seen),
                                                                      best_lo__isnull=False)
                                         .values_list("part_id", "currency", "best_lo")):
            value *= rates[currency]
            low[part_id] = min(value, low.get(part_id, value))
        return low

    def first(self, k: int) -> list[int] | None:
        """The first k listing ids in the search's order (grouped: each part's best offer), or None."""
        try:
            parts = self.candidates(k)
        except WalkFailed:
            return None
        if parts is None:
            return None
        e = self.engine
        return e._order_ids(e.offers_of(parts), k=k, whole_parts=True)
