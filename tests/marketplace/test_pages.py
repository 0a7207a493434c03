"""The marketplace's browser pages, as a buyer and a supplier click through them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from marketplace.models import Listing, Order, PurchaseOrder, Quote
from tests.marketplace.factories import ListingFactory, MembershipFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def browser(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_pages_load_with_helpful_empty_states(buyer, trader):
    b, t = browser(buyer), browser(trader)
    assert "No orders yet" in b.get("/").content.decode()
    assert "Upload your stock list" in t.get("/").content.decode()
    assert "Search the market" in b.get("/parts/").content.decode()
    assert "No kits" in b.get("/kits/").content.decode()
    assert "No orders" in b.get("/orders/").content.decode()
    assert "No purchase orders" in t.get("/purchase-orders/").content.decode()
    assert "No listings" in t.get("/listings/mine/").content.decode()


def test_search_order_confirm_ship_deliver_in_the_browser(buyer, fund):
    fund(buyer.org)
    listing = ListingFactory(part=PartFactory(mpn="TP4056"), stock=100, breaks=[(1, "0.30"), (100, "0.25")])
    vendor = MembershipFactory(organization=listing.vendor)
    b, v = browser(buyer), Client()
    v.force_login(vendor.user)
    page = b.get("/parts/?mpn=tp40&qty=20").content.decode()
    assert "TP4056" in page and "6.00 CNY" in page  # 20 × 0.30
    response = b.post("/orders/new/", {"listing": listing.pk, "quantity": 20, "payment": "deposit"})
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    po = order.purchase_orders.get()
    assert "Confirm" in v.get("/purchase-orders/").content.decode()
    for step in ("confirm", "ship"):
        v.post(f"/purchase-orders/{po.pk}/{step}/")
    b.post(f"/purchase-orders/{po.pk}/deliver/")
    assert PurchaseOrder.objects.get(pk=po.pk).status == "delivered"
    # A step out of turn is a message, not an error page.
    response = b.post(f"/purchase-orders/{po.pk}/cancel/", follow=True)
    assert response.status_code == 200 and "cannot cancel" in response.content.decode()


def test_a_stranger_gets_404_on_orders_and_quotes(buyer, make_member, fund):
    fund(buyer.org)
    listing = ListingFactory()
    browser(buyer).post("/orders/new/", {"listing": listing.pk, "quantity": 1, "payment": "deposit"})
    order = Order.objects.get()
    stranger = browser(make_member(name="Stranger"))
    assert stranger.get(f"/orders/{order.pk}/").status_code == 404
    assert stranger.post(f"/purchase-orders/{order.purchase_orders.get().pk}/confirm/").status_code == 404


def test_kit_page_quotes_without_javascript_and_the_quote_page_orders(buyer, fund):
    fund(buyer.org)
    part = PartFactory()
    ListingFactory(part=part, stock=1000)
    kit = make_kit(bom=[(part, 2)])
    b = browser(buyer)
    assert "Price this kit" in b.get(f"/kits/{kit.pk}/").content.decode()
    response = b.post(f"/kits/{kit.pk}/quote/", {"quantity": 50})
    quote = Quote.objects.get()
    assert response["Location"] == f"/quotes/{quote.pk}/"
    assert "Place the order" in b.get(f"/quotes/{quote.pk}/").content.decode()
    b.post("/orders/new/", {"quote": quote.pk, "payment": "deposit"})
    assert Order.objects.get().quote == quote


def test_stock_list_upload_previews_then_applies(trader):
    t = browser(trader)
    csv = ("manufacturer,mpn,stock,moq,multiple,lead_time_days,currency,price_breaks\n"
           "TI,TPS62840DLCR,500,1,1,0,CNY,1:3.20;100:2.90\n")
    response = t.post("/listings/import/", {"file": SimpleUploadedFile("s.csv", csv.encode())})
    assert "Preview of s.csv" in response.content.decode() and not Listing.objects.exists()
    from marketplace.models import StockListImport

    job = StockListImport.objects.get()
    assert f'name="import" value="{job.pk}"' in response.content.decode()  # the preview applies this very file
    response = t.post("/listings/import/", {"action": "apply", "import": job.pk})
    assert response.status_code == 302 and Listing.objects.get().stock == 500
    bad = t.post("/listings/import/", {"file": SimpleUploadedFile("s.csv", b"manufacturer,mpn\nTI,X\n")})
    assert "Nothing was applied" in bad.content.decode()


def test_unverified_supplier_listing_hidden_in_search(buyer):
    hidden = ListingFactory(part=PartFactory(mpn="HIDDEN1"), vendor=OrganizationFactory(trader=True, verified=False))
    assert "HIDDEN1" not in browser(buyer).get("/parts/?mpn=HIDDEN").content.decode()
    assert hidden.pk


def test_search_page_filters_by_parameters(buyer):
    ListingFactory(part=PartFactory(mpn="QFNPART1", parameters={"package": "QFN32"}))
    ListingFactory(part=PartFactory(mpn="BGAPART1", parameters={"package": "BGA"}))
    page = browser(buyer).get("/parts/?parameters=package:QFN32").content.decode()
    assert "QFNPART1" in page and "BGAPART1" not in page


def test_a_bad_search_quantity_is_said_not_dropped(buyer):
    from django.test import Client

    client = Client()
    client.force_login(buyer.user)
    page = client.get("/parts/", {"q": "resistor", "qty": "12abc"}).content.decode()
    assert "is not a quantity" in page
