"""The verdict rule (pure: numbers in, verdict and reason out; no Django). See docs/trials.md.

Per arm, each of the n stocked units either sells within the window or does not, so sell-through
theta gets a Beta(1 + sold, 1 + n - sold) posterior (uniform prior). Then

    P(theta >= scale_at) >= 0.9  -> scale
    P(theta <  kill_below) >= 0.9 -> kill
    otherwise                     -> iterate (the evidence is not strong enough either way)

Censoring: an arm that sold out before the window ended tells us only that demand was *at least*
the batch. Its sales rate on the days it had stock estimates demand; with a Gamma(sold, in-stock
days) posterior on the daily rate lambda, P(lambda * window >= scale_at * n) is the probability that
the window's demand would reach the scale target. We take the larger of that and the Beta value
(the Beta is already evidence of a full sell-through), and say in words that the arm was censored.

Arms with different prices are compared by margin per stocked unit, (revenue - unit cost x units
received) / units received, not by sell-through alone: a cheap arm can sell out and still lose
money. An arm that would scale at a loss is downgraded to iterate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from scipy.special import betainc, gammaincc

CONFIDENCE = 0.9
CENTS = Decimal("0.01")


class Verdict:
    SCALE = "scale"
    ITERATE = "iterate"
    KILL = "kill"


def p_reach_scale_vector(*, sold, units: int, scale_at: float, censored, in_stock_days, window_days: int,
                         alpha: float = 1.0, beta: float = 1.0):
    sold = np.asarray(sold, dtype=float)
    prior_a, prior_b = alpha, beta
    beta = 1.0 - betainc(prior_a + sold, prior_b + units - sold, scale_at)
    # Gamma(shape=sold, rate=in-stock days) on the daily rate: P(rate >= scale_at * n / window).
    threshold = scale_at * units / window_days * np.asarray(in_stock_days, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        gamma = np.where(sold > 0, gammaincc(np.maximum(sold, 1e-9), threshold), 0.0)
    return np.where(np.asarray(censored), np.maximum(beta, gamma), beta)


def p_below_kill_vector(*, sold, units: int, kill_below: float, censored, alpha: float = 1.0, beta: float = 1.0):
    sold = np.asarray(sold, dtype=float)
    prior_a, prior_b = alpha, beta
    beta = betainc(prior_a + sold, prior_b + units - sold, kill_below)
    return np.where(np.asarray(censored), 0.0, beta)  # a sell-out is never a kill


def posterior_density(*, sold: int, units: int, points: int = 101, alpha: float = 1.0,
                      beta: float = 1.0) -> list[tuple[float, float]]:
    """The Beta posterior's density on a grid, for the trial page's chart."""
    from scipy.stats import beta as beta_dist

    xs = np.linspace(0, 1, points)
    ys = beta_dist.pdf(xs, alpha + sold, beta + units - sold)
    ys = np.nan_to_num(ys, posinf=0.0)
    return [(float(x), float(y)) for x, y in zip(xs, ys)]


def money(value: Decimal, currency: str) -> str:
    return f"{currency} {value.quantize(CENTS, ROUND_HALF_EVEN):,}"


def pct(value: float) -> str:
    return f"{value * 100:.0f}%"


@dataclass
class ArmJudgement:
    label: str
    unit_price: Decimal
    units_received: int
    units_sold: int
    days_observed: int
    window_days: int
    sell_through: float
    stockout_days: int
    sellout_day: int | None
    censored: bool
    velocity: float  # units per day over the days observed
    demand_per_in_stock_day: float
    estimated_window_demand: float  # what the window would have sold with unlimited stock
    revenue: Decimal
    cost: Decimal
    margin_per_stocked_unit: Decimal
    p_reach_scale: float
    p_below_kill: float
    verdict: str
    reason: str
    daily: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def judge_arm(
    *, label: str, unit_price: Decimal, unit_cost: Decimal, units_received: int, daily_sold: list[int],
    window_days: int, scale_at: float, kill_below: float, currency: str, revenue: Decimal | None = None,
    prior_alpha: float = 1.0, prior_beta: float = 1.0, settled: dict | None = None,
) -> ArmJudgement:
    """Judge one arm from its daily sales (day 1 first). `revenue` defaults to sold x price (live
    sales may carry their own prices). The posterior is Beta(prior_alpha + sold, prior_beta +
    unsold); the prior comes from past trials (trials.science.empirical_prior) or is uniform."""
    if settled and settled.get("by") == "sold_out":
        # Sold out before the window's end: no more sales can come, so the window's end is known
        # already (zeros to the end) and the fixed rule gives its final verdict now.
        daily_sold = list(daily_sold) + [0] * max(0, window_days - len(daily_sold))
    units_sold = int(sum(daily_sold))
    n = max(units_received, 0)
    days_observed = len(daily_sold)
    daily, on_hand, sellout_day, cumulative = [], n, None, 0
    for day, sold in enumerate(daily_sold, start=1):
        cumulative += sold
        on_hand = n - cumulative
        daily.append({"day": day, "sold": int(sold), "on_hand": int(on_hand)})
        if sellout_day is None and n > 0 and on_hand <= 0:
            sellout_day = day
    stockout_days = (days_observed - sellout_day) if sellout_day is not None else 0
    censored = stockout_days > 0
    in_stock_days = sellout_day if sellout_day is not None else days_observed
    sell_through = units_sold / n if n else 0.0
    velocity = units_sold / days_observed if days_observed else 0.0
    rate = units_sold / in_stock_days if in_stock_days else 0.0
    revenue = (revenue if revenue is not None else unit_price * units_sold).quantize(CENTS, ROUND_HALF_EVEN)
    cost = (unit_cost * n).quantize(CENTS, ROUND_HALF_EVEN)
    margin = ((revenue - cost) / n).quantize(CENTS, ROUND_HALF_EVEN) if n else Decimal("0.00")

    if n == 0 or days_observed == 0:
        return ArmJudgement(
            label=label, unit_price=unit_price, units_received=n, units_sold=units_sold, days_observed=days_observed,
            window_days=window_days, sell_through=0.0, stockout_days=0, sellout_day=None, censored=False,
            velocity=0.0, demand_per_in_stock_day=0.0, estimated_window_demand=0.0, revenue=revenue, cost=cost,
            margin_per_stocked_unit=margin, p_reach_scale=0.0, p_below_kill=0.0, verdict=Verdict.ITERATE,
            reason=f"“{label}”: no stock was received or no day was observed, so there is nothing to judge yet.",
            daily=daily,
        )

    p_scale = float(p_reach_scale_vector(
        sold=units_sold, units=n, scale_at=scale_at, censored=censored, in_stock_days=in_stock_days,
        window_days=window_days, alpha=prior_alpha, beta=prior_beta,
    ))
    p_kill = float(p_below_kill_vector(sold=units_sold, units=n, kill_below=kill_below, censored=censored,
                                       alpha=prior_alpha, beta=prior_beta))

    if settled and settled.get("by") == "e_value":
        verdict = Verdict.SCALE
        words = (f"stopped early on day {settled['day']}: the always-valid evidence that demand reaches "
                 f"{pct(scale_at)} of the batch over the window is e = {settled['e_value']:.0f} ≥ "
                 f"{settled['threshold']:.0f}, so a wrong scale has probability at most {1 / settled['threshold']:.3f}")
    elif p_scale >= CONFIDENCE:
        verdict = Verdict.SCALE
        words = f"P(sell-through ≥ {pct(scale_at)}) = {p_scale:.2f} ≥ {CONFIDENCE}"
    elif p_kill >= CONFIDENCE:
        verdict = Verdict.KILL
        words = f"P(sell-through < {pct(kill_below)}) = {p_kill:.2f} ≥ {CONFIDENCE}"
    else:
        verdict = Verdict.ITERATE
        words = (f"neither target is clear: P(≥ {pct(scale_at)}) = {p_scale:.2f}, "
                 f"P(< {pct(kill_below)}) = {p_kill:.2f}, both below {CONFIDENCE}")
    reason = f"“{label}” sold {units_sold} of {n} ({pct(sell_through)}) in {days_observed} days; {words}."
    estimated = rate * window_days
    if censored:
        reason += (
            f" It sold out on day {sellout_day} and had no stock for {stockout_days} days, so 100% understates"
            f" demand: {rate:.1f}/day while in stock ≈ {estimated:.0f} units over the {window_days}-day window"
            f" ({estimated / n:.1f}× the batch)."
        )
    if settled and settled.get("by") == "e_value":
        # Mid-window the margin per stocked unit still counts unsold stock: judge the unit margin.
        margin_ok = unit_price > unit_cost
    else:
        margin_ok = margin > 0
    if verdict == Verdict.SCALE and not margin_ok:
        verdict = Verdict.ITERATE
        reason += f" But it loses {money(-margin, currency)} per stocked unit at {money(unit_price, currency)}: raise the price or cut the cost before scaling."
    return ArmJudgement(
        label=label, unit_price=unit_price, units_received=n, units_sold=units_sold, days_observed=days_observed,
        window_days=window_days, sell_through=round(sell_through, 4), stockout_days=stockout_days,
        sellout_day=sellout_day, censored=censored, velocity=round(velocity, 3),
        demand_per_in_stock_day=round(rate, 3), estimated_window_demand=round(estimated, 1), revenue=revenue,
        cost=cost, margin_per_stocked_unit=margin, p_reach_scale=round(p_scale, 4), p_below_kill=round(p_kill, 4),
        verdict=verdict, reason=reason, daily=daily,
    )


def judge_trial(arms: list[ArmJudgement], *, currency: str) -> tuple[str, str, str | None]:
    """Overall (verdict, reason, best arm label): the best arm by margin per stocked unit among the
    arms with the strongest verdict (scale, then iterate, then kill)."""
    if not arms:
        return Verdict.ITERATE, "The trial has no arms to judge.", None
    for verdict in (Verdict.SCALE, Verdict.ITERATE, Verdict.KILL):
        candidates = [arm for arm in arms if arm.verdict == verdict]
        if candidates:
            break
    best = max(candidates, key=lambda arm: (arm.margin_per_stocked_unit, arm.sell_through))
    margin = money(best.margin_per_stocked_unit, currency)
    if verdict == Verdict.SCALE:
        reason = f"Scale “{best.label}” at {money(best.unit_price, currency)}: {margin} margin per stocked unit."
    elif verdict == Verdict.KILL:
        reason = (f"Kill: every arm is confidently below the kill target; the best, “{best.label}”, sold "
                  f"{best.units_sold} of {best.units_received} ({pct(best.sell_through)}) and makes {margin} per stocked unit.")
    else:
        reason = f"Iterate: the best arm, “{best.label}”, makes {margin} per stocked unit but the evidence is not decisive."
    others = [arm for arm in arms if arm is not best]
    if others:
        reason += " Compared by margin per stocked unit: " + "; ".join(
            f"“{arm.label}” {money(arm.margin_per_stocked_unit, currency)} ({arm.verdict})" for arm in others
        ) + "."
    return verdict, reason, best.label
