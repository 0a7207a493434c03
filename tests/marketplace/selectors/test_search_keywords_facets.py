"""Keyword search forgives (synonyms, dashes, typos), parameter ranges use normalised units, and
facet counts are what matches."""

from decimal import Decimal

import pytest

from marketplace.catalogue.search.results import search_facets
from marketplace.catalogue.search.filters import search_filters
from marketplace.catalogue.search.filters import keyword_alternatives, keyword_terms
from marketplace.catalogue.search.results import offer_search
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory

pytestmark = pytest.mark.django_db


def mpns(**kwargs) -> list[str]:
    page = offer_search(viewer=None, filters=search_filters(**kwargs), qty=kwargs.pop("qty", None) or 10, group=True)
    return sorted(g.part.mpn for g in page.rows)


@pytest.fixture
def catalogue():
    parts = {
        "mlcc": PartFactory(manufacturer="Samsung", mpn="CL05A106KA5NNNC", category="Capacitor",
                            description="10uF 25V X5R MLCC, 0402", parameters={"value": "10uF", "package": "0402"}),
        "mlcc2": PartFactory(manufacturer="Murata", mpn="GRM155R61A475KE15D", category="Capacitor",
                             description="4.7 µF ceramic", parameters={"value": "4.7 µF", "package": "0402"}),
        "mlcc3": PartFactory(manufacturer="Samsung", mpn="CL10A226MQ8NRNC", category="Capacitor",
                             description="22 µF ceramic", parameters={"value": "0.000022F", "package": "0603"}),
        "mlcc4": PartFactory(manufacturer="Murata", mpn="GRM188R61A106KE69D", category="Capacitor",
                             description="ceramic chip", parameters={"value": "10 µF", "package": "0603"}),
        "res": PartFactory(manufacturer="Yageo", mpn="RC0402FR-071KL", category="Resistor",
                           description="1k thick-film resistor", parameters={"resistance": "1k", "package": "0402"}),
        "battery": PartFactory(manufacturer="Grepow", mpn="GRP7840-40MAH", category="Battery",
                               description="Li-po cell, 40 mAh capacity"),
        "esp": PartFactory(manufacturer="Espressif", mpn="ESP32-C3-MINI-1-N4", category="Wireless SoC", description="module"),
        "stm": PartFactory(manufacturer="STMicroelectronics", mpn="STM32F103C8T6", category="MCU", description="Cortex-M3"),
    }
    fast, slow = OrganizationFactory(trader=True), OrganizationFactory(trader=True)
    for key, part in parts.items():
        ListingFactory(part=part, vendor=fast, stock=100, breaks=[(1, "0.10")])
        if key.startswith("mlcc"):
            ListingFactory(part=part, vendor=slow, stock=0, lead_time_days=10, breaks=[(1, "0.08")])
    return parts


def test_synonyms_find_the_same_parts(catalogue):
    capacitors = ["CL05A106KA5NNNC", "CL10A226MQ8NRNC", "GRM155R61A475KE15D", "GRM188R61A106KE69D"]
    assert mpns(q="capacitor") == capacitors  # by category and "MLCC" alike
    assert mpns(q="MLCC") == capacitors
    assert mpns(q="cap") == capacitors  # a whole word: not the battery's "capacity"
    assert mpns(q="res") == ["RC0402FR-071KL"] == mpns(q="resistors")
    assert "cap" not in keyword_alternatives("capacity") and " cap " in keyword_alternatives("mlcc")


@pytest.mark.parametrize("written", ["10uF", "10 uF", "10µF", "10μF", "10uf", "0.01mF", "10000nF"])
def test_a_keyword_with_a_unit_finds_the_same_parts_however_it_is_written(catalogue, written):
    # The value in a parameter ("10uF", "10 µF") or only in the description ("22 µF" is not 10).
    assert mpns(q=written) == ["CL05A106KA5NNNC", "GRM188R61A106KE69D"]
    assert mpns(q=f"capacitor {written} 0603") == ["GRM188R61A106KE69D"]


def test_units_in_keywords_stay_apart_from_other_words(catalogue):
    assert mpns(q="1k ohm") == mpns(q="1kΩ") == ["RC0402FR-071KL"]  # a resistance written with its unit
    assert mpns(q="40mAh") == ["GRP7840-40MAH"] == mpns(q="40 mAh")
    assert mpns(q="1uF") == []  # not a prefix of 10 µF
    assert mpns(q="4.7 µF") == ["GRM155R61A475KE15D"]
    # A value then a package code: two words, not 1.0402 kΩ (as `4k7` is 4.7 kΩ)
    for q in ("1k 0402", "0402 1k", "1k ohm 0402"):
        page = offer_search(viewer=None, filters=search_filters(q=q), qty=10, group=True)
        assert [g.part.mpn for g in page.rows] == ["RC0402FR-071KL"] and not page.fuzzy, q  # found, not suggested
    assert keyword_terms("10k 0402") == [["10k"], ["0402"]]  # a part text holding "0402, 10k" finds it too


def test_mpn_without_dashes_and_with_a_typo(catalogue):
    assert mpns(q="esp32c3mini") == ["ESP32-C3-MINI-1-N4"] == mpns(q="ESP32-C3-MINI")
    page = offer_search(viewer=None, filters=search_filters(q="STM32F103C8T7"), qty=10, group=True)
    assert page.fuzzy and [p.mpn for p in page.suggestions] == ["STM32F103C8T6"]
    assert [g.part.mpn for g in page.rows] == ["STM32F103C8T6"]


def test_parameter_ranges_compare_normalised_values(catalogue):
    assert mpns(parameters="capacitance>=10uF") == ["CL05A106KA5NNNC", "CL10A226MQ8NRNC", "GRM188R61A106KE69D"]
    assert mpns(parameters="capacitance:10µF") == ["CL05A106KA5NNNC", "GRM188R61A106KE69D"]  # "10uF" = "10 µF"
    assert mpns(parameters="capacitance<0.00001F, package:0402") == ["GRM155R61A475KE15D"]
    assert mpns(parameters="resistance>=1 kΩ") == ["RC0402FR-071KL"] == mpns(parameters="resistance:1000")


def test_facet_counts_are_what_matches(catalogue):
    facets = search_facets(viewer=None, filters=search_filters(q="capacitor"), qty=50)
    assert facets["category"] == [{"value": "Capacitor", "count": 4}]
    assert facets["manufacturer"] == [{"value": "Murata", "count": 2}, {"value": "Samsung", "count": 2}]
    # 8 offers: 4 in stock at 100 (enough for 50), 4 with none and a 10-day lead.
    assert facets["in_stock"] == {"offers": 8, "in_stock": 4}
    assert [(b["max_days"], b["count"]) for b in facets["lead_time"]] == [(0, 4), (3, 4), (7, 4), (14, 8)]
    (capacitance, package) = facets["parameters"]  # one category matches: its parameters
    assert capacitance["key"] == "capacitance" and capacitance["numeric"]
    assert [(v["label"], v["count"]) for v in capacitance["values"]] == [("4.7 µF", 1), ("10 µF", 2), ("22 µF", 1)]
    assert [(v["value"], v["count"]) for v in package["values"]] == [("0402", 2), ("0603", 2)]
    narrowed = search_facets(viewer=None, filters=search_filters(q="capacitor", in_stock=True, max_lead_time_days=3), qty=50)
    assert narrowed["in_stock"] == {"offers": 4, "in_stock": 4}


def test_offers_that_cannot_fill_the_quantity_are_marked(catalogue):
    from marketplace.catalogue.search.pricing import offer_fill

    part = catalogue["res"]
    reel = ListingFactory(part=part, stock=50_000, moq=5000, multiple=5000, breaks=[(5000, "0.002")])
    page = offer_search(viewer=None, filters=search_filters(mpn="RC0402"), qty=200, ordering="unit_price_at_qty")
    by_id = {l.pk: offer_fill(l, 200) for l in page.rows}
    assert by_id[reel.pk] == {"fills_qty": False, "fill_problems": ["moq"]}  # priced, but 5,000 to buy
    short = [l for l in page.rows if l.pk != reel.pk][0]
    assert by_id[short.pk] == {"fills_qty": False, "fill_problems": ["stock"]}  # 100 in stock for 200
    assert page.rows[0].pk == reel.pk and page.rows[0].unit_price_at_qty == Decimal("0.002")
