"""Fulfilment in the browser: deadlines on the purchase order, a partial lot-coded shipment,
receiving it, re-sourcing an expired order and the supplier's on-time record."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from marketplace.models import Order, PurchaseOrder
from marketplace.orders.deadlines import market_deadlines_sweep
from tests.marketplace.factories import ListingFactory, MembershipFactory, PartFactory

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_vendor_ships_part_with_a_lot_and_the_buyer_receives_it(buyer, fund):
    fund(buyer.org)
    listing = ListingFactory(part=PartFactory(mpn="AMS1117-3.3"), stock=500, breaks=[(1, "0.10")])
    v = browser(MembershipFactory(organization=listing.vendor).user)
    b = browser(buyer.user)
    b.post("/orders/new/", {"listing": listing.pk, "quantity": 100, "payment": "deposit"})
    order = Order.objects.get()
    po = order.purchase_orders.get()
    assert "To be confirmed by" in b.get(f"/orders/{order.pk}/").content.decode()
    v.post(f"/purchase-orders/{po.pk}/confirm/")
    assert "Ship some units" in v.get("/purchase-orders/").content.decode()
    line = po.lines.get()
    response = v.post(f"/purchase-orders/{po.pk}/shipments/", {f"qty-{line.pk}": "60", f"lot-{line.pk}": "L-9",
                                                               f"date_code-{line.pk}": "2448", "carrier": "SF",
                                                               "tracking": "SF77"}, follow=True)
    assert "Shipment 1 of purchase order" in response.content.decode()
    too_many = v.post(f"/purchase-orders/{po.pk}/shipments/", {f"qty-{line.pk}": "41"}, follow=True)
    assert "more than ordered" in too_many.content.decode()
    page = b.get(f"/orders/{order.pk}/").content.decode()
    assert "partly_shipped" in page and "L-9" in page and "SF77" in page
    shipment = po.shipments.get()
    b.post(f"/purchase-orders/{po.pk}/shipments/{shipment.pk}/receive/")
    assert po.lines.get().received_quantity == 60
    v.post(f"/purchase-orders/{po.pk}/ship/")  # the other 40 in one go
    assert PurchaseOrder.objects.get(pk=po.pk).status == "shipped"
    assert "shipped by the promised date" in b.get(f"/organizations/{listing.vendor_id}/").content.decode()


def test_an_expired_order_is_re_sourced_from_its_page(buyer, fund):
    fund(buyer.org)
    part = PartFactory()
    quiet = ListingFactory(part=part, stock=100, breaks=[(1, "1.00")])
    other = ListingFactory(part=part, stock=100, breaks=[(1, "1.20")])
    b = browser(buyer.user)
    b.post("/orders/new/", {"listing": quiet.pk, "quantity": 30, "payment": "deposit"})
    order = Order.objects.get()
    market_deadlines_sweep(as_of=timezone.now() + timedelta(days=3))
    page = b.get(f"/orders/{order.pk}/").content.decode()
    assert "the market cancelled it" in page and "Re-source from other vendors" in page
    po = order.purchase_orders.get()
    response = b.post(f"/purchase-orders/{po.pk}/resource/")
    new = Order.objects.exclude(pk=order.pk).get()
    assert response["Location"] == f"/orders/{new.pk}/"
    assert new.purchase_orders.get().vendor_id == other.vendor_id
