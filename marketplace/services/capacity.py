"""Factories' declared capabilities and the booking of their weekly capacity by orders.

A factory that declares `weekly_capacity` sells boards-per-week: an order whose quote has it
assemble N boards books them in the weeks from the factory's next start (today + its lead time)
on, at most the week's free capacity each, over the ceil(N / capacity) weeks the job takes. If
those weeks do not have N boards free any more, the order is refused (409) and nothing is kept.
The factory's profile row is locked first, so two orders cannot both take the last capacity.
"""

import math
from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.exceptions import CapacityGone, ProfileInvalid
from marketplace.models import CapacityBooking, Kit, Order, Quote, SupplierProfile
from organizations.models import Organization

MAX_WEEKS = 104  # a job longer than two years of capacity is not a job this factory can take


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@transaction.atomic
def supplier_profile_update(*, organization: Organization, **fields) -> SupplierProfile:
    """Declare categories (any supplier) and, for factories, processes, batch range, weekly
    capacity and lead time. Only the fields given change."""
    if not organization.is_supplier:
        raise ProfileInvalid({"non_field_errors": ["Only suppliers declare categories and capabilities."]})
    factory_only = {"smt", "through_hole", "box_build", "testing", "min_batch", "max_batch", "weekly_capacity", "lead_time_days"}
    if not organization.is_factory and any(fields.get(k) for k in factory_only):
        raise ProfileInvalid({"non_field_errors": ["Only factories declare processes, batches and capacity."]})
    profile, _ = SupplierProfile.objects.select_for_update().get_or_create(organization=organization)
    if "categories" in fields:
        fields["categories"] = sorted({" ".join(str(c).split()) for c in fields["categories"] if str(c).strip()})[:50]
    for name, value in fields.items():
        setattr(profile, name, value)
    if profile.max_batch is not None and profile.max_batch < profile.min_batch:
        raise ProfileInvalid({"max_batch": [f"The largest batch ({profile.max_batch}) is below the smallest ({profile.min_batch})."]})
    if profile.min_batch < 1:
        raise ProfileInvalid({"min_batch": ["At least 1."]})
    profile.save()
    return profile


def assembly_jobs(quote: Quote) -> dict[int, int]:
    """Boards each factory assembles for this quote: the kit's (or the awarded assembly offer's)
    factory and every sub-kit's, by factory id."""
    from marketplace.services.quotes import kit_tree_multipliers

    jobs: dict[int, int] = defaultdict(int)
    multipliers = kit_tree_multipliers(quote.kit)
    for kit in Kit.objects.filter(pk__in=multipliers).only("pk", "assembly_factory_id"):
        factory_id = kit.assembly_factory_id
        if kit.pk == quote.kit_id and quote.assembly_offer_id:
            factory_id = quote.assembly_offer.factory_id
        if factory_id:
            jobs[factory_id] += multipliers[kit.pk] * quote.quantity
    return dict(jobs)


def capacity_free(*, factory: Organization, weeks: list[date]) -> dict[date, int]:
    profile = SupplierProfile.objects.get(organization=factory)
    booked = dict(CapacityBooking.objects.filter(factory=factory, week__in=weeks, released_at__isnull=True)
                  .values("week").annotate(units=Sum("units")).values_list("week", "units"))
    return {w: max(0, profile.weekly_capacity - booked.get(w, 0)) for w in weeks}


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


def capacity_release(*, order_id: int, factory_id: int) -> int:
    """A cancelled purchase order of the factory gives its weeks back."""
    return CapacityBooking.objects.filter(order_id=order_id, factory_id=factory_id, released_at__isnull=True).update(
        released_at=timezone.now())
