"""Sales events from integrations (live trials only)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from trials.exceptions import SalesRejected, TrialNotInState
from trials.models import SalesEvent, Trial, TrialArm, TrialStatus

CLOCK_SKEW = timedelta(minutes=5)


@transaction.atomic
def trial_sales_record(*, trial: Trial, events: list[dict], now: datetime | None = None) -> dict:
    """Record a batch of sales: [{"arm" (label), "units", "unit_price", "sold_at", "channel",
    "external_id"}]. An `external_id` seen before (in this batch or earlier) is a retry and is not
    counted again. Any bad event rejects the whole batch (400) and records nothing.

    The trial row is locked first, so two copies of the same batch arriving at once are
    serialised and the second finds the first's external ids."""
    now = now or timezone.now()
    trial = Trial.objects.select_for_update().get(pk=trial.pk)
    if trial.simulated:
        raise TrialNotInState("A simulated trial draws its sales from the demand model; it takes no sales events.")
    if trial.status != TrialStatus.SELLING:
        raise TrialNotInState(f"Sales are taken while a trial is selling; this one is {trial.get_status_display().lower()}.")
    arms = {arm.label: arm for arm in TrialArm.objects.select_for_update().filter(trial=trial).order_by("pk")}
    known = set(SalesEvent.objects.filter(trial=trial, external_id__in=[e["external_id"] for e in events])
                .values_list("external_id", flat=True))
    errors, new, duplicates, seen = [], [], 0, set()
    units_by_arm: dict[int, int] = defaultdict(int)
    for i, event in enumerate(events, start=1):
        external_id = event["external_id"]
        if external_id in known or external_id in seen:
            duplicates += 1
            continue
        seen.add(external_id)
        arm = arms.get(event["arm"])
        if arm is None:
            errors.append(f"event {i} ({external_id}): unknown arm “{event['arm']}”; arms are {', '.join(arms)}.")
            continue
        sold_at = event["sold_at"]
        if sold_at < trial.selling_started_at or sold_at > min(trial.ends_at, now + CLOCK_SKEW):
            errors.append(f"event {i} ({external_id}): sold_at is outside the trial's selling window.")
            continue
        units_by_arm[arm.pk] += event["units"]
        new.append(SalesEvent(
            trial=trial, arm=arm, units=event["units"], unit_price=Decimal(event["unit_price"]), sold_at=sold_at,
            channel=event.get("channel", ""), external_id=external_id,
        ))
    for arm in arms.values():
        if units_by_arm[arm.pk] > arm.on_hand:
            errors.append(f"arm “{arm.label}”: {units_by_arm[arm.pk]} units reported but only {arm.on_hand} on hand.")
    if errors:
        raise SalesRejected({"events": errors})
    SalesEvent.objects.bulk_create(new)
    for event in new:
        event.arm.units_sold += event.units
        event.arm.revenue += event.unit_price * event.units
    TrialArm.objects.bulk_update(list(arms.values()), ["units_sold", "revenue"])
    trial.cash_recovered = sum((arm.revenue for arm in arms.values()), Decimal(0))
    trial.save(update_fields=["cash_recovered", "updated_at"])
    return {
        "accepted": len(new),
        "duplicates": duplicates,
        "arms": [{"label": arm.label, "units_sold": arm.units_sold, "on_hand": arm.on_hand} for arm in arms.values()],
    }
