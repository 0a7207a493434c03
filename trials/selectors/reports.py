"""Reports, funnel and forecast: numbers for the API, the pages and the CSV export."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum

from credit.fx import totals_in
from trials.demand import ArmPlan, DemandModel, forecast
from trials.models import DailyMetric, Trial, TrialArm, TrialStatus, TrialVerdict
from trials.science import (
    REORDER_SERVICE_LEVEL, UNIFORM, Prior, demand_estimate, demand_quantile, empirical_prior, reliability_bins,
)
from trials.verdict import CENTS, judge_arm, judge_trial


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def trial_prior(*, organization, kit, mode: str, exclude_trial_id: int | None = None) -> Prior:
    """The empirical-Bayes prior for a new trial of `kit`: fitted to the closed trials of the same
    mode (simulated trials never feed live priors, nor live ones simulated priors) in the kit's
    category, the organisation's own first, then the platform's; uniform when both are too few."""
    category = kit.category or ""
    base = (TrialArm.objects.filter(trial__status=TrialStatus.CLOSED, trial__mode=mode,
                                    trial__kit__category=category, units_received__gt=0)
            .exclude(trial_id=exclude_trial_id).order_by())
    where = f"in “{category}”" if category else "without a category"
    kind = "live" if mode == Trial.Mode.LIVE else "simulated"
    pools = [
        (f"the organisation's closed {kind} trials {where}",
         list(base.filter(trial__organization=organization).values_list("trial_id", "units_sold", "units_received"))),
        (f"the platform's closed {kind} trials {where}",
         list(base.values_list("trial_id", "units_sold", "units_received"))),
    ]
    return empirical_prior(pools)


def _trial_prior_of(trial: Trial) -> Prior:
    if trial.prior:
        return Prior(float(trial.prior["alpha"]), float(trial.prior["beta"]), trial.prior["source"],
                     trial.prior.get("trials_needed", 0), trial.prior.get("note", ""))
    return UNIFORM


def _reorder(trial: Trial, best_label: str | None, judgements, daily: dict, arms: list[TrialArm]) -> dict:
    """The reorder after a scale verdict: the service-level quantile of the winning arm's demand over
    the horizon (one more window), from its censoring-aware demand posterior. Arms at the same price
    sell the same product at the same price, so their days are pooled: a 10-unit arm that sold out
    on day 1 says little about how much more it could sell; a 300-unit arm beside it says a lot."""
    horizon = trial.window_days
    best_arm = next((arm for arm in arms if arm.label == best_label), None)
    if best_arm is None or not daily[best_arm.pk]:
        return {"quantity": None, "horizon_days": horizon, "service_level": REORDER_SERVICE_LEVEL, "why": "",
                "suggested_quantity": None}
    twins = [arm for arm in arms if arm.pk != best_arm.pk and arm.unit_price == best_arm.unit_price]
    estimate = demand_estimate(daily[best_arm.pk], best_arm.units_received,
                               pooled=[(daily[arm.pk], arm.units_received) for arm in twins], window_days=horizon)
    best = next(j for j in judgements if j.label == best_label)
    quantity = max(1, demand_quantile(estimate, horizon_days=horizon))
    pooled = (f" pooled with {', '.join(f'“{arm.label}”' for arm in twins)} at the same price" if twins else "")
    why = (f"“{best.label}” at {best.unit_price}{pooled}: demand {estimate.daily_mean:.2f}/day (p10–p90 "
           f"{estimate.p10:.2f}–{estimate.p90:.2f}) from {best.units_sold} sold"
           f"{' before it sold out (censored: demand was at least that)' if estimate.censored else ''}; "
           f"{quantity:,} units cover the next {horizon} days' demand with {REORDER_SERVICE_LEVEL:.0%} probability.")
    if estimate.observed_days < 3:
        why += (" Few days with stock left bound the demand from above, so this is rough: a second trial with a "
                "larger batch would pin it down.")
    return {"quantity": quantity, "horizon_days": horizon, "service_level": REORDER_SERVICE_LEVEL, "why": why,
            "suggested_quantity": quantity}


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


def trial_report_build(*, trial: Trial, arms: list[TrialArm] | None = None, final: bool = False,
                       early: dict | None = None) -> dict:
    """Judge every arm from its daily metrics. `final` at close; otherwise an interim view whose
    verdicts are left out (a half-run window is not evidence of a kill). `early` ({label: verdict
    settled by the sequential rule}) when a live trial stops before its window's end."""
    arms = arms if arms is not None else list(TrialArm.objects.filter(trial=trial).order_by("position", "id"))
    daily = defaultdict(list)
    for arm_id, sold in DailyMetric.objects.filter(trial=trial).order_by("arm_id", "day").values_list("arm_id", "sold"):
        daily[arm_id].append(sold)
    unit_cost = trial.quote.unit_cost if trial.quote_id else Decimal("0")
    scale_at, kill_below = float(trial.scale_at), float(trial.kill_below)
    prior = _trial_prior_of(trial)
    judgements = [
        judge_arm(
            label=arm.label, unit_price=arm.unit_price, unit_cost=unit_cost, units_received=arm.units_received,
            daily_sold=daily[arm.pk], window_days=trial.window_days, scale_at=scale_at, kill_below=kill_below,
            currency=trial.currency, revenue=arm.revenue, prior_alpha=prior.alpha, prior_beta=prior.beta,
            settled=(early or {}).get(arm.label),
        )
        for arm in arms
    ]
    estimates = {arm.label: demand_estimate(daily[arm.pk], arm.units_received, window_days=trial.window_days)
                 for arm in arms}
    verdict, reason, best = judge_trial(judgements, currency=trial.currency) if final else (None, "", None)
    sequential = (trial.sequential or {}).get("arms", {})
    arm_rows = []
    for judgement in judgements:
        row = judgement.as_dict()
        row["prior"] = prior.as_dict()
        row["demand_estimate"] = estimates[judgement.label].as_dict()
        if judgement.label in sequential:
            row["sequential"] = {k: v for k, v in sequential[judgement.label].items() if k != "daily"}
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
    report["prior"] = prior.as_dict()
    report["stopped_early"] = bool(early)
    report["reorder"] = _reorder(trial, best if verdict == TrialVerdict.SCALE else None, judgements, daily, arms)
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


def trial_calibration(*, trials) -> dict:
    """How far the forecasts deserve trust: every closed trial that had a forecast before it started
    was scored at close (trials.science.score_forecast); this pools the arms' scores."""
    rows = [arm for calibration in trials.filter(status=TrialStatus.CLOSED, calibration__isnull=False)
            .values_list("calibration", flat=True) for arm in (calibration or {}).get("arms", [])]
    scored = trials.filter(status=TrialStatus.CLOSED, calibration__isnull=False).count()

    def mean(values):
        values = list(values)
        return round(sum(values) / len(values), 4) if values else None

    return {
        "forecasts_scored": scored,
        "arms_scored": len(rows),
        "p10_p90_coverage": mean(1.0 if row["covered"] else 0.0 for row in rows),
        "brier_scale": mean(row["brier_scale"] for row in rows),
        "brier_kill": mean(row["brier_kill"] for row in rows),
        "reliability": {
            "scale": reliability_bins([(row["p_scale"], row["scaled"]) for row in rows]),
            "kill": reliability_bins([(row["p_kill"], row["killed"]) for row in rows]),
        },
    }


def trial_funnel(*, organization, simulated: bool = False) -> dict:
    """The organisation's live trials (or simulated ones: never mixed, so simulated cash is never
    counted as deployed) by stage and verdict, hit rate (scale ÷ judged), median days from start to
    verdict, cash deployed and recovered (per currency), and the forecasts' calibration."""
    everything = Trial.objects.filter(organization=organization)
    by_mode = dict(everything.values_list("mode").annotate(n=Count("id")).order_by())
    qs = everything.filter(mode=Trial.Mode.SIMULATED if simulated else Trial.Mode.LIVE)
    by_status = dict(qs.values_list("status").annotate(n=Count("id")).order_by())
    by_verdict = dict(qs.filter(status=TrialStatus.CLOSED).values_list("verdict").annotate(n=Count("id")).order_by())
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
        # Every currency's cash in CNY at today's rates (credit.fx), so trials in USD and CNY add up.
        "cash_total": totals_in(cash, "CNY", ("deployed", "recovered")),
        "calibration": trial_calibration(trials=qs),
    }


def trial_forecast(
    *, arms: list[dict], demand: dict, window_days: int, scale_at, kill_below, paths: int = 10_000,
    prior: Prior = UNIFORM,
) -> dict:
    """Monte Carlo over the demand model before any money is committed. Always a forecast. P(scale)
    and P(kill) are those of the verdict rule under `prior` (the one the trial would start with)."""
    model = DemandModel.from_dict(demand, default_reference=arms[0]["unit_price"])
    plans = [ArmPlan(arm["label"], Decimal(arm["unit_price"]), int(arm["units"])) for arm in arms]
    results = forecast(model=model, arms=plans, window_days=window_days, scale_at=float(scale_at),
                       kill_below=float(kill_below), paths=paths, prior_alpha=prior.alpha, prior_beta=prior.beta)
    return _jsonable({
        "prior": prior.as_dict(),
        "forecast": True, "simulated": True, "paths": paths, "window_days": window_days,
        "targets": {"scale_at": str(scale_at), "kill_below": str(kill_below)},
        "demand": model.as_dict(), "arms": results,
        "note": "A forecast from the demand model, not a result: no stock was bought and nothing was sold.",
    })
