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
def test_a_bank_receipt_is_credited_once_on_the_platform_whatever_the_key(operator, buyer, make_member, keys):
    body = {"organization": buyer.org.pk, "amount": "80.00", "currency": "CNY", "reference": "ICBC 0001"}
    headers = [{"HTTP_IDEMPOTENCY_KEY": k} if k else {} for k in keys]
    first = operator.client.post(URL, body, **headers[0])
    assert first.status_code == 201
    repeat = operator.client.post(URL, body, **headers[1])
    assert repeat.status_code == 409 and "already credited" in repeat.json()["detail"]
    assert account_for(organization=buyer.org, kind="wallet", currency="CNY").balance == Decimal("80.00")
    other = make_member(name="Other buyer")  # the same receipt cannot also be credited to someone else
    elsewhere = operator.client.post(URL, {**body, "organization": other.org.pk})
    assert elsewhere.status_code == 409
    assert elsewhere.json()["first"]["entry"] == first.json()["entry"]
    assert account_for(organization=other.org, kind="wallet", currency="CNY").balance == Decimal("0.00")


@pytest.mark.parametrize("spelling", ["boc-rcpt-778812", "BOC RCPT 778812", " BOC-RCPT-778812 ", "ＢＯＣ－ＲＣＰＴ－７７８８１２",
                                      "BOC—RCPT—778812", "bocrcpt778812"])
def test_a_receipt_spelled_differently_or_for_another_organisation_is_a_409_naming_the_first(operator, buyer, make_member,
                                                                                             spelling):
    lumen = buyer
    first = operator.client.post(URL, {"organization": lumen.org.pk, "amount": "500.00", "currency": "CNY",
                                       "reference": "BOC-RCPT-778812"})
    assert first.status_code == 201
    pocket = make_member(name="Pocket Robotics")
    for org in (lumen.org, pocket.org):
        again = operator.client.post(URL, {"organization": org.pk, "amount": "500.00", "currency": "CNY", "reference": spelling})
        assert again.status_code == 409
        body = again.json()
        assert f"entry {first.json()['entry']}" in body["detail"] and lumen.org.name in body["detail"]
        assert body["first"]["organization"]["id"] == lumen.org.pk and body["first"]["reference"] == "BOC-RCPT-778812"
    assert account_for(organization=lumen.org, kind="wallet", currency="CNY").balance == Decimal("500.00")
    assert account_for(organization=pocket.org, kind="wallet", currency="CNY").balance == Decimal("0.00")
    assert JournalEntry.objects.filter(kind="topup").count() == 1


def test_distinct_receipts_are_not_folded_together(operator, buyer):
    for reference in ("BOC-RCPT-778812", "BOC-RCPT-778813", "BOC-RCPT-7788120"):
        response = operator.client.post(URL, {"organization": buyer.org.pk, "amount": "1.00", "currency": "CNY",
                                              "reference": reference})
        assert response.status_code == 201, response.json()
