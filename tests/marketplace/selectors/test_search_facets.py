"""Facets count the parts that a search shows — those with an offer the viewer sees that passes the
offer filters — exactly when they are few, and say so when a broad search counts a sample
(PostgreSQL). docs/search.md, "Facets"."""

import pytest

from marketplace.catalogue.search import facets as facets_module
from marketplace.catalogue.search.facets import search_facets
from marketplace.catalogue.search.filters import search_filters
from marketplace.models import Listing, Part
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory

pytestmark = pytest.mark.django_db


def counts(facet: list[dict]) -> dict:
    return {item["value"]: item["count"] for item in facet}


@pytest.fixture
def market():
    shop, other = OrganizationFactory(trader=True), OrganizationFactory(trader=True)
    unverified = OrganizationFactory(trader=True, verified=False)
    part = lambda mpn, maker, **kw: PartFactory(mpn=mpn, manufacturer=maker, category="LDO", **kw)  # noqa: E731
    stocked = part("AP2112K-3.3", "Diodes", parameters={"voltage": "3.3V"})
    slow = part("AP2112K-1.8", "Diodes", parameters={"voltage": "1.8V"})
    hidden = part("XC6206P332MR", "Torex", parameters={"voltage": "3.3V"})
    retired = part("ME6211C33", "Microne", parameters={"voltage": "3.3V"})
    ListingFactory(part=stocked, vendor=shop, stock=500, lead_time_days=0)
    ListingFactory(part=stocked, vendor=other, stock=0, lead_time_days=10)
    ListingFactory(part=slow, vendor=other, stock=0, lead_time_days=10)
    ListingFactory(part=hidden, vendor=unverified, stock=500)  # an unverified vendor's: only it sees this
    ListingFactory(part=retired, vendor=shop, stock=500)
    Listing.objects.filter(part=retired).update(is_active=False)
    Listing.objects.filter(part=retired).refresh_search_columns()
    return {"shop": shop, "other": other, "unverified": unverified}


def test_parts_count_when_they_have_an_offer_that_the_search_shows(market):
    facets = search_facets(viewer=None, filters=search_filters(category="ldo"), qty=10)
    assert facets["estimated"] is False
    assert counts(facets["category"]) == {"LDO": 2}  # not the unverified vendor's part, not the one without an active offer
    assert counts(facets["manufacturer"]) == {"Diodes": 2}
    assert facets["in_stock"] == {"offers": 3, "in_stock": 1}
    assert [(b["max_days"], b["count"]) for b in facets["lead_time"]] == [(0, 1), (3, 1), (7, 1), (14, 3)]
    (voltage,) = facets["parameters"]
    assert [(v["label"], v["count"]) for v in voltage["values"]] == [("1.8 V", 1), ("3.3 V", 1)]


def test_offer_filters_narrow_the_part_counts_too(market):
    in_stock = search_facets(viewer=None, filters=search_filters(category="LDO", in_stock=True), qty=100)
    assert counts(in_stock["category"]) == {"LDO": 1}  # AP2112K-1.8 has no offer in stock
    assert in_stock["in_stock"] == {"offers": 1, "in_stock": 1}
    assert [v["label"] for v in in_stock["parameters"][0]["values"]] == ["3.3 V"]
    vendor = search_facets(viewer=None, filters=search_filters(vendor_id=market["other"].pk), qty=10)
    assert counts(vendor["manufacturer"]) == {"Diodes": 2} and vendor["in_stock"]["offers"] == 2
    nothing = search_facets(viewer=None, filters=search_filters(q="no such part"), qty=10)
    assert nothing["category"] == [] and nothing["in_stock"] == {"offers": 0, "in_stock": 0} and nothing["parameters"] == []


def test_a_vendor_sees_its_own_unverified_offers_counted(market):
    facets = search_facets(viewer=market["unverified"], filters=search_filters(category="LDO"), qty=10)
    assert counts(facets["manufacturer"]) == {"Diodes": 2, "Torex": 1}
    assert facets["in_stock"]["offers"] == 4


@pytest.mark.postgres
@pytest.mark.parametrize("table_rows_factor", [None, 2])
def test_a_sampled_count_says_so_and_scales_the_rows_it_read(market, monkeypatch, table_rows_factor):
    """Force the broad path: every search 'many'. A sample that reads every page counts what an
    exact count does, times the table's rows over the rows read (unknown here: then ×1); a group
    the sample met only a few times is counted exactly."""
    from django.db import connection

    exact = search_facets(viewer=None, filters=search_filters(q="ap2112k"), qty=10)
    monkeypatch.setattr(facets_module, "EXACT_PARTS", 0)
    monkeypatch.setattr(facets_module, "SAMPLE_PARTS", 10**9)  # → the whole table (100 %)
    monkeypatch.setattr(facets_module, "OFFER_SHARE", 1)  # every sampled part's offers counted
    if table_rows_factor:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM marketplace_part")
            rows = cursor.fetchone()[0]
        monkeypatch.setattr(facets_module, "_table_rows", lambda: rows * table_rows_factor)
    else:
        monkeypatch.setattr(facets_module, "_table_rows", lambda: 0.0)
    sampled = search_facets(viewer=None, filters=search_filters(q="ap2112k"), qty=10)
    factor = table_rows_factor or 1
    assert exact["estimated"] is False and sampled["estimated"] is True
    assert sampled["in_stock"] == {"offers": 3 * factor, "in_stock": 1 * factor}
    assert [v["count"] for v in sampled["parameters"][0]["values"]] == [factor, factor]
    # A category or maker the sample met only a few times is counted exactly, not scaled.
    assert counts(sampled["category"]) == {"LDO": 2} == counts(exact["category"])
    assert counts(sampled["manufacturer"]) == {"Diodes": 2}
    monkeypatch.setattr(facets_module, "RARE_IN_SAMPLE", 0)
    scaled = search_facets(viewer=None, filters=search_filters(q="ap2112k"), qty=10)
    assert counts(scaled["category"]) == {"LDO": 2 * factor} and counts(scaled["manufacturer"]) == {"Diodes": 2 * factor}


@pytest.mark.postgres
def test_a_sample_counts_offers_over_a_share_of_its_parts_scaled_to_all(market, monkeypatch):
    """One sampled part in OFFER_SHARE (by a hash of the id) has its offers counted, scaled to all
    the sampled parts; whether a part counts is asked of every part."""
    from django.db import connection

    monkeypatch.setattr(facets_module, "EXACT_PARTS", 0)
    monkeypatch.setattr(facets_module, "SAMPLE_PARTS", 10**9)
    monkeypatch.setattr(facets_module, "_table_rows", lambda: 0.0)
    monkeypatch.setattr(facets_module, "OFFER_SHARE", 2)
    parts = list(Part.objects.filter(category="LDO").values_list("pk", flat=True))  # the sample: all of them
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM marketplace_part WHERE id = ANY(%s) AND (hashint8(id) & 1) = 0", [parts])
        picked = [row[0] for row in cursor.fetchall()]
    offers = Listing.objects.filter(part_id__in=picked, vendor_verified=True, is_active=True).count()
    facets = search_facets(viewer=None, filters=search_filters(category="LDO"), qty=10)
    assert facets["estimated"] is True
    assert counts(facets["category"]) == {"LDO": 2}
    assert facets["in_stock"]["offers"] == (round(offers * len(parts) / len(picked)) if picked else 0)
