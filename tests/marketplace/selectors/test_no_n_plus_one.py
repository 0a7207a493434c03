"""Lists cost a fixed number of queries, however many rows the page has."""

import pytest

from tests.marketplace.factories import ListingFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rows", [3, 12])
def test_listing_search_and_kit_list_queries_do_not_grow_with_rows(buyer, django_assert_max_num_queries, rows):
    for _ in range(rows):
        part = PartFactory()
        ListingFactory(part=part, breaks=[(1, "1.00"), (100, "0.90")])
        inner = make_kit(bom=[(part, 1)], name="Module")
        make_kit(owner=inner.owner, bom=[(part, 2)], subkits=[(inner, 1)])
    with django_assert_max_num_queries(6):
        assert len(buyer.client.get("/api/v1/listings/", {"qty": 50}).json()["results"]) == rows
    with django_assert_max_num_queries(10):
        assert len(buyer.client.get("/api/v1/kits/").json()["results"]) == rows * 2
