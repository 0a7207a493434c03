"""A trial's life: create (draft) -> start -> procure -> sell -> close (or fail).

Each step is one transaction that first locks the trial row (then its arms, by pk), checks the
status, and returns early when the step was already done. That makes every Celery task safe to
redeliver: a worker killed mid-run leaves the trial in the last committed step, and the same task
(redelivered thanks to acks_late, or re-sent by the beat's refresh) carries on from there.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.errors import StateConflict, error_text
from config.outbox.services import outbox_enqueue
from trials.demand import DemandModel
from trials.exceptions import TrialInvalid, TrialNotInState
from trials.models import OPEN_STATUSES, DailyMetric, SalesEvent, Trial, TrialArm, TrialMode, TrialStatus, TrialVerdict
from trials.selectors.reports import trial_prior

TRIAL_RUN_TASK = "trials.tasks.trial_run_task"  # enqueued by name: trials.tasks calls these services
MAX_ARMS = 6
MAX_TOTAL_UNITS = 5_000
SIM_CHUNK_DAYS = 5  # simulated days per transaction: progress becomes visible every chunk
STUCK_AFTER = timedelta(minutes=10)  # an open simulated trial untouched this long lost its task


def sim_day_seconds() -> float:
    """Wall-clock pause per simulated day between chunks (default 0: as fast as possible). Set
    KITSTREET_TRIALS_SIM_DAY_SECONDS for demos that should show the progress bar move, and in the
    test that kills a worker mid-run. Never slept inside a transaction."""
    try:
        return max(0.0, float(os.environ.get("KITSTREET_TRIALS_SIM_DAY_SECONDS", "0")))
    except ValueError:
        return 0.0


def _locked(trial_id: int) -> Trial:
    return Trial.objects.select_for_update(of=("self",)).select_related("kit", "organization").get(pk=trial_id)


def _locked_arms(trial: Trial) -> list[TrialArm]:
    return list(TrialArm.objects.select_for_update().filter(trial=trial).order_by("pk"))


def _visible_kits(organization):
    from marketplace.models import Kit

    return Kit.objects.filter(Q(owner__verified=True, private=False) | Q(owner=organization), is_active=True)


def _validated_plan(
    *, organization, kit, mode: str, window_days: int, scale_at, kill_below, arms: list[dict], demand: dict | None,
    payment: str,
) -> dict:
    """Check a trial's plan; return it normalised (Decimals, stripped labels, the demand model with
    its defaults filled in) or raise TrialInvalid with every problem by field."""
    errors: dict[str, list[str]] = {}
    if not organization.is_buyer:
        errors["organization"] = ["Only buyer organisations run trials."]
    if not _visible_kits(organization).filter(pk=kit.pk).exists():
        errors["kit"] = ["Unknown kit."]
    if mode not in TrialMode.values:
        errors["mode"] = ["Choose live or simulated."]
    if not 1 <= int(window_days) <= 365:
        errors["window_days"] = ["A window is 1 to 365 days."]
    scale_at, kill_below = Decimal(scale_at), Decimal(kill_below)
    if not (Decimal(0) <= kill_below < scale_at <= Decimal(1)):
        errors["targets"] = ["Targets are fractions with 0 ≤ kill_below < scale_at ≤ 1."]
    if not 1 <= len(arms) <= MAX_ARMS:
        errors["arms"] = [f"A trial has 1 to {MAX_ARMS} arms."]
    arms = [{"label": arm["label"].strip(), "unit_price": Decimal(arm["unit_price"]), "units": int(arm["units"])}
            for arm in arms]
    labels = [arm["label"] for arm in arms]
    if len(set(labels)) != len(labels) or not all(labels):
        errors.setdefault("arms", []).append("Each arm needs its own label.")
    if any(arm["units"] < 1 or arm["unit_price"] <= 0 for arm in arms):
        errors.setdefault("arms", []).append("Each arm needs at least one unit and a positive price.")
    if sum(arm["units"] for arm in arms) > MAX_TOTAL_UNITS:
        errors.setdefault("arms", []).append(f"A trial is a small batch: at most {MAX_TOTAL_UNITS:,} units in all.")
    if mode == TrialMode.LIVE and demand:
        errors["demand"] = ["A live trial's sales come only from real sales events: leave the demand model out."]
    if mode == TrialMode.SIMULATED:
        if not demand:
            errors["demand"] = ["A simulated trial needs a demand model with at least base_daily."]
        else:
            try:
                demand = DemandModel.from_dict(demand, default_reference=arms[0]["unit_price"] if arms else None).as_dict()
            except KeyError:
                errors["demand"] = ["base_daily is required."]
            except (TypeError, ValueError) as exc:
                errors["demand"] = [f"Invalid demand model: {exc}"]
    if payment not in ("deposit", "credit"):
        errors["payment"] = ["Pay by deposit or credit."]
    if errors:
        raise TrialInvalid(errors)
    return {"window_days": int(window_days), "scale_at": scale_at, "kill_below": kill_below, "arms": arms,
            "demand": demand if mode == TrialMode.SIMULATED else None}


def _arms_create(trial: Trial, arms: list[dict]) -> None:
    TrialArm.objects.bulk_create([
        TrialArm(trial=trial, label=arm["label"], unit_price=arm["unit_price"], units=arm["units"], position=i)
        for i, arm in enumerate(arms)
    ])


@transaction.atomic
def trial_create(
    *, organization, created_by, name: str, kit, mode: str, window_days: int, scale_at: Decimal,
    kill_below: Decimal, arms: list[dict], demand: dict | None = None, payment: str = "deposit",
) -> Trial:
    """A draft trial. `arms` is [{"label", "unit_price", "units"}]; `demand` the demand model
    (simulated trials only; `base_daily` required)."""
    plan = _validated_plan(organization=organization, kit=kit, mode=mode, window_days=window_days, scale_at=scale_at,
                           kill_below=kill_below, arms=arms, demand=demand, payment=payment)
    trial = Trial.objects.create(
        organization=organization, created_by=created_by, name=name.strip() or "Untitled trial", kit=kit, mode=mode,
        window_days=plan["window_days"], scale_at=plan["scale_at"], kill_below=plan["kill_below"],
        currency=kit.currency, demand=plan["demand"], payment=payment,
    )
    _arms_create(trial, plan["arms"])
    return trial


EDITABLE = {"name", "window_days", "scale_at", "kill_below", "arms", "demand"}


@transaction.atomic
def trial_update(*, trial: Trial, **changes) -> Trial:
    """Edit a draft: name, window_days, scale_at, kill_below, arms (replaced as a whole), demand.
    Once started, all of it is frozen (409): the verdict is judged against the targets set before
    the first sale."""
    trial = _locked(trial.pk)
    if trial.status != TrialStatus.DRAFT:
        raise TrialNotInState("A started trial's targets and arms are frozen; only drafts can be edited.")
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TrialInvalid({name: ["This field cannot be changed."] for name in sorted(unknown)})
    arms = changes.get("arms") or [{"label": a.label, "unit_price": a.unit_price, "units": a.units}
                                   for a in TrialArm.objects.filter(trial=trial).order_by("position", "id")]
    plan = _validated_plan(
        organization=trial.organization, kit=trial.kit, mode=trial.mode,
        window_days=changes.get("window_days", trial.window_days), scale_at=changes.get("scale_at", trial.scale_at),
        kill_below=changes.get("kill_below", trial.kill_below), arms=arms, demand=changes.get("demand", trial.demand),
        payment=trial.payment,
    )
    trial.name = (changes.get("name") or trial.name).strip()
    trial.window_days, trial.scale_at, trial.kill_below = plan["window_days"], plan["scale_at"], plan["kill_below"]
    trial.demand = plan["demand"]
    trial.save(update_fields=["name", "window_days", "scale_at", "kill_below", "demand", "updated_at"])
    if "arms" in changes:
        TrialArm.objects.filter(trial=trial).delete()
        _arms_create(trial, plan["arms"])
    return trial


def _enqueue_run(trial: Trial) -> None:
    # In the outbox, in trial_start's transaction: a broker outage cannot lose the run.
    outbox_enqueue(TRIAL_RUN_TASK, args=[trial.pk], task_id=trial.task_id)


START_FORECAST_PATHS = 2_000


def _forecast_for(trial: Trial, *, demand: dict, paths: int) -> dict:
    """The forecast of a draft with its current arms and targets, under the prior it would start with."""
    from trials.selectors.reports import trial_forecast

    arms = [{"label": a.label, "unit_price": a.unit_price, "units": a.units}
            for a in TrialArm.objects.filter(trial=trial).order_by("position", "id")]
    prior = trial_prior(organization=trial.organization, kit=trial.kit, mode=trial.mode, exclude_trial_id=trial.pk)
    return trial_forecast(arms=arms, demand=demand, window_days=trial.window_days, scale_at=trial.scale_at,
                          kill_below=trial.kill_below, paths=paths, prior=prior)


@transaction.atomic
def trial_forecast_record(*, trial: Trial, demand: dict, paths: int = 10_000) -> dict:
    """Forecast a draft and keep the forecast on it: the last forecast before the start is scored
    against the outcome when the trial closes (the funnel's calibration)."""
    trial = _locked(trial.pk)
    if trial.status != TrialStatus.DRAFT:
        raise TrialNotInState("Only a draft is forecast: a started trial is judged by what it sells.")
    forecast = _forecast_for(trial, demand=demand, paths=paths)
    trial.forecast = forecast
    trial.save(update_fields=["forecast", "updated_at"])
    return forecast


@transaction.atomic
def trial_start(*, trial: Trial, enqueue: bool = True) -> Trial:
    """Freeze the targets and queue the run; the worker picks it up after this commits.
    `enqueue=False` is for callers that run the trial in-process (demo data, the shell command)."""
    from marketplace.kits.services import kit_freeze

    trial = _locked(trial.pk)
    if trial.status != TrialStatus.DRAFT:
        raise TrialNotInState(f"Only a draft can be started; this trial is {trial.get_status_display().lower()}.")
    kit_freeze(kit=trial.kit)
    trial.status = TrialStatus.PROCURING
    trial.started_at = timezone.now()
    trial.progress = 0.02
    trial.task_id = str(uuid.uuid4())
    # The prior is frozen with the targets: later closures must not move this trial's verdict.
    trial.prior = trial_prior(organization=trial.organization, kit=trial.kit, mode=trial.mode,
                              exclude_trial_id=trial.pk).as_dict()
    if trial.simulated and not trial.forecast:
        # A simulated trial knows its demand model, so it always has a forecast to be scored against.
        trial.forecast = _forecast_for(trial, demand=trial.demand, paths=START_FORECAST_PATHS)
    trial.save(update_fields=["status", "started_at", "progress", "task_id", "prior", "forecast", "updated_at"])
    if enqueue:
        _enqueue_run(trial)
    return trial


def _fail(trial: Trial, reason: str) -> Trial:
    trial.status = TrialStatus.FAILED
    trial.failure_reason = reason
    trial.closed_at = timezone.now()
    trial.save(update_fields=["status", "failure_reason", "closed_at", "updated_at"])
    return trial


@transaction.atomic
def trial_fail(*, trial_id: int, reason: str) -> Trial:
    trial = _locked(trial_id)
    if trial.status in (TrialStatus.CLOSED, TrialStatus.FAILED):
        return trial
    return _fail(trial, reason)


@transaction.atomic
def trial_procure(*, trial_id: int) -> Trial:
    """Quote the kit at the whole batch. Simulated: stock arrives at once, no order, no money.
    Live: place the order (the credit app takes the deposit or draws the line); stock counts as
    received when the order is delivered (trial_refresh)."""
    from marketplace.orders.services import order_place
    from marketplace.sourcing.quotes import quote_create

    trial = _locked(trial_id)
    if trial.status != TrialStatus.PROCURING or trial.order_id:
        return trial  # done already (a redelivered task) or not ours to do
    arms = _locked_arms(trial)
    total = sum(arm.units for arm in arms)
    try:
        with transaction.atomic():  # a savepoint: a refused quote leaves nothing behind
            quote = quote_create(organization=trial.organization, kit=trial.kit, quantity=total, created_by=trial.created_by)
    except (ValidationError, StateConflict) as exc:
        return _fail(trial, f"The kit could not be quoted at {total} units: {error_text(exc)}")
    trial.quote = quote
    trial.currency = quote.currency
    fields = ["quote", "currency", "cash_deployed", "progress", "updated_at"]
    if trial.simulated:
        for arm in arms:
            arm.units_received = arm.units
        TrialArm.objects.bulk_update(arms, ["units_received"])
        trial.cash_deployed = quote.total  # what the batch would cost; nothing is paid
        trial.status = TrialStatus.SELLING
        trial.selling_started_at = timezone.now()
        fields += ["status", "selling_started_at"]
    else:
        short = [line.part.mpn for line in quote.lines.select_related("part") if line.shortfall]
        if short:
            return _fail(trial, f"The market cannot supply {total} units now; short of {', '.join(short[:5])}.")
        try:
            with transaction.atomic():
                order = order_place(buyer=trial.organization, placed_by=trial.created_by, payment=trial.payment, quote=quote)
        except (ValidationError, StateConflict) as exc:
            return _fail(trial, f"The order could not be placed: {error_text(exc)}")
        trial.order = order
        trial.cash_deployed = order.total
        fields.append("order")
    trial.progress = 0.1
    trial.save(update_fields=fields)
    return trial


@transaction.atomic
def trial_simulate_days(*, trial_id: int, days: int = SIM_CHUNK_DAYS) -> Trial:
    """Play the next `days` of a simulated trial's window. Each day's demand is seeded by
    (seed, arm, day), so replaying a day after a crash draws the same numbers, and the
    (arm, day) unique constraint refuses a second copy."""
    trial = _locked(trial_id)
    if trial.status != TrialStatus.SELLING or not trial.simulated or trial.sim_day >= trial.window_days:
        return trial
    arms = _locked_arms(trial)
    model = DemandModel.from_dict(trial.demand, default_reference=arms[0].unit_price)
    first, last = trial.sim_day + 1, min(trial.sim_day + days, trial.window_days)
    metrics = []
    for index, arm in enumerate(arms):
        on_hand, sold_now = arm.on_hand, 0
        for day in range(first, last + 1):
            demand = model.day_demand(price=arm.unit_price, arm_index=index, day=day)
            sold = min(demand, on_hand)
            on_hand -= sold
            sold_now += sold
            metrics.append(DailyMetric(trial=trial, arm=arm, day=day, sold=sold, on_hand=on_hand, demand=demand))
        arm.units_sold += sold_now
        arm.revenue += arm.unit_price * sold_now
    DailyMetric.objects.bulk_create(metrics)
    TrialArm.objects.bulk_update(arms, ["units_sold", "revenue"])
    trial.sim_day = last
    trial.cash_recovered = sum((arm.revenue for arm in arms), Decimal(0))
    trial.progress = round(0.1 + 0.85 * last / trial.window_days, 4)
    trial.save(update_fields=["sim_day", "cash_recovered", "progress", "updated_at"])
    return trial


def _rebuild_live_metrics(trial: Trial, arms: list[TrialArm], now: datetime) -> None:
    """Live trials: daily sold and on-hand from the recorded sales events, day 1 = the day the
    stock arrived; recomputed from scratch so a refresh is idempotent."""
    elapsed = max(1, min(trial.window_days, math.ceil((now - trial.selling_started_at) / timedelta(days=1))))
    sold = {(arm.pk, day): 0 for arm in arms for day in range(1, elapsed + 1)}
    for arm_id, sold_at, units in SalesEvent.objects.filter(trial=trial).values_list("arm_id", "sold_at", "units"):
        day = min(elapsed, max(1, (sold_at - trial.selling_started_at) // timedelta(days=1) + 1))
        sold[(arm_id, day)] += units
    DailyMetric.objects.filter(trial=trial).delete()
    rows = []
    for arm in arms:
        on_hand = arm.units_received
        for day in range(1, elapsed + 1):
            on_hand -= sold[(arm.pk, day)]
            rows.append(DailyMetric(trial=trial, arm=arm, day=day, sold=sold[(arm.pk, day)], on_hand=max(on_hand, 0)))
    DailyMetric.objects.bulk_create(rows)


@transaction.atomic
def trial_close(*, trial_id: int, now: datetime | None = None) -> Trial:
    """Judge the trial and close it, once: the verdict, its reason and the report are frozen, and
    the webhooks are queued in the same transaction."""
    now = now or timezone.now()
    trial = _locked(trial_id)
    if trial.status != TrialStatus.SELLING:
        return trial
    if trial.simulated and trial.sim_day < trial.window_days:
        return trial
    if not trial.simulated and now < trial.ends_at:
        return trial
    arms = _locked_arms(trial)
    if not trial.simulated:
        _rebuild_live_metrics(trial, arms, now)
    return _close(trial, arms, now)


def _close(trial: Trial, arms: list[TrialArm], now: datetime, early: dict | None = None) -> Trial:
    """Judge, freeze the report, score the forecast and queue the webhooks (trial and arms locked)."""
    from trials.science import score_forecast
    from trials.selectors import trial_report_build
    from trials.services.webhooks import webhooks_enqueue_verdict

    report = trial_report_build(trial=trial, arms=arms, final=True, early=early)
    trial.report = report
    trial.verdict = report["verdict"]
    trial.verdict_reason = report["reason"]
    trial.best_arm = report["best_arm"] or ""
    trial.status = TrialStatus.CLOSED
    trial.closed_at = now
    trial.progress = 1.0
    # Simulated trials run on a simulated clock: their verdict comes after the window's days.
    trial.days_to_verdict = trial.window_days if trial.simulated else max(0, (now - trial.started_at).days)
    trial.stopped_early = bool(early)
    if trial.forecast:
        trial.calibration = score_forecast(forecast_arms=trial.forecast["arms"], outcome_arms=report["arms"])
    trial.save(update_fields=["report", "verdict", "verdict_reason", "best_arm", "status", "closed_at", "progress",
                              "days_to_verdict", "stopped_early", "calibration", "updated_at"])
    webhooks_enqueue_verdict(trial=trial)
    return trial


def trial_run(*, trial_id: int, on_progress: Callable[[Trial], None] | None = None) -> Trial:
    """The worker's whole run: procure, then for a simulated trial play the window and close.
    A live trial stops after procuring; the beat's refresh receives its stock and closes it."""
    trial = trial_procure(trial_id=trial_id)
    if on_progress:
        on_progress(trial)
    pause = sim_day_seconds()
    while trial.simulated and trial.status == TrialStatus.SELLING and trial.sim_day < trial.window_days:
        trial = trial_simulate_days(trial_id=trial_id)
        if on_progress:
            on_progress(trial)
        if pause:
            time.sleep(pause * SIM_CHUNK_DAYS)
    if trial.simulated and trial.status == TrialStatus.SELLING:
        trial = trial_close(trial_id=trial_id)
        if on_progress:
            on_progress(trial)
    return trial


@transaction.atomic
def _receive_live_stock(*, trial_id: int, now: datetime) -> Trial:
    from marketplace.models import OrderStatus

    trial = _locked(trial_id)
    if trial.status != TrialStatus.PROCURING or trial.simulated or not trial.order_id:
        return trial
    status = trial.order.status
    if status == OrderStatus.CANCELLED:
        return _fail(trial, "The trial's order was cancelled, so no stock arrived.")
    if status != OrderStatus.DELIVERED:
        return trial
    arms = _locked_arms(trial)
    for arm in arms:
        arm.units_received = arm.units
    TrialArm.objects.bulk_update(arms, ["units_received"])
    trial.status = TrialStatus.SELLING
    trial.selling_started_at = now
    trial.ends_at = now + timedelta(days=trial.window_days)
    trial.progress = 0.1
    trial.save(update_fields=["status", "selling_started_at", "ends_at", "progress", "updated_at"])
    return trial


@transaction.atomic
def _refresh_live_metrics(*, trial_id: int, now: datetime) -> Trial:
    trial = _locked(trial_id)
    if trial.status != TrialStatus.SELLING or trial.simulated:
        return trial
    _rebuild_live_metrics(trial, _locked_arms(trial), now)
    elapsed = (now - trial.selling_started_at) / timedelta(days=trial.window_days)
    trial.progress = round(min(0.99, 0.1 + 0.89 * elapsed), 4)
    trial.save(update_fields=["progress", "updated_at"])
    return trial


def trial_refresh(*, trial_id: int, now: datetime | None = None) -> Trial:
    """What the beat does for one open trial. Live: receive delivered stock, refresh the daily
    metrics, close at the window's end. Simulated: a run that stopped (its task lost) is re-sent."""
    now = now or timezone.now()
    trial = Trial.objects.get(pk=trial_id)
    if trial.simulated:
        if trial.is_open and trial.updated_at < now - STUCK_AFTER:
            with transaction.atomic():
                outbox_enqueue(TRIAL_RUN_TASK, args=[trial.pk], task_id=trial.task_id or None)
        return trial
    trial = _receive_live_stock(trial_id=trial_id, now=now)
    if trial.status == TrialStatus.SELLING:
        trial = _refresh_live_metrics(trial_id=trial_id, now=now)
        if now >= trial.ends_at:
            trial = trial_close(trial_id=trial_id, now=now)
    return trial


def trial_refresh_open(*, now: datetime | None = None) -> int:
    """Refresh every open trial, each in its own transactions. Returns how many were looked at."""
    ids = list(Trial.objects.filter(status__in=OPEN_STATUSES).order_by("pk").values_list("pk", flat=True))
    for trial_id in ids:
        trial_refresh(trial_id=trial_id, now=now)
    return len(ids)


def reorder_quantity(report: dict) -> int:
    """The report's reorder size (demand over the horizon at the service level, see
    trials.selectors.reports._reorder). Reports frozen before that existed: two windows of the
    winning arm's estimated demand, at least twice the trial's batch, in fifties."""
    if (report.get("reorder") or {}).get("quantity"):
        return int(report["reorder"]["quantity"])
    total = sum(arm["units_received"] for arm in report["arms"])
    best = next((arm for arm in report["arms"] if arm["label"] == report.get("best_arm")), None)
    demand = best["estimated_window_demand"] * 2 if best else 0
    return int(math.ceil(max(2 * total, demand) / 50) * 50)


@transaction.atomic
def trial_reorder_quote(*, trial: Trial, user=None, quantity: int | None = None):
    """One click after a scale verdict: a quote for a larger batch of the same kit revision."""
    from marketplace.sourcing.quotes import quote_create

    trial = _locked(trial.pk)
    if trial.status != TrialStatus.CLOSED or trial.verdict != TrialVerdict.SCALE:
        raise TrialNotInState("Only a trial with a scale verdict offers a reorder quote.")
    quantity = quantity or reorder_quantity(trial.report)
    quote = quote_create(organization=trial.organization, kit=trial.kit, quantity=quantity, created_by=user)
    trial.reorder_quote = quote
    trial.save(update_fields=["reorder_quote", "updated_at"])
    return quote


MAX_RESTOCK_UNITS = 100_000


@transaction.atomic
def trial_restock_split(*, trial: Trial, units: int, user=None):
    """Split a restock of `units` across a selling trial's arms by Thompson sampling on the
    posterior margin per stocked unit (trials.science.thompson_split), and record it as a decision
    with its reason. Arms that earn more get more stock; uncertain ones still get some, so the
    comparison keeps learning. The draws are seeded by (trial, decision number): reproducible."""
    from trials.models import TrialDecision
    from trials.science import thompson_split
    from trials.verdict import money

    trial = _locked(trial.pk)
    if trial.status != TrialStatus.SELLING:
        raise TrialNotInState("A restock is split between the arms of a selling trial.")
    if not 1 <= int(units) <= MAX_RESTOCK_UNITS:
        raise TrialInvalid({"units": [f"Restock 1 to {MAX_RESTOCK_UNITS:,} units."]})
    arms = _locked_arms(trial)
    prior = trial.prior or {"alpha": 1.0, "beta": 1.0, "source": "uniform"}
    unit_cost = trial.quote.unit_cost if trial.quote_id else Decimal("0")
    rows = [{"alpha": float(prior["alpha"]), "beta": float(prior["beta"]), "sold": arm.units_sold,
             "received": arm.units_received, "price": float(arm.unit_price), "unit_cost": float(unit_cost)} for arm in arms]
    number = TrialDecision.objects.filter(trial=trial).count() + 1
    split = thompson_split(units=int(units), arms=rows, draws_seed=trial.pk * 10_000 + number)
    parts = []
    for arm, row, share in zip(arms, rows, split):
        mean = (row["alpha"] + row["sold"]) / (row["alpha"] + row["beta"] + row["received"])
        margin = Decimal(str(round(float(arm.unit_price) * mean - float(unit_cost), 2)))
        parts.append(f"“{arm.label}” {share} (sold {arm.units_sold} of {arm.units_received}, posterior mean "
                     f"sell-through {mean:.0%}, expected margin {money(margin, trial.currency)} per stocked unit)")
    reason = (f"Split {int(units):,} units by Thompson sampling: each unit went to the arm with the best draw of "
              f"price × sell-through − unit cost, sell-through drawn from its Beta posterior (prior: "
              f"{prior['source']}). " + "; ".join(parts) + ".")
    return TrialDecision.objects.create(
        trial=trial, kind=TrialDecision.Kind.RESTOCK_SPLIT, created_by=user, reason=reason,
        payload={"units": int(units), "seed": trial.pk * 10_000 + number,
                 "allocation": [{"label": arm.label, "units": share} for arm, share in zip(arms, split)]},
    )
