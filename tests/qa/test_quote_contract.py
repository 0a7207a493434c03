"""QA findings in kit quotes, checked through the API."""

from decimal import Decimal

import pytest

from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def test_quote_fees_follow_the_contract_and_add_each_modules_own(buyer):
    """The contract's formula for one kit; a kit with modules also owes each module's solution
    house its design fee and NRE (docs/quotes.md, "Why modules' fees count")."""
    house = OrganizationFactory(solution_house=True)
    part, sub_part = PartFactory(), PartFactory()
    ListingFactory(part=part, breaks=[(1, "1.00")])
    ListingFactory(part=sub_part, breaks=[(1, "1.00")])
    module = make_kit(house, bom=[(sub_part, 1)], design_fee="1.00", nre="100", name="USB-C module")
    kit = make_kit(house, bom=[(part, 1)], subkits=[(module, 1)], design_fee="2.00", nre="50", name="Tracker")
    quote = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/", {"quantity": 10}, format="json").json()
    assert Decimal(quote["components_cost"]) == Decimal("20.00")  # both parts are quoted (this part holds)
    assert quote["design_fees"] == "30.00"  # 2.00 × 10 for the kit + 1.00 × 10 for its module
    assert quote["nre"] == "150.00"  # 50 for the kit + 100 for the module, once each
