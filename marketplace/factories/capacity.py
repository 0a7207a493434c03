"""Factories' declared capabilities and the booking of their weekly capacity by orders.

A factory that declares `weekly_capacity` sells boards-per-week: an order whose quote has it
assemble N boards books them in the weeks from the factory's next start (today + its lead time)
on, at most the week's free capacity each, over the ceil(N / capacity) weeks the job takes. If
those weeks do not have N boards free any more, the order is refused (409) and nothing is kept.
The factory's profile row is locked first, so two orders cannot both take the last capacity.
"""

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
