"""QA findings in kit quotes. marketplace/services/quotes.py is being tuned by its owner right now, so
differences from the contract are reproduced here as xfail(strict=True) and reported, not fixed."""

from decimal import Decimal

import pytest

from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


@pytest.mark.xfail(strict=True, reason="quote_create adds every sub-kit's design_fee_per_unit and nre to the quote; "
                                       "the contract says design_fees = the kit's design_fee_per_unit x quantity and "
                                       "nre = the kit's one-time fee (contract or code must change)")
def test_quote_design_fees_and_nre_are_the_quoted_kits_own(buyer):
    house = OrganizationFactory(solution_house=True)
    part, sub_part = PartFactory(), PartFactory()
    ListingFactory(part=part, breaks=[(1, "1.00")])
    ListingFactory(part=sub_part, breaks=[(1, "1.00")])
    module = make_kit(house, bom=[(sub_part, 1)], design_fee="1.00", nre="100", name="USB-C module")
    kit = make_kit(house, bom=[(part, 1)], subkits=[(module, 1)], design_fee="2.00", nre="50", name="Tracker")
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10}, format="json").json()
    assert Decimal(quote["components_cost"]) == Decimal("20.00")  # both parts are quoted (this part holds)
    assert quote["design_fees"] == "20.00"
    assert quote["nre"] == "50.00"
