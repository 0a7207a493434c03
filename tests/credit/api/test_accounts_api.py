from decimal import Decimal

import pytest

from credit.services import hold_place, ledger_transfer
from tests.credit.factories import funded_wallet

pytestmark = pytest.mark.django_db


def test_accounts_show_balance_and_available_and_entries_newest_first(buyer, trader):
    wallet = funded_wallet(buyer.org, "100.00")
    other = funded_wallet(trader.org, "0")
    ledger_transfer(debit=wallet, credit=other, amount=Decimal("30.00"), memo="samples")
    hold_place(account=wallet, counter_account=other, amount=Decimal("20.00"))

    accounts = buyer.client.get("/api/v1/accounts/").json()["results"]
    assert [(a["kind"], a["currency"], a["balance"], a["available"]) for a in accounts] == [("wallet", "CNY", "70.00", "50.00")]

    entries = buyer.client.get(f"/api/v1/accounts/{wallet.pk}/entries/").json()
    assert entries["count"] == 2
    newest = entries["results"][0]
    assert (newest["amount"], newest["kind"], newest["memo"]) == ("-30.00", "transfer", "samples")
    assert newest["entry"]["id"] == newest["entry_id"]


def test_another_organisations_account_is_a_404(buyer, trader):
    other = funded_wallet(trader.org, "5.00")
    assert buyer.client.get(f"/api/v1/accounts/{other.pk}/entries/").status_code == 404


def test_a_filter_outside_its_choices_is_a_400_not_an_empty_list(buyer):
    response = buyer.client.get("/api/v1/accounts/?kind=savings")
    assert response.status_code == 400 and "kind" in response.json()
    # "Any kind" is the filter left out; an empty value is outside the schema's enum like any other.
    assert buyer.client.get("/api/v1/accounts/?kind=").status_code == 400
    assert buyer.client.get("/api/v1/accounts/").status_code == 200
