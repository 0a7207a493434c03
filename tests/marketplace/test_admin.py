"""The operator's admin pages for the marketplace load, and support edits go through services."""

import pytest
from django.test import Client

from marketplace.models import Listing, PurchaseOrder
from marketplace.orders.services import order_place
from tests.marketplace.factories import ListingFactory, PartFactory, UserFactory, make_kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))
    return client


def test_changelists_and_change_pages_load(admin_client, buyer, fund):
    fund(buyer.org)
    listing = ListingFactory()
    kit = make_kit(bom=[(PartFactory(), 1)])
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 2)])
    for model in ("part", "listing", "kit", "quote", "order", "purchaseorder"):
        assert admin_client.get(f"/admin/marketplace/{model}/").status_code == 200, model
    assert admin_client.get(f"/admin/marketplace/listing/{listing.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/marketplace/kit/{kit.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/marketplace/order/{order.pk}/change/").status_code == 200
    assert admin_client.get("/admin/marketplace/listing/?q=ESP32").status_code == 200


def test_admin_cancel_action_releases_stock_through_the_service(admin_client, buyer, fund):
    fund(buyer.org)
    listing = ListingFactory(stock=10)
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 4)])
    po = order.purchase_orders.get()
    response = admin_client.post("/admin/marketplace/purchaseorder/",
                                 {"action": "cancel_for_vendor", "_selected_action": [po.pk]})
    assert response.status_code == 302
    assert PurchaseOrder.objects.get(pk=po.pk).status == "cancelled"
    assert PurchaseOrder.objects.get(pk=po.pk).cancelled_by_supplier is True
    assert Listing.objects.get(pk=listing.pk).stock == 10


def test_uploaded_boms_are_browsable_read_only(admin_client, buyer):
    from marketplace.boms.services import bom_upload

    PartFactory(manufacturer="Murata", mpn="GRM155R71C104KA88D")
    bom = bom_upload(owner=buyer.org, content=b"Designator,MPN\nC1,GRM155R71C104KA88D\nC2,NOSUCH123\n", filename="b.csv")
    assert admin_client.get("/admin/marketplace/bom/").status_code == 200
    page = admin_client.get(f"/admin/marketplace/bom/{bom.pk}/change/").content.decode()
    assert "GRM155R71C104KA88D" in page and "NOSUCH123" in page
    assert admin_client.get("/admin/marketplace/bom/add/").status_code == 403
