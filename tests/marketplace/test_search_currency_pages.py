"""The search page compares prices in the buyer's currency: each offer's own price, then ≈ the
converted one, sorted by the converted; offers without a rate last, saying so."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from credit.services.fx import fx_rate_set
from tests.marketplace.factories import ListingFactory, PartFactory

pytestmark = pytest.mark.django_db


def browser(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


@pytest.fixture
def mixed():
    part = PartFactory(manufacturer="Espressif", mpn="ESP32-C3FH4", category="Wireless SoC")
    return (ListingFactory(part=part, breaks=[(1, "0.70")], location="Stall CNY-A"),
            ListingFactory(part=part, currency="USD", breaks=[(1, "0.10")], location="Stall USD"),
            ListingFactory(part=part, breaks=[(1, "0.75")], location="Stall CNY-B"))


def stalls(html: str) -> list[str]:
    return re.findall(r"Stall [A-Z-]+", html)


def test_offers_sort_by_the_converted_price_and_show_both(buyer, mixed):
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    html = browser(buyer).get("/parts/", {"q": "esp32", "qty": 100, "view": "offers"}).content.decode()
    assert stalls(html) == ["Stall CNY-A", "Stall USD", "Stall CNY-B"]
    assert "0.10 USD" in html and "≈ 0.72 CNY" in html  # the unit price, and what it is in CNY
    assert "10.00 USD" in html and "≈ 72.00 CNY" in html  # the total at 100
    assert '<option value="CNY" selected>' in html
    dearest = browser(buyer).get("/parts/", {"q": "esp32", "qty": 100, "view": "offers", "ordering": "-unit_price_at_qty"})
    assert stalls(dearest.content.decode()) == ["Stall CNY-B", "Stall USD", "Stall CNY-A"]


def test_the_currency_selector_converts_the_other_way(buyer, mixed):
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    html = browser(buyer).get("/parts/", {"q": "esp32", "qty": 100, "view": "offers", "currency": "USD"}).content.decode()
    assert stalls(html) == ["Stall CNY-A", "Stall USD", "Stall CNY-B"]
    assert "0.70 CNY" in html and "≈ 0.0972 USD" in html  # below 0.10: four places, not "0.10"
    assert "≈ 9.72 USD" in html and "≈ 10.42 USD" in html  # totals, half-even to cents
    assert '<option value="USD" selected>' in html


def test_without_a_rate_the_offer_comes_last_and_says_why(buyer, mixed):
    html = browser(buyer).get("/parts/", {"q": "esp32", "qty": 100, "view": "offers"}).content.decode()
    assert stalls(html) == ["Stall CNY-A", "Stall CNY-B", "Stall USD"]
    assert "no USD→CNY rate: listed last" in html


def test_grouped_page_picks_the_best_offer_in_the_buyers_currency(buyer, mixed):
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("6.5"))  # 0.10 USD = 0.65 CNY
    html = browser(buyer).get("/parts/", {"q": "esp32", "qty": 100}).content.decode()
    assert "0.10 USD" in html and "≈ 0.65 CNY" in html and "0.70 CNY" not in html


def test_an_unknown_currency_is_said_and_the_default_used(buyer, mixed):
    response = browser(buyer).get("/parts/", {"q": "esp32", "qty": 100, "currency": "XYZ"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "“XYZ” is not a currency we price in" in html and '<option value="CNY" selected>' in html


def test_part_page_sorts_offers_in_the_chosen_currency(buyer, mixed):
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    html = browser(buyer).get(f"/parts/{mixed[0].part_id}/", {"qty": 100, "currency": "USD"}).content.decode()
    assert stalls(html) == ["Stall CNY-A", "Stall USD", "Stall CNY-B"]
    assert "≈ 0.0972 USD" in html
