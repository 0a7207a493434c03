"""The market heals itself: simulated counterparties for demo stalls nobody logs in to, a
re-source offer after an expired purchase order, and the event log reaching the market webhooks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.events.models import Event
from credit.selectors import ledger_verify
from marketplace.exceptions import PurchaseOrderStepNotAllowed, StepNotYours, SweepInThePast
from marketplace.models import (
    Listing,
    MarketSweep,
    MarketWebhookDelivery,
    MarketWebhookEndpoint,
    OrderStatus,
    PurchaseOrder,
    Shipment,
)
from marketplace.orders.deadlines import market_deadlines_sweep, simulated_counterparty_run
from marketplace.orders.selectors import fulfilment_record, on_time_rates, resource_offer
from marketplace.orders.services import order_place, purchase_order_confirm, purchase_order_resource, purchase_order_ship
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory

pytestmark = pytest.mark.django_db


def _po(buyer, listing, qty=100):
    return order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, qty)]).purchase_orders.get()


def test_a_simulated_stall_confirms_then_ships_after_its_delays_and_says_so(buyer, settings):
    settings.SIMULATED_CONFIRM_AFTER_MINUTES, settings.SIMULATED_SHIP_AFTER_MINUTES = 5, 30
    funded_wallet(buyer.org, "1000.00")
    stall = OrganizationFactory(trader=True, simulated=True)
    po = _po(buyer, ListingFactory(vendor=stall, breaks=[(1, "1.00")]))
    now = timezone.now()
    assert simulated_counterparty_run(now=now + timedelta(minutes=4)) == {"confirmed": 0, "shipped": 0}
    assert simulated_counterparty_run(now=now + timedelta(minutes=6)) == {"confirmed": 1, "shipped": 0}
    assert PurchaseOrder.objects.get(pk=po.pk).status == OrderStatus.CONFIRMED
    assert simulated_counterparty_run(now=timezone.now() + timedelta(minutes=31)) == {"confirmed": 0, "shipped": 1}
    po.refresh_from_db()
    shipment = Shipment.objects.get(purchase_order=po)
    assert (po.status, shipment.simulated, shipment.lines.get().lot) == ("shipped", True, f"SIM-{stall.pk}-{po.lines.get().listing_id}")
    assert Event.objects.get(organization=buyer.org, type="po.shipped").data["simulated"] is True
    assert simulated_counterparty_run(now=timezone.now() + timedelta(days=1)) == {"confirmed": 0, "shipped": 0}


def test_a_stall_with_people_is_never_played_by_the_simulation(buyer, make_member):
    funded_wallet(buyer.org, "1000.00")
    real = make_member(name="Real stall", trader=True)
    po = _po(buyer, ListingFactory(vendor=real.org, breaks=[(1, "1.00")]))
    simulated_counterparty_run(now=timezone.now() + timedelta(days=1))
    assert PurchaseOrder.objects.get(pk=po.pk).status == OrderStatus.PLACED


def test_an_expired_order_is_re_sourced_in_one_step_without_its_vendor(buyer):
    funded_wallet(buyer.org, "1000.00")
    part = PartFactory()
    quiet = ListingFactory(part=part, stock=500, breaks=[(1, "1.00")])
    cheaper_elsewhere = ListingFactory(part=part, stock=60, breaks=[(1, "1.10")])
    dearer = ListingFactory(part=part, stock=500, breaks=[(1, "1.30")])
    po = _po(buyer, quiet, qty=100)
    result = market_deadlines_sweep(as_of=timezone.now() + timedelta(hours=49))
    assert result.expired == [po.pk]
    po.refresh_from_db()

    offer = resource_offer(purchase_order=po)
    assert {line["vendor"] for line in offer["lines"]} == {cheaper_elsewhere.vendor_id, dearer.vendor_id}
    assert sum(line["quantity"] for line in offer["lines"]) == 100 and offer["short"] == []
    order = purchase_order_resource(purchase_order=po, buyer=buyer.org, placed_by=buyer.user)
    assert sorted(p.vendor_id for p in order.purchase_orders.all()) == sorted([cheaper_elsewhere.vendor_id, dearer.vendor_id])
    assert Listing.objects.get(pk=quiet.pk).stock == 500
    with pytest.raises(StepNotYours):
        purchase_order_resource(purchase_order=po, buyer=OrganizationFactory(), placed_by=buyer.user)
    live = order.purchase_orders.first()
    with pytest.raises(PurchaseOrderStepNotAllowed):
        purchase_order_resource(purchase_order=live, buyer=buyer.org, placed_by=buyer.user)
    assert ledger_verify().ok


def test_the_sweep_refuses_the_past_and_records_each_run(buyer):
    now = timezone.now()
    market_deadlines_sweep(as_of=now)
    market_deadlines_sweep(as_of=now)  # the same moment again is fine (and moves nothing)
    with pytest.raises(SweepInThePast):
        market_deadlines_sweep(as_of=now - timedelta(seconds=1))
    assert MarketSweep.objects.count() == 2


def test_a_confirmed_order_past_ship_by_is_reported_overdue_once(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "1.00")], lead_time_days=2)
    po = _po(buyer, listing)
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    later = timezone.now() + timedelta(days=3)
    assert market_deadlines_sweep(as_of=later).overdue == [po.pk]
    market_deadlines_sweep(as_of=later + timedelta(hours=1))
    assert Event.objects.filter(organization=buyer.org, type="po.overdue").count() == 1
    assert PurchaseOrder.objects.get(pk=po.pk).status == OrderStatus.CONFIRMED  # late, not cancelled


def test_fulfilment_record_counts_expired_orders_and_on_time_shipping(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "1.00")])
    expired = _po(buyer, listing, qty=10)
    market_deadlines_sweep(as_of=timezone.now() + timedelta(hours=49))
    shipped = _po(buyer, listing, qty=10)
    purchase_order_confirm(purchase_order=shipped, actor=listing.vendor)
    purchase_order_ship(purchase_order=shipped, actor=listing.vendor)
    record = fulfilment_record(supplier=listing.vendor)
    assert on_time_rates(vendor_ids=[listing.vendor_id, buyer.org.pk]) == {listing.vendor_id: 1.0, buyer.org.pk: None}
    assert (record["expired_unconfirmed"], record["cancelled_by_supplier"]) == (1, 1)
    assert (record["on_time_rate"], record["shipped_with_promise"]) == (1.0, 1)
    assert record["median_slip_days"] < 0  # shipped before the promised day
    assert PurchaseOrder.objects.get(pk=expired.pk).cancel_reason == "unconfirmed"


def test_market_webhooks_receive_the_event_log(buyer, django_capture_on_commit_callbacks, monkeypatch):
    from config.webhooks import webhook_attempt  # noqa: F401  (the delivery task's attempt, stubbed below)
    from marketplace.notifications import tasks

    sent = []
    monkeypatch.setattr(tasks, "webhook_deliver_or_retry", lambda task, model, delivery_id: sent.append(delivery_id))
    endpoint = MarketWebhookEndpoint.objects.create(organization=buyer.org, url="https://hooks.example.com/k",
                                                    secret="s" * 64)
    funded_wallet(buyer.org, "1000.00")
    with django_capture_on_commit_callbacks(execute=True):
        _po(buyer, ListingFactory(breaks=[(1, "1.00")]))
    deliveries = MarketWebhookDelivery.objects.filter(endpoint=endpoint)
    assert {d.event for d in deliveries} >= {"po.placed", "payment.opened"}
    placed = deliveries.get(event="po.placed")
    assert placed.payload["data"]["status"] == "placed" and placed.payload["object_type"] == "purchase_order"
    assert sorted(sent) == sorted(d.pk for d in deliveries)
