"""Booking factories' weekly capacity for the assembly jobs of an order."""

import math
from collections import defaultdict
from datetime import date, timedelta

from django.utils import timezone

from marketplace.exceptions import CapacityGone
from marketplace.factories.capacity import MAX_WEEKS, capacity_free, week_of
from marketplace.factories.models import CapacityBooking, SupplierProfile
from marketplace.kits.models import Kit
from marketplace.kits.selectors import kit_tree_multipliers
from marketplace.orders.models import Order
from marketplace.sourcing.models import Quote


def assembly_jobs(quote: Quote) -> dict[int, int]:
    """Boards each factory assembles for this quote: the kit's (or the awarded assembly offer's)
    factory and every sub-kit's, by factory id."""

    jobs: dict[int, int] = defaultdict(int)
    multipliers = kit_tree_multipliers(quote.kit)
    for kit in Kit.objects.filter(pk__in=multipliers).only("pk", "assembly_factory_id"):
        factory_id = kit.assembly_factory_id
        if kit.pk == quote.kit_id and quote.assembly_offer_id:
            factory_id = quote.assembly_offer.factory_id
        if factory_id:
            jobs[factory_id] += multipliers[kit.pk] * quote.quantity
    return dict(jobs)


def capacity_book_for_order(*, order: Order, quote: Quote, today: date | None = None) -> list[CapacityBooking]:
    """Inside order_place's transaction: book every declared factory's weeks for this order."""
    today = today or timezone.localdate()
    jobs = assembly_jobs(quote)
    if not jobs:
        return []
    # Lock in pk order: orders booking several factories cannot deadlock.
    profiles = list(SupplierProfile.objects.select_for_update().filter(organization_id__in=jobs, weekly_capacity__gt=0)
                    .select_related("organization").order_by("organization_id"))
    bookings = []
    for profile in profiles:
        units = jobs[profile.organization_id]
        span = math.ceil(units / profile.weekly_capacity)
        if span > MAX_WEEKS:
            raise CapacityGone(f"{profile.organization.name} assembles {profile.weekly_capacity} boards a week; "
                               f"{units} would take {span} weeks.")
        start = week_of(today + timedelta(days=profile.lead_time_days))
        weeks = [start + timedelta(weeks=i) for i in range(span)]
        free = capacity_free(factory=profile.organization, weeks=weeks)
        if sum(free.values()) < units:
            raise CapacityGone(
                f"{profile.organization.name} has {sum(free.values())} of the {units} boards free in the weeks from "
                f"{start:%Y-%m-%d} ({span} week{'s' if span > 1 else ''}); its capacity is booked. Nothing was ordered.")
        remaining = units
        for week in weeks:
            take = min(free[week], remaining)
            if take:
                bookings.append(CapacityBooking(factory=profile.organization, order=order, week=week, units=take))
                remaining -= take
    return CapacityBooking.objects.bulk_create(bookings)
