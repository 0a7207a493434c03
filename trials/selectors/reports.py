"""Reports, funnel and forecast: numbers for the API, the pages and the CSV export."""

from __future__ import annotations

import statistics
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum

from trials.demand import ArmPlan, DemandModel, forecast
from trials.models import DailyMetric, Trial, TrialArm, TrialStatus, TrialVerdict
from trials.verdict import CENTS, judge_arm, judge_trial


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def trial_report_build(*, trial: Trial, arms: list[TrialArm] | None = None, final: bool = False) -> dict:
    """Judge every arm from its daily metrics. `final` at close; otherwise an interim view whose
    verdicts are left out (a half-run window is not evidence of a kill)."""
    from trials.services.lifecycle import reorder_quantity

    arms = arms if arms is not None else list(TrialArm.objects.filter(trial=trial).order_by("position", "id"))
    daily = defaultdict(list)
    for arm_id, sold in DailyMetric.objects.filter(trial=trial).order_by("arm_id", "day").values_list("arm_id", "sold"):
        daily[arm_id].append(sold)
    unit_cost = trial.quote.unit_cost if trial.quote_id else Decimal("0")
    scale_at, kill_below = float(trial.scale_at), float(trial.kill_below)
    judgements = [
        judge_arm(
            label=arm.label, unit_price=arm.unit_price, unit_cost=unit_cost, units_received=arm.units_received,
            daily_sold=daily[arm.pk], window_days=trial.window_days, scale_at=scale_at, kill_below=kill_below,
            currency=trial.currency, revenue=arm.revenue,
        )
        for arm in arms
    ]
    verdict, reason, best = judge_trial(judgements, currency=trial.currency) if final else (None, "", None)
    arm_rows = []
    for judgement in judgements:
        row = judgement.as_dict()
        if not final:
            # Mid-window the posterior would judge a half-run window as if it were over: show the
            # pace instead (the in-stock rate over the whole window), and no probabilities.
            row["verdict"], row["reason"] = None, ""
            row["p_reach_scale"] = row["p_below_kill"] = None
            n = judgement.units_received
            row["projected_sell_through"] = (
                round(min(1.0, judgement.demand_per_in_stock_day * trial.window_days / n), 4) if n else None)
        arm_rows.append(row)
    report = {
        "trial": trial.pk, "name": trial.name, "simulated": trial.simulated, "mode": trial.mode,
        "final": final, "verdict": verdict, "reason": reason, "best_arm": best,
        "currency": trial.currency, "window_days": trial.window_days,
        "days_observed": max((j.days_observed for j in judgements), default=0),
        "targets": {"scale_at": str(trial.scale_at), "kill_below": str(trial.kill_below)},
        "unit_cost": unit_cost,
        "arms": arm_rows,
        "cash": {"deployed": trial.cash_deployed, "recovered": sum((a.revenue for a in arms), Decimal(0)),
                 "currency": trial.currency},
    }
    report["reorder"] = {"suggested_quantity": reorder_quantity(report) if verdict == TrialVerdict.SCALE else None}
    return _jsonable(report)


def trial_report(*, trial: Trial) -> dict:
    """The frozen report of a closed trial, or an interim one; with the live fields that change
    after closing (the reorder quote)."""
    report = dict(trial.report) if trial.report else trial_report_build(trial=trial, final=False)
    report["status"] = trial.status
    report["failure_reason"] = trial.failure_reason
    report["reorder"] = {**report.get("reorder", {}), "quote": trial.reorder_quote_id}
    return report


def trial_report_csv_rows(*, trial: Trial):
    """Header then one row per arm and day (the CSV export)."""
    yield ["trial", "simulated", "arm", "unit_price", "day", "sold", "on_hand", "demand_simulated"]
    rows = (DailyMetric.objects.filter(trial=trial).select_related("arm").order_by("arm__position", "arm_id", "day"))
    for metric in rows:
        yield [trial.pk, "true" if trial.simulated else "false", metric.arm.label, str(metric.arm.unit_price),
               metric.day, metric.sold, metric.on_hand, "" if metric.demand is None else metric.demand]


def trial_funnel(*, organization, simulated: bool | None = None) -> dict:
    """All of the organisation's trials by stage and verdict, hit rate (scale ÷ judged), median
    days from start to verdict, cash deployed and recovered (per currency)."""
    qs = Trial.objects.filter(organization=organization)
    if simulated is not None:
        qs = qs.filter(mode=Trial.Mode.SIMULATED if simulated else Trial.Mode.LIVE)
    by_status = dict(qs.values_list("status").annotate(n=Count("id")).order_by())
    by_verdict = dict(qs.filter(status=TrialStatus.CLOSED).values_list("verdict").annotate(n=Count("id")).order_by())
    by_mode = dict(qs.values_list("mode").annotate(n=Count("id")).order_by())
    judged = sum(by_verdict.values())
    days = sorted(qs.filter(status=TrialStatus.CLOSED, days_to_verdict__isnull=False).values_list("days_to_verdict", flat=True))
    cash = [
        # SQLite sums decimals loosely: round once, here, at the edge.
        {"currency": row["currency"], "deployed": str(Decimal(row["deployed"] or 0).quantize(CENTS)),
         "recovered": str(Decimal(row["recovered"] or 0).quantize(CENTS))}
        for row in qs.exclude(status=TrialStatus.DRAFT).values("currency")
        .annotate(deployed=Sum("cash_deployed"), recovered=Sum("cash_recovered")).order_by("currency")
    ]
    started = sum(n for status, n in by_status.items() if status != TrialStatus.DRAFT)
    scale = by_verdict.get(TrialVerdict.SCALE, 0)
    return {
        "simulated": simulated,
        "trials": sum(by_status.values()),
        "by_mode": {"simulated": by_mode.get("simulated", 0), "live": by_mode.get("live", 0)},
        "stages": {
            "draft": by_status.get(TrialStatus.DRAFT, 0),
            "started": started,
            "open": by_status.get(TrialStatus.PROCURING, 0) + by_status.get(TrialStatus.SELLING, 0),
            "failed": by_status.get(TrialStatus.FAILED, 0),
            "judged": judged,
        },
        "by_verdict": {v: by_verdict.get(v, 0) for v in TrialVerdict.values},
        "hit_rate": round(scale / judged, 4) if judged else None,
        "median_days_to_verdict": float(statistics.median(days)) if days else None,
        "cash": cash,
    }


def trial_forecast(
    *, arms: list[dict], demand: dict, window_days: int, scale_at, kill_below, paths: int = 10_000,
) -> dict:
    """Monte Carlo over the demand model before any money is committed. Always a forecast."""
    model = DemandModel.from_dict(demand, default_reference=arms[0]["unit_price"])
    plans = [ArmPlan(arm["label"], Decimal(arm["unit_price"]), int(arm["units"])) for arm in arms]
    results = forecast(model=model, arms=plans, window_days=window_days, scale_at=float(scale_at),
                       kill_below=float(kill_below), paths=paths)
    return _jsonable({
        "forecast": True, "simulated": True, "paths": paths, "window_days": window_days,
        "targets": {"scale_at": str(scale_at), "kill_below": str(kill_below)},
        "demand": model.as_dict(), "arms": results,
        "note": "A forecast from the demand model, not a result: no stock was bought and nothing was sold.",
    })
