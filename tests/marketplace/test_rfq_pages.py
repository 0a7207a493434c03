"""The RFQ pages as a buyer and a supplier click through them: ask, bid, compare, award, order."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from marketplace.models import Listing, Notification, Order, Rfq
from marketplace.factories.profiles import supplier_profile_update
from tests.marketplace.factories import ListingFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def browser(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def _local(delta: timedelta) -> str:
    return timezone.localtime(timezone.now() + delta).strftime("%Y-%m-%dT%H:%M")


def test_empty_states(buyer, trader):
    b, t = browser(buyer), browser(trader)
    assert "No RFQs" in b.get("/rfqs/").content.decode()
    assert "Nothing open that fits you" in t.get("/rfqs/board/").content.decode()
    assert "No bids yet" in t.get("/rfqs/bids/").content.decode()
    assert "Nothing yet" in b.get("/inbox/").content.decode()
    assert b.get("/rfqs/board/").status_code == 403  # a buyer has no board


def test_ask_bid_compare_award_and_order_in_the_browser(buyer, trader, fund):
    fund(buyer.org)
    ListingFactory(vendor=trader.org, part=PartFactory(category="MCU"))
    PartFactory(mpn="STM32G030F6P6", manufacturer="ST", category="MCU")
    b, t = browser(buyer), browser(trader)
    response = b.post("/rfqs/new/", {"title": "MCUs", "lines": "ST, STM32G030F6P6, 500, 2.10", "closes_at": _local(timedelta(days=2)),
                                     "currency": "CNY", "max_bids": ""})
    rfq = Rfq.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/rfqs/{rfq.pk}/"
    assert "STM32G030F6P6" in t.get("/rfqs/board/").content.decode()
    assert "New RFQ that fits you" in t.get("/inbox/").content.decode()
    line = rfq.lines.get()
    bad = t.post(f"/rfqs/{rfq.pk}/bid/", {f"qty_{line.pk}": 500, f"breaks_{line.pk}": "1:2.00;100:2.50",
                                          "valid_until": _local(timedelta(days=10))}, follow=True)
    assert "cannot cost more" in bad.content.decode()
    t.post(f"/rfqs/{rfq.pk}/bid/", {f"qty_{line.pk}": 500, f"moq_{line.pk}": 1, f"multiple_{line.pk}": 1, f"lead_{line.pk}": 3,
                                    f"breaks_{line.pk}": "1:2.40;250:2.20", "valid_until": _local(timedelta(days=10))})
    bid = rfq.bids.get()
    page = b.get(f"/rfqs/{rfq.pk}/").content.decode()
    assert "Compare bids" in page and "2.2" in page and "no credit line" in page
    assert b.post(f"/rfqs/{rfq.pk}/award/", {"bids": [bid.pk]}).status_code == 302
    listing = Listing.objects.get(reserved_for=buyer.org)
    page = b.get(f"/rfqs/{rfq.pk}/").content.decode()
    assert "Awarded offers" in page
    response = b.post("/orders/new/", {"listing": listing.pk, "quantity": 500, "payment": "deposit"})
    assert response.status_code == 302 and Order.objects.count() == 1
    assert Notification.objects.filter(organization=trader.org, kind="awarded").exists()


def test_quote_page_asks_the_market_and_orders_partially(buyer, fund):
    fund(buyer.org)
    short, there = PartFactory(), PartFactory()
    ListingFactory(part=there, stock=1000)
    kit = make_kit(bom=[(short, 1), (there, 1)])
    b = browser(buyer)
    b.post(f"/kits/{kit.pk}/quote/", {"quantity": 10})
    quote = buyer.org.quotes.get()
    page = b.get(f"/quotes/{quote.pk}/").content.decode()
    assert "Ask the market for the shortfalls" in page and "Order what is available" in page
    response = b.post(f"/quotes/{quote.pk}/ask-market/", {"partial": "1", "payment": "deposit"})
    rfq = Rfq.objects.get()
    assert response["Location"] == f"/rfqs/{rfq.pk}/" and rfq.source_order == Order.objects.get()
    assert [(l.part_id, l.quantity) for l in rfq.lines.all()] == [(short.pk, 10)]
    # The quote page also sends an assembly RFQ for the batch.
    b.post(f"/quotes/{quote.pk}/ask-market/", {"assembly": "1", "smt": "on"})
    assert Rfq.objects.filter(kind="assembly", quantity=10, needs_smt=True).exists()


def test_factory_declares_capabilities(factory_org):
    f = browser(factory_org)
    response = f.post("/rfqs/capabilities/", {"categories": "PCBA, Cables", "smt": "on", "min_batch": 50, "max_batch": 5000,
                                              "weekly_capacity": 800, "lead_time_days": 5})
    assert response.status_code == 302
    profile = factory_org.org.market_profile
    assert (profile.processes, profile.weekly_capacity, profile.categories) == (["smt"], 800, ["Cables", "PCBA"])
    bad = f.post("/rfqs/capabilities/", {"min_batch": 500, "max_batch": 10}, follow=True)
    assert "below the smallest" in bad.content.decode()
    supplier_profile_update(organization=factory_org.org, weekly_capacity=900)
    assert 'value="900"' in f.get("/rfqs/capabilities/").content.decode()


def test_a_factorys_public_profile_shows_its_capabilities(buyer, factory_org):
    supplier_profile_update(organization=factory_org.org, smt=True, box_build=True, min_batch=100, weekly_capacity=700)
    page = browser(buyer).get(f"/organizations/{factory_org.org.pk}/").content.decode()
    assert "SMT" in page and "Box build" in page and "700 boards a week" in page


def test_the_rfq_form_shows_every_error_at_once_next_to_its_field_and_keeps_what_was_typed(buyer):
    b = browser(buyer)
    typed = {"title": " ", "lines": "ST, STM32G030F6P6, many\nonly-an-mpn\nMurata, GRM155R71C104KA88D, 10000\n, , 5",
             "closes_at": "next tuesday", "currency": "EUR", "max_bids": "5000"}
    response = b.post("/rfqs/new/", typed)
    page = response.content.decode()
    assert response.status_code == 400 and not Rfq.objects.exists()
    assert "The RFQ was not sent: 7 things to fix" in page
    for message in ("Give the RFQ a title.", "Line 1: the quantity must be a whole number", "Line 2: write manufacturer, MPN",
                    "Line 4: give the manufacturer part number.", "Pick a closing date and time.", "Choose CNY or USD.",
                    "From 1 to 1,000, or leave it out for no cap."):
        assert message in page, message
    assert page.count('aria-invalid="true"') == 5  # title, lines, closing time, bids, currency
    assert "GRM155R71C104KA88D, 10000" in page and 'value="5000"' in page  # what was typed stays
    assert "non_field_errors" not in page and "['CNY', 'USD']" not in page


def test_a_supplier_told_about_an_rfq_opens_it_after_it_closed(buyer, trader):
    PartFactory(mpn="STM32G030F6P6", manufacturer="ST", category="MCU")
    ListingFactory(vendor=trader.org, part=PartFactory(category="MCU"))
    b, t = browser(buyer), browser(trader)
    b.post("/rfqs/new/", {"title": "MCUs", "lines": "ST, STM32G030F6P6, 500", "closes_at": _local(timedelta(days=2)),
                          "currency": "CNY"})
    rfq = Rfq.objects.get()
    assert Notification.objects.filter(organization=trader.org, rfq=rfq).exists()
    b.post(f"/rfqs/{rfq.pk}/close/")
    rfq.refresh_from_db()
    assert rfq.status != Rfq.Status.OPEN
    inbox = t.get("/inbox/").content.decode()
    assert f'href="/rfqs/{rfq.pk}/"' in inbox
    page = t.get(f"/rfqs/{rfq.pk}/")  # the inbox link opens: the page says bidding closed, offers no bid form
    assert page.status_code == 200 and "Bidding on this RFQ has closed" in page.content.decode()
    assert f'action="/rfqs/{rfq.pk}/bid/"' not in page.content.decode()


def test_the_order_page_offers_to_complete_an_order_sent_partly_to_an_rfq(buyer, fund):
    fund(buyer.org)
    mcu = PartFactory(mpn="STM32G030F6P6", manufacturer="ST", category="MCU")
    cap = PartFactory(mpn="CL05B104KO5NNNC", manufacturer="Samsung", category="Capacitors")
    ListingFactory(part=cap, stock=1000, breaks=[(1, "0.01")])
    kit = make_kit(bom=[(mcu, 1), (cap, 2)])
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 100}, format="json").json()
    first = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit", "partial": True},
                              format="json").json()
    b = browser(buyer)
    page = b.get(f"/orders/{first['id']}/").content.decode()
    assert "The rest of this order" in page and f"RFQ {first['rfq']}" in page and "Complete the order" in page
    # Not awarded yet: the page says what is still short and orders nothing.
    response = b.post(f"/orders/{first['id']}/complete/", {"payment": "deposit"}, follow=True)
    assert "still short" in response.content.decode() and Order.objects.count() == 1
