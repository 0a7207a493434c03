"""Rate cards in the browser: a factory admin publishes from the factory's page; the kit page's quote
box offers the author's factory, the cheapest factory or none; the quote page says who and why."""

import re

import pytest
from django.test import Client

from marketplace.factories.rate_cards import rate_card_publish
from marketplace.models import Quote, RateCard
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


FORM = {"currency": "CNY", "setup_fee": "120.00", "per_placement": "0.015", "per_unique_part": "20.00",
        "processes": ["smt", "through_hole"], "min_batch": "5", "max_batch": ""}


def test_a_factory_admin_publishes_a_card_from_its_page(factory_org, buyer):
    page = browser(factory_org.user).get(f"/organizations/{factory_org.org.pk}/")
    assert "Publish a rate card" in page.content.decode()
    response = browser(factory_org.user).post(f"/organizations/{factory_org.org.pk}/rate-card/", FORM, follow=True)
    assert "Rate card version 1 published" in text_of(response)
    card = RateCard.objects.get(organization=factory_org.org)
    assert (card.setup_fee, card.processes, card.min_batch, card.max_batch) == (120, ["smt", "through_hole"], 5, None)
    seen_by_buyer = text_of(browser(buyer.user).get(f"/organizations/{factory_org.org.pk}/"))
    assert "Setup 120.00 CNY a batch" in seen_by_buyer and "Publish" not in seen_by_buyer


def test_a_bad_card_from_the_form_is_explained_and_not_saved(factory_org):
    response = browser(factory_org.user).post(f"/organizations/{factory_org.org.pk}/rate-card/",
                                              {**FORM, "setup_fee": "-5", "processes": []}, follow=True)
    text = text_of(response)
    assert "from 0 to" in text and "processes" in text.lower()
    assert not RateCard.objects.exists()


def test_another_organisation_cannot_publish_for_the_factory(factory_org, buyer):
    response = browser(buyer.user).post(f"/organizations/{factory_org.org.pk}/rate-card/", FORM)
    assert response.status_code in (403, 404)
    assert not RateCard.objects.exists()


def test_the_kit_page_offers_the_assembly_choice_and_the_quote_says_who_and_why(buyer, factory_org):
    rate_card_publish(organization=factory_org.org, currency="CNY", setup_fee="10.00", per_placement="0.01",
                      per_unique_part="1.00", processes=["smt"])
    part = PartFactory(mpn="LED-0603-RED")
    ListingFactory(part=part, vendor=OrganizationFactory(trader=True), stock=10_000, breaks=[(1, "0.05")])
    kit = make_kit(bom=[(part, 3)])
    page = browser(buyer.user).get(f"/kits/{kit.pk}/").content.decode()
    assert 'name="assembly"' in page and "by the cheapest factory" in page and "not at all" in page
    response = browser(buyer.user).post(f"/kits/{kit.pk}/quote/", {"quantity": "20", "assembly": "auto"}, follow=True)
    quote = Quote.objects.get()
    assert quote.assembly["factory"]["id"] == factory_org.org.pk
    text = text_of(response)
    assert f"Assembly by {factory_org.org.name}" in text and "The only factory whose card fits this batch." in text
