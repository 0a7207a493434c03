"""Every payment, dispute and payout step is an event in the parties' feeds (`GET /api/v1/events/`),
recorded once, and handed to the webhooks through the outbox after commit."""

from decimal import Decimal

import pytest

from config.events.models import Event
from config.events.services import event_record, events_published
from config.outbox.models import OutboxMessage
from credit.services import payout_request, payout_settle
from marketplace.orders.services import order_place, purchase_order_cancel
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import ListingFactory

pytestmark = pytest.mark.django_db


def _types(member, **params):
    response = member.client.get("/api/v1/events/", params)
    assert response.status_code == 200, response.content
    return [e["type"] for e in response.json()["results"]]


def test_payment_steps_reach_both_parties_feeds_and_no_one_elses(buyer, make_member):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "2.00")])
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 100)])
    po = order.purchase_orders.get()
    purchase_order_cancel(purchase_order=po, actor=buyer.org)

    assert {"payment.opened", "payment.cancelled"} <= set(_types(buyer))
    cancelled = Event.objects.get(organization=listing.vendor, type="payment.cancelled")
    assert (cancelled.data["purchase_order"], cancelled.data["deposit_status"]) == (po.pk, "refunded")
    stranger = make_member(name="Stranger")
    assert _types(stranger) == []


def test_the_feed_filters_by_type_family_and_object_and_refuses_unknown_types(buyer):
    funded_wallet(buyer.org, "500.00")
    payout = payout_request(organization=buyer.org, amount=Decimal("100.00"), currency="CNY")
    payout_settle(payout=payout, reference="BANK 1")
    assert _types(buyer, type="payout.*") == ["payout.settled", "payout.requested"]
    assert _types(buyer, type="payout.settled", object_type="payout", object_id=payout.pk) == ["payout.settled"]
    first = Event.objects.filter(organization=buyer.org).order_by("id").first()
    assert _types(buyer, after=first.pk) == ["payout.settled"]
    for bad in ({"type": "po.exploded"}, {"type": ","}, {"object_type": "kit"}, {"object_id": "x"}, {"after": "-1"}):
        response = buyer.client.get("/api/v1/events/", bad)
        assert response.status_code == 400, bad


def test_an_event_is_recorded_once_per_key_and_published_after_commit(buyer, django_capture_on_commit_callbacks):
    heard = []

    def listener(sender, events, **kwargs):
        heard.extend(e.type for e in events)

    events_published.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = event_record(type="po.overdue", object_type="purchase_order", object_id=7,
                                 organization_ids=[buyer.org.pk], data={"status": "confirmed"})
            again = event_record(type="po.overdue", object_type="purchase_order", object_id=7,
                                 organization_ids=[buyer.org.pk, buyer.org.pk])
    finally:
        events_published.disconnect(listener)
    assert (len(first), again) == (1, [])
    assert heard == ["po.overdue"]
    assert OutboxMessage.objects.filter(task_name="config.events.tasks.events_publish_task").exclude(sent_at=None).count() == 1
