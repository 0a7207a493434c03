"""The financing a closed trial has earned: how much credit its pessimistic demand would repay, and
the week-by-week cash plan of its reorder with and without that credit (docs/trials.md, "Credit
the market has earned").

The rule, in one line: lend no more than the 10th percentile of the winning arm's demand over the
reorder's horizon would repay at the trial's price after the repayment share, nor more than the
reorder costs, nor more than the lender still wants to lend.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from credit.fx import convert
from credit.services.demand import Appetite, demand_appetites
from trials.models import DailyMetric, Trial, TrialArm, TrialStatus, TrialVerdict
from trials.science import DemandEstimate, demand_estimate, demand_quantile
from trials.selectors.reports import reorder_quantity

CENTS = Decimal("0.01")
ZERO = Decimal("0.00")
PESSIMISTIC_LEVEL = 0.1  # the demand quantile credit rests on
TERM_SLACK_DAYS = 14  # after the horizon, for the sales channels to pay out


@dataclass
class FinancingOffer:
    trial: int
    currency: str
    demand_p10: int = 0
    reorder_units: int = 0
    unit_price: Decimal = ZERO
    credit_limit: Decimal = ZERO
    repayment_share: Decimal = ZERO
    term_days: int = 0
    lender: str = ""
    lender_id: int | None = None
    reason: str = ""
    horizon_days: int = 0
    repayable: Decimal = ZERO  # what the p10 demand would repay, before the caps
    reorder_cost: Decimal | None = None
    reorder_cost_estimated: bool = False
    lender_room: Decimal | None = None
    simulated: bool = False
    quantiles: dict = field(default_factory=dict)  # horizon demand at p10 / p50 / p90

    def as_dict(self) -> dict:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Decimal):
                out[key] = str(value)
        return out


def _daily(trial: Trial) -> dict[int, list[int]]:
    daily: dict[int, list[int]] = defaultdict(list)
    for arm_id, sold in DailyMetric.objects.filter(trial=trial).order_by("arm_id", "day").values_list("arm_id", "sold"):
        daily[arm_id].append(sold)
    return daily


def best_arm_estimate(trial: Trial) -> tuple[TrialArm | None, DemandEstimate | None]:
    """The winning arm and its censoring-aware demand posterior, arms at the same price pooled
    (the same estimate the reorder size comes from)."""
    arms = list(TrialArm.objects.filter(trial=trial).order_by("position", "id"))
    best = next((arm for arm in arms if arm.label == trial.best_arm), None)
    if best is None:
        return None, None
    daily = _daily(trial)
    twins = [arm for arm in arms if arm.pk != best.pk and arm.unit_price == best.unit_price]
    estimate = demand_estimate(daily[best.pk], best.units_received,
                               pooled=[(daily[arm.pk], arm.units_received) for arm in twins], window_days=trial.window_days)
    return best, estimate


def _reorder_units(trial: Trial) -> int:
    if trial.reorder_quote_id:
        return trial.reorder_quote.quantity
    return reorder_quantity(trial.report or {"arms": []}) if trial.report else 0


def _reorder_cost(trial: Trial, units: int) -> tuple[Decimal | None, bool]:
    """(cost in the trial's currency, whether it is an estimate): the reorder quote's total, else
    the trial's own unit cost times the reorder (a small batch's unit cost: on the high side)."""
    if trial.reorder_quote_id:
        quote = trial.reorder_quote
        return convert(quote.total, quote.currency, trial.currency).quantize(CENTS, ROUND_HALF_EVEN), False
    if trial.quote_id:
        return (trial.quote.unit_cost * units).quantize(CENTS, ROUND_HALF_EVEN), True
    return None, True


def _vendor_ids(trial: Trial) -> list[int]:
    ids = {trial.kit.owner_id}
    if trial.reorder_quote_id:
        ids |= set(trial.reorder_quote.vendors.values_list("vendor_id", flat=True))
    return sorted(i for i in ids if i is not None)


def _money(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def trial_financing(*, trial: Trial) -> FinancingOffer:
    """The demand-backed credit offer of a closed trial (a zero limit, with the reason, otherwise)."""
    offer = FinancingOffer(trial=trial.pk, currency=trial.currency, simulated=trial.simulated,
                           horizon_days=trial.window_days)
    if trial.status != TrialStatus.CLOSED:
        offer.reason = (f"The trial is {trial.get_status_display().lower()}: credit is offered on the demand a closed "
                        "trial proved, after its verdict.")
        return offer
    if trial.verdict != TrialVerdict.SCALE:
        offer.reason = (f"Judged {trial.get_verdict_display().lower()}, not scale: no demand credit. "
                        f"{trial.verdict_reason}").strip()
        return offer
    best, estimate = best_arm_estimate(trial)
    if best is None or estimate is None or estimate.grid is None:
        offer.reason = "The winning arm has no sales days to estimate demand from: no demand credit."
        return offer
    horizon = int((trial.report or {}).get("reorder", {}).get("horizon_days") or trial.window_days)
    offer.horizon_days = horizon
    offer.quantiles = {f"p{int(level * 100)}": demand_quantile(estimate, horizon_days=horizon, level=level)
                       for level in (PESSIMISTIC_LEVEL, 0.5, 0.9)}
    offer.demand_p10 = offer.quantiles["p10"]
    offer.reorder_units = _reorder_units(trial)
    offer.unit_price = best.unit_price
    offer.reorder_cost, offer.reorder_cost_estimated = _reorder_cost(trial, offer.reorder_units)
    offer.term_days = min(365, horizon + TERM_SLACK_DAYS)

    appetites = demand_appetites(currency=trial.currency, supplier_ids=_vendor_ids(trial))
    usable = [a for a in appetites if a.room > 0 and (a.lends_on_simulated or not trial.simulated)]
    if not usable:
        why = ("no lender finances trials whose demand was simulated" if trial.simulated and any(a.room > 0 for a in appetites)
               else f"no lender has room for demand credit in {trial.currency} right now")
        offer.reason = f"Proven demand, but {why}."
        return offer
    lender: Appetite = max(usable, key=lambda a: (a.room, a.lender is None))  # ties go to the platform
    offer.lender, offer.lender_id = lender.name, lender.lender.pk if lender.lender is not None else None
    offer.repayment_share = lender.repayment_share
    offer.lender_room = lender.room
    sellable = min(offer.demand_p10, offer.reorder_units) if offer.reorder_units else offer.demand_p10
    offer.repayable = (Decimal(sellable) * best.unit_price * lender.repayment_share).quantize(CENTS, ROUND_DOWN)
    caps = [("what the p10 demand repays", offer.repayable), (f"{lender.name}'s room", lender.room)]
    if offer.reorder_cost is not None:
        caps.append(("the reorder's cost" + (" (estimated)" if offer.reorder_cost_estimated else ""), offer.reorder_cost))
    binding, limit = min(caps, key=lambda c: c[1])
    offer.credit_limit = max(ZERO, limit.quantize(CENTS, ROUND_DOWN))
    share = f"{lender.repayment_share * 100:g}%"
    offer.reason = (
        f"“{best.label}” at {_money(best.unit_price, trial.currency)}: in 9 of 10 futures it sells at least "
        f"{offer.demand_p10:,} units over the next {horizon} days"
        + (f" (capped at the reorder's {offer.reorder_units:,})" if offer.reorder_units and offer.reorder_units < offer.demand_p10 else "")
        + f"; {share} of their sales repays {_money(offer.repayable, trial.currency)}. "
        f"The limit is the least of that, the reorder's cost"
        + (f" ({_money(offer.reorder_cost, trial.currency)}{', estimated from the trial batch' if offer.reorder_cost_estimated else ''})"
           if offer.reorder_cost is not None else "")
        + f" and {lender.name}'s room ({_money(lender.room, trial.currency)}): here {binding}. "
        f"Repaid by {share} of each sale of the batch, due {offer.term_days} days after delivery."
        + (" The demand was simulated, not sold." if trial.simulated else "")
    )
    return offer


def trial_financing_view(*, trial: Trial) -> dict:
    """The offer (as ordered, once the reorder was ordered on it: then frozen) with the line's figures."""
    from credit.services.demand import demand_line_figures, demand_line_for_trial

    line = demand_line_for_trial(trial_id=trial.pk) if trial.financing else None
    if line is not None and trial.financing:
        out = {**trial.financing}
        out["ordered"] = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in demand_line_figures(line=line).items()}
        return out
    return {**trial_financing(trial=trial).as_dict(), "ordered": None}


# --- the cash plan -----------------------------------------------------------------------------

LEVELS = ("p10", "p50", "p90")


def _week(days: int) -> int:
    return max(1, math.ceil(days / 7))


def trial_cash_plan(*, trial: Trial, offer: FinancingOffer | None = None) -> dict:
    """Week by week, the reorder's cash out (deposits, balances on delivery, supplier-credit
    invoices, assembly) and in (sales at the horizon demand's p10 / p50 / p90, spread evenly over
    the horizon's weeks after delivery), and the peak own cash the maker needs with and without
    demand credit, per scenario. Week 0 is the order."""
    from credit.selectors import credit_line_list
    from credit.services.payments import supplier_terms

    offer = offer or trial_financing(trial=trial)
    if trial.financing:  # ordered on it already: the line's limit, not what is left of the lender's room
        offer.credit_limit = Decimal(str(trial.financing["credit_limit"]))
        offer.repayment_share = Decimal(str(trial.financing["repayment_share"]))
    plan = {"trial": trial.pk, "currency": trial.currency, "available": False, "reason": "", "weeks": [],
            "peak_own_cash": {}, "offer": offer.as_dict()}
    if not offer.quantiles or not offer.reorder_units:
        plan["reason"] = offer.reason or "No reorder to plan."
        return plan
    units = offer.reorder_units
    # Vendors: the reorder quote's purchase orders; without one, the estimate as one purchase order.
    vendors = []
    if trial.reorder_quote_id:
        quote = trial.reorder_quote
        for row in quote.vendors.select_related("vendor"):
            vendors.append({"vendor": row.vendor, "total": convert(row.subtotal + row.shipping, quote.currency, trial.currency),
                            "lead_days": row.lead_time_days or quote.lead_time_days})
    if not vendors and offer.reorder_cost is not None:  # no quote yet (or one without per-vendor rows)
        vendors.append({"vendor": trial.kit.owner, "total": offer.reorder_cost,
                        "lead_days": trial.quote.lead_time_days if trial.quote_id else 14})
    if not vendors:
        plan["reason"] = "Quote the reorder first: the plan needs its cost."
        return plan
    lines = {line.supplier_id: line for line in credit_line_list(organization=trial.organization)
             .filter(buyer=trial.organization, kind="standard", currency=trial.currency, status="active")}
    delivery = max(_week(v["lead_days"]) for v in vendors)
    horizon_weeks = _week(offer.horizon_days)
    term_week = delivery + _week(offer.term_days)
    last = max(term_week, delivery + horizon_weeks) + 1
    out = defaultdict(lambda: defaultdict(Decimal))  # week -> kind -> amount
    for v in vendors:
        total = v["total"].quantize(CENTS)
        kind = "assembly" if v["vendor"].pk == trial.kit.owner_id else None
        line = lines.get(v["vendor"].pk)
        week = _week(v["lead_days"])
        if line is not None:
            out[week + _week(line.terms_days)][kind or "supplier_terms"] += total
            last = max(last, week + _week(line.terms_days) + 1)
        else:
            deposit = (total * supplier_terms(supplier=v["vendor"]).deposit_percent / 100).quantize(CENTS, ROUND_HALF_EVEN)
            out[0][kind or "deposits"] += deposit
            out[week][kind or "balances"] += total - deposit
    cost = sum((v["total"].quantize(CENTS) for v in vendors), ZERO)
    sales = {}
    for level in LEVELS:
        sold = min(offer.quantiles[level], units)
        weekly = Decimal(sold) * offer.unit_price / horizon_weeks
        sales[level] = {delivery + w: weekly for w in range(1, horizon_weeks + 1)}
    financed = offer.credit_limit > 0 and offer.credit_limit >= cost
    share = offer.repayment_share
    weeks, running = [], {("own", lv): ZERO for lv in LEVELS} | {("credit", lv): ZERO for lv in LEVELS}
    owed = {lv: cost if financed else ZERO for lv in LEVELS}
    peak = {("own", lv): ZERO for lv in LEVELS} | {("credit", lv): ZERO for lv in LEVELS}
    for week in range(0, last + 1):
        row = {"week": week, "out": {k: str(v.quantize(CENTS)) for k, v in out[week].items()},
               "in": {lv: str(sales[lv].get(week, ZERO).quantize(CENTS)) for lv in LEVELS}, "own_cash": {}, "with_credit": {}}
        paid_out = sum(out[week].values(), ZERO)
        for lv in LEVELS:
            income = sales[lv].get(week, ZERO)
            running[("own", lv)] += income - paid_out
            if financed:
                repay = min(owed[lv], (income * share).quantize(CENTS, ROUND_HALF_EVEN))
                if week == term_week:
                    repay = owed[lv]  # what the sales did not repay falls due
                owed[lv] -= repay
                running[("credit", lv)] += income - repay
            for key in (("own", lv), ("credit", lv)):
                peak[key] = max(peak[key], -running[key])
            row["own_cash"][lv] = str(running[("own", lv)].quantize(CENTS))
            row["with_credit"][lv] = str(running[("credit", lv)].quantize(CENTS)) if financed else None
        weeks.append(row)
    plan.update({
        "available": True, "reorder_units": units, "reorder_cost": str(cost), "delivery_week": delivery,
        "due_week": term_week if financed else None, "financed": financed,
        "weeks": weeks,
        "peak_own_cash": {
            "without_credit": {lv: str(peak[("own", lv)].quantize(CENTS)) for lv in LEVELS},
            "with_demand_credit": ({lv: str(peak[("credit", lv)].quantize(CENTS)) for lv in LEVELS} if financed else None),
        },
        "reason": ("" if financed else
                   f"The demand credit ({offer.credit_limit} {trial.currency}) does not cover the reorder ({cost} {trial.currency}): "
                   "order a smaller reorder to finance it, or pay it as usual."),
    })
    return plan
