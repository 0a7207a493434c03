"""Reads of the event log, scoped to the acting organisation."""

from datetime import datetime

from django.db.models import Q, QuerySet

from config.events.models import Event
from organizations.models import Organization


def event_list(*, organization: Organization, types: list[str] | None = None, object_type: str | None = None,
               object_id: int | None = None, since: datetime | None = None, after_id: int | None = None) -> QuerySet[Event]:
    """The organisation's feed, newest first. `types` entries ending in `.*` match a family (`po.*`)."""
    qs = Event.objects.filter(organization=organization)
    if types:
        match = Q()
        for t in types:
            match |= Q(type__startswith=t[:-1]) if t.endswith(".*") else Q(type=t)
        qs = qs.filter(match)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id is not None:
        qs = qs.filter(object_id=object_id)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if after_id is not None:
        qs = qs.filter(pk__gt=after_id)
    return qs.order_by("-id")
