"""Pricing listings at the buyer's quantity in the display currency, in SQL (`price_at_qty`), and
whether an offer can fill a quantity."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from functools import cached_property

from django.conf import settings
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from credit.fx import CENT, RATE_PLACES, rate_table
from credit.models import Currency
from marketplace.catalogue.models import Listing, PriceBreak

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

        return all(c in self.rates for c in Currency.values)

    def rate_sql(self, *, missing: Decimal | None = None):
        # The display currency's own listings multiply by 1; others by their rate; none → `missing`.
        whens = [When(currency=c, then=Value(r, output_field=CONVERTED)) for c, r in sorted(self.rates.items())]
        return Case(*whens, default=Value(missing, output_field=CONVERTED), output_field=CONVERTED)

    def rank_sql(self):
        """0 for listings with a rate; 1, 2, … for each currency without one (sorted after, apart)."""

        unrated = [c for c in Currency.values if c not in self.rates]
        return Case(When(currency__in=sorted(self.rates), then=Value(0)),
                    *[When(currency=c, then=Value(i + 1)) for i, c in enumerate(unrated)],
                    default=Value(len(unrated) + 1), output_field=IntegerField())

    def sort_keys_sql(self) -> tuple[str, list]:
        """`rank_sql()` and the converted prices (`price_at_qty`'s sort keys) as raw SQL over columns
        named `currency`, `order_qty` and `unit_price_at_qty` (`grouped.best_offers` computes them
        over its priced CTE, where the ORM would repeat the price probe): SQL and parameters."""
        rates = sorted(self.rates.items())
        unrated = [c for c in Currency.values if c not in self.rates]
        rate = ("CASE " + " ".join('WHEN "currency" = %s THEN %s' for _ in rates) + " ELSE 1 END") if rates else "1"
        rate_params = [v for pair in rates for v in pair]
        rank = "CASE " + " ".join('WHEN "currency" = %s THEN %s' for _ in [*rates, *unrated]) + " ELSE %s END"
        rank_params = ([v for c, _ in rates for v in (c, 0)] + [v for i, c in enumerate(unrated) for v in (c, i + 1)]
                       + [len(unrated) + 1])
        sql = (f'{rank} AS "sort_rank", "unit_price_at_qty" * {rate} AS "sort_unit_price", '
               f'"order_qty" * "unit_price_at_qty" * {rate} AS "sort_extended_price"')
        return sql, rank_params + rate_params + rate_params

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


def order_qty_of(qty: int, *, moq: int, multiple: int) -> int:
    """`price_at_qty`'s order quantity in Python: `qty` raised to the MOQ, then up to a multiple."""
    raised = max(qty, moq)
    return (raised + multiple - 1) // multiple * multiple


def price_from_breaks(breaks, order_qty: int) -> Decimal | None:
    """`price_at_qty`'s unit price in Python, from a listing's breaks as (min_qty, unit_price) sorted
    by min_qty: the break with the largest min_qty ≤ `order_qty`, or None when none applies."""
    price = None
    for min_qty, unit_price in breaks:
        if min_qty > order_qty:
            break
        price = unit_price
    return price


def attach_converted(listings: list[Listing], display: DisplayCurrency) -> None:
    """`listing.converted` (its price at the quantity in the display currency, or None) and
    `listing.unconverted_reason` (why not), for the API and the page, in exact decimals."""
    for listing in listings:
        listing.converted = display.converted(listing)
        listing.unconverted_reason = display.missing_reason(listing)


def offer_fill(listing: Listing, qty: int | None) -> dict:
    """Whether an offer priced at `qty` really fills it: `fills_qty` is false when stock is short or
    when the MOQ/multiple makes the buyer take more than asked; `fill_problems` says which."""
    if not qty or getattr(listing, "order_qty", None) is None:
        return {}
    problems = []
    if listing.stock < listing.order_qty:
        problems.append("stock")
    if listing.order_qty > qty:
        problems.append("moq" if listing.moq > qty else "multiple")
    if getattr(listing, "unit_price_at_qty", None) is None:
        problems.append("no_price")
    return {"fills_qty": not problems, "fill_problems": problems}
