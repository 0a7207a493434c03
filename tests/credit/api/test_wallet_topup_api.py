from decimal import Decimal

import pytest

from credit.models import JournalEntry
from credit.services import account_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/wallet/topups/"


def test_only_operators_record_topups(buyer):
    response = buyer.client.post(URL, {"organization": buyer.org.pk, "amount": "100.00", "currency": "CNY", "reference": "x"})
    assert response.status_code == 403
    assert not JournalEntry.objects.exists()


def test_topup_credits_the_wallet_and_a_replay_returns_the_first_response_without_moving_money(operator, buyer):
    body = {"organization": buyer.org.pk, "amount": "250.00", "currency": "CNY", "reference": "ICBC 7781"}
    first = operator.client.post(URL, body, HTTP_IDEMPOTENCY_KEY="bank-7781")
    assert first.status_code == 201
    assert first.json()["wallet"]["balance"] == "250.00"
    again = operator.client.post(URL, body, HTTP_IDEMPOTENCY_KEY="bank-7781")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert account_for(organization=buyer.org, kind="wallet", currency="CNY").balance == Decimal("250.00")

    other = operator.client.post(URL, {**body, "amount": "999.00"}, HTTP_IDEMPOTENCY_KEY="bank-7781")
    assert other.status_code == 422
    assert account_for(organization=buyer.org, kind="wallet", currency="CNY").balance == Decimal("250.00")


@pytest.mark.parametrize("body, field", [
    ({"amount": "-5.00"}, "amount"),
    ({"amount": "1.001"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"currency": "EUR"}, "currency"),
    ({"reference": ""}, "reference"),
    ({"organization": 999999}, "organization"),
])
def test_bad_topups_are_400_and_move_nothing(operator, buyer, body, field):
    payload = {"organization": buyer.org.pk, "amount": "10.00", "currency": "CNY", "reference": "r", **body}
    response = operator.client.post(URL, payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("keys", [(None, None), ("k1", "k2"), (None, "k3"), ("k4", None)])
def test_a_bank_receipt_is_credited_once_per_organisation_whatever_the_key(operator, buyer, make_member, keys):
    body = {"organization": buyer.org.pk, "amount": "80.00", "currency": "CNY", "reference": "ICBC 0001"}
    headers = [{"HTTP_IDEMPOTENCY_KEY": k} if k else {} for k in keys]
    assert operator.client.post(URL, body, **headers[0]).status_code == 201
    repeat = operator.client.post(URL, body, **headers[1])
    assert repeat.status_code == 409 and "already credited" in repeat.json()["detail"]
    assert account_for(organization=buyer.org, kind="wallet", currency="CNY").balance == Decimal("80.00")
    other = make_member(name="Other buyer")  # the same receipt number at another organisation is its own receipt
    assert operator.client.post(URL, {**body, "organization": other.org.pk}).status_code == 201
