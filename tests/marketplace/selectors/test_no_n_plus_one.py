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


@pytest.mark.parametrize("rows", [2, 8])
def test_rfq_lists_and_bids_do_not_grow_with_rows(buyer, trader, django_assert_max_num_queries, rows):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from marketplace.rfqs.services import bid_submit, rfq_create

    ListingFactory(vendor=trader.org, part=PartFactory(category="MCU"))
    for i in range(rows):
        rfq = rfq_create(buyer=buyer.org, created_by=None, title=f"RFQ {i}", closes_at=timezone.now() + timedelta(days=2),
                         lines=[{"manufacturer": "ST", "mpn": f"STM{i}-{j}", "quantity": 10, "category": "MCU"} for j in range(3)])
        bid_submit(rfq=rfq, supplier=trader.org, submitted_by=None, valid_until=timezone.now() + timedelta(days=5),
                   lines=[{"line": l.pk, "quantity_available": 10, "price_breaks": [(1, Decimal("1"))]} for l in rfq.lines.all()])
    with django_assert_max_num_queries(6):
        assert buyer.client.get("/api/v1/rfqs/").json()["count"] == rows
    with django_assert_max_num_queries(8):
        assert trader.client.get("/api/v1/rfqs/?role=supplier").json()["count"] == rows
    with django_assert_max_num_queries(8):
        assert trader.client.get("/api/v1/bids/").json()["count"] == rows
