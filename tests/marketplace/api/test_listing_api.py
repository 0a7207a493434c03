"""Listings through the API: create with validation, edit, search with prices at a quantity."""

from decimal import Decimal

import pytest

from marketplace.models import Listing
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory

pytestmark = pytest.mark.django_db


def _body(**overrides):
    body = {"manufacturer": "Espressif", "mpn": "ESP32-C3-MINI-1", "stock": 500, "moq": 10, "multiple": 5,
            "lead_time_days": 0, "currency": "CNY",
            "price_breaks": [{"min_qty": 1, "unit_price": "9.80"}, {"min_qty": 100, "unit_price": "9.20"}]}
    return {**body, **overrides}


def test_supplier_creates_a_listing_and_the_part_is_found_or_created(trader):
    response = trader.client.post("/api/v1/listings/", _body(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["part"]["mpn"] == "ESP32-C3-MINI-1"
    assert data["vendor"]["id"] == trader.org.pk
    assert data["price_breaks"] == [{"min_qty": 1, "unit_price": "9.80"}, {"min_qty": 100, "unit_price": "9.20"}]
    # A second vendor listing the same part with different punctuation reuses the catalogue part.
    other = OrganizationFactory(trader=True)
    from rest_framework.test import APIClient

    from tests.marketplace.factories import MembershipFactory
    client = APIClient()
    client.force_authenticate(MembershipFactory(organization=other).user)
    second = client.post("/api/v1/listings/", _body(mpn="esp32c3mini1"), format="json").json()
    assert second["part"]["id"] == data["part"]["id"]


@pytest.mark.parametrize("breaks, message", [
    ([{"min_qty": 100, "unit_price": "1"}, {"min_qty": 10, "unit_price": "0.9"}], "strictly increase"),
    ([{"min_qty": 1, "unit_price": "1"}, {"min_qty": 10, "unit_price": "1.5"}], "cannot cost more"),
    ([{"min_qty": 50, "unit_price": "1"}], "at or below the MOQ"),
])
def test_bad_price_breaks_are_a_400_and_nothing_is_created(trader, breaks, message):
    response = trader.client.post("/api/v1/listings/", _body(price_breaks=breaks), format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()["price_breaks"])
    assert not Listing.objects.exists()


def test_bad_quantities_and_currency_are_400(trader):
    response = trader.client.post("/api/v1/listings/", _body(moq=0, stock=-1, currency="EUR"), format="json")
    assert response.status_code == 400
    assert {"moq", "stock", "currency"} <= set(response.json())


def test_buyers_cannot_publish_listings_or_kits(buyer):
    """Who may publish is a permission (403, whatever the body says), as a role would be."""
    response = buyer.client.post("/api/v1/listings/", _body(), format="json")
    assert response.status_code == 403 and "Only suppliers publish listings" in response.json()["detail"]
    kit = buyer.client.post("/api/v1/kits/", {"name": "x"}, format="json")
    assert kit.status_code == 403 and "Only solution houses publish kits" in kit.json()["detail"]
    assert buyer.client.get("/api/v1/listings/").status_code == 200  # reading stays open


def test_vendor_edits_own_listing_but_not_anothers(trader):
    mine = ListingFactory(vendor=trader.org, stock=5)
    theirs = ListingFactory(stock=5)
    response = trader.client.patch(f"/api/v1/listings/{mine.pk}/", {"stock": 42}, format="json")
    assert response.status_code == 200 and response.json()["stock"] == 42
    assert trader.client.patch(f"/api/v1/listings/{theirs.pk}/", {"stock": 42}, format="json").status_code == 404
    assert Listing.objects.get(pk=theirs.pk).stock == 5


def test_search_at_qty_computes_order_qty_price_and_sorts_by_it(buyer):
    part = PartFactory(mpn="BQ24075RGTR", manufacturer="TI", category="Charger")
    cheap_at_volume = ListingFactory(part=part, moq=1, multiple=1, breaks=[(1, "5.00"), (1000, "2.00")])
    moq_bound = ListingFactory(part=part, moq=250, multiple=100, breaks=[(1, "3.00")])
    flat = ListingFactory(part=part, breaks=[(1, "2.50")])
    response = buyer.client.get("/api/v1/listings/", {"mpn": "bq2407", "qty": 120, "ordering": "unit_price_at_qty"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [flat.pk, moq_bound.pk, cheap_at_volume.pk]
    by_id = {r["id"]: r for r in rows}
    assert by_id[moq_bound.pk]["order_qty"] == 300  # raised to the MOQ 250, then up to a multiple of 100
    assert by_id[moq_bound.pk]["extended_price"] == "900.00"
    assert by_id[cheap_at_volume.pk]["unit_price_at_qty"] == "5.00"
    at_volume = buyer.client.get("/api/v1/listings/", {"mpn": "BQ2407", "qty": 1000, "ordering": "unit_price_at_qty"}).json()
    assert at_volume["results"][0]["id"] == cheap_at_volume.pk
    assert Decimal(at_volume["results"][0]["extended_price"]) == Decimal("2000")


def test_search_in_stock_at_qty_and_unverified_vendors_hidden(buyer):
    part = PartFactory(mpn="SS34")
    ListingFactory(part=part, stock=10)
    big = ListingFactory(part=part, stock=10_000)
    ListingFactory(part=part, stock=10_000, vendor=OrganizationFactory(trader=True, verified=False))
    rows = buyer.client.get("/api/v1/listings/", {"mpn": "SS34", "qty": 500, "in_stock": "true"}).json()["results"]
    assert [r["id"] for r in rows] == [big.pk]


def test_search_rejects_a_bad_ordering_with_400(buyer):
    assert buyer.client.get("/api/v1/listings/", {"ordering": "drop table"}).status_code == 400


def test_out_of_range_numbers_are_400_not_500(trader, buyer):
    response = trader.client.post("/api/v1/listings/", _body(stock=10**12), format="json")
    assert response.status_code == 400 and "stock" in response.json()
    listing = ListingFactory(breaks=[(1, "99999999")], stock=10**9)
    response = buyer.client.post("/api/v1/orders/", {"lines": [{"listing": listing.pk, "quantity": 100_000}], "payment": "deposit"},
                                 format="json")
    assert response.status_code == 400 and "exceed" in response.json()["lines"][0]
    assert Listing.objects.get(pk=listing.pk).stock == 10**9
