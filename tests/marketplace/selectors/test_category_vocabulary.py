"""The categories' vocabulary (`CategoryVocabulary`): which categories a search without a category can
match in. It must never miss one (a superset), follow every part and listing write, equal a rebuild
once rebuilt, and let a price-sorted search over words that only dear categories hold page through
the price summaries with the same rows as pricing every match."""

from decimal import Decimal

import pytest

from marketplace.catalogue.listings import listing_create
from marketplace.catalogue.models import CategoryVocabulary
from marketplace.catalogue.search.engine import Engine
from marketplace.catalogue.search.filters import inferred_categories, search_filters
from marketplace.catalogue.search.results import offer_search
from tests.marketplace.factories import ListingFactory, PartFactory
from tests.marketplace.selectors.test_price_bands import market  # noqa: F401  (fixture)
from tests.marketplace.selectors.test_search_property import reference
from tests.organizations.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelves():
    vendor = OrganizationFactory(trader=True)
    parts = {
        "mlcc": PartFactory(category="Capacitor", manufacturer="Murata", mpn="GRM188R61A106KE69D",
                            description="MLCC 10uF 10V X5R 0603", parameters={"capacitance": "10uF", "voltage": "10V"}),
        "film": PartFactory(category="Resistor", manufacturer="Yageo", mpn="RC0402FR-0710KL",
                            description="Thick film resistor 10k 0402", parameters={"resistance": "10k"}),
        "flash": PartFactory(category="Flash", manufacturer="Winbond", mpn="W25Q128JVSIQ",
                             description="SPI NOR flash 128Mbit SOIC-8"),
    }
    for part in parts.values():
        listing_create(vendor=vendor, part=part, price_breaks=[(1, Decimal("0.10"))], stock=100)
    return parts


def categories(**filters):
    return inferred_categories(search_filters(**filters))


def test_the_vocabulary_names_every_category_a_filter_can_match_in(shelves):
    assert categories(q="mlcc") == {"CAPACITOR"}
    assert categories(q="capacitor") == {"CAPACITOR"}  # the category's own name, and its synonyms
    assert categories(q="nor flash") == {"FLASH"}  # a phrase: each of its words
    assert categories(q="film") == {"RESISTOR"}  # inside a longer description
    assert categories(q="10 uF") == categories(q="10µF") == {"CAPACITOR"}  # a value with a unit, however written
    assert categories(q="10") == {"CAPACITOR", "RESISTOR"}  # a number inside words of two categories
    assert categories(parameters="capacitance>=1uF") == {"CAPACITOR"}
    assert categories(manufacturer="winbond") == {"FLASH"}
    assert categories(mpn="w25q") == {"FLASH"}
    assert categories(q="mlcc", manufacturer="Yageo") == set()  # every filter must match in the category
    assert categories(q="no such word") == set()
    assert categories(category="Resistor") == {"RESISTOR"}
    assert categories() is None  # nothing narrows the market


def test_every_write_keeps_the_vocabulary_and_a_rebuild_equals_it(shelves):
    part = shelves["film"]
    assert categories(q="anti sulfur") == set()
    part.description = "Thick film resistor, anti-sulfur"
    part.save()  # an edit of the part's text, through the model
    assert categories(q="anti sulfur") == {"RESISTOR"}
    new = PartFactory(category="Crystal", description="Quartz crystal 12MHz")
    assert categories(q="quartz") == set()  # a part without offers is not searched
    ListingFactory(part=new, breaks=[(1, "0.20")])
    assert categories(q="quartz") == {"CRYSTAL"}

    def texts():
        return {(c, k): set(t.split()) for c, k, t in CategoryVocabulary.objects.values_list("category_key", "kind", "terms")}

    grown = texts()
    CategoryVocabulary.objects.rebuild()
    rebuilt = texts()
    assert grown.keys() == rebuilt.keys()
    assert all(grown[key] >= rebuilt[key] for key in rebuilt)  # only grows: never misses a word
    assert "12mhz" in rebuilt[("CRYSTAL", "w")] and "murata" in rebuilt[("CAPACITOR", "m")]


def test_words_only_dear_categories_hold_page_through_their_price_summaries(market, monkeypatch):  # noqa: F811
    """The market's cheapest parts (the fixture's 40 passives) hold no flash: the search walks the
    Flash category's own order and finds the same rows as pricing every match."""
    from credit.services.fx import fx_rate_set

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    vendor = OrganizationFactory(trader=True)
    for i in range(12):
        ListingFactory(vendor=vendor, part=PartFactory(category="Flash", description=f"SPI NOR flash {i}"),
                       breaks=[(1, Decimal(3 + i % 5)), (100, Decimal(2 + i % 3))])
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 5)
    filters = {"q": "nor flash"}
    for ordering in ("unit_price_at_qty", "-unit_price_at_qty", "extended_price"):
        for group in (False, True):
            page = offer_search(viewer=None, filters=search_filters(**filters), qty=100, ordering=ordering, group=group, limit=4)
            # (extended price: the threshold walk over the same category's summaries)
            assert page.path == ("threshold" if ordering == "extended_price" else "banded"), (ordering, group)
            expected = reference(filters=filters, qty=100, ordering=ordering, group=group, vendor_ids=[])[:4]
            got = [(g.cheaper or g.best).pk for g in page.rows] if group else [l.pk for l in page.rows]
            assert got == expected, (ordering, group)


def test_an_mpn_family_is_priced_through_its_parts(shelves):
    page = offer_search(viewer=None, filters=search_filters(mpn="GRM188"), qty=10, limit=5)
    assert page.path == "direct" and [l.part_id for l in page.rows] == [shelves["mlcc"].pk]
    assert page.count == 1 and not page.count_is_estimate
