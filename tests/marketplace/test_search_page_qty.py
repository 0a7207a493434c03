"""The parts search says when it cannot use the quantity typed, instead of dropping it."""

import pytest
from django.test import Client

from tests.marketplace.factories import ListingFactory, PartFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("qty", ["abc", "0", "-5", "2.5", "100000001"])
def test_an_unusable_quantity_is_reported_and_kept(buyer, qty):
    ListingFactory(part=PartFactory(mpn="QTYPART1"))
    client = Client()
    client.force_login(buyer.user)
    page = client.get("/parts/", {"mpn": "QTYPART", "qty": qty}).content.decode()
    assert "is not a quantity" in page and 'aria-invalid="true"' in page
    assert f'value="{qty}"' in page and "QTYPART1" in page  # the search still ran, without a quantity


def test_a_good_quantity_raises_no_error(buyer):
    client = Client()
    client.force_login(buyer.user)
    assert "is not a quantity" not in client.get("/parts/", {"mpn": "X", "qty": "500"}).content.decode()


def test_the_order_quantity_input_allows_exactly_what_an_order_accepts(buyer):
    """MOQ 10, multiples of 4: the order accepts 12, 16, 20…; the input's min/step say the same."""
    ListingFactory(part=PartFactory(mpn="STEPPART1"), moq=10, multiple=4)
    client = Client()
    client.force_login(buyer.user)
    page = client.get("/parts/", {"mpn": "STEPPART"}).content.decode()
    assert 'name="quantity" min="12" step="4" value="12"' in page
