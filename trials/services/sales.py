"""Sales events reported by integrations (live trials only).

Every accepted batch re-judges the trial at once, incrementally: the daily metrics of the days it
touches are updated in place (no rebuild), the touched arms' always-valid e-values are recomputed
from their daily sales, and when every arm is settled the trial closes early
(trials.science.scale_e_value; docs/trials.md says why checking after every sale is allowed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, F, PositiveIntegerField, When
from django.utils import timezone

from trials.exceptions import SalesConflict, SalesRejected, TrialNotInState
from trials.models import DailyMetric, SalesEvent, Trial, TrialArm, TrialStatus
from trials.science import SEQUENTIAL_ALPHA, scale_e_value, scale_rate
from trials.services.financing import sales_sweep

CLOCK_SKEW = timedelta(minutes=5)


def _same_sale(recorded: dict, event: dict, arm_label: str | None) -> bool:
    return (arm_label == event["arm"] and recorded["units"] == event["units"]
            and Decimal(recorded["unit_price"]) == Decimal(event["unit_price"])
            and recorded["sold_at"] == event["sold_at"] and recorded["channel"] == event.get("channel", ""))


def _day(trial: Trial, sold_at: datetime) -> int:
    return min(trial.window_days, max(1, (sold_at - trial.selling_started_at) // timedelta(days=1) + 1))


@transaction.atomic
def trial_sales_record(*, trial: Trial, events: list[dict], now: datetime | None = None) -> dict:
    """Record a batch of sales: [{"arm" (label), "units", "unit_price", "sold_at", "channel",
    "external_id"}]. An `external_id` seen before (in this batch or earlier) with the same content is
    a retry and is not counted again; with different content it is a conflict (409), since one of
    the two reports must be wrong. Any bad event rejects the whole batch (400) and records nothing.

    The trial row is locked first, so two copies of the same batch arriving at once are
    serialised and the second finds the first's external ids."""
    now = now or timezone.now()
    trial = Trial.objects.select_for_update(of=("self",)).select_related("quote").get(pk=trial.pk)
    if trial.simulated:
        raise TrialNotInState("A simulated trial draws its sales from the demand model; it takes no sales events.")
    if trial.status != TrialStatus.SELLING:
        raise TrialNotInState(f"Sales are taken while a trial is selling; this one is {trial.get_status_display().lower()}.")
    arm_list = list(TrialArm.objects.select_for_update().filter(trial=trial).order_by("pk"))
    arms = {arm.label: arm for arm in arm_list}
    labels = {arm.pk: arm.label for arm in arm_list}
    known = {row["external_id"]: row for row in SalesEvent.objects.filter(
        trial=trial, external_id__in=[e["external_id"] for e in events],
    ).values("external_id", "arm_id", "units", "unit_price", "sold_at", "channel")}
    errors, conflicts, new, duplicates, seen = [], [], [], 0, {}
    units_by_arm: dict[int, int] = defaultdict(int)
    for i, event in enumerate(events, start=1):
        external_id = event["external_id"]
        if external_id in known or external_id in seen:
            recorded = known.get(external_id)
            same = (_same_sale(recorded, event, labels.get(recorded["arm_id"])) if recorded
                    else _same_sale(seen[external_id], event, seen[external_id]["arm"]))
            if same:
                duplicates += 1
            else:
                conflicts.append(f"event {i} ({external_id}): this external_id was already reported with other "
                                 "content (arm, units, price, time or channel).")
            continue
        seen[external_id] = {**event, "channel": event.get("channel", "")}
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
    if conflicts:
        raise SalesConflict(" ".join(conflicts) + " Nothing in this batch was recorded.")
    for arm in arms.values():
        if units_by_arm[arm.pk] > arm.on_hand:
            errors.append(f"arm “{arm.label}”: {units_by_arm[arm.pk]} units reported but only {arm.on_hand} on hand.")
    if errors:
        raise SalesRejected({"events": errors})
    if new:
        SalesEvent.objects.bulk_create(new)
        added = _daily_metrics_add(trial, arm_list, new)
        revenue_by_arm: dict[int, Decimal] = defaultdict(Decimal)
        for event in new:
            event.arm.units_sold += event.units
            event.arm.revenue += event.unit_price * event.units
            revenue_by_arm[event.arm_id] += event.unit_price * event.units
        for arm_id, units in sorted((k, v) for k, v in units_by_arm.items() if v):  # touched arms, in pk order
            TrialArm.objects.filter(pk=arm_id).update(units_sold=F("units_sold") + units,
                                                      revenue=F("revenue") + revenue_by_arm[arm_id])
        trial.cash_recovered = sum((arm.revenue for arm in arms.values()), Decimal(0))
        settled = _rejudge(trial, arm_list, added=added)
        # A batch financed on demand credit repays its line from these sales, in this transaction.
        repayment = sales_sweep(trial=trial, events=new)
    else:
        settled = repayment = None
    trial.save(update_fields=["cash_recovered", "sequential", "updated_at"])
    if settled is not None:
        from trials.services.lifecycle import _close

        _close(trial, arm_list, now, early=settled)
    return {
        "accepted": len(new),
        "duplicates": duplicates,
        "arms": [{"label": arm.label, "units_sold": arm.units_sold, "on_hand": arm.on_hand} for arm in arms.values()],
        "status": trial.status,
        "verdict": trial.verdict or None,
        "stopped_early": trial.stopped_early,
        "repayment": repayment,
    }


def _daily_metrics_add(trial: Trial, arms: list[TrialArm], new: list[SalesEvent]) -> dict[tuple[int, int], int]:
    """Add a batch to the daily metrics in place: create the days up to the batch's last day for
    every arm (carrying on hand forward), then for each (arm, day) add its units to that day's sales
    and take them off the on hand of that day and every later one, in one UPDATE. A few queries per
    batch, however long the trial has run. Returns the units added per (arm id, day)."""
    state = trial.sequential or {}
    have = int(state.get("days", 0))
    last = max(_day(trial, event.sold_at) for event in new)
    if last > have:
        DailyMetric.objects.bulk_create([
            DailyMetric(trial=trial, arm=arm, day=day, sold=0, on_hand=arm.on_hand)
            for arm in arms for day in range(have + 1, last + 1)
        ], ignore_conflicts=True)  # the beat's refresh may have made some of these days already
        trial.sequential = {**state, "days": last}
    added: dict[tuple[int, int], int] = defaultdict(int)
    for event in new:
        added[(event.arm_id, _day(trial, event.sold_at))] += event.units
    for (arm_id, day), units in sorted(added.items()):
        DailyMetric.objects.filter(arm_id=arm_id, day__gte=day).update(
            sold=Case(When(day=day, then=F("sold") + units), default=F("sold"), output_field=PositiveIntegerField()),
            on_hand=F("on_hand") - units)
    return added


def _rejudge(trial: Trial, arms: list[TrialArm], *, added: dict[tuple[int, int], int]) -> dict | None:
    """Recompute the touched arms' e-values from their daily sales, kept in the trial's sequential
    state (so no query), and settle an arm once its e-value reaches the threshold (alpha split
    evenly across arms) or it sells out. Returns {label: how it was settled} when every arm is
    settled (the trial stops early), else None."""
    state = dict(trial.sequential or {})
    days = int(state.get("days", 0))
    per_arm = dict(state.get("arms", {}))
    threshold = len(arms) / SEQUENTIAL_ALPHA
    scale_at = float(trial.scale_at)
    unit_cost = trial.quote.unit_cost if trial.quote_id else Decimal("0")
    touched = {arm_id for arm_id, _ in added}
    for arm in arms:
        row = dict(per_arm.get(arm.label) or {"e_value": 1.0, "threshold": threshold, "settled": None, "daily": []})
        daily = list(row.get("daily", []))
        daily += [0] * (days - len(daily))
        for (arm_id, day), units in added.items():
            if arm_id == arm.pk:
                daily[day - 1] += units
        row["daily"] = daily
        if arm.pk in touched and not row.get("settled"):
            e = scale_e_value(daily_sold=daily, units=arm.units_received,
                              rate=scale_rate(units=arm.units_received, window_days=trial.window_days, scale_at=scale_at))
            row["e_value"] = round(e, 4)
            if arm.on_hand == 0:
                row["settled"] = {"by": "sold_out", "day": len(daily)}
            elif e >= threshold and arm.unit_price > unit_cost:
                row["settled"] = {"by": "e_value", "day": len(daily), "e_value": round(e, 2), "threshold": threshold}
        per_arm[arm.label] = row
    state["arms"] = per_arm
    state["alpha"] = SEQUENTIAL_ALPHA
    trial.sequential = state
    if all(per_arm.get(arm.label, {}).get("settled") for arm in arms):
        return {label: row["settled"] for label, row in per_arm.items()}
    return None
