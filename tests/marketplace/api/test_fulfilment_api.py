"""Fulfilment that keeps its promises, from outside: deadlines on every purchase order, the
market's sweep (`manage.py market_deadlines`), partial lot-coded shipments, lot trace, the public
on-time rate and the events feed — with the ledger clean throughout."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from credit.models import AccountKind, JournalEntry, PurchaseOrderPayment
from credit.selectors import ledger_verify
from credit.services import account_for
from marketplace.models import Listing, PurchaseOrder
from tests.marketplace.factories import ListingFactory

pytestmark = pytest.mark.django_db


def _wallet(org, kind=AccountKind.WALLET):
    return account_for(organization=org, kind=kind, currency="CNY").balance


@pytest.fixture
def stall(make_member):
    """A trader with a person behind it and a 1,000-unit listing at 2.00, lead time 3 days."""
    vendor = make_member(name="Hua Xin", trader=True)
    listing = ListingFactory(vendor=vendor.org, stock=1000, lead_time_days=3, breaks=[(1, "2.00")])
    return vendor, listing


def _order(buyer, listing, quantity=100, payment="deposit"):
    response = buyer.client.post("/api/v1/orders/", {"lines": [{"listing": listing.pk, "quantity": quantity}],
                                                      "payment": payment}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["purchase_orders"][0]


def _events(member, **params):
    response = member.client.get("/api/v1/events/", params)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_every_purchase_order_shows_its_deadlines_to_both_sides_from_placement(buyer, stall, fund):
    vendor, listing = stall
    fund(buyer.org, "1000.00")
    po = _order(buyer, listing)
    placed = parse_datetime(buyer.client.get(f"/api/v1/orders/{po['order']}/").json()["created_at"])
    assert parse_datetime(po["confirm_by"]) == placed + timedelta(hours=48)
    assert parse_datetime(po["ship_by"]) == placed + timedelta(days=3)  # the listing's lead time
    seen_by_vendor = vendor.client.get("/api/v1/purchase-orders/", {"role": "vendor"}).json()["results"][0]
    assert (seen_by_vendor["confirm_by"], seen_by_vendor["ship_by"]) == (po["confirm_by"], po["ship_by"])

    response = vendor.client.post(f"/api/v1/purchase-orders/{po['id']}/confirm/")
    confirmed = response.json()
    assert parse_datetime(confirmed["ship_by"]) == parse_datetime(confirmed["confirmed_at"]) + timedelta(days=3)
    assert [e["type"] for e in _events(buyer, type="po.*")] == ["po.confirmed", "po.placed"]


def test_the_vendors_terms_set_the_promise_and_its_late_credit(buyer, stall, fund):
    vendor, listing = stall
    body = {"currency": "CNY", "shipping_fee": "0", "min_order_value": "0", "confirm_within_hours": 12,
            "ship_within_days": 5, "late_credit_percent_per_day": "1.5", "late_credit_cap_percent": "6"}
    response = vendor.client.put(f"/api/v1/organizations/{vendor.org.pk}/order-terms/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["late_credit_cap_percent"] == "6.00"
    for bad in ({"confirm_within_hours": 0}, {"late_credit_percent_per_day": "-1"}, {"late_credit_cap_percent": "101"},
                {"late_credit_percent_per_day": "2", "late_credit_cap_percent": "0"}):
        assert vendor.client.put(f"/api/v1/organizations/{vendor.org.pk}/order-terms/", {**body, **bad},
                                 format="json").status_code == 400, bad
    fund(buyer.org, "1000.00")
    po = _order(buyer, listing)
    placed = parse_datetime(buyer.client.get(f"/api/v1/orders/{po['order']}/").json()["created_at"])
    assert (parse_datetime(po["confirm_by"]), parse_datetime(po["ship_by"])) == (
        placed + timedelta(hours=12), placed + timedelta(days=5))


def test_the_sweep_cancels_an_unconfirmed_order_returning_every_cent_and_unit(buyer, stall, fund):
    vendor, listing = stall
    fund(buyer.org, "1000.00")
    po = _order(buyer, listing, quantity=150)  # 300.00: a 90.00 deposit in escrow, 150 units reserved
    assert (_wallet(buyer.org), Listing.objects.get(pk=listing.pk).stock) == (Decimal("910.00"), 850)
    entries = JournalEntry.objects.count()

    call_command("market_deadlines", as_of=(timezone.now() + timedelta(hours=47)).isoformat())
    assert buyer.client.get(f"/api/v1/orders/{po['order']}/").json()["status"] == "placed"  # not due yet

    later = timezone.now() + timedelta(hours=49)
    call_command("market_deadlines", as_of=later.isoformat())
    order = buyer.client.get(f"/api/v1/orders/{po['order']}/").json()
    assert (order["status"], order["purchase_orders"][0]["cancel_reason"]) == ("cancelled", "unconfirmed")
    assert (_wallet(buyer.org), _wallet(buyer.org, AccountKind.ESCROW)) == (Decimal("1000.00"), Decimal("0.00"))
    assert Listing.objects.get(pk=listing.pk).stock == 1000
    assert [e["type"] for e in _events(buyer, type="po.expired")] == ["po.expired"]
    assert "payment.cancelled" in [e["type"] for e in _events(buyer, object_type="payment")]

    call_command("market_deadlines", as_of=later.isoformat())  # again: nothing moves twice
    assert JournalEntry.objects.count() == entries + 1
    assert (_wallet(buyer.org), Listing.objects.get(pk=listing.pk).stock) == (Decimal("1000.00"), 1000)
    assert len(_events(buyer, type="po.expired")) == 1
    with pytest.raises(CommandError, match="already swept"):
        call_command("market_deadlines", as_of=(later - timedelta(minutes=1)).isoformat())
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("market_deadlines", as_of="yesterday")
    assert ledger_verify().ok


def test_a_credit_orders_reservation_is_released_when_it_expires(buyer, stall):
    from tests.credit.factories import credit_line

    vendor, listing = stall
    line = credit_line(supplier=vendor.org, buyer=buyer.org, limit="500.00")
    _order(buyer, listing, payment="credit")
    payable = line.accounts.get(kind="payable")
    assert payable.held == Decimal("200.00")
    call_command("market_deadlines", as_of=(timezone.now() + timedelta(days=3)).isoformat())
    payable.refresh_from_db()
    assert payable.held == Decimal("0.00")
    assert ledger_verify().ok


def test_a_100_unit_order_ships_as_60_and_40_in_tracked_lot_coded_shipments(buyer, stall, fund):
    vendor, listing = stall
    fund(buyer.org, "1000.00")
    po = _order(buyer, listing)
    url = f"/api/v1/purchase-orders/{po['id']}/shipments/"
    early = vendor.client.post(url, {"lines": [{"listing": listing.pk, "quantity": 10}]}, format="json")
    assert early.status_code == 409  # not confirmed yet
    vendor.client.post(f"/api/v1/purchase-orders/{po['id']}/confirm/")

    first = vendor.client.post(url, {"lines": [{"listing": listing.pk, "quantity": 60, "lot": "L2406-A",
                                                "date_code": "2406"}], "carrier": "SF Express", "tracking": "SF1001"},
                               format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["lines"][0] | {"po_line": 0} == {"listing": listing.pk, "po_line": 0, "quantity": 60,
                                                          "lot": "L2406-A", "date_code": "2406", "received_quantity": 0}
    assert buyer.client.get(f"/api/v1/orders/{po['order']}/").json()["purchase_orders"][0]["status"] == "partly_shipped"

    too_many = vendor.client.post(url, {"lines": [{"listing": listing.pk, "quantity": 41, "lot": "L2406-B"}]}, format="json")
    assert too_many.status_code == 400 and "more than ordered" in str(too_many.json())
    assert buyer.client.post(url, {"lines": [{"listing": listing.pk, "quantity": 1}]}, format="json").status_code == 403
    assert vendor.client.post(url, {"lines": [{"listing": 999999, "quantity": 1}]}, format="json").status_code == 400
    assert vendor.client.post(url, {"lines": []}, format="json").status_code == 400

    second = vendor.client.post(url, {"lines": [{"listing": listing.pk, "quantity": 40, "lot": "L2407-B",
                                                 "date_code": "2407"}], "carrier": "SF Express", "tracking": "SF1002"},
                                format="json")
    assert second.status_code == 201
    seen = buyer.client.get(f"/api/v1/orders/{po['order']}/").json()["purchase_orders"][0]
    assert (seen["status"], seen["lines"][0]["shipped_quantity"]) == ("shipped", 100)
    assert [(s["number"], s["tracking"]) for s in seen["shipments"]] == [(1, "SF1001"), (2, "SF1002")]
    assert vendor.client.post(url, {"lines": [{"listing": listing.pk, "quantity": 1}]}, format="json").status_code == 409

    # Receiving can be partial: 30 of the first parcel, then the rest of both.
    receive = f"{url}{first.json()['id']}/receive/"
    assert buyer.client.post(receive, {"lines": [{"listing": listing.pk, "quantity": 61}]}, format="json").status_code == 400
    assert buyer.client.post(receive, {"lines": [{"listing": listing.pk, "quantity": 30}]}, format="json").status_code == 200
    assert PurchaseOrder.objects.get(pk=po["id"]).status == "shipped"
    assert buyer.client.post(receive, {}, format="json").json()["received_at"] is not None
    done = buyer.client.post(f"{url}{second.json()['id']}/receive/", {}, format="json")
    assert done.status_code == 200
    assert PurchaseOrder.objects.get(pk=po["id"]).status == "delivered"
    assert PurchaseOrderPayment.objects.get(purchase_order_id=po["id"]).status == "settled"
    types = [e["type"] for e in _events(buyer, type="po.*")]
    assert types == ["po.delivered", "po.received", "po.received", "po.shipped", "po.partly_shipped", "po.confirmed",
                     "po.placed"]
    assert ledger_verify().ok


def test_a_shipment_on_a_cancelled_order_is_refused_and_changes_nothing(buyer, stall, fund):
    vendor, listing = stall
    fund(buyer.org, "1000.00")
    po = _order(buyer, listing)
    buyer.client.post(f"/api/v1/purchase-orders/{po['id']}/cancel/")
    response = vendor.client.post(f"/api/v1/purchase-orders/{po['id']}/shipments/",
                                  {"lines": [{"listing": listing.pk, "quantity": 10, "lot": "X"}]}, format="json")
    assert response.status_code == 409
    assert vendor.client.get(f"/api/v1/purchase-orders/{po['id']}/shipments/").json()["count"] == 0


def test_a_lot_traces_to_every_buyer_that_received_it_and_only_its_supplier_sees_it(buyer, make_member, stall, fund,
                                                                                   operator):
    vendor, listing = stall
    other_buyer = make_member(name="Second Buyer")
    for member in (buyer, other_buyer):
        fund(member.org, "1000.00")
        po = _order(member, listing, quantity=20)
        vendor.client.post(f"/api/v1/purchase-orders/{po['id']}/confirm/")
        vendor.client.post(f"/api/v1/purchase-orders/{po['id']}/shipments/",
                           {"lines": [{"listing": listing.pk, "quantity": 20, "lot": "R-77", "date_code": "2411"}]},
                           format="json")
    trace = vendor.client.get("/api/v1/lots/R-77/trace/")
    assert trace.status_code == 200, trace.json()
    body = trace.json()
    assert {b["name"] for b in body["buyers"]} == {"Buyer Co", "Second Buyer"}
    assert (body["units_shipped"], body["units_received"]) == (40, 0)
    assert operator.client.get("/api/v1/lots/R-77/trace/").json()["units_shipped"] == 40
    rival = make_member(name="Rival", trader=True)
    assert rival.client.get("/api/v1/lots/R-77/trace/").status_code == 404
    assert buyer.client.get("/api/v1/lots/R-77/trace/").status_code == 404
    assert vendor.client.get("/api/v1/lots/NO-SUCH-LOT/trace/").status_code == 404


def test_late_shipping_earns_the_credit_and_the_on_time_rate_is_public(buyer, stall, fund, make_member):
    vendor, listing = stall
    vendor.client.put(f"/api/v1/organizations/{vendor.org.pk}/order-terms/", {
        "currency": "CNY", "shipping_fee": "0", "min_order_value": "0", "late_credit_percent_per_day": "2",
        "late_credit_cap_percent": "10"}, format="json")
    fund(buyer.org, "1000.00")
    on_time = _order(buyer, listing)
    late = _order(buyer, listing)
    for po in (on_time, late):
        vendor.client.post(f"/api/v1/purchase-orders/{po['id']}/confirm/")
    vendor.client.post(f"/api/v1/purchase-orders/{on_time['id']}/ship/")
    PurchaseOrder.objects.filter(pk=late["id"]).update(ship_by=timezone.now() - timedelta(days=2, hours=1))
    vendor.client.post(f"/api/v1/purchase-orders/{late['id']}/ship/")
    shipped = PurchaseOrder.objects.get(pk=late["id"])
    assert (shipped.late_days, shipped.late_credit) == (3, Decimal("12.00"))  # 3 days × 2 % of 200.00
    assert "po.late" in [e["type"] for e in _events(buyer, object_id=late["id"])]

    before = _wallet(buyer.org)
    buyer.client.post(f"/api/v1/purchase-orders/{late['id']}/deliver/")
    assert _wallet(buyer.org) == before - Decimal("140.00") + Decimal("12.00")  # the balance, less the credit
    assert ledger_verify().ok

    stranger = make_member(name="Curious Buyer")
    record = stranger.client.get(f"/api/v1/organizations/{vendor.org.pk}/").json()["fulfilment"]
    assert record["on_time_rate"] == 0.5
    assert record["median_slip_days"] is not None


def test_the_events_feed_carries_po_payment_and_dispute_steps_in_order(buyer, stall, fund):
    vendor, listing = stall
    fund(buyer.org, "1000.00")
    po = _order(buyer, listing)
    vendor.client.post(f"/api/v1/purchase-orders/{po['id']}/confirm/")
    vendor.client.post(f"/api/v1/purchase-orders/{po['id']}/ship/")
    buyer.client.post(f"/api/v1/purchase-orders/{po['id']}/dispute/", {"reason": "Wrong reel"}, format="json")
    vendor_types = [e["type"] for e in _events(vendor)]
    assert vendor_types[0] == "dispute.opened"
    assert {"po.placed", "payment.opened", "po.confirmed", "payment.deposit_released", "po.shipped"} <= set(vendor_types)
    event = _events(vendor, type="po.shipped")[0]
    assert (event["object_type"], event["object_id"], event["data"]["status"]) == ("purchase_order", po["id"], "shipped")
