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

import difflib
import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from functools import cached_property

from django.conf import settings
from django.db import connection
from django.db.models import (BooleanField, Case, Count, DecimalField, Exists, ExpressionWrapper, F, IntegerField, Max, Min,
                              OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper

from credit.fx import CENT, RATE_PLACES, rate_table
from marketplace.exceptions import SearchTooBroad
from marketplace.models import Currency, Listing, Part, PriceBreak, normalize_mpn
from organizations.models import Organization
from marketplace.units import QUANTITY_KEYS, format_measure, parse_filter_value

# --- Keywords -------------------------------------------------------------------------------------

# Words buyers use for the same thing. A word in a group matches any member; members of 3 letters or
# fewer match whole words only (so "cap" does not find "capacity").
SYNONYM_GROUPS = [
    {"capacitor", "capacitors", "cap", "caps", "mlcc", "condenser"},
    {"resistor", "resistors", "res", "resistance"},
    {"inductor", "inductors", "coil", "choke"},
    {"mosfet", "mosfets", "fet"},
    {"crystal", "crystals", "xtal"},
    {"mcu", "microcontroller", "microcontrollers"},
    {"connector", "connectors", "conn", "receptacle"},
    {"led", "leds"},
    {"ldo", "regulator", "regulators"},
    {"tvs", "esd"},
]
SYNONYMS = {word: group for group in SYNONYM_GROUPS for word in group}


def keyword_alternatives(word: str) -> list[str]:
    """The patterns one typed word matches in a part's search text (space-padded, lower case): a
    synonym's group (short members as whole words), else the word and its MPN form (ESP32-C3 → esp32c3)."""
    word = " ".join("".join(ch if ch.isalnum() or ch in ".µ" else " " for ch in word.lower()).split())
    if word in SYNONYMS:
        return sorted(f" {alt} " if len(alt) <= 3 else alt for alt in SYNONYMS[word])
    return sorted({word, normalize_mpn(word).lower()} - {""})


def keyword_q(q: str, *, prefix: str = "part__") -> Q:
    """Each typed word (or one of its synonyms) must appear in the part's search text."""
    cond = Q()
    for word in q.split()[:6]:
        if not normalize_mpn(word):
            continue
        word_q = Q()
        for pattern in keyword_alternatives(word):
            word_q |= Q(**{f"{prefix}search_text__contains": pattern})
        cond &= word_q
    return cond


def mpn_suggestions(word: str, *, limit: int = 8) -> list[Part]:
    """Parts whose MPN is close to a mistyped one. PostgreSQL: trigram similarity through the GIN
    index (any position of the typo). Elsewhere: difflib over the MPNs that share the first three
    characters (cheap, misses a typo in those three)."""
    key = normalize_mpn(word)
    if len(key) < 4:
        return []
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramSimilarity

        return list(Part.objects.filter(RawSQL("marketplace_part.mpn_normalized %% %s", [key], output_field=BooleanField()))
                    .annotate(similarity=TrigramSimilarity("mpn_normalized", key))
                    .filter(similarity__gte=0.4).order_by("-similarity", "mpn_normalized", "id")[:limit])
    names = list(Part.objects.filter(mpn_normalized__startswith=key[:3]).values_list("mpn_normalized", flat=True)[:5000])
    close = difflib.get_close_matches(key, names, n=limit, cutoff=0.75)
    by_name = {p.mpn_normalized: p for p in Part.objects.filter(mpn_normalized__in=close)}
    return [by_name[name] for name in close if name in by_name]


# --- Filters ----------------------------------------------------------------------------------------

RANGE = re.compile(r"^\s*([A-Za-z0-9_]{1,40})\s*(>=|<=|=|:|>|<)\s*(.+?)\s*$")
OPS = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt", "=": "", ":": ""}


def parse_parameter_filters(text: str) -> list[tuple[str, str, object]]:
    """`capacitance>=10uF, package:0402` → [("capacitance", "gte", 1e-05), ("package", "", "0402")].
    Values are normalised as the parts' values are; a value that does not parse is dropped."""
    out = []
    for chunk in (text or "")[:400].split(","):
        if m := RANGE.match(chunk):
            key, op, raw = m[1].lower(), OPS[m[2]], m[3]
            value = parse_filter_value(key, raw)
            if value is None or (op and isinstance(value, str)):
                continue
            out.append((key, op, value))
    return out


@dataclass
class SearchFilters:
    q: str = ""
    mpn: str = ""
    category: str = ""
    manufacturer: str = ""
    vendor_id: int | None = None
    currency: str | None = None
    in_stock: bool = False
    max_lead_time_days: int | None = None
    parameters: list[tuple[str, str, object]] = field(default_factory=list)

    @property
    def part_level(self) -> bool:
        """Only filters on the part (plus visibility): a part's listings all match or none does."""
        return not (self.vendor_id or self.currency or self.in_stock or self.max_lead_time_days is not None)


def part_filter_q(f: SearchFilters, *, prefix: str = "") -> Q:
    """The filters that concern the part alone, as a condition on Part (or, with `prefix`, on a relation)."""
    cond = Q()
    if f.category:
        cond &= Q(**{f"{prefix}category__iexact": f.category})
    if f.mpn and (key := normalize_mpn(f.mpn)):
        cond &= Q(**{f"{prefix}mpn_normalized__startswith": key})
    if f.q:
        cond &= keyword_q(f.q, prefix=prefix)
    if f.manufacturer:
        cond &= Q(**{f"{prefix}manufacturer__iexact": f.manufacturer})
    for key, op, value in f.parameters:
        cond &= Q(**{f"{prefix}parameter_values__{key}" + (f"__{op}" if op else ""): value})
    return cond


CONVERTED = DecimalField(max_digits=30, decimal_places=12)
UNIT_PLACES = Decimal("0.000001")  # a unit price's precision (UNIT_PRICE in models)
SLACK = Decimal("0.000001")  # widens native bounds: T / rate is rounded, and SQLite compares floats
BOUND_PLACES = Decimal("1e-12")  # native bounds are rounded outward to this (short SQL literals)


class DisplayCurrency:
    """The buyer's display currency and the rates from each listing currency into it
    (`credit.fx.rate_table`, read once, on first use, per search). Prices sort in it, in SQL:
    `rate_sql()` is a CASE over the listing's currency, `rank_sql()` puts the currencies without a
    rate after the priced ones (one group per currency, each by its own price)."""

    def __init__(self, code: str | None = None, *, at=None):
        self.code = code or settings.KITSTREET_DEFAULT_CURRENCY
        self.at = at

    @cached_property
    def rates(self) -> dict[str, Decimal]:
        return {c: Decimal(r).quantize(RATE_PLACES, ROUND_HALF_EVEN) for c, r in rate_table(self.code, self.at).items()}

    def rate(self, currency: str) -> Decimal | None:
        return self.rates.get(currency)

    @property
    def complete(self) -> bool:
        """Every listing currency has a rate (no filter needed to leave the unpriced out of bounds)."""
        from credit.models import Currency

        return all(c in self.rates for c in Currency.values)

    def rate_sql(self, *, missing: Decimal | None = None):
        # The display currency's own listings multiply by 1; others by their rate; none → `missing`.
        whens = [When(currency=c, then=Value(r, output_field=CONVERTED)) for c, r in sorted(self.rates.items())]
        return Case(*whens, default=Value(missing, output_field=CONVERTED), output_field=CONVERTED)

    def rank_sql(self):
        """0 for listings with a rate; 1, 2, … for each currency without one (sorted after, apart)."""
        from credit.models import Currency

        unrated = [c for c in Currency.values if c not in self.rates]
        return Case(When(currency__in=sorted(self.rates), then=Value(0)),
                    *[When(currency=c, then=Value(i + 1)) for i, c in enumerate(unrated)],
                    default=Value(len(unrated) + 1), output_field=IntegerField())

    def priced_q(self) -> Q:
        """Listings whose currency has a rate (all, when every currency has one)."""
        return Q() if self.complete else Q(currency__in=sorted(self.rates))

    def native_ranges(self, column: str, op: str, bound: Decimal, *, divide_by: int = 1) -> dict[str | None, Q]:
        """`column` × rate (op) `bound` per currency with a rate, on the native column:
        {c: column (op) bound / rate_c}, rounded outward (SLACK: the sort uses exact values, the
        ranges only select). Each is one index range (`Engine.in_currency`)."""
        assert op in ("lte", "gte")
        widen, rounding = ((1 + SLACK), ROUND_CEILING) if op == "lte" else ((1 - SLACK), ROUND_FLOOR)
        limits = {c: (bound / divide_by / r * widen).quantize(BOUND_PLACES, rounding) for c, r in sorted(self.rates.items()) if r > 0}
        ranges = {c: Q(**{f"{column}__{op}": limit}) for c, limit in limits.items()}
        # As one condition (`Engine._either`): inside the widest range, so one index range is read.
        ranges[None] = Q(**{f"{column}__{op}": max(limits.values()) if op == "lte" else min(limits.values())})
        return ranges

    def converted(self, listing: Listing) -> dict | None:
        """The listing's price at the quantity in the display currency (unit price to 6 places,
        extended to cents, half-even; the sort used the unrounded product), or None without a rate."""
        rate = self.rate(listing.currency)
        if rate is None:
            return None
        unit = getattr(listing, "unit_price_at_qty", None)
        return {"currency": self.code, "rate": rate,
                "unit_price_at_qty": (unit * rate).quantize(UNIT_PLACES, ROUND_HALF_EVEN) if unit is not None else None,
                "extended_price": (listing.order_qty * unit * rate).quantize(CENT, ROUND_HALF_EVEN) if unit is not None else None}

    def missing_reason(self, listing: Listing) -> str | None:
        if self.rate(listing.currency) is not None:
            return None
        return (f"No exchange rate from {listing.currency} to {self.code}: not comparable, "
                f"so sorted after the offers priced in {self.code}.")


def price_at_qty(qs: QuerySet[Listing], qty: int, display: DisplayCurrency | None = None) -> QuerySet[Listing]:
    """THE pricing of a listing at a quantity, in SQL so that sorting works on the whole market:
    `order_qty` (qty raised to the MOQ, then up to a multiple), `unit_price_at_qty` (the break with
    the largest min_qty ≤ order_qty; an index probe on (listing, min_qty)), `extended_price`, and
    whether the offer can fill it (`fills_qty`: stock covers order_qty, and order_qty is what was
    asked — a larger MOQ or multiple means buying more). With `display`, what every price ordering
    sorts by: `sort_rank` (0 with a rate into the display currency, else after) and
    `sort_unit_price` / `sort_extended_price`, the prices × the rate (× 1 without one: the rank
    keeps those apart). One price-break probe per row: the sort keys reuse the same subquery."""
    wanted = Value(int(qty))
    raised = Case(When(moq__gt=wanted, then=F("moq")), default=wanted)
    qs = qs.annotate(order_qty=ExpressionWrapper((raised + F("multiple") - 1) / F("multiple") * F("multiple"),
                                                 output_field=IntegerField()))
    price = (PriceBreak.objects.filter(listing=OuterRef("pk"), min_qty__lte=OuterRef("order_qty"))
             .order_by("-min_qty").values("unit_price")[:1])
    qs = qs.annotate(unit_price_at_qty=Subquery(price, output_field=DecimalField(max_digits=14, decimal_places=6)))
    qs = qs.annotate(extended_price=ExpressionWrapper(F("order_qty") * F("unit_price_at_qty"),
                                                      output_field=DecimalField(max_digits=24, decimal_places=6)))
    if display is None:
        return qs
    rate = display.rate_sql(missing=Decimal(1))
    return qs.annotate(sort_rank=display.rank_sql(),
                       sort_unit_price=ExpressionWrapper(F("unit_price_at_qty") * rate, output_field=CONVERTED),
                       sort_extended_price=ExpressionWrapper(F("order_qty") * F("unit_price_at_qty") * rate, output_field=CONVERTED))


def _order_qty(qty: int):
    wanted = Value(int(qty))
    raised = Case(When(moq__gt=wanted, then=F("moq")), default=wanted)
    return ExpressionWrapper((raised + F("multiple") - 1) / F("multiple") * F("multiple"), output_field=IntegerField())


def search_matches(*, viewer: Organization | None, filters: SearchFilters, qty: int | None = None,
                   part_ids: list[int] | None = None) -> QuerySet[Listing]:
    """Active listings the viewer may see that pass every filter (not priced)."""
    from marketplace.selectors.catalogue import listing_visible_q

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
    FULL_LIMIT = 20000  # grouped dearest-first searches that would price more matches are refused

    def __init__(self, *, viewer, filters: SearchFilters, qty: int | None, ordering: str | None, group: bool,
                 display: DisplayCurrency | None = None):
        self.viewer, self.filters, self.qty, self.group = viewer, filters, qty, group
        self.ordering = resolve_ordering(ordering, qty)
        self.display = display or DisplayCurrency()
        self.part_ids: list[int] | None = None

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

    def matches(self) -> QuerySet[Listing]:
        return search_matches(viewer=self.viewer, filters=self.filters, qty=self.qty, part_ids=self.part_ids)

    def ordered(self, qs: QuerySet[Listing]) -> QuerySet[Listing]:
        if self.qty:
            qs = self.priced(qs)
        return qs.order_by(*ORDERINGS[self.ordering])

    # first k ------------------------------------------------------------------------------------
    def first(self, k: int) -> Found:
        small = list(self.matches().values_list("pk", flat=True)[: self.DIRECT_LIMIT + 1])
        if len(small) <= self.DIRECT_LIMIT:
            ids = self._order_ids(Listing.objects.filter(pk__in=small), k=None)
            return Found(ids=ids, complete=True, count=len(small) if not self.group else len(ids), path="direct")
        if self.qty and self.ordering in PRICE_ORDERINGS:
            found = self._bounded(k)
            if found is not None:
                return found
        if self.group and self.ordering == "-unit_price_at_qty" and self.FULL_LIMIT is not None:
            # No bound finds these pages (docs/search.md): price every match only when that is affordable.
            if self._too_many_to_price():
                raise SearchTooBroad({"ordering": [
                    f"Parts by their best offer, dearest first, need a narrower search (at most {self.FULL_LIMIT:,} "
                    "matching offers): add a category, keyword or parameter, or sort the offers themselves (view=offers)."]})
        ids = self._order_ids(self.matches(), k=k + 1)
        return Found(ids=ids[:k], complete=len(ids) <= k, path="full")

    def _order_ids(self, qs: QuerySet[Listing], *, k: int | None) -> list[int]:
        """Ids in the search order. Grouped: each part's best offer (the first in ascending price
        order), parts ordered by it — descending means the parts whose best offer is dearest first."""
        if not self.group:
            rows = self.ordered(qs).values_list("pk", flat=True)
            return list(rows if k is None else rows[:k])
        descending = self.ordering == "-unit_price_at_qty"
        ascending_order = "unit_price_at_qty" if descending else self.ordering
        rows = (self.priced(qs) if self.qty else qs).order_by(*ORDERINGS[ascending_order])
        rows = (rows.values_list("pk", "part_id", "sort_rank", "sort_unit_price") if self.qty
                else rows.values_list("pk", "part_id", "id", "id"))
        out, seen = [], set()
        for pk, part_id, rank, price in rows.iterator(chunk_size=2000):
            if part_id not in seen:
                seen.add(part_id)
                out.append((pk, rank, price))
                if not descending and k is not None and len(out) >= k:
                    break
        if descending:  # by the best price (display currency), dearest first; parts without one last
            out.sort(key=lambda row: (row[1], row[2] is None, -(row[2] or 0), row[0]))
        return [pk for pk, _, _ in (out if k is None else out[:k])]

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
        (passives) hold none. One query on the matching parts (trigram-indexed keywords)."""
        f = self.filters
        if f.category or not (f.q or f.parameters or f.manufacturer or f.mpn):
            return None
        parts = Part.objects.filter(part_filter_q(f))
        if self.part_ids is not None:
            parts = parts.filter(pk__in=self.part_ids)
        categories = list(parts.order_by().values_list(Upper("category"), flat=True).distinct()[: self.MAX_SCOPES + 1])
        if len(categories) > self.MAX_SCOPES:
            return None
        return [Listing.objects.filter(is_active=True, category_key=c) for c in categories]

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
            rows = (self.matches().filter(display.priced_q(), pk__in=sample).annotate(oq=order_qty)
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
        narrowed = (self.matches().filter(pk__in=candidates) if candidates is not None
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
        narrowed = (self.matches().filter(pk__in=ids) if ids is not None
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
        ids = self._order_ids(self.matches().filter(part_id__in=set(parts)), k=k)
        return Found(ids=ids, complete=False, estimate=self._estimate(), path="bounded")

    def _too_many_to_price(self) -> bool:
        """More than FULL_LIMIT matches? On PostgreSQL the page-sample estimate answers the broad
        searches at once (a capped count of 20,000 rows costs more); when it says few, a capped count
        (cheap then) makes sure."""
        if connection.vendor == "postgresql" and sampled_count(self.matches(), Listing._meta.db_table, percent=1) > self.FULL_LIMIT:
            return True
        return len(self.matches().values_list("pk", flat=True)[: self.FULL_LIMIT + 1]) > self.FULL_LIMIT

    def _best_by_part(self, part_ids: list[int]) -> dict[int, Decimal]:
        rows = (self.priced(self.matches().filter(self.display.priced_q(), part_id__in=part_ids))
                .filter(sort_unit_price__isnull=False).values("part_id").annotate(best=Min("sort_unit_price")))
        return {r["part_id"]: r["best"] for r in rows}

    def _estimate(self) -> int | None:
        """An unbiased estimate of the match count: count the matches in a random 1 % of the listing
        table's pages (TABLESAMPLE SYSTEM, ~10k rows) and scale up; grouped searches with part-level
        filters sample 10 % of the part table instead. (The planner's own estimate is off by 5-10×
        for keyword and parameter filters, which have no statistics.) Elsewhere (SQLite) None: the
        count is exact."""
        if connection.vendor != "postgresql":
            return None
        if self.group and self.filters.part_level:
            parts = Part.objects.filter(part_filter_q(self.filters))
            if self.part_ids is not None:
                parts = parts.filter(pk__in=self.part_ids)
            return sampled_count(parts, Part._meta.db_table, percent=10)
        if self.group:
            return sampled_count(self.matches().values("part_id").distinct(), Listing._meta.db_table, percent=1)
        return sampled_count(self.matches(), Listing._meta.db_table, percent=1)

    def exact_count(self) -> int:
        qs = self.matches()
        return qs.values("part_id").distinct().count() if self.group else qs.count()


def sampled_count(qs: QuerySet, table: str, *, percent: int) -> int:
    """COUNT(*) of the query over a page sample of `table`, scaled up (PostgreSQL TABLESAMPLE)."""
    sql, params = qs.order_by().query.sql_with_params()
    quoted = f'FROM "{table}"'
    if quoted not in sql:
        return planner_rows(qs)
    sql = sql.replace(quoted, f'{quoted} TABLESAMPLE SYSTEM ({int(percent)}) REPEATABLE (7)', 1)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) sampled", params)
        return round(cursor.fetchone()[0] * 100 / percent)


def planner_rows(qs: QuerySet) -> int:
    """PostgreSQL's row estimate for a query (EXPLAIN, not run); an exact count elsewhere."""
    if connection.vendor != "postgresql":
        return qs.count()
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


# --- Public selectors -----------------------------------------------------------------------------


@dataclass
class SearchPage:
    rows: list  # Listing objects (flat) or PartGroup (grouped), priced at the quantity
    count: int
    count_is_estimate: bool
    has_next: bool
    path: str = ""
    suggestions: list[Part] = field(default_factory=list)  # close MPNs when a typed one found nothing
    fuzzy: bool = False  # the rows are for the suggestions, not the words typed


@dataclass
class PartGroup:
    part: Part
    best: Listing  # the best offer at the quantity (the first in the search order)
    offers: int  # matching offers of this part
    total_stock: int
    shortest_lead_time_days: int
    fillable_offers: int | None = None  # offers that can fill the quantity from stock


def _priced_listings(ids: list[int], qty: int | None, display: DisplayCurrency) -> list[Listing]:
    qs = Listing.objects.filter(pk__in=ids).select_related("vendor", "part").prefetch_related(
        Prefetch("price_breaks", queryset=PriceBreak.objects.order_by("min_qty")))
    if qty:
        qs = price_at_qty(qs, qty)
    by_id = {l.pk: l for l in qs}
    listings = [by_id[pk] for pk in ids if pk in by_id]
    if qty:
        attach_converted(listings, display)
    return listings


def attach_converted(listings: list[Listing], display: DisplayCurrency) -> None:
    """`listing.converted` (its price at the quantity in the display currency, or None) and
    `listing.unconverted_reason` (why not), for the API and the page, in exact decimals."""
    for listing in listings:
        listing.converted = display.converted(listing)
        listing.unconverted_reason = display.missing_reason(listing)


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
    elif exact_count or found.estimate is None:
        count, estimated = engine.exact_count(), False
    else:
        count, estimated = max(found.estimate, offset + len(page_ids) + int(has_next)), True
    listings = _priced_listings(page_ids, qty, engine.display)
    rows = _groups(engine, listings) if group else listings
    return SearchPage(rows=rows, count=count, count_is_estimate=estimated, has_next=has_next, path=found.path,
                      suggestions=suggestions, fuzzy=fuzzy)


def _groups(engine: Engine, best: list[Listing]) -> list[PartGroup]:
    """Per part on the page: its matching offers' count, stock and shortest lead (one query)."""
    part_ids = [l.part_id for l in best]
    qs = engine.matches().filter(part_id__in=part_ids)
    aggregates = {"offers": Count("id"), "total_stock": Sum("stock"), "lead": Min("lead_time_days")}
    if engine.qty:
        aggregates["fillable"] = Count("id", filter=Q(stock__gte=_order_qty(engine.qty)))
    stats = {r["part_id"]: r for r in qs.values("part_id").annotate(**aggregates)}
    return [PartGroup(part=l.part, best=l, offers=stats[l.part_id]["offers"], total_stock=stats[l.part_id]["total_stock"] or 0,
                      shortest_lead_time_days=stats[l.part_id]["lead"], fillable_offers=stats[l.part_id].get("fillable"))
            for l in best if l.part_id in stats]


def offer_fill(listing: Listing, qty: int | None) -> dict:
    """Whether an offer priced at `qty` really fills it: `fills_qty` is false when stock is short or
    when the MOQ/multiple makes the buyer take more than asked; `fill_problems` says which."""
    if not qty or not hasattr(listing, "order_qty"):
        return {}
    problems = []
    if listing.stock < listing.order_qty:
        problems.append("stock")
    if listing.order_qty > qty:
        problems.append("moq" if listing.moq > qty else "multiple")
    if getattr(listing, "unit_price_at_qty", None) is None:
        problems.append("no_price")
    return {"fills_qty": not problems, "fill_problems": problems}


# --- Facets ------------------------------------------------------------------------------------------

LEAD_BUCKETS = [("0", "On the shelf", 0), ("3", "≤ 3 days", 3), ("7", "≤ 7 days", 7), ("14", "≤ 14 days", 14)]
FACET_LISTING_LIMIT = 50_000  # above this many matching offers, offer-level facets come from parts


def search_facets(*, viewer: Organization | None, filters: SearchFilters, qty: int | None = None, top: int = 25) -> dict:
    """Facet values with counts of matching parts (category, manufacturer, parameters) and offers
    (in stock, lead time), drawn from what matches now. Parameters are listed for one category
    (the filter's, or the only one that matches).

    Over broad searches (more than `FACET_LISTING_LIMIT` matching offers, by the sampled estimate)
    the offer counts come from the 1 % page sample, scaled, and the part counts ignore the
    offer-level filters (stock, vendor, lead time); `estimated` says so."""
    from marketplace.selectors.catalogue import listing_visible_q

    matches = search_matches(viewer=viewer, filters=filters, qty=qty)
    broad = connection.vendor == "postgresql" and sampled_count(matches, Listing._meta.db_table, percent=1) > FACET_LISTING_LIMIT
    if filters.part_level or broad:
        live = Listing.objects.filter(listing_visible_q(viewer), is_active=True, part=OuterRef("pk"))
        parts = Part.objects.filter(part_filter_q(filters)).filter(Exists(live))
    else:
        parts = Part.objects.filter(pk__in=matches.values("part_id"))
    categories = list(parts.order_by().values("category").annotate(n=Count("id")).order_by("-n", "category")[:top])
    manufacturers = list(parts.order_by().values("manufacturer").annotate(n=Count("id")).order_by("-n", "manufacturer")[:top])
    stock_q = Q(stock__gte=_order_qty(qty)) if qty else Q(stock__gt=0)
    counts = {"offers": Count("id"), "in_stock": Count("id", filter=stock_q),
              **{f"lead_{key}": Count("id", filter=Q(lead_time_days__lte=days)) for key, _, days in LEAD_BUCKETS}}
    totals = _sampled_aggregate(matches, counts) if broad else matches.aggregate(**counts)
    facets = {
        "estimated": broad,
        "category": [{"value": c["category"], "count": c["n"]} for c in categories],
        "manufacturer": [{"value": m["manufacturer"], "count": m["n"]} for m in manufacturers],
        "in_stock": {"offers": totals["offers"], "in_stock": totals["in_stock"]},
        "lead_time": [{"max_days": days, "label": label, "count": totals[f"lead_{key}"]} for key, label, days in LEAD_BUCKETS],
        "parameters": [],
    }
    category = filters.category or (categories[0]["category"] if len(categories) == 1 else "")
    if category:
        facets["parameters"] = parameter_facets(parts.filter(category__iexact=category), top=top)
    return facets


def _sampled_aggregate(qs: QuerySet, aggregates: dict) -> dict:
    """The aggregates over a 1 % page sample of the listing table, scaled up (PostgreSQL)."""
    grouped = qs.order_by().annotate(_one=Value(1)).values("_one").annotate(**aggregates).values(*aggregates)
    sql, params = grouped.query.sql_with_params()
    table = f'FROM "{Listing._meta.db_table}"'
    sql = sql.replace(table, f"{table} TABLESAMPLE SYSTEM (1) REPEATABLE (7)", 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return {name: round((value or 0) * 100) for name, value in zip(aggregates, row or [0] * len(aggregates))}


def parameter_facets(parts: QuerySet[Part], *, top: int = 25) -> list[dict]:
    """[{"key", "quantity"?, "values": [{"value", "label", "count"}]}]: every normalised parameter of
    these parts, its values by count (numbers ordered by size, labelled with their unit)."""
    counts: dict[str, dict] = {}
    for values in parts.values_list("parameter_values", flat=True).iterator(chunk_size=5000):
        for key, value in (values or {}).items():
            bucket = counts.setdefault(key, {})
            bucket[value] = bucket.get(value, 0) + 1
    out = []
    for key in sorted(counts):
        bucket = counts[key]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bucket)
        ordered = sorted(bucket.items(), key=(lambda kv: kv[0]) if numeric else (lambda kv: (-kv[1], str(kv[0]))))
        quantity = QUANTITY_KEYS.get(key, "") if numeric else ""
        out.append({"key": key, "numeric": numeric, "values": [
            {"value": value, "label": format_measure(quantity, value) if numeric else str(value), "count": n}
            for value, n in ordered[:top]]})
    return out


# --- The part page ------------------------------------------------------------------------------------


def part_offers(*, viewer: Organization | None, part: Part, qty: int | None,
                display: DisplayCurrency | None = None) -> list[Listing]:
    """Every offer of the part the viewer may see, priced at `qty`, cheapest first in the display
    currency (unpriced, and those without a rate into it, last)."""
    from marketplace.selectors.catalogue import listing_visible_q

    qs = Listing.objects.filter(listing_visible_q(viewer), is_active=True, part=part).select_related("vendor", "part") \
        .prefetch_related(Prefetch("price_breaks", queryset=PriceBreak.objects.order_by("min_qty")))
    if qty:
        display = display or DisplayCurrency()
        offers = list(price_at_qty(qs, qty, display).order_by(*PRICE_ORDERINGS["unit_price_at_qty"]))
        attach_converted(offers, display)
        return offers
    return list(qs.order_by("lead_time_days", "id"))


def part_kits(*, viewer: Organization | None, part: Part) -> list[dict]:
    """Current kits the viewer may see whose BOM uses the part, directly or as a substitute."""
    from marketplace.models import BomLine
    from marketplace.selectors.kits import kit_list

    kits = kit_list(viewer=viewer).filter(Q(bom_lines__part=part) | Q(bom_lines__substitutes=part)).distinct()
    lines = BomLine.objects.filter(Q(part=part) | Q(substitutes=part), kit__in=kits).select_related("kit", "kit__owner")
    out = {}
    for line in lines.order_by("kit__name", "kit_id", "position", "id"):
        entry = out.setdefault(line.kit_id, {"kit": line.kit, "quantity": Decimal(0), "designators": [],
                                             "as_substitute": line.part_id != part.pk})
        entry["quantity"] += line.quantity
        if line.designators:
            entry["designators"].append(line.designators)
    return list(out.values())


def part_price_history(*, viewer: Organization | None, part: Part, qty: int | None, limit: int = 200) -> list[dict]:
    """The part's offers' price changes, newest first: when, which offer, its breaks then and (with
    `qty`) its unit price at the quantity then — the break with the largest min_qty ≤ the order
    quantity, with today's MOQ and multiple (the history keeps prices, not terms)."""
    from marketplace.models import ListingPriceChange
    from marketplace.selectors.catalogue import listing_visible_q

    visible = Listing.objects.filter(listing_visible_q(viewer), part=part)
    changes = (ListingPriceChange.objects.filter(part=part, listing__in=visible)
               .select_related("listing", "listing__vendor").order_by("-created_at", "-id")[:limit])
    out = []
    for change in changes:
        row = {"at": change.created_at, "listing": change.listing, "vendor": change.listing.vendor,
               "currency": change.currency, "price_breaks": change.price_breaks, "unit_price_at_qty": None}
        if qty:
            listing = change.listing
            raised = max(qty, listing.moq)
            order_qty = -(-raised // listing.multiple) * listing.multiple
            applicable = [Decimal(price) for min_qty, price in change.price_breaks if min_qty <= order_qty]
            row["unit_price_at_qty"] = applicable[-1] if applicable else None
        out.append(row)
    return out


def part_boms(*, viewer: Organization | None, part: Part) -> list[dict]:
    """The viewer's own uploaded BOMs with a line matched to the part (or listing it as a
    substitute); BOMs are private to their organisation."""
    from marketplace.models import BomItem

    if viewer is None:
        return []
    items = (BomItem.objects.filter(Q(part=part) | Q(substitutes=part), bom__owner=viewer, dnp=False)
             .select_related("bom").distinct().order_by("bom__name", "bom_id", "line"))
    out: dict[int, dict] = {}
    for item in items:
        entry = out.setdefault(item.bom_id, {"bom": item.bom, "quantity": Decimal(0), "lines": [], "designators": []})
        entry["quantity"] += item.quantity
        entry["lines"].append(item.line)
        if item.designators:
            entry["designators"].append(item.designators)
    return list(out.values())
