from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from credit.models import CreditLine
from credit.services import credit_draw
from tests.credit.factories import credit_line, funded_wallet

pytestmark = pytest.mark.django_db


def test_supplier_grants_a_line_that_both_parties_and_the_voucher_see(trader, buyer, solution_house):
    response = trader.client.post("/api/v1/credit-lines/", {
        "buyer": buyer.org.pk, "limit": "5000.00", "currency": "CNY", "terms_days": 30, "vouched_by": solution_house.org.pk,
    })
    assert response.status_code == 201, response.json()
    line = response.json()
    assert (line["limit"], line["outstanding"], line["available"], line["status"], line["role"]) == (
        "5000.00", "0.00", "5000.00", "active", "supplier")
    assert 0 <= line["trust"]["score"] <= 100 and line["trust"]["reasons"]
    assert buyer.client.get(f"/api/v1/credit-lines/{line['id']}/").json()["role"] == "buyer"
    assert solution_house.client.get("/api/v1/credit-lines/").json()["results"][0]["role"] == "voucher"


def test_buyers_cannot_grant_and_strangers_get_404(buyer, trader, make_member):
    assert buyer.client.post("/api/v1/credit-lines/", {"buyer": trader.org.pk, "limit": "1.00"}).status_code == 403
    line = credit_line(supplier=trader.org, buyer=buyer.org)
    stranger = make_member(name="Stranger")
    assert stranger.client.get(f"/api/v1/credit-lines/{line.pk}/").status_code == 404
    assert stranger.client.patch(f"/api/v1/credit-lines/{line.pk}/", {"limit": "0"}).status_code == 404


def test_only_the_supplier_changes_the_limit_or_freezes(trader, buyer):
    line = credit_line(supplier=trader.org, buyer=buyer.org, limit="1000.00")
    assert buyer.client.patch(f"/api/v1/credit-lines/{line.pk}/", {"limit": "9999.00"}).status_code == 403
    response = trader.client.patch(f"/api/v1/credit-lines/{line.pk}/", {"limit": "2000.00", "status": "frozen"})
    assert response.status_code == 200
    assert (response.json()["limit"], response.json()["status"]) == ("2000.00", "frozen")
    assert trader.client.patch(f"/api/v1/credit-lines/{line.pk}/", {"status": "closed"}).status_code == 400
    assert trader.client.patch(f"/api/v1/credit-lines/{line.pk}/", {"limit": "-1"}).status_code == 400
    assert CreditLine.objects.get(pk=line.pk).limit == Decimal("2000.00")


def test_repayment_is_idempotent_and_pays_oldest_first(trader, buyer):
    line = credit_line(supplier=trader.org, buyer=buyer.org, limit="1000.00")
    funded_wallet(buyer.org, "500.00")
    older = credit_draw(line=line, amount=Decimal("100.00"), issued_on=timezone.localdate() - timedelta(days=10))
    credit_draw(line=line, amount=Decimal("100.00"))
    url = f"/api/v1/credit-lines/{line.pk}/repayments/"
    first = buyer.client.post(url, {"amount": "120.00"}, HTTP_IDEMPOTENCY_KEY="rep-1")
    assert first.status_code == 201
    assert first.json()["allocations"][0] == {"invoice": older.pk, "amount": "100.00"}
    replay = buyer.client.post(url, {"amount": "120.00"}, HTTP_IDEMPOTENCY_KEY="rep-1")
    assert replay.json() == first.json()
    assert buyer.client.get(f"/api/v1/credit-lines/{line.pk}/").json()["outstanding"] == "80.00"
    assert buyer.client.post(url, {"amount": "80.01"}).status_code == 400
    assert trader.client.post(url, {"amount": "1.00"}).status_code == 403


def test_aging_for_the_supplier_and_the_buyer(trader, buyer):
    line = credit_line(supplier=trader.org, buyer=buyer.org, limit="1000.00", terms_days=30)
    credit_draw(line=line, amount=Decimal("100.00"), issued_on=timezone.localdate() - timedelta(days=70))
    receivables = trader.client.get("/api/v1/credit/aging/").json()
    assert receivables["side"] == "receivables"
    assert receivables["counterparties"][0]["buckets"]["31-60"] == "100.00"
    payables = buyer.client.get("/api/v1/credit/aging/").json()
    assert payables["side"] == "payables" and payables["totals"][0]["total"] == "100.00"
    assert buyer.client.get("/api/v1/credit/aging/?side=sideways").status_code == 400


def test_supplier_sets_deposit_terms(trader, buyer):
    assert trader.client.get("/api/v1/credit/terms/").json()["deposit_percent"] == "30.00"
    response = trader.client.put("/api/v1/credit/terms/", {"deposit_percent": "50", "release_on": "deliver", "forfeit_percent": "20"})
    assert response.status_code == 200 and response.json()["release_on"] == "deliver"
    assert trader.client.put("/api/v1/credit/terms/", {"deposit_percent": "150", "release_on": "deliver",
                                                       "forfeit_percent": "20"}).status_code == 400
    assert buyer.client.put("/api/v1/credit/terms/", {"deposit_percent": "50", "release_on": "deliver",
                                                     "forfeit_percent": "20"}).status_code == 403


def test_lists_filter_by_role_status_and_name(trader, buyer, make_member):
    credit_line(supplier=trader.org, buyer=buyer.org, limit="100.00")
    other = make_member(name="Zeta Buyer").org
    credit_line(supplier=trader.org, buyer=other, limit="100.00")
    assert trader.client.get("/api/v1/credit-lines/?q=zeta").json()["count"] == 1
    assert trader.client.get("/api/v1/credit-lines/?role=buyer").json()["count"] == 0
    assert trader.client.get("/api/v1/credit-lines/?status=frozen").json()["count"] == 0
    assert trader.client.get("/api/v1/credit-lines/?role=supplier&page_size=1").json()["count"] == 2


def test_invoices_of_a_line_and_a_buyers_trust(trader, buyer):
    line = credit_line(supplier=trader.org, buyer=buyer.org, limit="1000.00", terms_days=30)
    credit_draw(line=line, amount=Decimal("100.00"), issued_on=timezone.localdate() - timedelta(days=40))
    credit_draw(line=line, amount=Decimal("50.00"))
    invoices = buyer.client.get(f"/api/v1/credit-lines/{line.pk}/invoices/").json()
    assert [(i["amount"], i["outstanding"]) for i in invoices["results"]] == [("100.00", "100.00"), ("50.00", "50.00")]
    assert trader.client.get(f"/api/v1/credit-lines/{line.pk}/invoices/?status=paid").json()["count"] == 0
    trust = trader.client.get(f"/api/v1/credit/trust/{buyer.org.pk}/").json()
    assert 0 <= trust["score"] <= 100 and any("overdue" in reason for reason in trust["reasons"])
    assert trader.client.get(f"/api/v1/credit/trust/{trader.org.pk}/").status_code == 404  # not a buyer
