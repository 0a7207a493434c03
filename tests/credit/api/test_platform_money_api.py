"""Operators' money APIs: fees and revenue, reserves, bank statements; balances at a past moment."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from credit import payments
from credit.models import BankStatementLine
from credit.services import payout_request, payout_settle
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
STATEMENTS = "/api/v1/bank-statements/"
TOPUPS = "/api/v1/wallet/topups/"


def _csv(*rows, header="date,amount,currency,reference,counterparty"):
    return SimpleUploadedFile("statement.csv", ("\n".join([header, *rows]) + "\n").encode(), content_type="text/csv")


def test_only_operators_use_the_platform_money_apis(buyer):
    assert buyer.client.put("/api/v1/platform/fees/", {"default_percent": "2"}, format="json").status_code == 403
    assert buyer.client.get("/api/v1/platform/revenue/").status_code == 403
    assert buyer.client.post(STATEMENTS, {"file": _csv()}, format="multipart").status_code == 403
    assert buyer.client.put(f"/api/v1/platform/reserves/{buyer.org.pk}/", {"percent": "5", "days": 3}, format="json").status_code == 403


def test_fees_set_through_the_api_grow_platform_revenue_on_release(operator):
    response = operator.client.put("/api/v1/platform/fees/", {"default_percent": "2", "by_category": {"Sensors": "4"}},
                                   format="json")
    assert response.status_code == 200 and response.json()["default_percent"] == "2.00"
    assert operator.client.get("/api/v1/platform/fees/").json()["by_category"] == {"Sensors": "4.00"}
    buyer, vendor = OrganizationFactory(), OrganizationFactory(trader=True)
    funded_wallet(buyer, "1000.00")
    payments.purchase_order_payment_open(purchase_order_id=77, order_id=None, buyer=buyer, vendor=vendor, currency="CNY",
                                         total=Decimal("400.00"), method="deposit")
    payments.purchase_order_payment_confirm(purchase_order_id=77)
    payments.purchase_order_payment_deliver(purchase_order_id=77)
    revenue = operator.client.get("/api/v1/platform/revenue/").json()
    assert [(a["currency"], a["balance"]) for a in revenue["accounts"]] == [("CNY", "8.00")]
    assert operator.client.put("/api/v1/platform/fees/", {"default_percent": "150"}, format="json").status_code == 400


def test_reserves_are_set_listed_and_removed(operator, trader):
    url = f"/api/v1/platform/reserves/{trader.org.pk}/"
    response = operator.client.put(url, {"percent": "10", "days": 14}, format="json")
    assert response.status_code == 200 and response.json()["days"] == 14
    assert [r["organization"] for r in operator.client.get("/api/v1/platform/reserves/").json()["results"]] == [trader.org.pk]
    assert operator.client.put(url, {"percent": "0", "days": 14}, format="json").status_code == 204
    assert operator.client.get("/api/v1/platform/reserves/").json()["results"] == []
    assert operator.client.put("/api/v1/platform/reserves/999999/", {"percent": "1", "days": 1}, format="json").status_code == 404


def test_a_statement_matches_top_ups_and_payouts_and_reimporting_adds_nothing(operator, buyer):
    for reference, amount in (("BOC-RCPT-1001", "500.00"), ("BOC-RCPT-1002", "120.50")):
        assert operator.client.post(TOPUPS, {"organization": buyer.org.pk, "amount": amount, "currency": "CNY",
                                             "reference": reference}).status_code == 201
    payout = payout_request(organization=buyer.org, amount=Decimal("20.00"), currency="CNY")
    payout_settle(payout=payout, reference="BOC-OUT-9")
    rows = ["2026-12-01,500.00,CNY,boc rcpt 1001,Lumen Labs",  # spelled as the bank does
            "2026-12-01,-20.00,CNY,BOC-OUT-9,Buyer Co",
            "2026-12-02,99.00,CNY,BOC-RCPT-7777,Unknown payer"]
    first = operator.client.post(STATEMENTS, {"file": _csv(*rows)}, format="multipart")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert [line["reference"] for line in body["matched"]] == ["boc rcpt 1001", "BOC-OUT-9"]
    assert body["matched"][1]["match"]["direction"] == "out"
    assert [line["reference"] for line in body["unmatched"]] == ["BOC-RCPT-7777"]
    assert "No top-up" in body["unmatched"][0]["note"]

    again = operator.client.post(STATEMENTS, {"file": _csv(*rows)}, format="multipart")
    assert again.status_code == 200
    assert (again.json()["matched"], again.json()["unmatched"], again.json()["already_imported"]) == ([], [], 3)
    assert BankStatementLine.objects.count() == 3

    unmatched = operator.client.get(STATEMENTS + "lines/?status=unmatched").json()["results"]
    assert [line["reference"] for line in unmatched] == ["BOC-RCPT-7777"]
    resolve = f"{STATEMENTS}lines/{unmatched[0]['id']}/resolve/"
    assert operator.client.post(resolve, {"note": ""}, format="json").status_code == 400
    done = operator.client.post(resolve, {"note": "Refunded to the payer's bank"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert operator.client.post(resolve, {"note": "again"}, format="json").status_code == 409


def test_a_line_whose_amount_differs_is_unmatched_and_matches_once_recorded(operator, buyer):
    operator.client.post(TOPUPS, {"organization": buyer.org.pk, "amount": "50.00", "currency": "CNY", "reference": "R-1"})
    body = operator.client.post(STATEMENTS, {"file": _csv("2026-12-01,49.00,CNY,R-1,x", "2026-12-01,10.00,CNY,R-2,y")},
                                format="multipart").json()
    assert [line["reference"] for line in body["unmatched"]] == ["R-1", "R-2"]
    assert "recorded as 50.00 CNY" in body["unmatched"][0]["note"]
    operator.client.post(TOPUPS, {"organization": buyer.org.pk, "amount": "10.00", "currency": "CNY", "reference": "R-2"})
    line = BankStatementLine.objects.get(reference="R-2")
    matched = operator.client.post(f"{STATEMENTS}lines/{line.pk}/resolve/", {}, format="json")
    assert matched.status_code == 200 and matched.json()["status"] == "matched"


def test_two_identical_lines_are_two_lines_and_match_one_top_up_once(operator, buyer):
    operator.client.post(TOPUPS, {"organization": buyer.org.pk, "amount": "5.00", "currency": "CNY", "reference": "DUP"})
    body = operator.client.post(STATEMENTS, {"file": _csv("2026-12-01,5.00,CNY,DUP,a", "2026-12-01,5.00,CNY,DUP,a")},
                                format="multipart").json()
    assert (len(body["matched"]), len(body["unmatched"])) == (1, 1)
    assert "already matches another" in body["unmatched"][0]["note"]


@pytest.mark.parametrize("content", [
    "",
    "when,amount\n2026-12-01,5.00\n",
    "date,amount,currency,reference,counterparty\n2026-13-01,5.00,CNY,R,x\n",
    "date,amount,currency,reference,counterparty\n2026-12-01,5.001,CNY,R,x\n",
    "date,amount,currency,reference,counterparty\n2026-12-01,0,CNY,R,x\n",
    "date,amount,currency,reference,counterparty\n2026-12-01,5.00,EUR,R,x\n",
    "date,amount,currency,reference,counterparty\n2026-12-01,5.00,CNY,--,x\n",
    "date,amount,currency,reference,counterparty\n2026-12-01,5.00,CNY\n",
    "date,amount,currency,reference,counterparty\n",
])
def test_a_bad_statement_is_a_400_and_adds_nothing(operator, content):
    upload = SimpleUploadedFile("s.csv", content.encode(), content_type="text/csv")
    response = operator.client.post(STATEMENTS, {"file": upload}, format="multipart")
    assert response.status_code == 400, response.json()
    assert not BankStatementLine.objects.exists()


def test_balances_at_a_past_moment_read_the_postings_up_to_then(operator, buyer):
    before = timezone.now()
    operator.client.post(TOPUPS, {"organization": buyer.org.pk, "amount": "70.00", "currency": "CNY", "reference": "AT-1"})
    middle = timezone.now()
    operator.client.post(TOPUPS, {"organization": buyer.org.pk, "amount": "30.00", "currency": "CNY", "reference": "AT-2"})
    payout_request(organization=buyer.org, amount=Decimal("25.00"), currency="CNY")

    def wallet(at=None):
        params = {"kind": "wallet"} | ({"at": at.isoformat()} if at else {})
        return buyer.client.get("/api/v1/accounts/", params).json()["results"][0]

    assert (wallet(before)["balance"], wallet(before)["available"]) == ("0.00", "0.00")
    assert (wallet(middle)["balance"], wallet(middle)["held"]) == ("70.00", "0.00")
    now = wallet()
    assert (now["balance"], now["held"], now["available"]) == ("100.00", "25.00", "75.00")
    assert wallet(timezone.now() + timedelta(days=1))["held"] == "25.00"
    entries = buyer.client.get(f"/api/v1/accounts/{now['id']}/entries/", {"at": middle.isoformat()}).json()["results"]
    assert [e["amount"] for e in entries] == ["70.00"]
    assert buyer.client.get("/api/v1/accounts/", {"at": "yesterday"}).status_code == 400
    assert buyer.client.get("/api/v1/accounts/", {"at": "2020-01-01"}).json()["results"][0]["balance"] == "0.00"
