from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from credit.exceptions import HoldAlreadyResolved, InsufficientFunds, InvalidAmount
from credit.models import Hold
from credit.selectors import ledger_verify
from credit.services import hold_expire_due, hold_place, hold_post, hold_void, ledger_transfer
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts():
    return funded_wallet(OrganizationFactory(), "100.00"), funded_wallet(OrganizationFactory(), "0")


def test_a_hold_lowers_available_but_not_balance_and_blocks_spending_it(accounts):
    a, b = accounts
    hold_place(account=a, counter_account=b, amount=Decimal("70.00"))
    a.refresh_from_db()
    assert (a.balance, a.held, a.available) == (Decimal("100.00"), Decimal("70.00"), Decimal("30.00"))
    with pytest.raises(InsufficientFunds):
        ledger_transfer(debit=a, credit=b, amount=Decimal("30.01"))
    with pytest.raises(InsufficientFunds):
        hold_place(account=a, counter_account=b, amount=Decimal("30.01"))


def test_partial_post_moves_the_posted_part_and_releases_the_rest(accounts):
    a, b = accounts
    hold = hold_place(account=a, counter_account=b, amount=Decimal("70.00"))
    hold_post(hold=hold, amount=Decimal("45.50"))
    a.refresh_from_db(), b.refresh_from_db(), hold.refresh_from_db()
    assert (a.balance, a.held, b.balance) == (Decimal("54.50"), Decimal("0.00"), Decimal("45.50"))
    assert (hold.status, hold.posted_amount) == (Hold.Status.POSTED, Decimal("45.50"))
    assert ledger_verify().ok


def test_a_hold_resolves_at_most_once(accounts):
    a, b = accounts
    hold = hold_place(account=a, counter_account=b, amount=Decimal("10.00"))
    hold_void(hold=hold)
    with pytest.raises(HoldAlreadyResolved):
        hold_post(hold=hold)
    with pytest.raises(HoldAlreadyResolved):
        hold_void(hold=hold)
    a.refresh_from_db()
    assert (a.balance, a.held) == (Decimal("100.00"), Decimal("0.00"))


def test_cannot_post_more_than_was_held(accounts):
    a, b = accounts
    hold = hold_place(account=a, counter_account=b, amount=Decimal("10.00"))
    with pytest.raises(InvalidAmount):
        hold_post(hold=hold, amount=Decimal("10.01"))


def test_expiry_voids_only_holds_past_their_time(accounts):
    a, b = accounts
    now = timezone.now()
    due = hold_place(account=a, counter_account=b, amount=Decimal("10.00"), expires_at=now - timedelta(seconds=1))
    later = hold_place(account=a, counter_account=b, amount=Decimal("20.00"), expires_at=now + timedelta(hours=1))
    forever = hold_place(account=a, counter_account=b, amount=Decimal("5.00"))
    assert hold_expire_due(now=now) == 1
    assert hold_expire_due(now=now) == 0  # a doubled beat changes nothing
    statuses = dict(Hold.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "expired", later.pk: "pending", forever.pk: "pending"}
    a.refresh_from_db()
    assert a.held == Decimal("25.00")
