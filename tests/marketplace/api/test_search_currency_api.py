"""Prices in different currencies compare in the buyer's display currency (`currency=`, CNY by
default): converted at the rate in force, in SQL, the listing's own prices kept as they were."""

from decimal import Decimal

import pytest

from credit.services.fx import fx_rate_set
from marketplace.catalogue.search.engine import Engine
from tests.marketplace.factories import ListingFactory, PartFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed():
    """One part, three offers at 100 pcs: CNY 0.70, USD 0.10 (= CNY 0.72 at 7.2), CNY 0.75."""
    part = PartFactory(manufacturer="Espressif", mpn="ESP32-C3FH4", category="Wireless SoC")
    cny_070 = ListingFactory(part=part, breaks=[(1, "0.70")])
    usd_010 = ListingFactory(part=part, currency="USD", breaks=[(1, "0.10")])
    cny_075 = ListingFactory(part=part, breaks=[(1, "0.75")])
    return cny_070, usd_010, cny_075


def search(client, **params):
    response = client.get("/api/v1/listings/", {"mpn": "esp32c3", "qty": 100, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_usd_offer_sorts_by_its_price_in_cny(buyer, mixed):
    cny_070, usd_010, cny_075 = mixed
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    body = search(buyer.client, ordering="unit_price_at_qty")
    assert body["results"][0]["converted"]["currency"] == "CNY"  # the platform's default
    assert [r["id"] for r in body["results"]] == [cny_070.pk, usd_010.pk, cny_075.pk]
    usd = body["results"][1]
    # The listing's own prices stay as they are (the v1 contract) …
    assert (usd["currency"], usd["unit_price_at_qty"], usd["extended_price"]) == ("USD", "0.10", "10.00")
    # … and the converted ones come beside them.
    assert usd["converted"] == {"currency": "CNY", "unit_price_at_qty": "0.72", "extended_price": "72.00", "rate": "7.20000000"}
    assert usd["unconverted_reason"] is None
    assert body["results"][0]["converted"]["rate"] == "1.00000000"
    dearest = search(buyer.client, ordering="-unit_price_at_qty")
    assert [r["id"] for r in dearest["results"]] == [cny_075.pk, usd_010.pk, cny_070.pk]
    by_total = search(buyer.client, ordering="extended_price")
    assert [r["id"] for r in by_total["results"]] == [cny_070.pk, usd_010.pk, cny_075.pk]


def test_the_rate_decides_the_order(buyer, mixed):
    cny_070, usd_010, cny_075 = mixed
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.6"))  # 0.10 USD = 0.76 CNY: dearest now
    assert [r["id"] for r in search(buyer.client)["results"]] == [cny_070.pk, cny_075.pk, usd_010.pk]


def test_currency_usd_converts_the_other_way_with_the_inverse_rate(buyer, mixed):
    cny_070, usd_010, cny_075 = mixed
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    body = search(buyer.client, currency="USD", ordering="unit_price_at_qty")
    assert {r["converted"]["currency"] for r in body["results"]} == {"USD"}
    assert [r["id"] for r in body["results"]] == [cny_070.pk, usd_010.pk, cny_075.pk]
    first, second, third = body["results"]
    assert first["converted"] == {"currency": "USD", "unit_price_at_qty": "0.097222", "extended_price": "9.72",
                                  "rate": "0.13888889"}  # 1 / 7.2, half-even to 8 places
    assert second["converted"]["unit_price_at_qty"] == "0.10" and second["converted"]["rate"] == "1.00000000"
    assert third["converted"]["extended_price"] == "10.42"  # 75 × 0.13888889 = 10.4166…
    assert (first["currency"], first["unit_price_at_qty"]) == ("CNY", "0.70")


def test_an_offer_without_a_rate_sorts_last_and_says_why(buyer, mixed):
    cny_070, usd_010, cny_075 = mixed
    cheapest = ListingFactory(part=cny_070.part, currency="USD", breaks=[(1, "0.01")])  # cheapest in any currency
    for ordering in ("unit_price_at_qty", "-unit_price_at_qty", "extended_price"):
        body = search(buyer.client, ordering=ordering)
        ids = [r["id"] for r in body["results"]]
        assert set(ids[-2:]) == {usd_010.pk, cheapest.pk}, ordering
        assert ids[-2:] == [cheapest.pk, usd_010.pk] if ordering != "-unit_price_at_qty" else [usd_010.pk, cheapest.pk]
    last = search(buyer.client)["results"][-1]
    assert last["converted"] is None
    assert "No exchange rate from USD to CNY" in last["unconverted_reason"]
    assert last["unit_price_at_qty"] == "0.10" and last["currency"] == "USD"  # its own price is still there


def test_grouped_search_takes_each_parts_best_offer_in_the_display_currency(buyer, mixed):
    cny_070, usd_010, cny_075 = mixed
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("6.5"))  # 0.10 USD = 0.65 CNY: the best offer now
    other = ListingFactory(part=PartFactory(mpn="ESP32-C3FN4", category="Wireless SoC"), breaks=[(1, "0.68")])
    body = buyer.client.get("/api/v1/parts/search/", {"mpn": "esp32c3", "qty": 100}).json()
    assert [(g["part"]["mpn"], g["best_offer"]["id"]) for g in body["results"]] == [("ESP32-C3FH4", usd_010.pk),
                                                                                  ("ESP32-C3FN4", other.pk)]
    assert body["results"][0]["best_offer"]["converted"]["unit_price_at_qty"] == "0.65"
    dearest = buyer.client.get("/api/v1/parts/search/", {"mpn": "esp32c3", "qty": 100, "ordering": "-unit_price_at_qty"}).json()
    assert [g["best_offer"]["id"] for g in dearest["results"]] == [other.pk, usd_010.pk]


def test_an_unknown_currency_is_a_clear_400(buyer, mixed):
    for url in ("/api/v1/listings/", "/api/v1/parts/search/", f"/api/v1/parts/{mixed[0].part_id}/"):
        response = buyer.client.get(url, {"qty": 100, "currency": "EUR"})
        assert response.status_code == 400
        assert "Unknown currency “EUR”" in str(response.json()) and "CNY, USD" in str(response.json())


@pytest.mark.parametrize("rate", ["7.2", None])
def test_pages_stay_stable_across_mixed_currencies(buyer, monkeypatch, rate):
    """Page after page, every offer once, in the converted order (without a rate: the CNY offers,
    then the USD ones by their own price) — with tiny thresholds, so pages are found by the bound."""
    if rate:
        fx_rate_set(base="USD", quote="CNY", rate=Decimal(rate))
    part = PartFactory(mpn="GD25Q64CSIG", category="Flash")
    offers = []
    for i in range(24):
        cny = Decimal(50 + i * 3) / 100  # 0.50 … 1.19 CNY
        usd = (Decimal(70 + i * 2) / 720).quantize(Decimal("0.000001"))  # ≈ 0.097 … 0.161 USD ≈ 0.70 … 1.16 CNY
        offers.append(ListingFactory(part=part, breaks=[(1, str(cny))]))
        offers.append(ListingFactory(part=part, currency="USD", breaks=[(1, str(usd))]))
    offers.append(ListingFactory(part=part, currency="USD", breaks=[(1, "0.01")]))  # the cheapest, in USD
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 5)
    monkeypatch.setattr(Engine, "SAMPLES", (1, 2, 4, 16))
    paths, first = [], Engine.first
    monkeypatch.setattr(Engine, "first", lambda self, k: paths.append(found := first(self, k)) or found)
    rows = []
    for page in range(1, 8):
        body = search(buyer.client, mpn="gd25", ordering="unit_price_at_qty", page=page, page_size=9)
        rows += body["results"]
        if body["next"] is None:
            break
    assert sorted(r["id"] for r in rows) == sorted(o.pk for o in offers) and len(rows) == len(offers)
    assert {"bounded", "threshold"} & {f.path for f in paths}  # found by a bound, not by pricing every offer
    if rate:
        converted = [Decimal(r["converted"]["unit_price_at_qty"]) for r in rows]
        assert converted == sorted(converted) and rows[0]["currency"] == "USD"  # 0.01 USD first
    else:
        assert [r["currency"] for r in rows] == ["CNY"] * 24 + ["USD"] * 25
        assert all(r["converted"] is None and r["unconverted_reason"] for r in rows[24:])
        for group in (rows[:24], rows[24:]):
            prices = [Decimal(r["unit_price_at_qty"]) for r in group]
            assert prices == sorted(prices)


def test_the_contract_shapes_hold(buyer, mixed):
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    body = search(buyer.client)
    assert set(body) >= {"count", "next", "previous", "results"}
    row = body["results"][0]
    assert set(row) >= {"id", "vendor", "part", "stock", "moq", "multiple", "lead_time_days", "currency", "price_breaks",
                        "order_qty", "unit_price_at_qty", "extended_price"}
    assert set(row["vendor"]) >= {"id", "name"} and set(row["part"]) >= {"id", "manufacturer", "mpn"}
    assert row["price_breaks"] == [{"min_qty": 1, "unit_price": "0.70"}]
    plain = buyer.client.get("/api/v1/listings/", {"mpn": "esp32c3"}).json()["results"][0]
    assert plain["unit_price_at_qty"] is None and "converted" not in plain  # without qty: as before
