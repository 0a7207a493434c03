"""Factories' declared capabilities and the booking of their weekly capacity by orders.

A factory that declares `weekly_capacity` sells boards-per-week: an order whose quote has it
assemble N boards books them in the weeks from the factory's next start (today + its lead time)
on, at most the week's free capacity each, over the ceil(N / capacity) weeks the job takes. If
those weeks do not have N boards free any more, the order is refused (409) and nothing is kept.
The factory's profile row is locked first, so two orders cannot both take the last capacity.
"""

import math
from datetime import date, timedelta

from django.db.models import Sum
from django.utils import timezone

from marketplace.factories.models import CapacityBooking, SupplierProfile
from organizations.models import Organization

MAX_WEEKS = 104  # a job longer than two years of capacity is not a job this factory can take


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def capacity_free(*, factory: Organization, weeks: list[date]) -> dict[date, int]:
    profile = SupplierProfile.objects.get(organization=factory)
    booked = dict(CapacityBooking.objects.filter(factory=factory, week__in=weeks, released_at__isnull=True)
                  .values("week").annotate(units=Sum("units")).values_list("week", "units"))
    return {w: max(0, profile.weekly_capacity - booked.get(w, 0)) for w in weeks}


def capacity_release(*, order_id: int, factory_id: int) -> int:
    """A cancelled purchase order of the factory gives its weeks back."""
    return CapacityBooking.objects.filter(order_id=order_id, factory_id=factory_id, released_at__isnull=True).update(
        released_at=timezone.now())


def capacity_window(*, profile: SupplierProfile, units: int, today: date) -> tuple[list[date], dict[date, int]]:
    """The weeks a job of `units` boards would take from the factory's next start, and what is free
    in each (bookings not released). A job longer than MAX_WEEKS gets no window."""
    span = math.ceil(units / profile.weekly_capacity)
    if span > MAX_WEEKS:
        return [], {}
    start = week_of(today + timedelta(days=profile.lead_time_days))
    weeks = [start + timedelta(weeks=i) for i in range(span)]
    return weeks, capacity_free(factory=profile.organization, weeks=weeks)


def capacity_problem(*, factory: Organization, units: int, today: date | None = None) -> str | None:
    """Why the factory cannot take `units` boards now, or None. A factory that declared no weekly
    capacity is not limited (as when orders book capacity)."""
    profile = SupplierProfile.objects.filter(organization=factory, weekly_capacity__gt=0).select_related(
        "organization").first()
    if profile is None:
        return None
    weeks, free = capacity_window(profile=profile, units=units, today=today or timezone.localdate())
    if not weeks:
        return f"{units:,} boards would take over {MAX_WEEKS} weeks of its capacity"
    if sum(free.values()) < units:
        return f"only {sum(free.values()):,} of {units:,} boards free from {weeks[0]:%Y-%m-%d}"
    return None
