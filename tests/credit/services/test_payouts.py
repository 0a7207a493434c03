"""Payouts: held at once, settled against clearing with the bank reference, or rejected."""

from decimal import Decimal

import pytest

from credit.exceptions import InsufficientFunds, PayoutAlreadyResolved, PayoutInvalid
from credit.models import AccountKind, EntryKind, Payout
from credit.selectors import ledger_verify, payouts_to_settle
from credit.services import ledger_transfer, payout_reject, payout_request, payout_settle, platform_account
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_a_requested_payout_is_held_at_once_and_settling_debits_the_wallet_against_clearing():
    org = OrganizationFactory(trader=True)
    wallet = funded_wallet(org, "500.00")
    payout = payout_request(organization=org, amount=Decimal("300.00"), currency="CNY")
    wallet.refresh_from_db()
    assert (payout.status, wallet.balance, wallet.available) == ("requested", Decimal("500.00"), Decimal("200.00"))
    with pytest.raises(InsufficientFunds):  # the held money cannot be spent meanwhile
        ledger_transfer(debit=wallet, credit=funded_wallet(OrganizationFactory(), "0"), amount=Decimal("250.00"))
    assert list(payouts_to_settle()) == [payout]

    payout_settle(payout=payout, reference="ICBC OUT 7781")
    wallet.refresh_from_db()
    payout.refresh_from_db()
    assert (payout.status, payout.reference, payout.entry.kind) == ("settled", "ICBC OUT 7781", EntryKind.PAYOUT)
    assert (wallet.balance, wallet.held) == (Decimal("200.00"), Decimal("0.00"))
    assert platform_account(kind=AccountKind.CLEARING, currency="CNY").balance == Decimal("-200.00")
    assert list(payouts_to_settle()) == []
    assert ledger_verify().ok


def test_rejecting_releases_the_hold_and_a_payout_resolves_once():
    org = OrganizationFactory(trader=True)
    wallet = funded_wallet(org, "100.00")
    payout = payout_request(organization=org, amount=Decimal("100.00"), currency="CNY")
    with pytest.raises(PayoutInvalid):
        payout_reject(payout=payout, reason=" ")
    payout_reject(payout=payout, reason="Bank account name does not match")
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("0.00"))
    with pytest.raises(PayoutAlreadyResolved):
        payout_settle(payout=payout, reference="late")
    assert Payout.objects.get(pk=payout.pk).status == "rejected"


def test_a_payout_above_what_is_available_is_refused_and_nothing_is_held():
    org = OrganizationFactory(trader=True)
    wallet = funded_wallet(org, "50.00")
    with pytest.raises(InsufficientFunds):
        payout_request(organization=org, amount=Decimal("50.01"), currency="CNY")
    wallet.refresh_from_db()
    assert wallet.held == Decimal("0.00") and not Payout.objects.exists()
