"""Recording market events: `event_record` inside the transaction of the step it reports.

Each event is one row per organisation that should hear of it (the buyer and the vendor of a
purchase order, the organisation of a payout), so `GET /api/v1/events/` is a plain indexed read
of the acting organisation's rows. The same events go to the organisation's webhooks: the rows
are handed to `events_publish_task` through the outbox (committed with the step, published after
commit, relayed later if the broker is down), and the task sends `events_published`, which the
marketplace's webhook room listens to. Apps below the marketplace (credit) can so report their
steps without importing it.

An event's `key` says what happened (`po:12:confirmed`); the same key is recorded once per
organisation, so a service that runs twice (a redelivered task, the deadline sweep run again)
reports nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from config.events.models import Event
from config.outbox.services import outbox_enqueue

# Every event type, what it means and the object it names. Webhook endpoints receive all of them.
EVENT_TYPES: dict[str, str] = {
    "po.placed": "A purchase order was placed (its confirm_by and ship_by are set).",
    "po.confirmed": "The vendor confirmed the purchase order (ship_by is set again from now).",
    "po.partly_shipped": "A shipment left, but units of the purchase order are still to ship.",
    "po.shipped": "Every unit of the purchase order has shipped.",
    "po.received": "The buyer received a shipment (possibly part of it).",
    "po.delivered": "The buyer received every unit: the purchase order is delivered.",
    "po.cancelled": "The purchase order was cancelled by the buyer or the vendor.",
    "po.expired": "The vendor did not confirm by confirm_by: the market cancelled the purchase order.",
    "po.defaulted": "The vendor declared the buyer's default on the balance.",
    "po.late": "The purchase order shipped after ship_by; the buyer earns the vendor's late credit.",
    "po.overdue": "ship_by passed and units are still to ship.",
    "payment.opened": "A deposit went into escrow, or credit was reserved, for a purchase order.",
    "payment.deposit_released": "The deposit was released to the vendor.",
    "payment.settled": "The purchase order was paid (balance paid or invoice drawn).",
    "payment.cancelled": "The payment closed without settling: deposit refunded or forfeited, credit released.",
    "payment.defaulted": "The deposit was forfeited per terms on the buyer's default.",
    "payment.late_credit": "The vendor's late credit was posted to the buyer.",
    "dispute.opened": "A party disputed the purchase order: what is held stays held.",
    "dispute.resolved": "An operator split the disputed amount.",
    "payout.requested": "A payout to the bank was requested (the amount is held).",
    "payout.settled": "The payout's bank transfer went out.",
    "payout.rejected": "The payout was rejected and its hold released.",
}

# Sent by `events_publish` (in the worker, after commit) with `events=[Event, ...]`.
events_published = Signal()


class UnknownEventType(ValueError):
    pass


def event_record(
    *, type: str, object_type: str, object_id: int, organization_ids: Iterable[int], data: dict | None = None,
    key: str | None = None, at: datetime | None = None,
) -> list[Event]:
    """Record one event for each organisation (in the caller's transaction) and publish it to
    their webhooks after commit. Returns the rows created now (none for a key already recorded)."""
    if type not in EVENT_TYPES:
        raise UnknownEventType(type)
    key = (key or f"{type}:{object_type}:{object_id}")[:120]
    ids = sorted({pk for pk in organization_ids if pk})
    seen = set(Event.objects.filter(organization_id__in=ids, key=key).values_list("organization_id", flat=True))
    at = at or timezone.now()
    payload = {"object": {"type": object_type, "id": object_id}, **(data or {})}
    events = [Event.objects.create(organization_id=pk, type=type, object_type=object_type, object_id=object_id,
                                   data=payload, key=key, created_at=at)
              for pk in ids if pk not in seen]
    if events:
        from config.events.tasks import events_publish_task

        outbox_enqueue(events_publish_task, args=[[e.pk for e in events]])
    return events


def event_payload(event: Event) -> dict:
    """What the feed and a webhook say about one event."""
    return {"event": event.type, "type": event.type, "created_at": event.created_at.isoformat(),
            "organization": event.organization_id, "object_type": event.object_type, "object_id": event.object_id,
            "data": event.data}


@transaction.atomic
def events_publish(*, event_ids: list[int]) -> list[Event]:
    """The worker's half: hand the committed events to their listeners (webhooks)."""
    events = list(Event.objects.filter(pk__in=event_ids).order_by("pk"))
    if events:
        events_published.send(sender=Event, events=events)
    return events
