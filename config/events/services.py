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

from config.events.models import EVENT_TYPES, Event
from config.outbox.services import outbox_enqueue


EVENTS_PUBLISH_TASK = "config.events.tasks.events_publish_task"  # enqueued by name: the task calls this module

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
        outbox_enqueue(EVENTS_PUBLISH_TASK, args=[[e.pk for e in events]])
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
