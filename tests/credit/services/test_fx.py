"""FX: rates with history, one conversion function, and wallet conversions through FX accounts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from credit.exceptions import FxRateInvalid, FxRateMissing
from credit.fx import convert, fx_convert
from credit.models import AccountKind, Posting
from credit.selectors import ledger_verify
from credit.services import account_for, fx_rate_set, platform_account, wallet_convert
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_the_rate_in_force_at_a_time_is_used_and_the_inverse_serves_the_other_direction():
    now = timezone.now()
    old = fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.10"), valid_from=now - timedelta(days=10))
    new = fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.25"), valid_from=now - timedelta(days=1))
    assert fx_convert(Decimal("10.00"), "USD", "CNY", now - timedelta(days=5)) .amount == Decimal("71.00")
    snapshot = fx_convert(Decimal("10.00"), "USD", "CNY")
    assert (snapshot.amount, snapshot.rate, snapshot.rate_id) == (Decimal("72.50"), Decimal("7.25"), new.pk)
    assert convert(Decimal("72.50"), "CNY", "USD") == Decimal("10.00")
    assert convert(Decimal("3.00"), "CNY", "CNY") == Decimal("3.00")
    assert old.pk != new.pk  # history kept
    with pytest.raises(FxRateMissing):
        fx_convert(Decimal("1"), "USD", "CNY", now - timedelta(days=30))


@pytest.mark.parametrize("rate", ["0", "-1", "abc", "1.123456789", "NaN"])
def test_bad_rates_are_refused(rate):
    with pytest.raises(FxRateInvalid):
        fx_rate_set(base="USD", quote="CNY", rate=rate)


def test_a_wallet_conversion_balances_each_currency_through_the_fx_accounts():
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.20"))
    org = OrganizationFactory()
    funded_wallet(org, "100.00", currency="USD")
    entry = wallet_convert(organization=org, amount=Decimal("25.00"), from_currency="USD", to_currency="CNY")
    assert account_for(organization=org, kind=AccountKind.WALLET, currency="USD").balance == Decimal("75.00")
    assert account_for(organization=org, kind=AccountKind.WALLET, currency="CNY").balance == Decimal("180.00")
    assert platform_account(kind=AccountKind.FX, currency="USD").balance == Decimal("25.00")
    assert platform_account(kind=AccountKind.FX, currency="CNY").balance == Decimal("-180.00")
    assert sorted((p.currency, p.amount) for p in Posting.objects.filter(entry=entry)) == [
        ("CNY", Decimal("-180.00")), ("CNY", Decimal("180.00")), ("USD", Decimal("-25.00")), ("USD", Decimal("25.00"))]
    assert ledger_verify().ok


def test_verify_ledger_flags_a_conversion_that_skips_the_fx_accounts():
    from credit.models import EntryKind
    from credit.services import ledger_post

    org = OrganizationFactory()
    usd = funded_wallet(org, "10.00", currency="USD")
    other = account_for(organization=OrganizationFactory(), kind=AccountKind.WALLET, currency="USD")
    entry = ledger_post(legs=[(usd, Decimal("-1.00")), (other, Decimal("1.00"))], kind=EntryKind.FX_CONVERSION)
    report = ledger_verify()
    assert not report.ok and any(f"Entry {entry.pk}" in p for p in report.problems)


def test_totals_in_one_currency_record_the_rates_and_say_none_without_one():
    from credit.fx import totals_in

    rows = [{"currency": "CNY", "deployed": "100.00"}, {"currency": "USD", "deployed": "10.00"}]
    assert totals_in(rows, "CNY", ("deployed",)) is None
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.20"))
    assert totals_in(rows, "CNY", ("deployed",)) == {"currency": "CNY", "deployed": "172.00", "rates": {"CNY": "1", "USD": "7.20000000"}}
