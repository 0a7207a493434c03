"""The grouped parts search, facets and the part page through the API; the flat listing search keeps
its contract and marks offers that cannot fill the quantity."""


from decimal import Decimal

import pytest

from marketplace.catalogue.listings import listing_update
from tests.marketplace.factories import ListingFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def ldo():
    part = PartFactory(manufacturer="SG Micro", mpn="SGM2036-3.3YN5G/TR", category="LDO", description="300 mA 3.3 V LDO",
                       parameters={"voltage": "3.3V", "current": "300mA"})
    cheap = ListingFactory(part=part, stock=50, breaks=[(1, "0.30"), (100, "0.25")])
    reel = ListingFactory(part=part, stock=9000, moq=3000, multiple=3000, breaks=[(3000, "0.20")])
    shelf = ListingFactory(part=part, stock=500, lead_time_days=0, breaks=[(1, "0.40")])
    other = ListingFactory(part=PartFactory(mpn="RT9193-33GB", category="LDO", description="LDO"), stock=10,
                           lead_time_days=7, breaks=[(1, "0.35")])
    return part, cheap, reel, shelf, other


def test_grouped_search_gives_one_row_per_part_with_its_best_offer(buyer, ldo):
    part, cheap, reel, shelf, other = ldo
    body = buyer.client.get("/api/v1/parts/search/", {"category": "ldo", "qty": 100, "facets": 1}).json()
    assert body["count"] == 2 and body["count_is_estimate"] is False and body["next"] is None
    first, second = body["results"]
    assert first["part"]["mpn"] == "SGM2036-3.3YN5G/TR"
    # The lowest unit price at 100 is the reel's, marked: its MOQ makes the buyer take 3,000.
    assert first["best_offer"]["id"] == reel.pk and first["best_offer"]["unit_price_at_qty"] == "0.20"
    assert first["best_offer"]["fills_qty"] is False and first["best_offer"]["fill_problems"] == ["moq"]
    assert (first["offers"], first["total_stock"], first["shortest_lead_time_days"], first["fillable_offers"]) == (3, 9550, 0, 2)
    by_total = buyer.client.get("/api/v1/parts/search/", {"category": "ldo", "qty": 100, "ordering": "extended_price"}).json()
    # By total, 100 × 0.25 is cheapest but only 50 are in stock: the best offer is the cheapest that can
    # fill 100 (100 × 0.40 on the shelf, before 3,000 × 0.20), the cheaper one follows, marked.
    row = by_total["results"][0]
    assert row["best_offer"]["id"] == shelf.pk and row["best_offer"]["extended_price"] == "40.00" and row["best_offer"]["fills_qty"]
    assert row["cheaper_offer"]["id"] == cheap.pk and row["cheaper_offer"]["fill_problems"] == ["stock"]
    assert first["cheaper_offer"] is None  # the reel's 3,000 are in stock: it fills (more than asked, marked)
    assert second["part"]["mpn"] == "RT9193-33GB" and second["best_offer"]["unit_price_at_qty"] == "0.35"
    facets = body["facets"]
    assert facets["category"] == [{"value": "LDO", "count": 2}]
    assert {p["key"] for p in facets["parameters"]} == {"voltage", "current"}


def test_part_page_prices_every_offer_lists_kits_and_price_history(buyer, ldo):
    part, cheap, reel, shelf, other = ldo
    kit = make_kit(bom=[(part, 2)], name="Climate sensor")
    listing_update(listing=shelf, price_breaks=[(1, "0.38"), (1000, "0.30")])
    body = buyer.client.get(f"/api/v1/parts/{part.pk}/", {"qty": 100}).json()
    assert [o["id"] for o in body["offers"]] == [reel.pk, cheap.pk, shelf.pk]  # 0.20 (but 3,000 to buy), 0.25, 0.38
    assert body["offers"][0]["fill_problems"] == ["moq"] and body["offers"][0]["extended_price"] == "600.00"
    assert body["offers"][2]["fills_qty"] is True
    assert body["kits"] == [{"id": kit.pk, "name": "Climate sensor", "revision": 1, "owner": {"id": kit.owner_id, "name": kit.owner.name},
                             "quantity": "2.00", "designators": "", "as_substitute": False}]
    assert {(p["key"], p["label"]) for p in body["normalized_parameters"]} == {("voltage", "3.3 V"), ("current", "300 mA")}
    newest = body["price_history"][0]
    assert newest["listing"] == shelf.pk and newest["unit_price_at_qty"] == "0.38"
    assert newest["price_breaks"] == [{"min_qty": 1, "unit_price": "0.38"}, {"min_qty": 1000, "unit_price": "0.30"}]
    assert buyer.client.get("/api/v1/parts/999999/").status_code == 404
    assert buyer.client.get(f"/api/v1/parts/{part.pk}/", {"qty": 0}).status_code == 400


def test_flat_listing_search_keeps_its_contract(buyer, ldo):
    part, cheap, reel, shelf, other = ldo
    body = buyer.client.get("/api/v1/listings/", {"q": "ldo", "qty": 100, "ordering": "unit_price_at_qty", "page_size": 2}).json()
    assert {"count", "next", "previous", "results"} <= set(body) and body["count"] == 4
    assert [r["id"] for r in body["results"]] == [reel.pk, cheap.pk]
    row = body["results"][0]
    assert (row["order_qty"], row["unit_price_at_qty"], row["extended_price"], row["fills_qty"]) == (3000, "0.20", "600.00", False)
    page2 = buyer.client.get(body["next"]).json()
    assert [r["id"] for r in page2["results"]] == [other.pk, shelf.pk] and page2["next"] is None and page2["previous"]


@pytest.mark.parametrize("params", [{"qty": 0}, {"page_size": 500}, {"page": 0}, {"ordering": "price"}, {"vendor": 2**70},
                                    {"max_lead_time_days": -1}])
def test_bad_search_input_is_a_400(buyer, params):
    for url in ("/api/v1/parts/search/", "/api/v1/listings/", "/api/v1/parts/facets/"):
        assert buyer.client.get(url, params).status_code == 400, (url, params)


def test_unparseable_parameter_filters_are_reported_not_applied_and_not_500(buyer, ldo):
    body = buyer.client.get("/api/v1/parts/search/", {"parameters": "voltage>=banana, ;;;, current<=1A", "qty": 1}).json()
    assert [r["part"]["mpn"] for r in body["results"]] == ["SGM2036-3.3YN5G/TR"]  # 300 mA ≤ 1 A; RT9193 has no current
    assert body["parameters_applied"] == ["current ≤ 1 A"]
    assert [u["filter"] for u in body["parameters_not_understood"]] == ["voltage>=banana", ";;;"]
    assert "“banana” is not a voltage" in body["parameters_not_understood"][0]["reason"]
    flat = buyer.client.get("/api/v1/listings/", {"parameters": "package>0402"}).json()
    assert flat["parameters_not_understood"][0]["reason"] == "package is compared as text, not as a number: write package:0402."


def test_grouped_dearest_first_over_a_broad_search_answers_as_pricing_every_match_would(buyer, ldo, monkeypatch):
    from django.test import Client

    from marketplace.catalogue.search.engine import Engine

    flat = buyer.client.get("/api/v1/listings/", {"q": "ldo", "qty": 10, "ordering": "unit_price_at_qty"}).json()["results"]
    best: dict[int, object] = {}
    for offer in flat:  # cheapest first: each part's first offer is its best
        best.setdefault(offer["part"]["id"], Decimal(offer["unit_price_at_qty"]))
    dearest_first = [part for part, _ in sorted(best.items(), key=lambda item: -item[1])]
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 1)  # as if the matches were too many to price them all at once
    response = buyer.client.get("/api/v1/parts/search/", {"q": "ldo", "qty": 10, "ordering": "-unit_price_at_qty"})
    assert response.status_code == 200
    assert [r["part"]["id"] for r in response.json()["results"]] == dearest_first
    browser = Client()
    browser.force_login(buyer.user)
    page = browser.get("/parts/", {"q": "ldo", "qty": 10, "ordering": "-unit_price_at_qty"})
    assert page.status_code == 200 and "narrower search" not in page.content.decode()


def test_grouped_dearest_first_over_too_broad_a_search_is_refused_with_the_way_out(buyer, ldo, monkeypatch):
    from django.test import Client

    from marketplace.catalogue.search.engine import Engine

    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 1)
    monkeypatch.setattr(Engine, "FULL_LIMIT", 2)
    response = buyer.client.get("/api/v1/parts/search/", {"q": "ldo", "qty": 10, "ordering": "-unit_price_at_qty"})
    assert response.status_code == 400 and "narrower search" in response.json()["ordering"][0]
    flat = buyer.client.get("/api/v1/listings/", {"q": "ldo", "qty": 10, "ordering": "-unit_price_at_qty"})
    assert flat.status_code == 200 and len(flat.json()["results"]) == 4
    browser = Client()
    browser.force_login(buyer.user)
    page = browser.get("/parts/", {"q": "ldo", "qty": 10, "ordering": "-unit_price_at_qty"}, follow=True)
    assert page.status_code == 200 and "narrower search" in page.content.decode()


def test_part_page_lists_the_callers_own_boms_that_use_it(buyer, make_member, ldo):
    from marketplace.boms.services import bom_upload

    part = ldo[0]
    csv = b"Designator,Quantity,Manufacturer,MPN\nU2,1,SG Micro,SGM2036-3.3YN5G/TR\nR1,1,Yageo,RC0402FR-0710KL\n"
    bom = bom_upload(owner=buyer.org, content=csv, filename="tracker.csv", name="Tracker rev B")
    body = buyer.client.get(f"/api/v1/parts/{part.pk}/").json()
    assert body["boms"] == [{"id": bom.pk, "name": "Tracker rev B", "quantity": "1.00", "lines": [1], "designators": "U2"}]
    stranger = make_member(name="Someone else")
    assert stranger.client.get(f"/api/v1/parts/{part.pk}/").json()["boms"] == []  # BOMs are private
