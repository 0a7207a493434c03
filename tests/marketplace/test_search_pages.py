"""The search page groups by part and shows facets; the part page shows every offer at the quantity."""

import pytest
from django.test import Client

from tests.marketplace.factories import ListingFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def browser(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_search_page_groups_by_part_with_facets_and_links_to_the_part(buyer):
    part = PartFactory(mpn="CL05A106KA5NNNC", category="Capacitor", description="10uF MLCC", parameters={"value": "10uF"})
    ListingFactory(part=part, stock=10, breaks=[(1, "0.05")])
    ListingFactory(part=part, stock=5000, breaks=[(1, "0.06")])
    page = browser(buyer).get("/parts/?q=capacitor&qty=100").content.decode()
    assert page.count("CL05A106KA5NNNC") == 1  # one row for the part, not one per offer
    # The best offer is the cheapest that can fill 100 (0.06 with 5,000); the cheaper one follows, marked.
    assert "Best offer that fills 100" in page and "0.06" in page
    assert "Cheaper but cannot fill 100" in page and "only 10 in stock" in page
    assert "Capacitance" in page and "10 µF" in page and "capacitance%3E%3D10%C2%B5F" in page  # a "≥ 10 µF" facet link
    assert f"/parts/{part.pk}/?qty=100" in page
    offers = browser(buyer).get("/parts/?q=capacitor&qty=100&view=offers").content.decode()
    assert offers.count("CL05A106KA5NNNC") == 2


def test_part_page_shows_offers_kits_and_history(buyer):
    part = PartFactory(mpn="TP4056", category="Battery charger", parameters={"current": "1A"})
    ListingFactory(part=part, stock=100, moq=500, breaks=[(1, "0.30")])
    make_kit(bom=[(part, 1)], name="Charger module")
    page = browser(buyer).get(f"/parts/{part.pk}/?qty=20").content.decode()
    assert "MOQ 500" in page and "Charger module" in page and "1 A" in page
    assert browser(buyer).get("/parts/99999/").status_code == 404


def test_a_filter_the_search_cannot_read_is_named_with_the_reason_not_dropped(buyer):
    small = PartFactory(mpn="CL05A105KA5NQNC", category="Capacitor", description="1uF MLCC", parameters={"capacitance": "1uF"})
    big = PartFactory(mpn="CL10A226MQ8NRNC", category="Capacitor", description="22uF MLCC", parameters={"capacitance": "22uF"})
    for part in (small, big):
        ListingFactory(part=part, stock=100, breaks=[(1, "0.05")])
    page = browser(buyer).get("/parts/", {"category": "Capacitor", "parameters": "capacitance>=banana"}).content.decode()
    assert "One filter was not understood, so the results are not narrowed by it" in page
    assert "<code>capacitance&gt;=banana</code>: “banana” is not a capacitance" in page and 'aria-invalid="true"' in page
    both = browser(buyer).get("/parts/", {"category": "Capacitor", "parameters": "capacitance>=banana, capacitance>=10uF"}).content.decode()
    assert "CL10A226MQ8NRNC" in both and "CL05A105KA5NQNC" not in both  # what could be read was applied, and said
    assert "Parameters applied: <span class=\"badge\">capacitance ≥ 10 µF</span>" in both and "banana" in both
