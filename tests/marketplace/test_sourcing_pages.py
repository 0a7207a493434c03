"""The browser side of sourcing: a supplier sets order terms, a buyer quotes with options and
sees each purchase order, its shipping, and what each option costs."""

from decimal import Decimal

import pytest
from django.test import Client

from marketplace.models import Quote, VendorOrderTerms
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def browser(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_supplier_sets_order_terms_in_the_browser(trader):
    t = browser(trader)
    assert "Minimum order value" in t.get("/order-terms/").content.decode()
    response = t.post("/order-terms/", {"currency": "CNY", "shipping_fee": "12.50", "free_shipping_over": "",
                                        "min_order_value": "80"})
    assert response.status_code == 302
    terms = VendorOrderTerms.objects.get(vendor=trader.org)
    assert (terms.shipping_fee, terms.free_shipping_over, terms.min_order_value) == (Decimal("12.50"), None, Decimal("80"))
    response = t.post("/order-terms/", {"currency": "CNY", "shipping_fee": "-3", "min_order_value": "0"}, follow=True)
    assert "Terms not saved" in response.content.decode()
    assert VendorOrderTerms.objects.get(vendor=trader.org).shipping_fee == Decimal("12.50")


def test_buyer_only_sees_the_terms_page_refused(buyer):
    assert browser(buyer).get("/order-terms/").status_code == 403


def test_quote_page_shows_purchase_orders_shipping_and_what_options_cost(buyer):
    a, b = OrganizationFactory(trader=True, name="Stall A"), OrganizationFactory(trader=True, name="Stall B")
    mcu, res = PartFactory(mpn="STM32G030"), PartFactory(mpn="RC0402-10K")
    ListingFactory(vendor=a, part=mcu, stock=1000, breaks=[(1, "3.00")])
    ListingFactory(vendor=a, part=res, stock=100_000, breaks=[(1, "0.0200")])
    ListingFactory(vendor=b, part=res, stock=100_000, breaks=[(1, "0.0100")])
    VendorOrderTerms.objects.create(vendor=b, currency="CNY", shipping_fee=Decimal("6.00"), min_order_value=0)
    kit = make_kit(bom=[(mcu, 1), (res, 10)])
    page = browser(buyer)
    response = page.post(f"/kits/{kit.pk}/quote/", {"quantity": 100, "max_vendors": "2"})
    quote = Quote.objects.get()
    assert response.status_code == 302 and quote.options["max_vendors"] == 2
    html = page.get(f"/quotes/{quote.pk}/").content.decode()
    # B saves 10.00 on 1,000 resistors and charges 6.00 shipping: two purchase orders.
    assert "Stall A" in html and "Stall B" in html and "Shipping (2 purchase orders)" in html
    assert quote.total == Decimal("316.00")
    html = page.get(f"/quotes/{quote.pk}/?constraints=1").content.decode()
    assert "one vendor fewer (1): +4.00 CNY" in html  # all from A: 320.00 without shipping
