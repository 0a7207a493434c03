"""Query parameters the credit APIs share: a choice filter and a moment in the past (`at`)."""

from __future__ import annotations

from datetime import timezone as dt_timezone
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from credit.exceptions import QueryInvalid

AT_PARAMETER = OpenApiParameter(
    "at", OpenApiTypes.DATETIME,
    description="ISO 8601 moment (a date alone is its end of day, local time; no offset: local time): "
                "balances as they stood then, from the postings written by that moment.")


def choice_param(request, name: str, choices) -> str | None:
    """A filter's value, or None when absent; a value outside `choices` (the empty one included)
    is a 400, not an empty list or a silent default."""
    value = request.query_params.get(name)
    if value is None:
        return None
    if value not in choices:
        raise QueryInvalid({name: [f"Use one of: {', '.join(choices)}."]})
    return value


def at_param(request, name: str = "at") -> datetime | None:
    """`?at=` as an aware datetime, or None when absent; anything unreadable is a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    raw = raw.strip().replace(" ", "+")  # a `+02:00` offset arrives as a space when not URL-encoded
    try:
        moment = parse_datetime(raw)
        if moment is None and (day := parse_date(raw)) is not None:
            moment = datetime.combine(day, datetime.max.time())
    except ValueError:
        moment = None
    if moment is None:
        raise QueryInvalid({name: ["Give an ISO 8601 moment, e.g. 2026-12-01T09:30:00Z or 2026-12-01."]})
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python reads (e.g. +16:20).
        moment = moment.astimezone(dt_timezone.utc)
    except (OverflowError, ValueError):
        moment = None
    if moment is None or not 1970 <= moment.year <= 9998:
        raise QueryInvalid({name: ["Give a moment between 1970 and 9998 (ISO 8601): balances before Kitstreet are 0."]})
    return moment
