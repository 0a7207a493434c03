"""Parts search at market scale: every filter shape, sorted by the price at the buyer's quantity,
flat (one row per offer) or grouped by part, without pricing every match.

How a page is found (the same rows and order as pricing every match and sorting; tests compare):

1. **Few matches** (≤ `DIRECT_LIMIT`, found with a capped id query): price them all. Exact count.
2. **Many matches, sorted by price**: a listing's price at any quantity lies between its cheapest and
   its dearest break (`min_unit_price`, `max_unit_price`, copied onto the listing and indexed per
   category and market-wide). Walk the cheapest `max_unit_price` listings of the scope (the category,
   or the whole market) in growing samples, keep those that match the whole search, and take `T`, the
   k-th best upper bound among them: the first k rows all cost ≤ T, so only matches whose lower bound
   is ≤ T (an index range) are priced and sorted. Descending and extended price are the mirror and
   the product with the order quantity. Count: exact on request, else an estimate from the sample.
3. Anything else (a rare filter over a huge scope, or orderings not by price) prices every match.

`price_at_qty` is the one place a listing is priced at a quantity, and converts it into the buyer's
display currency (`DisplayCurrency`: rates read once per search, a CASE over the listing's currency
in SQL). Price orderings sort the converted price; bounds on the native `min_unit_price` /
`max_unit_price` become one index range per currency (`DisplayCurrency.native_ranges`). Listings
whose currency has no rate into the display currency sort after every priced one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, connections
from django.db.models import DecimalField, ExpressionWrapper, F, Min, Q, QuerySet, Value, Window
from django.db.models.functions import RowNumber, Upper

from marketplace.catalogue.models import (
    Currency,
    Listing,
    Part,
    PartPriceBand,
    normalize_mpn,
)
from marketplace.catalogue.search.banded import BandedSearch
from marketplace.catalogue.search.filters import (
    SearchFilters,
    inferred_categories,
    keyword_q,
    listing_visible_q,
    part_filter_q,
)
from marketplace.catalogue.search.pricing import (
    DisplayCurrency,
    _order_qty,
    price_at_qty,
)
from marketplace.catalogue.search.grouped import PartStats, best_offers
from marketplace.catalogue.search.threshold import ThresholdSearch
from marketplace.catalogue.sql import InArray
from marketplace.exceptions import SearchTooBroad
from organizations.models import Organization

logger = logging.getLogger(__name__)


def search_matches(*, viewer: Organization | None, filters: SearchFilters, qty: int | None = None,
                   part_ids: list[int] | None = None) -> QuerySet[Listing]:
    """Active listings the viewer may see that pass every filter (not priced)."""

    qs = Listing.objects.filter(listing_visible_q(viewer), is_active=True)
    f = filters
    if f.category:
        qs = qs.filter(category_key=Upper(Value(f.category)))
    if f.mpn and (key := normalize_mpn(f.mpn)):
        qs = qs.filter(part__mpn_normalized__startswith=key)
    if f.q:
        qs = qs.filter(keyword_q(f.q))
    if part_ids is not None:
        qs = qs.filter(part_id__in=part_ids)
    if f.manufacturer:
        qs = qs.filter(part__manufacturer__iexact=f.manufacturer)
    if f.vendor_id:
        qs = qs.filter(vendor_id=f.vendor_id)
    if f.currency:
        qs = qs.filter(currency=f.currency)
    if f.max_lead_time_days is not None:
        qs = qs.filter(lead_time_days__lte=f.max_lead_time_days)
    for key, op, value in f.parameters:
        lookup = f"part__parameter_values__{key}" + (f"__{op}" if op else "")
        qs = qs.filter(**{lookup: value})
    if f.in_stock:
        qs = qs.alias(fill_qty=_order_qty(qty)).filter(stock__gte=F("fill_qty")) if qty else qs.filter(stock__gt=0)
    return qs


# --- The ordered page -----------------------------------------------------------------------------

# By the price in the display currency (no break at the quantity: last of its rank); offers whose
# currency has no rate into it after all of those, by their own price (`price_at_qty`).
PRICE_ORDERINGS = {
    "unit_price_at_qty": [F("sort_rank").asc(), F("sort_unit_price").asc(nulls_last=True), "lead_time_days", "id"],
    "-unit_price_at_qty": [F("sort_rank").asc(), F("sort_unit_price").desc(nulls_last=True), "id"],
    "extended_price": [F("sort_rank").asc(), F("sort_extended_price").asc(nulls_last=True), "lead_time_days", "id"],
}
OTHER_ORDERINGS = {
    "lead_time_days": ["lead_time_days", "id"],
    "-stock": ["-stock", "id"],
    "stock": ["stock", "id"],
    "-updated_at": ["-updated_at", "-id"],
    "id": ["id"],
}
ORDERINGS = {**PRICE_ORDERINGS, **OTHER_ORDERINGS}


def resolve_ordering(ordering: str | None, qty: int | None) -> str:
    if ordering not in ORDERINGS or (not qty and ordering in PRICE_ORDERINGS):
        return "unit_price_at_qty" if qty else "id"
    return ordering


@dataclass
class Found:
    """The first `k` listing ids in order (or, grouped, the best listing of the first `k` parts), and
    what is known about how many match."""
    ids: list[int]
    complete: bool  # ids hold every match (so the count is exact and nothing follows)
    count: int | None = None  # exact count when known
    estimate: int | None = None  # else an estimate
    path: str = ""  # "direct", "bounded", "full": which way the page was found (bench and tests)


class Engine:
    DIRECT_LIMIT = 2000  # price every match when there are at most this many
    SAMPLES = (5, 20, 80, 320)  # × k: the scope's cheapest listings looked at to find the bound
    MAX_CANDIDATES = 5000  # candidate ids passed as a list; more, and the bound is applied as a filter
    FULL_LIMIT = 200_000  # grouped dearest-first searches that would price more matches are refused

    def __init__(self, *, viewer, filters: SearchFilters, qty: int | None, ordering: str | None, group: bool,
                 display: DisplayCurrency | None = None):
        self.viewer, self.filters, self.qty, self.group = viewer, filters, qty, group
        self.ordering = resolve_ordering(ordering, qty)
        self.display = display or DisplayCurrency()
        self.part_ids: list[int] | None = None
        self.categories: list[str] | None = None  # UPPER categories the part filter can match in (when known)
        self.part_stats: dict[int, PartStats] = {}  # grouped: best offer → its part's statistics, when read with the page

    def priced(self, qs: QuerySet[Listing]) -> QuerySet[Listing]:
        return price_at_qty(qs, self.qty, self.display)

    def bound_currencies(self) -> list[str]:
        """The currencies whose listings can be on a priced page: those with a rate (and the
        listing-currency filter's)."""
        rated = sorted(self.display.rates)
        return [c for c in rated if c == self.filters.currency] if self.filters.currency else rated

    @staticmethod
    def in_currency(qs: QuerySet[Listing], currency: str) -> QuerySet[Listing]:
        """One currency's listings of a scope, so that a price range is read on its own: the
        platform currency's (most listings) through the price indexes, filtered; any other's
        through the partial `listing_fx_*` indexes (their condition, repeated here, lets the
        planner use them)."""
        qs = qs.filter(currency=currency)
        return qs if currency == Currency.CNY else qs.exclude(currency=Currency.CNY)

    def inferred_categories(self) -> set[str] | None:
        """`filters.inferred_categories` of this search, asked once (the banded, threshold and
        listing-level paths all need it)."""
        key = id(self.filters)
        if getattr(self, "_inferred_key", None) != key:
            self._inferred, self._inferred_key = inferred_categories(self.filters), key
        return self._inferred

    def matches(self) -> QuerySet[Listing]:
        """The matching listings (a fresh clone each call; built once per filters and part ids: a
        keyword's synonyms make the condition costly to build)."""
        key = (id(self.filters), None if self.part_ids is None else tuple(self.part_ids))
        if getattr(self, "_matches_key", None) != key:
            self._matches = search_matches(viewer=self.viewer, filters=self.filters, qty=self.qty, part_ids=self.part_ids)
            self._matches_key = key
        return self._matches.all()

    def offers_of(self, parts) -> QuerySet[Listing]:
        """The matching offers of `parts`, which the caller knows pass the part filters (the
        summaries' paths ask each part once, `BandedSearch._passing`): only the filters on the
        offers are applied, without joining the part table — for a broad keyword the planner would
        otherwise test every part's text (250 ms for "resistor" at 1M listings)."""
        offer_filters = replace(self.filters, q="", mpn="", manufacturer="", parameters=[])
        return search_matches(viewer=self.viewer, filters=offer_filters, qty=self.qty).filter(InArray("part_id", parts))

    def ordered(self, qs: QuerySet[Listing]) -> QuerySet[Listing]:
        if self.qty:
            qs = self.priced(qs)
        return qs.order_by(*ORDERINGS[self.ordering])

    # first k ------------------------------------------------------------------------------------
    def first(self, k: int) -> Found:
        by_price = bool(self.qty) and self.ordering in PRICE_ORDERINGS
        banded = BandedSearch(self) if by_price else None
        # The parts' price summaries first; an MPN prefix is usually narrow (a family): its offers
        # are priced at once, found through its parts.
        narrow_mpn = self.filters.mpn and self._mpn_parts() is not None
        threshold = ThresholdSearch(self, banded) if banded else None
        # Extended price: the summaries' bounds are loose (an MOQ multiplies the unit price), so the
        # banded bound leaves thousands of candidates; the threshold walk over both of its lists
        # stops after a batch or two. Tried first.
        walked = bool(threshold and self.ordering == "extended_price" and not narrow_mpn and threshold.applies())
        if walked and (found := self._threshold(threshold, k)):
            return found
        # (A walk that failed read more of the summaries than the banded search reads: a narrow filter.)
        if banded and not narrow_mpn and not walked and (found := self._banded(banded, k)):
            return found
        matches = self.matches() if not narrow_mpn else self.matches().filter(InArray("part_id", self._mpn_parts()))
        small = list(matches.values_list("pk", flat=True)[: self.DIRECT_LIMIT + 1])
        if len(small) <= self.DIRECT_LIMIT:
            ids = self._order_ids(Listing.objects.filter(InArray("pk", small)), k=None, whole_parts=True)
            return Found(ids=ids, complete=True, count=len(small) if not self.group else len(ids), path="direct")
        if banded and narrow_mpn and (found := self._banded(banded, k)):
            return found
        # Filters on the offers (stock, lead time, currency), or extended price over a broad scope:
        # the summaries as lower bounds, walked until no unread part can reach the page.
        if threshold and not walked and threshold.applies() and (found := self._threshold(threshold, k)):
            return found
        if by_price:
            found = self._bounded(k)
            if found is not None:
                return found
        if self.group and self.ordering == "-unit_price_at_qty":
            # No bound finds these pages (docs/search.md): every match is priced. Up to FULL_LIMIT
            # matching offers that answers (in PostgreSQL, each part's best offer by DISTINCT ON);
            # beyond it, a 400 with the way out (on the 1M world the whole market took ~50 s).
            if self._too_many_to_price():
                raise SearchTooBroad({"ordering": [
                    f"Parts by their best offer, dearest first, need a narrower search (at most {self.FULL_LIMIT:,} "
                    "matching offers): add a category, keyword or parameter, or sort the offers themselves (view=offers)."]})
            ids = self._order_ids(self.matches(), k=k + 1, whole_parts=True)
            return Found(ids=ids[:k], complete=len(ids) <= k, path="full")
        ids = self._order_ids(self.matches(), k=k + 1, whole_parts=True)
        return Found(ids=ids[:k], complete=len(ids) <= k, path="full")

    DIRECT_PARTS = 200  # an MPN prefix with at most this many parts prices their offers directly

    def _mpn_parts(self) -> list[int] | None:
        """The parts of the MPN prefix (the prefix index), when at most DIRECT_PARTS; else None."""
        if not hasattr(self, "_mpn_part_ids"):
            key = normalize_mpn(self.filters.mpn)
            ids = list(Part.objects.filter(mpn_normalized__startswith=key).order_by().values_list("pk", flat=True)[: self.DIRECT_PARTS + 1])
            self._mpn_part_ids = ids if len(ids) <= self.DIRECT_PARTS else None
        return self._mpn_part_ids

    def _threshold(self, threshold: ThresholdSearch, k: int) -> Found | None:
        if (ids := threshold.first(k)) is None:
            return None
        return Found(ids=ids, complete=False, path="threshold",
                     estimate=self._estimate(from_parts=self.filters.part_level and threshold.banded.filtered))

    def _banded(self, banded: BandedSearch, k: int) -> Found | None:
        if banded.applies() and (ids := banded.first(k)) is not None:
            return Found(ids=ids, complete=False, estimate=self._estimate(from_parts=banded.filtered), path="banded")
        return None

    def _order_ids(self, qs: QuerySet[Listing], *, k: int | None, whole_parts: bool = False) -> list[int]:
        """Ids in the search order. Grouped: each part's best offer (the first in ascending price
        order), parts ordered by it — descending means the parts whose best offer is dearest first
        (`grouped.best_offers`). `whole_parts`: `qs` holds every matching offer of its parts, so the
        statistics read with the page are each part's (kept in `part_stats`)."""
        if not self.group:
            rows = self.ordered(qs).values_list("pk", flat=True)
            return list(rows if k is None else rows[:k])
        if self.qty:
            descending = self.ordering == "-unit_price_at_qty"
            ascending = ORDERINGS["unit_price_at_qty" if descending else self.ordering]
            order = [F("sort_rank").asc(), F("sort_unit_price").desc(nulls_last=True), "id"] if descending else ascending
            ids, stats = best_offers(qs, qty=self.qty, display=self.display, ascending=ascending, order=order, k=k)
            if whole_parts:
                self.part_stats.update(stats)
            return ids
        # Without a quantity (by lead time, stock, date or id): each part's first offer in that order.
        ordering = ORDERINGS[self.ordering]
        rows = qs.annotate(place=Window(RowNumber(), partition_by=[F("part_id")], order_by=[_expression(o) for o in ordering]))
        rows = rows.filter(place=1).order_by(*ordering).values_list("pk", flat=True)
        return list(rows if k is None else rows[:k])

    MAX_SCOPES = 4

    def _scope(self) -> QuerySet[Listing]:
        """The category's index range, or the market's."""
        qs = Listing.objects.filter(is_active=True)
        if self.filters.category:
            qs = qs.filter(category_key=Upper(Value(self.filters.category)))
        return qs

    def _inferred_scopes(self) -> list[QuerySet[Listing]] | None:
        """Without a category, a keyword or parameter search usually falls in a few categories:
        sampling each of their cheapest listings finds matches where the market's cheapest
        (passives) hold none. The categories come from their vocabulary (`inferred_categories`)."""
        f = self.filters
        if f.category or not (f.q or f.parameters or f.manufacturer or f.mpn):
            return None
        categories = self.inferred_categories()
        if not categories or len(categories) > self.MAX_SCOPES:
            return None
        self.categories = sorted(categories)
        return [Listing.objects.filter(is_active=True, category_key=c) for c in self.categories]

    def _bounded(self, k: int) -> Found | None:
        """The market's (or the category's) cheapest listings first; if a few samples there hold too
        few matches, the categories the matching parts are in."""
        found = self._bounded_in([self._scope()], k, samples=self.SAMPLES[:2] if self._may_infer() else self.SAMPLES)
        if found is None and self._may_infer():
            scopes = self._inferred_scopes()
            if scopes:
                found = self._bounded_in(scopes, k, samples=self.SAMPLES)
        return found

    def _may_infer(self) -> bool:
        f = self.filters
        return not f.category and bool(f.q or f.parameters or f.manufacturer or f.mpn)

    def _bounded_in(self, scopes: list[QuerySet[Listing]], k: int, *, samples: tuple) -> Found | None:
        qty, descending = self.qty, self.ordering == "-unit_price_at_qty"
        extended = self.ordering == "extended_price"
        order_qty = _order_qty(qty)
        display, rates = self.display, self.display.rates
        if descending:
            sample_order = F("min_unit_price").desc()  # NULLS FIRST: the index's order
            scopes = [scope.filter(min_unit_price__isnull=False) for scope in scopes]
        else:
            sample_order = F("max_unit_price").asc()
        # The bounds below are converted, so any k converted prices ≤ T bound the page. Offers
        # without a rate sort after every priced one: never in a bound.
        matched: list[tuple] = []
        # Each currency's cheapest, read apart (one index range each): the native order of a mixed
        # sample would favour the currency with the smaller numbers.
        scopes_fx = [self.in_currency(scope, c) for scope in scopes for c in self.bound_currencies()]
        for factor in samples:
            size = factor * k
            per_scope = [list(scope.order_by(sample_order).values_list("pk", flat=True)[:size]) for scope in scopes_fx]
            if extended:  # the cheapest orders too (MOQ × cheapest break): at small quantities they lead
                per_scope += [list(scope.filter(min_spend__isnull=False).order_by("min_spend").values_list("pk", flat=True)[:size])
                              for scope in scopes_fx]
            sample = list(dict.fromkeys(pk for ids in per_scope for pk in ids))
            # The sample's matches that have a price at the quantity, with both bounds (no pricing yet).
            rows = (self.matches().filter(display.priced_q(), InArray("pk", sample)).annotate(oq=order_qty)
                    .filter(first_break_qty__lte=F("oq"))
                    .values_list("pk", "part_id", "min_unit_price", "max_unit_price", "oq", "currency"))
            matched = [(pk, part_id, low * rates[c], high * rates[c], oq) for pk, part_id, low, high, oq, c in rows]
            if len({r[1] for r in matched} if self.group else matched) >= k:
                break
            if all(len(ids) < size for ids in per_scope):
                return None  # every scope was looked at whole: pricing every match is as cheap
        else:
            return None  # a rare filter over a large scope: not worth more samples
        if descending and self.group:
            return self._bounded_group_descending(k, matched, scopes)
        # A first bound from the breaks alone (valid: k matches cost at most / at least it), then a
        # tighter one from real prices of the few sampled matches that can beat it.
        if descending:
            rough = sorted((r[2] for r in matched), reverse=True)[k - 1]
            near = [r[0] for r in matched if r[3] >= rough]
        else:  # bounds per row: unit price in [min, max]; extended price in [oq × min, oq × max]
            scale = (lambda oq: oq) if extended else (lambda oq: 1)
            rough_key = {}
            for pk, part_id, low, high, oq in matched:
                key = part_id if self.group else pk
                rough_key[key] = min(high * scale(oq), rough_key.get(key, high * scale(oq)))
            rough = sorted(rough_key.values())[k - 1]
            near = [r[0] for r in matched if r[2] * scale(r[4]) <= rough]
        priced = list(self.priced(Listing.objects.filter(pk__in=near)).filter(sort_unit_price__isnull=False)
                      .values_list("part_id", "sort_unit_price", "order_qty"))
        if descending:
            bound = sorted((price for _, price, _ in priced), reverse=True)[k - 1]
            candidates_q = display.native_ranges("max_unit_price", "gte", bound)
            candidate_order = F("max_unit_price").desc()
        else:
            keyed = [(price * oq if extended else price, part_id) for part_id, price, oq in priced]
            if self.group:
                best: dict[int, Decimal] = {}
                for value, part_id in keyed:
                    best[part_id] = min(value, best.get(part_id, value))
                bound = sorted(best.values())[k - 1]
            else:
                bound = sorted(v for v, _ in keyed)[k - 1]
            if extended:
                return self._bounded_extended(k, scopes, bound)
            candidates_q = display.native_ranges("min_unit_price", "lte", bound)
            candidate_order = F("min_unit_price").asc()
        candidates = self._candidate_ids(scopes, candidates_q, candidate_order)
        narrowed = (self.matches().filter(InArray("pk", candidates)) if candidates is not None
                    else self.matches().filter(self._either(candidates_q)))
        ids = self._order_ids(narrowed, k=k)
        return Found(ids=ids, complete=False, estimate=self._estimate(), path="bounded")

    def _candidate_ids(self, scopes, ranges: dict[str, Q], order) -> list[int] | None:
        """The scopes' listings within the bound (one index range per scope and currency), or None
        when there are too many to pass as a list."""
        ids = []
        for scope in scopes:
            for c in self.bound_currencies():
                ids += self.in_currency(scope, c).filter(ranges[c]).order_by(order).values_list("pk", flat=True)[
                    : self.MAX_CANDIDATES + 1 - len(ids)]
                if len(ids) > self.MAX_CANDIDATES:
                    return None
        return ids

    def _either(self, ranges: dict[str | None, Q]) -> Q:
        """(currency = c AND range_c) OR …, inside the widest range (an index range for the planner)."""
        cond = Q(pk__in=[])
        currencies = self.bound_currencies()
        for c in currencies:
            cond |= Q(currency=c) & ranges[c]
        return (ranges[currencies[0]] if len(currencies) == 1 else ranges[None]) & cond

    def _bounded_extended(self, k: int, scopes, bound: Decimal) -> Found:
        """Extended price ≤ T needs both qty × min_unit_price ≤ T (the order quantity is at least the
        quantity asked; selective at large quantities) and moq × min_unit_price = min_spend ≤ T
        (selective at small ones, where reels' MOQs make cheap units dear): read the narrower range.
        Slack: SQLite compares these decimals as floats."""
        by_unit = self.display.native_ranges("min_unit_price", "lte", bound, divide_by=self.qty)
        by_spend = self.display.native_ranges("min_spend", "lte", bound)
        ids = self._candidate_ids(scopes, by_spend, F("min_spend").asc())
        if ids is None:
            ids = self._candidate_ids(scopes, by_unit, F("min_unit_price").asc())
        narrowed = (self.matches().filter(InArray("pk", ids)) if ids is not None
                    else self.matches().filter(self._either(by_unit) & self._either(by_spend)))
        if connection.vendor == "postgresql":  # and ≥ order_qty × min_unit_price (exact numerics only)
            narrowed = narrowed.alias(lo=ExpressionWrapper(_order_qty(self.qty) * F("min_unit_price") * self.display.rate_sql(),
                                                           output_field=DecimalField()))
            narrowed = narrowed.filter(lo__lte=bound)
        ids = self._order_ids(narrowed, k=k)
        return Found(ids=ids, complete=False, estimate=self._estimate(), path="bounded")

    def _bounded_group_descending(self, k: int, matched: list[tuple], scopes: list) -> Found | None:
        """Parts by their best (lowest) offer, dearest first. A part's best is ≥ T only if every one of
        its offers is; so take T from the sampled parts' true best prices (all their offers priced),
        and the candidates are the parts with some offer whose dearest break is ≥ T."""
        sample_parts = list(dict.fromkeys(r[1] for r in matched))
        best = self._best_by_part(sample_parts)
        if len(best) < k:
            return None
        bound = sorted(best.values(), reverse=True)[k - 1]
        ranges = self.display.native_ranges("max_unit_price", "gte", bound)
        parts = [p for scope in scopes for c in self.bound_currencies()
                 for p in self.in_currency(scope, c).filter(ranges[c]).order_by(F("max_unit_price").desc())
                 .values_list("part_id", flat=True)[: self.MAX_CANDIDATES + 1]]
        if len(parts) > self.MAX_CANDIDATES:
            return None
        ids = self._order_ids(self.matches().filter(InArray("part_id", parts)), k=k, whole_parts=True)
        return Found(ids=ids, complete=False, estimate=self._estimate(), path="bounded")

    def _too_many_to_price(self) -> bool:
        """More than FULL_LIMIT matches? On PostgreSQL the page-sample estimate answers the broad
        searches at once; when it says few, a capped count (cheap then) makes sure."""
        if connection.vendor == "postgresql" and sampled_count(self.matches(), Listing._meta.db_table, percent=1) > self.FULL_LIMIT:
            return True
        return len(self.matches().values_list("pk", flat=True)[: self.FULL_LIMIT + 1]) > self.FULL_LIMIT

    def _best_by_part(self, part_ids: list[int]) -> dict[int, Decimal]:
        rows = (self.priced(self.matches().filter(self.display.priced_q(), part_id__in=part_ids))
                .filter(sort_unit_price__isnull=False).values("part_id").annotate(best=Min("sort_unit_price")))
        return {r["part_id"]: r["best"] for r in rows}

    def _estimate(self, *, from_parts: bool = False) -> int | None:
        """An unbiased estimate of the match count: count the matches in a random 1 % of the listing
        table's pages (TABLESAMPLE SYSTEM, ~10k rows) and scale up; grouped searches with part-level
        filters sample 10 % of the part table instead. (The planner's own estimate is off by 5-10×
        for keyword and parameter filters, which have no statistics.) Elsewhere (SQLite) None: the
        count is exact."""
        if connection.vendor != "postgresql":
            return None
        parts = Part.objects.filter(part_filter_q(self.filters)).order_by()
        if self.part_ids is not None:
            parts = parts.filter(pk__in=self.part_ids)
        if self.categories:  # the few categories the filter can match in: the others' parts are not tested
            parts = parts.alias(category_key=Upper("category")).filter(category_key__in=self.categories)
        if from_parts and not self.group:  # the sampled parts' offers, from their price summaries
            # (every currency named: each part's band-0 rows are one probe of the unique index)
            currencies = ", ".join(f"'{c}'" for c in Currency.values)
            return sampled_count(parts.values("pk"), Part._meta.db_table, percent=10, outer=(
                f'SELECT COALESCE(SUM("offers"), 0) FROM "{PartPriceBand._meta.db_table}" '
                f'WHERE "band" = 0 AND "currency" IN ({currencies}) AND "part_id" IN ({{}})'))
        if self.group and self.filters.part_level:
            return sampled_count(parts, Part._meta.db_table, percent=10)
        if self.group:
            # Distinct parts in a 1 % sample of the offers, scaled by 100, overcounts (a part with
            # ten offers is seen in ten times as many samples): never more than the parts that
            # pass the part filters (with an offer filter, the whole market showed "about
            # 128,500 parts" of 100,374).
            return min(sampled_count(self.matches().values("part_id").distinct(), Listing._meta.db_table, percent=1),
                       sampled_count(parts, Part._meta.db_table, percent=10))
        return sampled_count(self.matches(), Listing._meta.db_table, percent=1)

    def exact_count(self) -> int:
        qs = self.matches()
        return qs.values("part_id").distinct().count() if self.group else qs.count()


def _expression(ordering):
    """An ordering as `order_by` takes it ("-id", or an expression) as an expression (for a window)."""
    if not isinstance(ordering, str):
        return ordering
    return F(ordering[1:]).desc() if ordering.startswith("-") else F(ordering).asc()


def sampled_count(qs: QuerySet, table: str, *, percent: int, outer: str = "SELECT COUNT(*) FROM ({}) sampled") -> int:
    """COUNT(*) of the query (or `outer`'s aggregate over it) over a page sample of `table`, scaled
    up (PostgreSQL TABLESAMPLE)."""
    sql, params = qs.order_by().query.sql_with_params()
    quoted = f'FROM "{table}"'
    if quoted not in sql:
        return planner_rows(qs)
    sql = outer.replace("{}", sql.replace(quoted, f'{quoted} TABLESAMPLE SYSTEM ({int(percent)}) REPEATABLE (7)', 1), 1)
    # An estimate a minute old is as good as a new one: kept in the cache (shared by the workers),
    # so paging through a search, or asking again at another quantity, does not sample again.
    db = connections[qs.db]  # the search's database (a replica, when the router sends reads there)
    key = "sampled-count:" + hashlib.sha256(f"{db.settings_dict['NAME']}|{sql}|{params!r}".encode()).hexdigest()
    if (known := _cached(key)) is not None:
        return known
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        value = round((cursor.fetchone()[0] or 0) * 100 / percent)
    _cache_set(key, value)
    return value


ESTIMATE_SECONDS = 60


def _cached(key: str):
    try:
        return cache.get(key)
    except Exception:  # the cache is down: estimate again (a search never fails for it)
        logger.warning("search count cache unavailable", exc_info=True)
        return None


def _cache_set(key: str, value: int) -> None:
    try:
        cache.set(key, value, ESTIMATE_SECONDS)
    except Exception:
        logger.warning("search count cache unavailable", exc_info=True)


def planner_rows(qs: QuerySet) -> int:
    """PostgreSQL's row estimate for a query (EXPLAIN, not run); an exact count elsewhere."""
    db = connections[qs.db]
    if db.vendor != "postgresql":
        return qs.count()
    sql, params = qs.query.sql_with_params()
    with db.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])
