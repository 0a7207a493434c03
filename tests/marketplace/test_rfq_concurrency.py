"""Races around RFQs on PostgreSQL: an awarded quantity, a factory's weekly capacity and a bid
cap are never exceeded however many transactions reach for them at once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.exceptions import CapacityGone, OutOfStock, RfqNotOpen
from marketplace.models import Bid, CapacityBooking, Listing, Order, Rfq
from marketplace.orders.services import order_place
from marketplace.sourcing.quotes import quote_create
from marketplace.factories.profiles import supplier_profile_update
from marketplace.rfqs.services import bid_submit, rfq_award, rfq_create
from tests.marketplace.factories import ListingFactory, MembershipFactory, OrganizationFactory, PartFactory, make_kit
from tests.marketplace.test_order_concurrency import _race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _awarded(buyer, part, quantity):
    trader = OrganizationFactory(trader=True)
    rfq = rfq_create(buyer=buyer, created_by=None, title="MCUs", closes_at=timezone.now() + timedelta(days=1),
                     lines=[{"part": part, "quantity": quantity}])
    bid, _ = bid_submit(rfq=rfq, supplier=trader, submitted_by=None, valid_until=timezone.now() + timedelta(days=5),
                        lines=[{"line": rfq.lines.get().pk, "quantity_available": quantity,
                                "price_breaks": [(1, Decimal("2.00"))]}])
    rfq_award(rfq=rfq, buyer=buyer, bid_ids=[bid.pk])
    return Listing.objects.get(reserved_for=buyer)


def test_orders_from_quotes_sourcing_one_award_never_oversell_it(fund):
    member = MembershipFactory()
    fund(member.organization)
    part = PartFactory()
    listing = _awarded(member.organization, part, 500)
    kit = make_kit(bom=[(part, 1)])
    quotes = [quote_create(organization=member.organization, kit=kit, quantity=100) for _ in range(6)]
    assert all(q.lines.get().allocations.get().listing_id == listing.pk for q in quotes)
    outcomes = _race([
        (lambda q=q: order_place(buyer=member.organization, placed_by=member.user, payment="deposit", quote=q))
        for q in quotes
    ])
    assert sorted(kind for kind, _ in outcomes) == ["error"] + ["ok"] * 5, outcomes
    assert all(isinstance(exc, OutOfStock) for kind, exc in outcomes if kind == "error")
    assert Listing.objects.get(pk=listing.pk).stock == 0
    assert Order.objects.count() == 5


def test_concurrent_orders_never_book_more_than_a_factorys_weekly_capacity(fund):
    part = PartFactory()
    ListingFactory(part=part, stock=1_000_000)
    fab = OrganizationFactory(factory_kind=True)
    supplier_profile_update(organization=fab, smt=True, weekly_capacity=100, lead_time_days=0)
    kit = make_kit(bom=[(part, 1)], assembly={"factory": fab, "setup_cost": Decimal("0"),
                                              "unit_cost_breaks": [(1, Decimal("1.00"))]})
    buyers = []
    for _ in range(5):
        member = MembershipFactory()
        fund(member.organization)
        buyers.append((member, quote_create(organization=member.organization, kit=kit, quantity=60)))
    outcomes = _race([
        (lambda m=m, q=q: order_place(buyer=m.organization, placed_by=m.user, payment="deposit", quote=q))
        for m, q in buyers
    ])
    assert sorted(kind for kind, _ in outcomes) == ["error"] * 4 + ["ok"], outcomes
    assert all(isinstance(exc, CapacityGone) for kind, exc in outcomes if kind == "error")
    assert sum(CapacityBooking.objects.values_list("units", flat=True)) == 60


def test_a_bid_cap_holds_under_concurrent_bidders():
    buyer = OrganizationFactory()
    rfq = rfq_create(buyer=buyer, created_by=None, title="Caps", closes_at=timezone.now() + timedelta(days=1), max_bids=2,
                     lines=[{"manufacturer": "Murata", "mpn": "GRM1", "quantity": 10}])
    line = rfq.lines.get().pk
    traders = [OrganizationFactory(trader=True) for _ in range(6)]
    outcomes = _race([
        (lambda t=t: bid_submit(rfq=rfq, supplier=t, submitted_by=None, valid_until=timezone.now() + timedelta(days=3),
                                lines=[{"line": line, "quantity_available": 10, "price_breaks": [(1, Decimal("0.10"))]}]))
        for t in traders
    ])
    assert sorted(kind for kind, _ in outcomes) == ["error"] * 4 + ["ok"] * 2, outcomes
    assert all(isinstance(exc, RfqNotOpen) for kind, exc in outcomes if kind == "error")
    assert Bid.objects.filter(rfq=rfq).count() == 2 and Rfq.objects.get(pk=rfq.pk).status == "closed"
