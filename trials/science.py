"""Trial science, pure numpy/scipy (no Django): empirical-Bayes priors, censored demand estimates,
reorder sizes, the always-valid sequential rule for live trials, Thompson-sampled restock splits and
forecast calibration. docs/trials.md explains each choice; tests/trials/science/ checks them
by simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betainc, betaln, gammaincc
from scipy.stats import poisson

# --- Empirical-Bayes priors -------------------------------------------------------------------

MIN_TRIALS_FOR_PRIOR = 5  # fewer closed trials than this in a pool: the pool is not used
SHRINK_TRIALS = 10  # a pool of m trials gets weight m / (m + SHRINK_TRIALS) against Beta(1, 1)
MAX_PRIOR_STRENGTH = 20.0  # alpha + beta at most: a prior never outweighs a 20-unit batch


@dataclass(frozen=True)
class Prior:
    alpha: float
    beta: float
    source: str
    trials_needed: int = 0  # uniform: how many more closed trials the nearest pool needs to earn a prior
    note: str = ""  # uniform: which pools were too small, and by how much

    def as_dict(self) -> dict:
        out = {"alpha": round(self.alpha, 4), "beta": round(self.beta, 4), "source": self.source}
        if self.source == "uniform":
            out |= {"trials_needed": self.trials_needed, "note": self.note}
        return out


UNIFORM = Prior(1.0, 1.0, "uniform")


def fit_beta_binomial(sold, units) -> tuple[float, float]:
    """Maximum-likelihood Beta(alpha, beta) of the sell-through behind the (sold, units) pairs of past
    arms: each arm's sold ~ BetaBinomial(units, alpha, beta). The binomial noise of small batches
    is taken out, which a plain mean/variance of the ratios would not do."""
    sold = np.asarray(sold, dtype=float)
    units = np.asarray(units, dtype=float)

    def nll(params):
        a, b = np.exp(params)
        return -np.sum(betaln(sold + a, units - sold + b) - betaln(a, b))

    mean = (sold.sum() + 1) / (units.sum() + 2)
    start = np.log([mean * 2, (1 - mean) * 2])
    result = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 400})
    a, b = np.exp(result.x)
    mean = a / (a + b)
    # Keep the fitted mean; make the strength at least one pseudo-unit on each side (a U-shaped prior,
    # which censored sell-outs and zero-sale duds produce, would push small batches to extremes and
    # turn noise into kills) and at most MAX_PRIOR_STRENGTH.
    strength = min(max(a + b, 1 / min(mean, 1 - mean)), MAX_PRIOR_STRENGTH)
    return float(mean * strength), float((1 - mean) * strength)


def shrink(alpha: float, beta: float, trials: int) -> tuple[float, float]:
    """Pull a fitted prior towards Beta(1, 1) by how few trials it rests on."""
    w = trials / (trials + SHRINK_TRIALS)
    return 1 + w * (alpha - 1), 1 + w * (beta - 1)


def empirical_prior(pools: list[tuple[str, list[tuple[int, int, int]]]]) -> Prior:
    """The first pool with enough closed trials gives the prior. `pools` is [(description,
    [(trial id, sold, units) per arm])], most specific first (the organisation's, then the
    platform's); `description` names it for the `source` field."""
    short = []
    for description, arms in pools:
        trials = len({trial_id for trial_id, _, _ in arms})
        if trials < MIN_TRIALS_FOR_PRIOR:
            short.append((description, trials))
            continue
        a, b = fit_beta_binomial([s for _, s, _ in arms], [n for _, _, n in arms])
        a, b = shrink(a, b, trials)
        return Prior(a, b, f"{description}: {trials} closed trials, {len(arms)} arms")
    if not short:
        return UNIFORM
    needed = min(MIN_TRIALS_FOR_PRIOR - trials for _, trials in short)
    note = "; ".join(f"{description}: {trials} of the {MIN_TRIALS_FOR_PRIOR} needed" for description, trials in short)
    return Prior(1.0, 1.0, "uniform", trials_needed=needed,
                 note=f"{note}. {needed} more closed trial{'s' if needed != 1 else ''} earn{'s' if needed == 1 else ''} a prior.")


# --- Demand per arm, censored by stock-outs -------------------------------------------------------

GRID = 400


@dataclass(frozen=True)
class DemandEstimate:
    daily_mean: float | None
    p10: float | None
    p90: float | None
    censored: bool
    grid: np.ndarray | None = None  # posterior of the daily rate on a grid, for the reorder
    weights: np.ndarray | None = None
    dispersion: float = 1.0
    observed_days: int = 0  # days with stock left at their end: what bounds the rate from above

    def as_dict(self) -> dict:
        r = (lambda v: None if v is None else round(float(v), 3))
        return {"daily_mean": r(self.daily_mean), "p10": r(self.p10), "p90": r(self.p90), "censored": self.censored}


def _split(daily_sold, units: int):
    """(fully observed days, the sell-out day's sales or None, censored) of one arm."""
    sold = np.asarray(daily_sold, dtype=float)
    out = np.nonzero(np.cumsum(sold) >= units)[0]
    sellout = int(out[0]) if out.size else None  # 0-based day index
    observed = sold[:sellout] if sellout is not None else sold
    censored_count = float(sold[sellout]) if sellout is not None else None
    return observed, censored_count, sellout is not None and sellout < sold.size - 1


def demand_estimate(daily_sold: list[int], units: int, *, pooled: list[tuple[list[int], int]] = (),
                    window_days: int | None = None) -> DemandEstimate:
    """Posterior of an arm's daily demand rate from its daily sales when stock runs out.

    Days with stock left at the end are fully observed (demand = sales). The sell-out day saw only
    that demand was *at least* its sales (censored); later days saw nothing. The likelihood is
    Poisson on the observed days times P(demand >= sales) on the sell-out day, tempered by the
    over-dispersion measured on the observed days (quasi-likelihood, so bursty demand gets a wider
    interval), on a grid. The prior is Gamma(1/2, rate 1/(2 pace)), pace = units / window_days, the
    rate that would sell the batch over the window (the planner's own expectation), as weak as
    Jeffreys' 1/sqrt(rate) when there is data, but proper: an arm that sold out on day 1 only
    says "at least", and without it the estimate would depend on where the grid ends. `pooled`:
    other arms' (daily sold, units) with the same demand rate (same product, same price), whose
    days join the likelihood."""
    series = [(daily_sold, units)] + list(pooled)
    parts = [_split(d, n) for d, n in series if n > 0 and len(d)]
    if units <= 0 or not len(daily_sold) or not parts:
        return DemandEstimate(None, None, None, False)
    censored = _split(daily_sold, units)[2]
    observed = np.concatenate([p[0] for p in parts])
    cuts = [p[1] for p in parts if p[1] is not None and p[1] > 0]
    mean_obs = observed.mean() if observed.size else 0.0
    dispersion = 1.0
    if observed.size >= 3 and mean_obs > 0:
        dispersion = float(max(1.0, observed.var(ddof=1) / mean_obs))
    total = observed.sum() + sum(cuts)
    rough = (total + 1) / max(1, observed.size + len(cuts))
    # Pooled arms: the largest batch's pace, the weakest of their priors.
    pace = max(n for _, n in series) / window_days if window_days else None
    hi = max(rough * 6, (pace or 0) * 12, 1.0) + 10 * math.sqrt(dispersion * rough + 1)
    grid = np.linspace(hi / GRID / 2, hi, GRID)
    loglik = observed.sum() * np.log(grid) - observed.size * grid
    for cut in cuts:
        loglik = loglik + np.log(np.maximum(poisson.sf(cut - 1, grid), 1e-300))
    logpost = loglik / dispersion - 0.5 * np.log(grid) - (grid / (2 * pace) if pace else 0.0)
    weights = np.exp(logpost - logpost.max())
    weights /= weights.sum()
    cdf = np.cumsum(weights)
    p10, p90 = grid[np.searchsorted(cdf, 0.1)], grid[min(np.searchsorted(cdf, 0.9), GRID - 1)]
    return DemandEstimate(float(weights @ grid), float(p10), float(p90), bool(censored), grid, weights, dispersion,
                          observed_days=int(observed.size))


REORDER_SERVICE_LEVEL = 0.9


def demand_quantile(estimate: DemandEstimate, *, horizon_days: int, level: float = REORDER_SERVICE_LEVEL) -> int:
    """The `level` quantile of the demand over `horizon_days`: predictive over the rate's posterior,
    each rate's demand negative binomial with the measured over-dispersion (Poisson when none)."""
    if estimate.grid is None:
        return 0
    # The rate's posterior as 64 equally likely points (its quantiles): the mixture needs no more.
    cdf_rate = np.cumsum(estimate.weights)
    rates = estimate.grid[np.minimum(np.searchsorted(cdf_rate, (np.arange(64) + 0.5) / 64), GRID - 1)]
    means = rates * horizon_days
    top = int(means.max() * 1.5 + 10 * math.sqrt(estimate.dispersion * means.max()) + 20)
    ks = np.arange(top + 1, dtype=float)
    if estimate.dispersion > 1.0:
        # NB with mean m and variance phi * m: n = m / (phi - 1), p = 1 / phi; its CDF is I_p(n, k + 1).
        n = np.maximum(means / (estimate.dispersion - 1), 1e-12)
        cdf = betainc(n[:, None], ks[None, :] + 1, 1 / estimate.dispersion)
    else:
        cdf = gammaincc(ks[None, :] + 1, np.maximum(means, 1e-12)[:, None])  # Poisson CDF
    mixed = cdf.mean(axis=0)
    return int(ks[min(np.searchsorted(mixed, level), top)])


# --- The sequential rule for live trials ------------------------------------------------------

SEQUENTIAL_ALPHA = 0.05  # the chance of ever stopping early on a scale that is not one
BETS = np.array([0.1, 0.25, 0.5, 0.75, 0.9])  # fixed betting fractions, averaged


def scale_rate(*, units: int, window_days: int, scale_at: float) -> float:
    """The daily demand that would sell `scale_at` of the batch over the window."""
    return scale_at * units / window_days


def scale_e_value(*, daily_sold, units: int, rate: float) -> float:
    """Evidence against H0 "mean daily demand <= rate" from an arm's daily sales (day 1 first; the
    last day may be partial), as a betting e-process.

    Each day with stock at its start multiplies the wealth of a bet b by 1 + b (x / rate - 1), x
    the day's sales; days that start without stock are not bet on. Under H0, whatever the demand's
    distribution (Poisson, negative binomial, bursts), E[x] <= E[demand] <= rate, so every factor
    has mean <= 1 and is >= 0 (x >= 0, b < 1): each bettor's wealth is a non-negative
    supermartingale, and so is the average over bets. Ville's inequality then bounds the chance it
    *ever* reaches 1/alpha by alpha, however often it is checked. A partial day only counts what
    has sold so far, never more than the day will end with, so checking after every sale stays
    under the same bound."""
    x = np.asarray(daily_sold, dtype=float)
    if x.size == 0 or rate <= 0:
        return 1.0
    in_stock_at_start = np.concatenate([[0.0], np.cumsum(x)[:-1]]) < units
    steps = np.where(in_stock_at_start[:, None], np.log1p(BETS[None, :] * (x[:, None] / rate - 1.0)), 0.0)
    return float(np.exp(np.minimum(steps.sum(axis=0), 700.0)).mean())


def scale_e_value_paths(daily_sold, *, units: int, rate: float):
    """The same e-process for many simulated paths at once: (paths, days) -> (paths, days)."""
    x = np.asarray(daily_sold, dtype=float)
    start = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1)[:, :-1]], axis=1) < units
    steps = np.where(start[..., None], np.log1p(BETS * (x[..., None] / rate - 1.0)), 0.0)
    return np.exp(np.minimum(np.cumsum(steps, axis=1), 700.0)).mean(axis=-1)


# --- Restock across arms by Thompson sampling ---------------------------------------------------


def thompson_split(*, units: int, arms: list[dict], draws_seed: int) -> list[int]:
    """Split `units` of restock across arms: for each unit, draw every arm's sell-through from its
    posterior Beta(alpha + sold, beta + received - sold), value it as price x sell-through - unit
    cost (margin per stocked unit), and give the unit to the arm with the best draw. Arms that are
    clearly better get most units; uncertain ones still get some, which is how they are learnt.
    `arms`: [{"alpha", "beta", "sold", "received", "price", "unit_cost"}] (floats)."""
    rng = np.random.default_rng(draws_seed)
    a = np.array([arm["alpha"] + arm["sold"] for arm in arms], dtype=float)
    b = np.array([arm["beta"] + max(arm["received"] - arm["sold"], 0) for arm in arms], dtype=float)
    price = np.array([arm["price"] for arm in arms], dtype=float)
    cost = np.array([arm["unit_cost"] for arm in arms], dtype=float)
    theta = rng.beta(a, b, size=(units, len(arms)))
    winners = np.argmax(theta * price - cost, axis=1)
    return np.bincount(winners, minlength=len(arms)).tolist()


# --- Forecast calibration ------------------------------------------------------------------------


def score_forecast(*, forecast_arms: list[dict], outcome_arms: list[dict]) -> dict:
    """Score a pre-start forecast against the closed trial, arm by arm (matched by label): was the
    sell-through inside [p10, p90], and the Brier scores of P(scale) and P(kill)."""
    by_label = {arm["label"]: arm for arm in outcome_arms}
    rows = []
    for f in forecast_arms:
        o = by_label.get(f["label"])
        if o is None:
            continue
        st = float(o["sell_through"])
        scaled, killed = o.get("verdict") == "scale", o.get("verdict") == "kill"
        q = f["sell_through"]
        rows.append({
            "label": f["label"], "p10": float(q["p10"]), "p90": float(q["p90"]), "sell_through": st,
            "covered": float(q["p10"]) - 1e-9 <= st <= float(q["p90"]) + 1e-9,
            "p_scale": float(f["p_scale"]), "scaled": scaled, "p_kill": float(f["p_kill"]), "killed": killed,
            "brier_scale": (float(f["p_scale"]) - scaled) ** 2, "brier_kill": (float(f["p_kill"]) - killed) ** 2,
        })
    return {"arms": rows}


def reliability_bins(points: list[tuple[float, bool]], bins: int = 5) -> list[dict]:
    """(forecast probability, happened) pairs grouped in equal-width bins: mean forecast vs how
    often it happened, for the reliability chart."""
    out = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        inside = [(p, y) for p, y in points if lo <= p < hi or (i == bins - 1 and p == 1.0)]
        if inside:
            out.append({"lo": lo, "hi": hi, "n": len(inside), "forecast": sum(p for p, _ in inside) / len(inside),
                        "observed": sum(1 for _, y in inside if y) / len(inside)})
    return out
