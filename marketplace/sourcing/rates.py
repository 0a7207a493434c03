"""The exchange rates a quote uses: read once when the quote is made, kept with it."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import timezone

from credit.fx import rates_into
from credit.models import Currency, FxRate
from marketplace.catalogue.models import Listing

CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.000001")  # unit prices: 6 places


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)



@dataclass(frozen=True)
class QuoteRates:
    """The exchange rates one quote prices at, read once when it is made (the snapshot it saves):
    1 unit of each source currency = `rates[source]` units of the quote's `currency`. Listings and
    order terms in a currency without a rate are left out (`left_out`), and the quote says so."""

    currency: str
    rates: dict[str, Decimal]
    rate_ids: dict[str, int | None]
    left_out: tuple[str, ...] = ()
    as_of: str = ""
    # The foreign currencies something in the quote was actually priced in (offers, terms, the
    # kit's own costs): only their rates go into the snapshot, so a one-currency quote shows none.
    used: set[str] = field(default_factory=set, compare=False)

    def unit_price(self, amount: Decimal, source: str) -> Decimal:
        """A unit price converted to 6 places (the unit-price columns; the allocation's micro units)."""
        if source == self.currency:
            return amount
        return (amount * self.rates[source]).quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)

    def as_json(self) -> dict:
        foreign = sorted(c for c in self.used if c != self.currency and c in self.rates)
        return {"rates": {c: str(self.rates[c]) for c in foreign}, "rate_ids": {c: self.rate_ids[c] for c in foreign},
                "left_out": list(self.left_out), "as_of": self.as_of}

    @classmethod
    def from_json(cls, currency: str, data: dict | None) -> "QuoteRates":
        """A saved quote's snapshot, to price it again (constraint costs) or order from it."""
        data = data or {}
        rates = {currency: Decimal(1), **{c: Decimal(r) for c, r in (data.get("rates") or {}).items()}}
        ids = {currency: None, **(data.get("rate_ids") or {})}
        return cls(currency=currency, rates=rates, rate_ids=ids, left_out=tuple(data.get("left_out") or ()),
                   as_of=data.get("as_of", ""), used=set(rates))


def quote_rates(*, currency: str) -> QuoteRates:
    """The rate in force now from every currency Kitstreet knows into `currency` (one query per
    foreign currency, per quote)."""
    now = timezone.now()
    found = rates_into(currency, now)
    return QuoteRates(currency=currency, rates={c: r for c, (r, _) in found.items()},
                      rate_ids={c: pk for c, (_, pk) in found.items()},
                      left_out=tuple(c for c in Currency.values if c not in found), as_of=now.isoformat())


def fx_snapshot(rates: QuoteRates, *, part_ids: set[int]) -> dict:
    """The rates the quote used, and the currencies whose live offers for its parts it had to
    leave out for want of a rate (so the buyer sees why, instead of an unexplained shortage)."""
    snapshot = rates.as_json()
    # Since when each rate used was in force (shown beside it): one query, only when something converted.
    ids = {pk: c for c, pk in snapshot["rate_ids"].items() if pk is not None}
    snapshot["valid_from"] = {ids[pk]: valid_from.isoformat()
                              for pk, valid_from in FxRate.objects.filter(pk__in=ids).values_list("pk", "valid_from")
                              } if ids else {}
    if rates.left_out:
        snapshot["left_out"] = sorted(set(
            Listing.objects.filter(part_id__in=part_ids, currency__in=rates.left_out, is_active=True, stock__gt=0,
                                   vendor_verified=True).values_list("currency", flat=True)))
    return snapshot
