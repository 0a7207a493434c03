"""Kits, quotes and orders end to end through the API, as a buyer and suppliers use them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.models import Listing, Quote
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    mcu, cap = PartFactory(mpn="NRF52810-QCAA"), PartFactory(mpn="GRM155R71C104KA88D", manufacturer="Murata")
    return {"mcu": mcu, "cap": cap,
            "mcu_listing": ListingFactory(part=mcu, stock=500, breaks=[(1, "8.00"), (100, "7.00")]),
            "cap_listing": ListingFactory(part=cap, stock=100_000, moq=100, multiple=100, breaks=[(1, "0.02")])}


def test_solution_house_creates_a_kit_and_buyers_see_it(solution_house, factory_org, buyer, catalogue):
    body = {"name": "BLE tracker", "category": "Trackers", "currency": "CNY", "design_fee_per_unit": "1.50", "nre": "800",
            "bom": [{"part": catalogue["mcu"].pk, "quantity": "1", "designators": "U1"},
                    {"part": catalogue["cap"].pk, "quantity": "6", "designators": "C1-C6", "attrition": "0.05"}],
            "assembly": {"factory": factory_org.org.pk, "setup_cost": "200",
                         "unit_cost_breaks": [{"min_qty": 1, "unit_cost": "4.00"}, {"min_qty": 500, "unit_cost": "2.50"}]}}
    response = solution_house.client.post("/api/v1/kits/", body, format="json")
    assert response.status_code == 201, response.json()
    kit = response.json()
    assert kit["revision"] == 1 and kit["bom"][1]["designators"] == "C1-C6"
    assert kit["assembly"]["unit_cost_breaks"][1] == {"min_qty": 500, "unit_cost": "2.50"}
    assert buyer.client.get(f"/api/v1/kits/{kit['id']}/").status_code == 200
    assert [k["id"] for k in buyer.client.get("/api/v1/kits/").json()["results"]] == [kit["id"]]


def test_kit_with_unknown_part_is_a_400(solution_house):
    response = solution_house.client.post("/api/v1/kits/", {"name": "X", "bom": [{"part": 999999, "quantity": "1"}]},
                                          format="json")
    assert response.status_code == 400 and "bom" in response.json()


def test_unverified_solution_house_kits_are_hidden(buyer, make_member, catalogue):
    hidden = make_kit(owner=OrganizationFactory(solution_house=True, verified=False), bom=[(catalogue["mcu"], 1)])
    assert buyer.client.get(f"/api/v1/kits/{hidden.pk}/").status_code == 404
    assert buyer.client.post(f"/api/v1/kits/{hidden.pk}/quote/", {"quantity": 1}, format="json").status_code == 404


def test_quote_has_the_contract_shape_and_is_private(buyer, make_member, catalogue):
    kit = make_kit(bom=[(catalogue["mcu"], 1), (catalogue["cap"], 6, "0.05")], design_fee="1.50", nre="800")
    response = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 100}, format="json")
    assert response.status_code == 201, response.json()
    q = response.json()
    assert {"id", "kit", "quantity", "currency", "valid_until", "lines", "components_cost", "assembly_cost",
            "design_fees", "nre", "total", "unit_cost", "lead_time_days", "shortages"} <= set(q)
    cap_line = next(line for line in q["lines"] if line["part"] == catalogue["cap"].pk)
    assert cap_line["needed_qty"] == 630 and cap_line["allocations"][0]["quantity"] == 700  # multiple of 100
    assert q["components_cost"] == "714.00" and q["total"] == "1664.00" and q["unit_cost"] == "16.64"
    assert buyer.client.get(f"/api/v1/quotes/{q['id']}/").json()["total"] == "1664.00"
    stranger = make_member(name="Stranger")
    assert stranger.client.get(f"/api/v1/quotes/{q['id']}/").status_code == 404
    assert buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 0}, format="json").status_code == 400


def test_order_from_quote_splits_per_vendor_and_the_lifecycle_moves_by_party(buyer, make_member, fund, catalogue):
    fund(buyer.org)
    kit = make_kit(bom=[(catalogue["mcu"], 1), (catalogue["cap"], 6)])
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10}, format="json").json()
    response = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit"}, format="json")
    assert response.status_code == 201, response.json()
    order = response.json()
    assert len(order["purchase_orders"]) == 2 and order["status"] == "placed"
    assert Listing.objects.get(pk=catalogue["mcu_listing"].pk).stock == 490

    from rest_framework.test import APIClient

    from tests.marketplace.factories import MembershipFactory

    def client_for(org):
        client = APIClient()
        client.force_authenticate(MembershipFactory(organization=org).user)
        return client

    mcu_vendor = client_for(catalogue["mcu_listing"].vendor)
    cap_vendor = client_for(catalogue["cap_listing"].vendor)
    # The wrong party: confirming is the vendor's step (403). Out of turn: no shipping before confirming (409).
    assert buyer.client.post(f"/api/v1/orders/{order['id']}/confirm/").status_code == 403
    assert mcu_vendor.post(f"/api/v1/orders/{order['id']}/ship/").status_code == 409
    # A vendor sees only its own purchase order in the order.
    confirmed = mcu_vendor.post(f"/api/v1/orders/{order['id']}/confirm/")
    assert confirmed.status_code == 200 and len(confirmed.json()["purchase_orders"]) == 1
    assert mcu_vendor.post(f"/api/v1/orders/{order['id']}/ship/").status_code == 200
    assert buyer.client.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "placed"  # least advanced PO
    for step in ("confirm", "ship"):
        assert cap_vendor.post(f"/api/v1/orders/{order['id']}/{step}/").status_code == 200
    assert buyer.client.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "shipped"
    assert buyer.client.post(f"/api/v1/orders/{order['id']}/cancel/").status_code == 409
    delivered = buyer.client.post(f"/api/v1/orders/{order['id']}/deliver/")
    assert delivered.status_code == 200 and delivered.json()["status"] == "delivered"
    assert make_member(name="Stranger").client.post(f"/api/v1/orders/{order['id']}/deliver/").status_code == 404
    # One order per quote: a second one is a state conflict, and orders nothing.
    orders_before = buyer.client.get("/api/v1/orders/").json()["count"]
    again = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit"}, format="json")
    assert again.status_code == 409 and "already placed" in again.json()["detail"]
    assert buyer.client.get("/api/v1/orders/").json()["count"] == orders_before


def test_buyer_cancels_before_confirmation_and_stock_comes_back(buyer, fund, catalogue):
    fund(buyer.org)
    listing = catalogue["mcu_listing"]
    order = buyer.client.post("/api/v1/orders/", {"lines": [{"listing": listing.pk, "quantity": 20}], "payment": "deposit"},
                              format="json").json()
    assert Listing.objects.get(pk=listing.pk).stock == 480
    response = buyer.client.post(f"/api/v1/orders/{order['id']}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Listing.objects.get(pk=listing.pk).stock == 500
    assert buyer.client.post(f"/api/v1/orders/{order['id']}/cancel/").status_code == 409


def test_expired_quote_cannot_be_ordered(buyer, fund, catalogue):
    fund(buyer.org)
    kit = make_kit(bom=[(catalogue["mcu"], 1)])
    quote_id = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 1}, format="json").json()["id"]
    Quote.objects.filter(pk=quote_id).update(valid_until=timezone.now() - timedelta(minutes=1))
    response = buyer.client.post("/api/v1/orders/", {"quote": quote_id, "payment": "deposit"}, format="json")
    assert response.status_code == 400 and "expired" in response.json()["quote"][0]


def test_order_idempotency_key_replays_without_reserving_twice(buyer, fund, catalogue):
    fund(buyer.org)
    listing = catalogue["mcu_listing"]
    body = {"lines": [{"listing": listing.pk, "quantity": 5}], "payment": "deposit"}
    first = buyer.client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    again = buyer.client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Listing.objects.get(pk=listing.pk).stock == 495
    other = buyer.client.post("/api/v1/orders/", {**body, "payment": "credit"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert other.status_code == 422


def test_fulfilment_record_on_supplier_profile(buyer, catalogue):
    vendor = catalogue["mcu_listing"].vendor
    data = buyer.client.get(f"/api/v1/organizations/{vendor.pk}/").json()
    assert data["fulfilment"]["listings"] == 1 and data["fulfilment"]["received"] == 0
    assert buyer.client.get(f"/api/v1/organizations/{buyer.org.pk}/").json()["fulfilment"] is None
    assert Decimal(catalogue["mcu_listing"].price_breaks.first().unit_price) == Decimal("8")
