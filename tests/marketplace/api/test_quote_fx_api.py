"""Quotes in another currency through the API (contract: "Sourcing options and order terms",
"Money out, disputes, FX"): `options.currency` accepted, the snapshot in the quote's and the
order's `fx`, offers without a rate left out and named, bad currencies a 400 that saves nothing."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from credit.services.fx import fx_rate_set
from marketplace.models import Quote
from tests.marketplace.factories import ListingFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    """One part: a CNY stall at 0.80 and a USD stall at 0.10 (0.72 CNY at 7.20)."""
    part = PartFactory(mpn="ESP32-C3-MINI-1-N4", manufacturer="Espressif")
    return {"part": part, "cny": ListingFactory(part=part, currency="CNY", stock=1000, breaks=[(1, "0.80")]),
            "usd": ListingFactory(part=part, currency="USD", stock=1000, breaks=[(1, "0.10")])}


def test_a_kit_quote_in_dollars_and_its_order_carry_the_rate_snapshot(buyer, market, fund):
    rate = fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.20"))
    kit = make_kit(bom=[(market["part"], 1)], nre="72")
    cny = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 100}, format="json").json()
    assert cny["currency"] == "CNY" and cny["components_cost"] == "72.00"
    assert cny["lines"][0]["allocations"][0]["listing"] == market["usd"].pk
    assert cny["fx"]["rates"] == {"USD": "7.20000000"} and cny["fx"]["rate_ids"] == {"USD": rate.pk}
    usd = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 100, "options": {"currency": "USD"}},
                            format="json")
    assert usd.status_code == 201, usd.json()
    usd = usd.json()
    assert (usd["currency"], usd["options"]["currency"], usd["components_cost"], usd["nre"], usd["total"]) == (
        "USD", "USD", "10.00", "10.00", "20.00")
    assert usd["fx"]["rates"] == {"CNY": "0.13888889"} and usd["fx"]["left_out"] == []
    fund(buyer.org, "100.00", currency="USD")
    order = buyer.client.post("/api/v1/orders/", {"quote": usd["id"], "payment": "deposit"}, format="json")
    assert order.status_code == 201, order.json()
    order = order.json()
    assert order["currency"] == "USD" and order["total"] == "20.00" and order["fx"] == usd["fx"]
    assert {po["currency"] for po in order["purchase_orders"]} == {"USD"}


def test_without_a_rate_the_quote_names_the_currency_it_left_out(buyer, market):
    market["cny"].delete()
    kit = make_kit(bom=[(market["part"], 1)])
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10}, format="json").json()
    assert quote["shortages"] == [{"part": market["part"].pk, "mpn": "ESP32-C3-MINI-1-N4", "shortfall": 10}]
    assert quote["fx"]["left_out"] == ["USD"] and quote["fx"]["rates"] == {}


@pytest.mark.parametrize("currency", ["EUR", "US", "", 7, ["USD"]])
def test_a_currency_kitstreet_does_not_support_is_a_400_naming_currency(buyer, market, currency):
    kit = make_kit(bom=[(market["part"], 1)])
    response = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10, "options": {"currency": currency}},
                                 format="json")
    assert response.status_code == 400 and "currency" in str(response.json())
    assert not Quote.objects.exists()


def test_a_quote_currency_the_kit_cannot_convert_into_is_a_400(buyer, market):
    kit = make_kit(bom=[(market["part"], 1)])  # no rate at all: the kit's CNY costs cannot become USD
    response = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10, "options": {"currency": "USD"}},
                                 format="json")
    assert response.status_code == 400 and "No exchange rate from CNY to USD" in str(response.json())
    assert not Quote.objects.exists()


def test_a_bom_quote_converts_like_a_kit_quote(buyer, market):
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.20"))
    csv = b"Reference,Qty,MPN,Manufacturer\nU1,1,ESP32-C3-MINI-1-N4,Espressif\n"
    bom = buyer.client.post("/api/v1/boms/", {"file": SimpleUploadedFile("bom.csv", csv)}, format="multipart").json()
    quote = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 10, "options": {"currency": "usd"}},
                              format="json")
    assert quote.status_code == 201, quote.json()
    quote = quote.json()
    allocation = quote["lines"][0]["allocations"][0]
    assert (quote["currency"], allocation["listing"], allocation["unit_price"]) == ("USD", market["usd"].pk, "0.10")
    bad = buyer.client.post(f"/api/v1/boms/{bom['id']}/quote/", {"quantity": 10, "options": {"currency": "EUR"}},
                            format="json")
    assert bad.status_code == 400 and "currency" in str(bad.json())
    assert Quote.objects.count() == 1


def test_the_export_of_a_converted_quote_names_the_rate_and_what_was_left_out(buyer, market):
    import csv
    import io

    rate = fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.20"))
    kit = make_kit(bom=[(market["part"], 1)])
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 100}, format="json").json()
    rows = list(csv.reader(io.StringIO(
        buyer.client.get(f"/api/v1/quotes/{quote['id']}/export/csv/").content.decode("utf-8-sig"))))
    assert rows[1][6:9] == ["0.720000", "72.000000", "CNY"]
    assert ["", "", "", "", "1 USD = 7.20000000 CNY", "", "7.20000000", "", "CNY",
            f"exchange rate of {timezone.localtime(rate.valid_from):%Y-%m-%d}"] in rows
