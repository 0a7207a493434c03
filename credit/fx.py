"""Currency conversion, the one place other apps convert money (quotes, search, funnels).

`fx_convert(amount, from_currency, to_currency, at)` returns the converted amount together with
the rate it used, so callers record that snapshot on what they save (a quote, an order); `convert`
is the same for display and sorting when only the number matters. Rates come from operators
(`FxRate`, with history); a pair missing in one direction uses the inverse of the other. Amounts
are rounded half-even to cents once, here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Q
from django.utils import timezone

from credit.exceptions import FxRateMissing
from credit.models import Currency, FxRate

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.00000001")


@dataclass(frozen=True)
class Conversion:
    amount: Decimal  # in `to_currency`, rounded to cents
    rate: Decimal  # 1 from_currency = rate to_currency
    from_currency: str
    to_currency: str
    rate_id: int | None  # the FxRate row used (None for the identity)


def fx_rate(from_currency: str, to_currency: str, at: datetime | None = None) -> tuple[Decimal, int | None]:
    """The rate in force at `at` (now by default): the newest `valid_from <= at` of the pair in
    either direction. FxRateMissing (400) when there is none."""
    if from_currency == to_currency:
        return Decimal("1"), None
    at = at or timezone.now()
    row = (FxRate.objects.filter(Q(base=from_currency, quote=to_currency) | Q(base=to_currency, quote=from_currency),
                                 valid_from__lte=at).order_by("-valid_from", "-id").first())
    if row is None:
        known = ", ".join(Currency.values)
        from config.timezones import when_text

        raise FxRateMissing({"currency": [f"No exchange rate from {from_currency} to {to_currency} at {when_text(at)} "
                                          f"(currencies: {known}); an operator sets rates on the exchange rates page (/credit/fx/)."]})
    if row.base == from_currency:
        return row.rate, row.pk
    return (Decimal(1) / row.rate).quantize(RATE_PLACES, ROUND_HALF_EVEN), row.pk


def fx_convert(amount: Decimal, from_currency: str, to_currency: str, at: datetime | None = None) -> Conversion:
    rate, rate_id = fx_rate(from_currency, to_currency, at)
    converted = (Decimal(amount) * rate).quantize(CENT, ROUND_HALF_EVEN)
    return Conversion(amount=converted, rate=rate, from_currency=from_currency, to_currency=to_currency, rate_id=rate_id)


def convert(amount: Decimal, from_currency: str, to_currency: str, at: datetime | None = None) -> Decimal:
    """`fx_convert(...).amount`: for display and sorting."""
    return fx_convert(amount, from_currency, to_currency, at).amount


def rates_into(to_currency: str, at: datetime | None = None) -> dict[str, tuple[Decimal, int | None]]:
    """(rate, FxRate id) from every currency that has a rate into `to_currency` (the identity
    included, with no id): the snapshot a quote records."""
    rates = {}
    for currency in Currency.values:
        try:
            rates[currency] = fx_rate(currency, to_currency, at)
        except FxRateMissing:
            continue
    return rates


def rate_table(to_currency: str, at: datetime | None = None) -> dict[str, Decimal]:
    """Rates from every currency into `to_currency` that have one (for sorting many rows in SQL)."""
    return {currency: rate for currency, (rate, _) in rates_into(to_currency, at).items()}


def totals_in(rows: list[dict], to_currency: str, fields: tuple[str, ...], at: datetime | None = None) -> dict | None:
    """Per-currency rows (`{"currency", field: amount…}`) summed into one currency, each row
    converted at the rate in force, with the rates used (the snapshot). None when a rate is missing."""
    out: dict = {"currency": to_currency, **{f: Decimal("0.00") for f in fields}, "rates": {}}
    for row in rows:
        try:
            rate, _ = fx_rate(row["currency"], to_currency, at)
        except FxRateMissing:
            return None
        out["rates"][row["currency"]] = str(rate)
        for f in fields:
            out[f] += (Decimal(row[f]) * rate).quantize(CENT, ROUND_HALF_EVEN)
    return {**out, **{f: str(out[f]) for f in fields}}
