"""Quotes in the browser: the list, per-vendor subtotals, the order review, one order per quote."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from marketplace.models import Order, Quote
from marketplace.sourcing.quotes import quote_create
from tests.marketplace.factories import ListingFactory, MembershipFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_vendor_quote(buyer):
    a, b = PartFactory(mpn="PARTA1"), PartFactory(mpn="PARTB1")
    ListingFactory(part=a, stock=1000, vendor=OrganizationFactory(trader=True, name="Stall A"), breaks=[(1, "0.50")])
    ListingFactory(part=b, stock=1000, vendor=OrganizationFactory(trader=True, name="Stall B"), breaks=[(1, "2.00")])
    kit = make_kit(bom=[(a, 2), (b, 1)])
    return quote_create(organization=buyer.org, kit=kit, quantity=10, created_by=buyer.user)


def test_the_quote_page_shows_each_vendors_subtotal_and_the_deposit_before_ordering(buyer, fund, two_vendor_quote):
    fund(buyer.org, "1000.00")
    page = browser(buyer.user).get(f"/quotes/{two_vendor_quote.pk}/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Stall A 1 10.00" in text and "Stall B 1 20.00" in text  # 20 × 0.50, 10 × 2.00
    # Default terms take 30 % of each vendor's subtotal into escrow: 3.00 + 6.00.
    assert "Deposit into escrow, from your wallet now 9.00 CNY" in text
    assert "Place the order" in page and 'data-confirm="Place the order' in page

    csv = browser(buyer.user).get(f"/quotes/{two_vendor_quote.pk}/export.csv")
    assert csv["Content-Type"].startswith("text/csv") and b"PARTA1" in csv.content and b"Stall B" in csv.content


def test_an_ordered_quote_links_to_its_order_and_offers_no_second_one(buyer, fund, two_vendor_quote):
    fund(buyer.org)
    client = browser(buyer.user)
    client.post("/orders/new/", {"quote": two_vendor_quote.pk, "payment": "deposit"})
    order = Order.objects.get()
    page = client.get(f"/quotes/{two_vendor_quote.pk}/").content.decode()
    assert f'href="/orders/{order.pk}/"' in page and "Place the order" not in page
    listing = client.get("/quotes/").content.decode()
    assert f"order #{order.pk}" in listing

    order_page = client.get(f"/orders/{order.pk}/").content.decode()
    assert order_page.index("summary-table") < order_page.index('id="po-')  # the summary comes first
    assert "9.00 CNY" in order_page  # the deposit held, in total


def test_an_expired_quote_cannot_be_ordered_from_its_page(buyer, two_vendor_quote):
    Quote.objects.filter(pk=two_vendor_quote.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    page = browser(buyer.user).get(f"/quotes/{two_vendor_quote.pk}/").content.decode()
    assert "This quote has expired" in page and "Place the order" not in page
    assert "expired" in browser(buyer.user).get("/quotes/").content.decode()


def test_quote_list_empty_state_says_what_to_do(buyer):
    assert "No quotes yet" in browser(buyer.user).get("/quotes/").content.decode()


def test_a_viewer_sees_the_review_but_no_order_button_and_no_po_steps(buyer, two_vendor_quote):
    viewer = MembershipFactory(organization=buyer.org, role="viewer").user
    page = browser(viewer).get(f"/quotes/{two_vendor_quote.pk}/").content.decode()
    assert "Place the order" not in page and "can read quotes but not place orders" in page
    assert "New trial" not in browser(viewer).get("/trials/").content.decode()


def test_supplier_pages_refuse_a_buyer_only_organisation_and_say_why(buyer):
    client = browser(buyer.user)
    for path in ("/listings/mine/", "/listings/import/", "/purchase-orders/", "/credit/receivables/"):
        response = client.get(path)
        assert response.status_code == 403 and "are for suppliers" in response.content.decode(), path
    nav = client.get("/").content.decode()
    assert "Incoming POs" not in nav and "Receivables" not in nav and "Quotes" in nav


def test_a_zero_credit_line_is_refused_and_the_form_keeps_the_values(trader, buyer):
    client = browser(trader.user)
    response = client.post("/credit/lines/grant/", {"buyer": buyer.org.pk, "limit": "0", "currency": "CNY", "terms_days": "45"})
    page = response.content.decode()
    assert response.status_code == 200 and "check the highlighted fields" in page
    assert 'name="limit"' in page and 'aria-invalid="true"' in page and 'value="45"' in page
    from credit.models import CreditLine

    assert not CreditLine.objects.exists()


def test_the_service_refuses_a_zero_line_too(trader, buyer):
    from credit.exceptions import CreditLineInvalid
    from credit.services import credit_line_grant

    with pytest.raises(CreditLineInvalid, match="above zero"):
        credit_line_grant(supplier=trader.org, buyer=buyer.org, limit=Decimal("0"), currency="CNY")


def test_only_admins_are_offered_the_grant_and_terms_forms(trader):
    member = MembershipFactory(organization=trader.org, role="member").user
    page = browser(member).get("/credit/receivables/").content.decode()
    assert "Grant credit" not in page and "Admins of Trader Co grant credit lines" in page
    assert "Grant credit" in browser(trader.user).get("/credit/receivables/").content.decode()  # the owner


def test_the_kit_page_quotes_in_another_currency_and_the_quote_shows_its_rates(buyer):
    from credit.services.fx import fx_rate_set

    part = PartFactory(mpn="USDONLY1")
    ListingFactory(part=part, stock=1000, currency="USD", breaks=[(1, "0.10")])
    kit = make_kit(bom=[(part, 1)])
    client = browser(buyer.user)
    short = client.post(f"/kits/{kit.pk}/quote/", {"quantity": "10"}, follow=True).content.decode()
    assert "Offers priced in USD were left out" in short  # no rate yet: said, not a silent shortage
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    page = client.post(f"/kits/{kit.pk}/quote/", {"quantity": "10", "currency": "USD"}, follow=True).content.decode()
    quote = Quote.objects.order_by("-pk").first()
    assert quote.currency == "USD" and quote.components_cost == Decimal("1.00")
    assert "1 CNY = 0.1389 USD" in page and "rate of " in page and "left out" not in page
    bad = client.post(f"/kits/{kit.pk}/quote/", {"quantity": "10", "currency": "EUR"}, follow=True).content.decode()
    assert "Quote in one of CNY, USD" in bad and Quote.objects.count() == 2


def test_a_price_converted_from_another_currency_is_marked_with_it_and_the_rate_dated(buyer):
    from credit.services.fx import fx_rate_set

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    usd_part, cny_part = PartFactory(mpn="USDPART1"), PartFactory(mpn="CNYPART1")
    ListingFactory(part=usd_part, stock=1000, currency="USD", breaks=[(1, "0.10")])
    ListingFactory(part=cny_part, stock=1000, currency="CNY", breaks=[(1, "0.50")])
    kit = make_kit(bom=[(usd_part, 1), (cny_part, 1)])
    page = browser(buyer.user).post(f"/kits/{kit.pk}/quote/", {"quantity": "10"}, follow=True).content.decode()
    assert "10 × 0.7200 from" in page and page.count(">from USD</span>") == 1  # only the converted line
    assert "1 USD = 7.2000 CNY" in page and "rate of " in page
