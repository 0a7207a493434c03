"""FX writes: operators set rates; organisations convert wallet money between currencies.

A conversion never makes one currency's postings unbalanced: the organisation's wallet in the
source currency pays the platform's FX account in that currency, and the FX account in the
target currency pays the target wallet. Each currency sums to zero on its own; the FX accounts
show the platform's position per currency (see docs/ledger.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from credit.exceptions import FxRateInvalid, InsufficientFunds, InvalidAmount
from credit.fx import fx_convert
from credit.models import AccountKind, Currency, EntryKind, FxRate, JournalEntry
from credit.services.ledger import _check_currency, account_for, ledger_post, money, platform_account, service_atomic
from organizations.models import Organization

MAX_RATE = Decimal("1000000")


@service_atomic
def fx_rate_set(*, base: str, quote: str, rate: Decimal, valid_from: datetime | None = None, created_by=None) -> FxRate:
    """A new rate for a pair from `valid_from` (now by default). Old rates stay: they are the history
    that quotes and orders made earlier point to."""
    _check_currency(base, field="base")
    _check_currency(quote, field="quote")
    if base == quote:
        raise FxRateInvalid({"quote": ["A rate converts between two different currencies."]})
    try:
        rate = Decimal(str(rate))
    except Exception:  # noqa: BLE001 - any unparsable value is the same 400
        raise FxRateInvalid({"rate": [f"{rate!r} is not a number."]}) from None
    if not rate.is_finite() or rate <= 0 or rate >= MAX_RATE:
        raise FxRateInvalid({"rate": ["A rate is a positive number below 1,000,000."]})
    if rate != rate.quantize(Decimal("0.00000001")):
        raise FxRateInvalid({"rate": ["Use at most eight decimal places."]})
    return FxRate.objects.create(base=base, quote=quote, rate=rate, valid_from=valid_from or timezone.now(),
                                 created_by=created_by)


@service_atomic
def wallet_convert(*, organization: Organization, amount: Decimal, from_currency: str, to_currency: str,
                   at: datetime | None = None, created_by=None) -> JournalEntry:
    """Convert `amount` of the organisation's `from_currency` wallet into its `to_currency` wallet
    at the rate in force, through the platform's FX accounts (one entry, four legs)."""
    amount = money(amount)
    _check_currency(from_currency, field="from_currency")
    _check_currency(to_currency, field="to_currency")
    if from_currency == to_currency:
        raise InvalidAmount({"to_currency": ["Convert between two different currencies."]})
    conversion = fx_convert(amount, from_currency, to_currency, at)
    if conversion.amount <= 0:
        raise InvalidAmount({"amount": ["Too small to convert to at least one cent."]})
    source = account_for(organization=organization, kind=AccountKind.WALLET, currency=from_currency)
    target = account_for(organization=organization, kind=AccountKind.WALLET, currency=to_currency)
    fx_from = platform_account(kind=AccountKind.FX, currency=from_currency)
    fx_to = platform_account(kind=AccountKind.FX, currency=to_currency)
    return ledger_post(
        legs=[(source, -amount), (fx_from, amount), (fx_to, -conversion.amount), (target, conversion.amount)],
        kind=EntryKind.FX_CONVERSION, organization=organization, created_by=created_by,
        memo=f"{amount} {from_currency} → {conversion.amount} {to_currency} at {conversion.rate:f}"
             + (f" (rate {conversion.rate_id})" if conversion.rate_id else ""),
    )


@service_atomic
def wallet_convert_to(*, organization: Organization, amount: Decimal, from_currency: str, to_currency: str,
                      purpose: str = "", created_by=None, field: str = "amount") -> JournalEntry:
    """Bring exactly `amount` of `to_currency` into the organisation's wallet from its
    `from_currency` wallet, at the rate in force (what paying an order from another currency's
    wallet does): the source amount is `amount` converted back and rounded half-even to the cent.
    A refusal names both amounts and the rate."""
    amount = money(amount, field=field)
    if from_currency == to_currency:
        raise InvalidAmount({field: ["Convert between two different currencies."]})
    source_amount = fx_convert(amount, to_currency, from_currency)
    source = account_for(organization=organization, kind=AccountKind.WALLET, currency=from_currency)
    target = account_for(organization=organization, kind=AccountKind.WALLET, currency=to_currency)
    fx_from = platform_account(kind=AccountKind.FX, currency=from_currency)
    fx_to = platform_account(kind=AccountKind.FX, currency=to_currency)
    rate = f"1 {to_currency} = {source_amount.rate:f} {from_currency}"
    try:
        return ledger_post(
            legs=[(source, -source_amount.amount), (fx_from, source_amount.amount), (fx_to, -amount), (target, amount)],
            kind=EntryKind.FX_CONVERSION, organization=organization, created_by=created_by, field=field,
            memo=(f"{purpose}: " if purpose else "") + f"{source_amount.amount} {from_currency} → {amount} {to_currency} at {rate}"
                 + (f" (rate {source_amount.rate_id})" if source_amount.rate_id else ""),
        )
    except InsufficientFunds as exc:
        raise InsufficientFunds({field: [
            f"Paying {amount:,.2f} {to_currency} from your {from_currency} wallet takes {source_amount.amount:,.2f} "
            f"{from_currency} at {rate}. " + " ".join(exc.messages)
        ]}) from None


__all__ = ["fx_rate_set", "wallet_convert", "wallet_convert_to", "Currency"]
