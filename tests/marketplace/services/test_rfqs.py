"""RFQ services: the beat close, assembly RFQs routed by capability, awarded assembly in quotes
and orders, capacity booking, webhooks."""

import json
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from config.webhooks import webhook_sign
from marketplace.exceptions import CapacityGone
from marketplace.models import CapacityBooking, MarketWebhookDelivery, Notification, Rfq
from marketplace.rfqs.selectors import rfq_board, suppliers_fitting
from marketplace.orders.services import order_place
from marketplace.sourcing.quotes import quote_create
from marketplace.factories.profiles import supplier_profile_update
from marketplace.factories.capacity import week_of
from marketplace.notifications.services import market_webhook_create
from marketplace.rfqs.services import bid_submit, rfq_award, rfq_create, rfq_create_assembly
from marketplace.rfqs.tasks import rfq_close_due_task
from tests.marketplace.factories import ListingFactory, MembershipFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def _soon(**kw):
    return timezone.now() + timedelta(**(kw or {"days": 2}))


def _parts_rfq(buyer, **kw):
    return rfq_create(buyer=buyer, created_by=None, title="Caps", closes_at=kw.pop("closes_at", _soon()),
                      lines=[{"manufacturer": "Murata", "mpn": "GRM155", "quantity": 1000, "category": "Capacitors"}], **kw)


def test_beat_closes_due_rfqs_and_tells_buyer_and_bidders():
    buyer = OrganizationFactory()
    trader = OrganizationFactory(trader=True)
    due = _parts_rfq(buyer)
    later = _parts_rfq(buyer, closes_at=_soon(days=5))
    bid_submit(rfq=due, supplier=trader, submitted_by=None, valid_until=_soon(days=9),
               lines=[{"line": due.lines.get().pk, "quantity_available": 1000, "price_breaks": [(1, Decimal("0.01"))]}])
    Rfq.objects.filter(pk=due.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert rfq_close_due_task.delay().get() == 1
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == ("closed", "open") and due.closed_at is not None
    assert Notification.objects.filter(rfq=due, kind="rfq_closed", organization=buyer).count() == 1
    assert Notification.objects.filter(rfq=due, kind="rfq_closed", organization=trader).count() == 1
    assert rfq_close_due_task.delay().get() == 0  # a second beat changes nothing
    assert Notification.objects.filter(rfq=due, kind="rfq_closed").count() == 2


def test_beat_reminds_fitting_suppliers_once_a_day_before_closing():
    buyer = OrganizationFactory()
    bidder, idle = OrganizationFactory(trader=True), OrganizationFactory(trader=True)
    soon = rfq_create(buyer=buyer, created_by=None, title="Soon", closes_at=_soon(hours=5),
                      lines=[{"manufacturer": "", "mpn": "XYZ-1", "quantity": 5}])  # uncategorised: every trader
    _parts_rfq(buyer, closes_at=_soon(days=3))  # not yet
    bid_submit(rfq=soon, supplier=bidder, submitted_by=None, valid_until=_soon(days=9),
               lines=[{"line": soon.lines.get().pk, "quantity_available": 5, "price_breaks": [(1, Decimal("1"))]}])
    rfq_close_due_task.delay()
    rfq_close_due_task.delay()
    reminders = Notification.objects.filter(kind="rfq_closing")
    assert sorted(reminders.values_list("organization_id", flat=True)) == sorted([bidder.pk, idle.pk])
    assert "revise your bid" in reminders.first().text and Rfq.objects.get(pk=soon.pk).status == "open"


def test_uncategorised_parts_reach_every_trader_and_board_agrees_with_notifications():
    buyer = OrganizationFactory()
    traders = [OrganizationFactory(trader=True) for _ in range(2)]
    factory = OrganizationFactory(factory_kind=True)
    declared = OrganizationFactory(solution_house=True)
    supplier_profile_update(organization=declared, categories=["capacitors"])
    rfq = rfq_create(buyer=buyer, created_by=None, title="?", closes_at=_soon(),
                     lines=[{"manufacturer": "", "mpn": "XYZ-UNKNOWN-1", "quantity": 5}])
    cats = _parts_rfq(buyer)
    assert {o.pk for o in suppliers_fitting(rfq=rfq)} == {t.pk for t in traders}
    assert {o.pk for o in suppliers_fitting(rfq=cats)} == {declared.pk}
    for org in [*traders, factory, declared]:
        board = set(rfq_board(supplier=org).values_list("pk", flat=True))
        assert (rfq.pk in board) == (org in traders)
        assert (cats.pk in board) == (org == declared)


def _assembly_world(fund=None, *, weekly_capacity=100):
    buyer = MembershipFactory(organization=OrganizationFactory(name="Maker"))
    if fund:
        fund(buyer.organization)
    part = PartFactory()
    ListingFactory(part=part, stock=100_000, breaks=[(1, "1.00")])
    kit = make_kit(bom=[(part, 1)])
    fab = OrganizationFactory(factory_kind=True, name="Fab")
    supplier_profile_update(organization=fab, smt=True, testing=True, min_batch=50, max_batch=5000,
                            weekly_capacity=weekly_capacity, lead_time_days=7)
    small = OrganizationFactory(factory_kind=True, name="Small fab")
    supplier_profile_update(organization=small, smt=True, min_batch=1, max_batch=100, weekly_capacity=50)
    return buyer, kit, fab, small


def test_assembly_rfq_is_routed_by_capability_and_the_award_becomes_the_kits_assembly(fund):
    buyer, kit, fab, small = _assembly_world(fund)
    rfq = rfq_create_assembly(buyer=buyer.organization, created_by=buyer.user, kit=kit, quantity=300, closes_at=_soon(),
                              processes=["smt", "testing"])
    assert [o.pk for o in suppliers_fitting(rfq=rfq)] == [fab.pk]  # `small` has no testing and a max batch of 100
    assert rfq.pk in rfq_board(supplier=fab).values_list("pk", flat=True)
    assert not rfq_board(supplier=small).filter(pk=rfq.pk).exists()
    bid, _ = bid_submit(rfq=rfq, supplier=fab, submitted_by=None, valid_until=_soon(days=20), setup_cost=Decimal("150"),
                        lines=[{"line": rfq.lines.get().pk, "quantity_available": 1000, "lead_time_days": 10,
                                "price_breaks": [(1, Decimal("3.00")), (200, Decimal("2.50"))]}])
    before = quote_create(organization=buyer.organization, kit=kit, quantity=300)
    assert before.assembly_cost == Decimal("0.00")
    rfq_award(rfq=rfq, buyer=buyer.organization, bid_ids=[bid.pk])
    quote = quote_create(organization=buyer.organization, kit=kit, quantity=300)
    assert quote.assembly_cost == Decimal("900.00")  # 150 setup + 300 × 2.50
    other = quote_create(organization=OrganizationFactory(), kit=kit, quantity=300)
    assert other.assembly_cost == Decimal("0.00")  # only this buyer's quotes use it

    order = order_place(buyer=buyer.organization, placed_by=buyer.user, payment="deposit", quote=quote)
    fab_po = order.purchase_orders.get(vendor=fab)
    assert fab_po.total == Decimal("900.00")
    bookings = list(CapacityBooking.objects.filter(order=order).order_by("week"))
    start = week_of(timezone.localdate() + timedelta(days=7))
    assert [(b.week, b.units) for b in bookings] == [(start, 100), (start + timedelta(weeks=1), 100),
                                                     (start + timedelta(weeks=2), 100)]


def test_an_order_is_refused_when_the_factorys_weeks_are_booked_and_cancelling_gives_them_back(fund):
    from marketplace.orders.services import purchase_order_cancel

    buyer, kit, fab, _ = _assembly_world(fund)
    kit.assembly_factory = fab
    kit.save(update_fields=["assembly_factory"])
    first = order_place(buyer=buyer.organization, placed_by=buyer.user, payment="deposit",
                        quote=quote_create(organization=buyer.organization, kit=kit, quantity=150))
    assert sum(CapacityBooking.objects.filter(order=first).values_list("units", flat=True)) == 150
    second_quote = quote_create(organization=buyer.organization, kit=kit, quantity=100)
    with pytest.raises(CapacityGone):  # 100 boards take one week, and the first week is full
        order_place(buyer=buyer.organization, placed_by=buyer.user, payment="deposit", quote=second_quote)
    assert CapacityBooking.objects.filter(order__quote=second_quote).count() == 0
    purchase_order_cancel(purchase_order=first.purchase_orders.get(vendor=fab), actor=buyer.organization)
    order_place(buyer=buyer.organization, placed_by=buyer.user, payment="deposit", quote=second_quote)


def test_webhooks_are_signed_and_sent_once_per_event(django_capture_on_commit_callbacks):
    buyer = OrganizationFactory()
    trader = OrganizationFactory(trader=True)
    endpoint = market_webhook_create(organization=buyer, url="https://erp.example/hooks")
    answer = mock.Mock(status_code=200, ok=True)
    with mock.patch("config.webhooks._post_pinned", return_value=answer) as post, \
            django_capture_on_commit_callbacks(execute=True):
        rfq = _parts_rfq(buyer)
        bid, _ = bid_submit(rfq=rfq, supplier=trader, submitted_by=None, valid_until=_soon(days=9),
                            lines=[{"line": rfq.lines.get().pk, "quantity_available": 1000,
                                    "price_breaks": [(1, Decimal("0.01"))]}])
        rfq_award(rfq=rfq, buyer=buyer, bid_ids=[bid.pk])
    events = [call.kwargs["headers"]["X-Kitstreet-Event"] for call in post.call_args_list]
    assert events == ["rfq.created", "bid.received", "rfq.awarded"]
    call = post.call_args_list[1]
    body, signature = call.kwargs["data"], call.kwargs["headers"]["X-Kitstreet-Signature"]
    timestamp = int(signature.split(",")[0][2:])
    assert signature == webhook_sign(secret=endpoint.secret, timestamp=timestamp, body=body)
    assert json.loads(body)["bid"]["id"] == bid.pk
    assert MarketWebhookDelivery.objects.filter(status="delivered").count() == 3
