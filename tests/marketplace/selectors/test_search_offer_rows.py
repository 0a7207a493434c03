"""A search page's rows are read as plain rows and priced from their breaks in Python
(`search.offers`), and written out without DRF's serializers (`offers_output`, `part_groups_output`).
The JSON must stay what `ListingOutputSerializer` and `PartOutputSerializer` declare and gave before,
byte for byte: these tests compare the API's pages with the DRF serializers' output for the same
listings priced in SQL (`price_at_qty`), over quantities, display currencies, rates, time zones,
orderings, every fill problem and a grouped row with a cheaper offer."""

import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Prefetch
from django.test import Client
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from credit.services.fx import fx_rate_set
from marketplace.catalogue.models import Listing, Part, PriceBreak
from marketplace.catalogue.search.pricing import (
    DisplayCurrency,
    attach_converted,
    price_at_qty,
)
from marketplace.catalogue.serializers import PartOutputSerializer, listings_output
from tests.marketplace.factories import ListingFactory, PartFactory
from tests.organizations.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    """Two parts, offers in both currencies, and at 100 pcs one offer for each fill problem."""
    resistor = PartFactory(manufacturer="Yageo", mpn="RC0402FR-0710KL", category="Resistor",
                           description="10 kΩ ±1 % 0402 thick film", lifecycle=Part.Lifecycle.NRND,
                           parameters={"resistance": "10k", "package": "0402", "tolerance": "1%"})
    capacitor = PartFactory(manufacturer="Murata", mpn="GRM155R71C104KA88D", category="Capacitor",
                            description="100 nF 16 V X7R 0402", parameters={})
    hq = OrganizationFactory(trader=True, name="深圳华强 Electronics")
    other = OrganizationFactory(trader=True, name="Bright & Sons \"Parts\"")
    return [
        # The cheapest resistor cannot fill 100 (stock): the grouped row shows a dearer one first.
        ListingFactory(part=resistor, vendor=hq, stock=50, breaks=[(1, "0.0100"), (100, "0.0080")],
                       date_code="2431", location="Huaqiang B2-17"),
        ListingFactory(part=resistor, vendor=other, stock=10_000, lead_time_days=3,
                       breaks=[(1, "0.012"), (1000, "0.0095"), (10_000, "0.0071234")]),
        ListingFactory(part=resistor, currency="USD", moq=250, breaks=[(1, "0.0015"), (250, "0.00125")],
                       condition=Listing.Condition.REFURBISHED),  # moq at 100
        ListingFactory(part=resistor, multiple=30, breaks=[(1, "0.011")]),  # multiple at 100
        ListingFactory(part=resistor, breaks=[(500, "0.005")], lead_time_days=14),  # no price at 100
        ListingFactory(part=capacitor, vendor=hq, currency="USD", stock=7, breaks=[(1, "0.02"), (10, "0.015")]),
        ListingFactory(part=capacitor, vendor=other, stock=400_000, breaks=[(1, "0.12"), (4000, "0.098765")]),
    ]


def drf_offers(ids: list[int], qty: int | None, currency: str) -> list:
    """The listings as the DRF serializer wrote them: model instances priced in SQL."""
    qs = Listing.objects.filter(pk__in=ids).select_related("vendor", "part").prefetch_related(
        Prefetch("price_breaks", queryset=PriceBreak.objects.order_by("min_qty")))
    if qty:
        qs = price_at_qty(qs, qty)
    by_id = {listing.pk: listing for listing in qs}
    listings = [by_id[pk] for pk in ids]
    if qty:
        attach_converted(listings, DisplayCurrency(currency))
    return listings_output(listings, qty)


def rendered(data) -> str:
    return json.dumps(json.loads(JSONRenderer().render(data)), ensure_ascii=False)


def as_sent(results: list) -> str:
    return json.dumps(results, ensure_ascii=False)


def expected_groups(results: list[dict], qty: int | None, currency: str) -> list[dict]:
    rows = []
    for row in results:
        cheaper = row["cheaper_offer"]
        rows.append({"part": PartOutputSerializer(Part.objects.get(pk=row["part"]["id"])).data,
                     "best_offer": drf_offers([row["best_offer"]["id"]], qty, currency)[0],
                     "cheaper_offer": drf_offers([cheaper["id"]], qty, currency)[0] if cheaper else None,
                     **{k: row[k] for k in ("offers", "total_stock", "shortest_lead_time_days", "fillable_offers")}})
    return rows


# (time zone, qty, display currency, ordering): St John's is UTC−3:30, a half-hour offset.
PAGES = [("Asia/Shanghai", None, "CNY", None), ("Asia/Shanghai", 1, "USD", None), ("Asia/Shanghai", 100, "CNY", None),
         ("America/St_Johns", 100, "USD", "-stock"), ("Asia/Shanghai", 250, "CNY", "extended_price"),
         ("America/St_Johns", None, "USD", "-updated_at"), ("Asia/Shanghai", 1000, "USD", "-unit_price_at_qty")]


@pytest.mark.parametrize("rate", [Decimal("7.2"), None], ids=["usd-rate", "no-rate"])
def test_search_pages_read_as_the_drf_serializers_write(buyer, market, rate):
    if rate is not None:
        fx_rate_set(base="USD", quote="CNY", rate=rate)
    seen_problems, seen_unconverted, seen_cheaper = set(), False, False
    for zone, qty, currency, ordering in PAGES:
        buyer.client.cookies["tz"] = zone
        params = {k: v for k, v in {"qty": qty, "currency": currency, "ordering": ordering}.items() if v}
        flat = buyer.client.get("/api/v1/listings/", params)
        grouped = buyer.client.get("/api/v1/parts/search/", params)
        assert flat.status_code == grouped.status_code == 200
        offers, groups = flat.json()["results"], grouped.json()["results"]
        assert len(offers) == len(market) and len(groups) == 2
        with timezone.override(ZoneInfo(zone)):
            assert as_sent(offers) == rendered(drf_offers([o["id"] for o in offers], qty, currency))
            assert as_sent(groups) == rendered(expected_groups(groups, qty, currency))
        for offer in offers:
            seen_problems.update(offer.get("fill_problems", []))
            seen_unconverted |= qty is not None and offer["converted"] is None
        seen_cheaper |= any(g["cheaper_offer"] for g in groups)
    # The world above really exercised every branch of a row.
    assert seen_problems == {"stock", "moq", "multiple", "no_price"}
    assert seen_cheaper
    assert seen_unconverted == (rate is None)


def test_rows_without_a_quantity_keep_the_nullable_price_fields(buyer, market):
    """As DRF wrote them: without `qty` the nullable price fields are null, the others absent."""
    offer = buyer.client.get("/api/v1/listings/", {"ordering": "id"}).json()["results"][0]
    assert list(offer)[-3:] == ["price_breaks", "unit_price_at_qty", "extended_price"]
    assert offer["unit_price_at_qty"] is None and "order_qty" not in offer and "converted" not in offer
    assert offer["price_breaks"] == [{"min_qty": 1, "unit_price": "0.01"}, {"min_qty": 100, "unit_price": "0.008"}]


def test_the_offers_page_shows_each_offers_breaks_and_price(buyer, market):
    client = Client()
    client.force_login(buyer.user)
    html = client.get("/parts/", {"q": "RC0402", "qty": 100, "view": "offers"}).content.decode()
    assert "1+&nbsp;0.0120<br>1000+&nbsp;0.0095<br>10000+&nbsp;0.0071" in html  # the 3-break offer, in order
    assert "深圳华强 Electronics" in html and "Huaqiang B2-17" in html
    grouped = client.get("/parts/", {"q": "RC0402", "qty": 100}).content.decode()
    assert "Cheaper but cannot fill 100" in grouped and "only 50 in stock" in grouped
