"""The contract's "Money out, disputes, FX" through the URLs: payouts, disputes, defaults, rates."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from credit.models import Payout
from credit.services import account_for, supplier_terms_set
from marketplace.models import PurchaseOrder
from marketplace.orders.services import order_place, purchase_order_confirm, purchase_order_ship
from organizations.models import Membership
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import ListingFactory

pytestmark = pytest.mark.django_db


def test_payouts_request_settle_and_history(trader, operator):
    funded_wallet(trader.org, "500.00")
    response = trader.client.post("/api/v1/payouts/", {"amount": "120.00", "currency": "CNY"}, HTTP_IDEMPOTENCY_KEY="p1")
    assert response.status_code == 201 and response.json()["status"] == "requested"
    replay = trader.client.post("/api/v1/payouts/", {"amount": "120.00", "currency": "CNY"}, HTTP_IDEMPOTENCY_KEY="p1")
    assert replay.json() == response.json() and Payout.objects.count() == 1
    wallet = account_for(organization=trader.org, kind="wallet", currency="CNY")
    assert (wallet.balance, wallet.available) == (Decimal("500.00"), Decimal("380.00"))

    payout_id = response.json()["id"]
    assert trader.client.post(f"/api/v1/payouts/{payout_id}/settle/", {"reference": "x"}).status_code == 403
    queue = operator.client.get("/api/v1/payouts/queue/").json()
    assert [p["id"] for p in queue["results"]] == [payout_id]
    settled = operator.client.post(f"/api/v1/payouts/{payout_id}/settle/", {"reference": "BOC 99"})
    assert settled.status_code == 200 and settled.json()["status"] == "settled"
    assert operator.client.post(f"/api/v1/payouts/{payout_id}/settle/", {"reference": "BOC 99b"}).status_code == 409
    history = trader.client.get("/api/v1/payouts/").json()
    assert [(p["id"], p["status"], p["reference"]) for p in history["results"]] == [(payout_id, "settled", "BOC 99")]
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("380.00")


def test_only_admins_request_payouts_and_bad_amounts_are_400(trader):
    funded_wallet(trader.org, "10.00")
    assert trader.client.post("/api/v1/payouts/", {"amount": "10.01"}).status_code == 400
    assert trader.client.post("/api/v1/payouts/", {"amount": "-1"}).status_code == 400
    assert trader.client.post("/api/v1/payouts/", {"amount": "5", "currency": "EUR"}).status_code == 400
    Membership.objects.filter(organization=trader.org).update(role="member")
    assert trader.client.post("/api/v1/payouts/", {"amount": "5.00"}).status_code == 403
    assert not Payout.objects.exists()


def _shipped_po(buyer, *, release_on="deliver", vendor=None):
    funded_wallet(buyer.org, "60.00")
    listing = ListingFactory(breaks=[(1, "2.00")], **({"vendor": vendor} if vendor else {}))
    supplier_terms_set(supplier=listing.vendor, deposit_percent=Decimal("30"), release_on=release_on,
                       forfeit_percent=Decimal("100"), default_grace_days=3)
    po = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 100)]).purchase_orders.get()
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    purchase_order_ship(purchase_order=po, actor=listing.vendor)
    return po, listing.vendor


def test_dispute_opened_by_a_party_and_resolved_by_an_operator(buyer, operator, make_member):
    po, vendor = _shipped_po(buyer)
    stranger = make_member(name="Stranger")
    assert stranger.client.post(f"/api/v1/purchase-orders/{po.pk}/dispute/", {"reason": "x"}).status_code == 404
    assert buyer.client.post(f"/api/v1/purchase-orders/{po.pk}/dispute/", {"reason": ""}).status_code == 400
    opened = buyer.client.post(f"/api/v1/purchase-orders/{po.pk}/dispute/", {"reason": "Wrong parts"})
    assert opened.status_code == 201
    dispute = opened.json()
    assert (dispute["status"], dispute["money"]["held"], dispute["opened_by"]["id"]) == ("open", "60.00", buyer.org.pk)
    assert buyer.client.post(f"/api/v1/purchase-orders/{po.pk}/deliver/").status_code == 409
    assert buyer.client.post(f"/api/v1/disputes/{dispute['id']}/resolve/", {"refund_percent": "100", "note": "x"}).status_code == 403
    assert operator.client.post(f"/api/v1/disputes/{dispute['id']}/resolve/", {"refund_percent": "101", "note": "x"}).status_code == 400
    resolved = operator.client.post(f"/api/v1/disputes/{dispute['id']}/resolve/", {"refund_percent": "100", "note": "Vendor admits"})
    assert resolved.status_code == 200 and resolved.json()["refund_amount"] == "60.00"
    assert account_for(organization=buyer.org, kind="wallet", currency="CNY").balance == Decimal("60.00")
    assert [d["id"] for d in stranger.client.get("/api/v1/disputes/").json()["results"]] == []
    assert stranger.client.get(f"/api/v1/disputes/{dispute['id']}/").status_code == 404
    assert [d["status"] for d in buyer.client.get("/api/v1/disputes/").json()["results"]] == ["resolved"]


def test_the_vendor_declares_a_default_after_the_grace_period(buyer, trader):
    trader.org.verified = True
    trader.org.save(update_fields=["verified"])
    po, vendor = _shipped_po(buyer, vendor=trader.org)
    client = trader.client
    assert buyer.client.post(f"/api/v1/purchase-orders/{po.pk}/default/").status_code == 403
    early = client.post(f"/api/v1/purchase-orders/{po.pk}/default/")
    assert early.status_code == 409 and "has until" in early.json()["detail"]
    PurchaseOrder.objects.filter(pk=po.pk).update(shipped_at=timezone.now() - timedelta(days=4))
    done = client.post(f"/api/v1/purchase-orders/{po.pk}/default/")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    assert account_for(organization=vendor, kind="wallet", currency="CNY").balance == Decimal("60.00")


def test_fx_rates_history_and_operator_only_writes(buyer, operator):
    assert buyer.client.post("/api/v1/fx-rates/", {"base": "USD", "quote": "CNY", "rate": "7.2"}).status_code == 403
    assert operator.client.post("/api/v1/fx-rates/", {"base": "USD", "quote": "USD", "rate": "1"}).status_code == 400
    assert operator.client.post("/api/v1/fx-rates/", {"base": "USD", "quote": "CNY", "rate": "-7"}).status_code == 400
    for rate, days in (("7.10", 3), ("7.25", 1)):
        valid_from = (timezone.now() - timedelta(days=days)).isoformat()
        assert operator.client.post("/api/v1/fx-rates/", {"base": "USD", "quote": "CNY", "rate": rate,
                                                          "valid_from": valid_from}).status_code == 201
    rates = buyer.client.get("/api/v1/fx-rates/?base=USD").json()
    assert [r["rate"] for r in rates["results"]] == ["7.25000000", "7.10000000"]
    assert buyer.client.get("/api/v1/fx-rates/?base=EUR").status_code == 400
    funded_wallet(buyer.org, "10.00", currency="USD")
    converted = buyer.client.post("/api/v1/wallet/conversions/", {"amount": "10.00", "from_currency": "USD", "to_currency": "CNY"})
    assert converted.status_code == 201
    assert {w["currency"]: w["balance"] for w in converted.json()["wallets"]} == {"CNY": "72.50", "USD": "0.00"}


def test_operators_grant_platform_lines(operator, buyer):
    response = operator.client.post("/api/v1/platform-credit-lines/", {"buyer": buyer.org.pk, "limit": "5000.00"})
    assert response.status_code == 201
    line = response.json()
    assert (line["supplier"], line["pays_other_vendors"], line["role"]) == (None, True, "operator")
    assert buyer.client.post("/api/v1/platform-credit-lines/", {"buyer": buyer.org.pk, "limit": "1"}).status_code == 403
    mine = buyer.client.get("/api/v1/credit-lines/").json()["results"]
    assert [(l["id"], l["role"], l["limit"]) for l in mine] == [(line["id"], "buyer", "5000.00")]
    patched = operator.client.patch(f"/api/v1/platform-credit-lines/{line['id']}/", {"limit": "3000.00"}, format="json")
    assert patched.status_code == 200 and patched.json()["limit"] == "3000.00"


def test_the_lender_writes_off_a_line_and_the_buyer_cannot(trader, buyer):
    from credit.services import credit_draw
    from tests.credit.factories import credit_line

    trader.org.verified = True
    trader.org.save(update_fields=["verified"])
    line = credit_line(supplier=trader.org, buyer=buyer.org, limit="500.00")
    credit_draw(line=line, amount=Decimal("120.00"))
    url = f"/api/v1/credit-lines/{line.pk}/write-off/"
    assert buyer.client.post(url, {"reason": "I'd like that"}).status_code == 403
    assert trader.client.post(url, {"reason": ""}).status_code == 400
    done = trader.client.post(url, {"reason": "Buyer closed its shop"})
    assert done.status_code == 200
    assert (done.json()["outstanding"], done.json()["status"]) == ("0.00", "frozen")
    assert trader.client.post(url, {"reason": "again"}).status_code == 400
