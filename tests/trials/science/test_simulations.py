"""Simulation tests of the trial science on synthetic markets with known demand (pure numpy, no
database, a few seconds in all). Each prints its table (`pytest -s` shows it)."""

import numpy as np
import pytest

from trials.demand import ArmPlan, DemandModel, forecast
from trials.science import (
    SEQUENTIAL_ALPHA,
    demand_estimate,
    demand_quantile,
    fit_beta_binomial,
    scale_e_value,
    scale_e_value_paths,
    shrink,
    thompson_split,
)
from trials.verdict import p_below_kill_vector, p_reach_scale_vector

WINDOW = 30
SCALE_AT, KILL_BELOW = 0.8, 0.3


def market(rng, trials: int, *, k: float = 2.0):
    """Synthetic trials: batch sizes 10-100; the window's mean demand as a multiple of the batch is
    lognormal around 0.25 (most products fail, a few are hits); daily demand negative binomial.
    The truth is each product's expected sell-through, from 300 more windows of the same market."""
    n = rng.choice([10, 20, 30, 50, 100], size=trials)
    ratio = rng.lognormal(np.log(0.25), 1.0, size=trials)
    mu = ratio * n / WINDOW
    demand = rng.negative_binomial(k, k / (k + mu[:, None]), size=(trials, WINDOW))
    cumulative = np.cumsum(demand, axis=1)
    sold = np.minimum(cumulative[:, -1], n)
    out = cumulative[:, -1] >= n
    sellout = np.where(out, np.argmax(cumulative >= n[:, None], axis=1) + 1, WINDOW)
    windows = rng.negative_binomial(WINDOW * k, k / (k + mu[:, None]), size=(trials, 300))
    truth = np.minimum(windows, n[:, None]).mean(axis=1) / n
    return n, truth, sold, sellout, out & (sellout < WINDOW)


def calls(n, sold, sellout, censored, alpha, beta):
    p_scale = p_reach_scale_vector(sold=sold, units=n, scale_at=SCALE_AT, censored=censored, in_stock_days=sellout,
                                   window_days=WINDOW, alpha=alpha, beta=beta)
    p_kill = p_below_kill_vector(sold=sold, units=n, kill_below=KILL_BELOW, censored=censored, alpha=alpha, beta=beta)
    scale = p_scale >= 0.9
    return scale, ~scale & (p_kill >= 0.9)


def test_empirical_bayes_priors_make_fewer_wrong_calls_than_uniform():
    rng = np.random.default_rng(2026)
    rows = []
    totals = {"uniform": 0, "empirical Bayes": 0}
    for history in (10, 30, 100):
        tally = {"uniform": np.zeros(4, int), "empirical Bayes": np.zeros(4, int)}
        for _ in range(20):  # 20 markets, each: a history of closed trials, then 400 new trials
            hn, _, hs, _, _ = market(rng, history)
            eb = shrink(*fit_beta_binomial(hs, hn), history)
            n, truth, sold, sellout, censored = market(rng, 400)
            for name, (a, b) in (("uniform", (1.0, 1.0)), ("empirical Bayes", eb)):
                scale, kill = calls(n, sold, sellout, censored, a, b)
                tally[name] += [(scale & (truth < SCALE_AT)).sum(), (kill & (truth >= KILL_BELOW)).sum(),
                                scale.sum(), kill.sum()]
        for name, (wrong_scale, wrong_kill, scales, kills) in tally.items():
            rows.append((history, name, wrong_scale, wrong_kill, wrong_scale + wrong_kill, scales, kills))
            totals[name] += wrong_scale + wrong_kill
    print("\nhistory  prior             wrong scale  wrong kill  wrong calls  scale calls  kill calls  (of 8,000 trials)")
    for row in rows:
        print(f"{row[0]:>7}  {row[1]:<16}  {row[2]:>11}  {row[3]:>10}  {row[4]:>11}  {row[5]:>11}  {row[6]:>10}")
    # At every history size the prior the market earned makes fewer wrong calls in all.
    for history in (10, 30, 100):
        uniform, eb = [r[4] for r in rows if r[0] == history]
        assert eb < uniform, (history, eb, uniform)
    assert totals["empirical Bayes"] < 0.95 * totals["uniform"]


def test_beta_binomial_fit_recovers_a_known_prior():
    rng = np.random.default_rng(1)
    theta = rng.beta(2.0, 6.0, size=3000)
    n = rng.choice([20, 50], size=3000)
    a, b = fit_beta_binomial(rng.binomial(n, theta), n)
    assert a / (a + b) == pytest.approx(0.25, abs=0.01)
    assert a + b == pytest.approx(8.0, rel=0.15)


@pytest.mark.parametrize("dispersion", [1.0, 2.0, 5.0, 1e6])  # 1e6: Poisson
def test_sequential_false_scale_rate_stays_under_alpha_when_checked_after_every_sale(dispersion):
    """Demand exactly at the scale target (the worst case of the null) and below it, for several
    batch sizes and burstiness: the share of trials that *ever* cross the threshold, checked after
    every day's sales (a crossing within a day implies one at its end: the e-value only grows with
    that day's sales), stays under alpha."""
    rng = np.random.default_rng(int(dispersion) % 1000)
    paths = 4000
    print(f"\ndispersion {dispersion:g}: batch, demand / target -> false scale rate (alpha {SEQUENTIAL_ALPHA})")
    for units in (20, 60, 300):
        rate = SCALE_AT * units / WINDOW
        for factor in (1.0, 0.7):
            mu = factor * rate
            demand = rng.negative_binomial(dispersion, dispersion / (dispersion + mu), size=(paths, WINDOW))
            sold = np.diff(np.minimum(np.cumsum(demand, axis=1), units), prepend=0, axis=1)
            e = scale_e_value_paths(sold, units=units, rate=rate)
            false_rate = (e >= 1 / SEQUENTIAL_ALPHA).any(axis=1).mean()
            print(f"  {units:>4}  {factor:.1f}  {false_rate:.4f}")
            # 4,000 paths: alpha plus three standard errors of a binomial share.
            assert false_rate <= SEQUENTIAL_ALPHA + 3 * np.sqrt(SEQUENTIAL_ALPHA * (1 - SEQUENTIAL_ALPHA) / paths)


def test_sequential_rule_stops_clear_hits_early():
    rng = np.random.default_rng(5)
    units, paths = 300, 2000
    rate = SCALE_AT * units / WINDOW
    demand = rng.negative_binomial(2.0, 2.0 / (2.0 + 2 * rate), size=(paths, WINDOW))
    sold = np.diff(np.minimum(np.cumsum(demand, axis=1), units), prepend=0, axis=1)
    e = scale_e_value_paths(sold, units=units, rate=rate)
    crossed = (e >= 1 / SEQUENTIAL_ALPHA).any(axis=1)
    days = np.argmax(e >= 1 / SEQUENTIAL_ALPHA, axis=1)[crossed] + 1
    print(f"\ntwice the target demand: {crossed.mean():.0%} stopped early, median day {np.median(days):.0f}")
    assert crossed.mean() > 0.8 and np.median(days) < WINDOW / 2
    # The one-arm function agrees with the vectorised one.
    assert scale_e_value(daily_sold=sold[0], units=units, rate=rate) == pytest.approx(e[0, -1])


def test_forecast_is_calibrated_on_simulated_trials():
    """Forecast 300 simulated trials with their own demand model, then play each once (an
    independent draw): the sell-through falls in [p10, p90] about 80% of the time (a little more:
    sell-through is discrete and capped at 100%), and P(scale) beats the base rate's Brier score."""
    rng = np.random.default_rng(11)
    covered, outcomes, forecasts = [], [], []
    for i in range(300):
        units = int(rng.choice([20, 50, 100]))
        model = DemandModel(base_daily=float(rng.lognormal(np.log(1.0), 0.8)), dispersion=2.0, seed=i)
        f = forecast(model=model, arms=[ArmPlan("A", 99, units)], window_days=WINDOW, scale_at=SCALE_AT,
                     kill_below=KILL_BELOW, paths=1000)[0]
        n_, p_ = model.nb_params(99)
        demand = rng.negative_binomial(n_, p_, size=WINDOW)
        cumulative = np.cumsum(demand)
        sold = min(int(cumulative[-1]), units)
        sellout = int(np.argmax(cumulative >= units)) + 1 if cumulative[-1] >= units else WINDOW
        scale, _ = calls(np.array([units]), np.array([sold]), np.array([sellout]), np.array([sellout < WINDOW]), 1.0, 1.0)
        covered.append(f["sell_through"]["p10"] <= sold / units <= f["sell_through"]["p90"])
        forecasts.append(f["p_scale"])
        outcomes.append(bool(scale[0]))
    coverage = float(np.mean(covered))
    forecasts, outcomes = np.array(forecasts), np.array(outcomes, dtype=float)
    brier = float(np.mean((forecasts - outcomes) ** 2))
    base = float(np.mean((outcomes.mean() - outcomes) ** 2))
    print(f"\np10-p90 coverage {coverage:.3f} (stated 0.80, at most 0.95 with discreteness); "
          f"Brier P(scale) {brier:.3f} vs base rate {base:.3f}")
    assert 0.74 <= coverage <= 0.95
    assert brier < 0.6 * base


def test_demand_estimate_interval_covers_the_true_rate_despite_sell_outs():
    """Arms with known daily demand rates, many of which sell out: the p10-p90 interval of the
    censoring-aware estimate holds the true rate about 80% of the time, while the naive "sold ÷
    window days" would be far below it for the sold-out ones."""
    rng = np.random.default_rng(3)
    inside, censored_naive_low, censored = 0, 0, 0
    trials = 400
    for _ in range(trials):
        units = int(rng.choice([10, 30, 100]))
        rate = float(rng.lognormal(np.log(units / WINDOW), 0.7))
        k = 3.0
        demand = rng.negative_binomial(k, k / (k + rate), size=WINDOW)
        sold = np.diff(np.minimum(np.cumsum(demand), units), prepend=0)
        est = demand_estimate(sold.tolist(), units, window_days=WINDOW)
        inside += est.p10 <= rate <= est.p90
        if est.censored:
            censored += 1
            censored_naive_low += sold.sum() / WINDOW < rate * 0.8
    print(f"\ndemand p10-p90 coverage {inside / trials:.3f}; {censored} censored arms, naive rate too low in "
          f"{censored_naive_low}")
    assert 0.7 <= inside / trials <= 0.92
    assert censored > 50 and censored_naive_low > 0.6 * censored


def test_reorder_quantity_meets_its_service_level():
    rng = np.random.default_rng(8)
    met, trials = 0, 300
    for _ in range(trials):
        units, rate, k = 50, float(rng.uniform(0.5, 4)), 3.0
        demand = rng.negative_binomial(k, k / (k + rate), size=WINDOW)
        sold = np.diff(np.minimum(np.cumsum(demand), units), prepend=0)
        quantity = demand_quantile(demand_estimate(sold.tolist(), units, window_days=WINDOW), horizon_days=WINDOW, level=0.9)
        next_window = rng.negative_binomial(k * WINDOW, k / (k + rate))
        met += next_window <= quantity
    print(f"\nreorder at a 90% service level covered the next window's demand in {met / trials:.1%}")
    assert 0.84 <= met / trials <= 0.97


def test_thompson_split_favours_the_better_margin_and_keeps_exploring():
    arms = [
        {"alpha": 1, "beta": 1, "sold": 45, "received": 50, "price": 100, "unit_cost": 40},  # clear winner
        {"alpha": 1, "beta": 1, "sold": 20, "received": 50, "price": 100, "unit_cost": 40},
        {"alpha": 1, "beta": 1, "sold": 3, "received": 5, "price": 110, "unit_cost": 40},  # uncertain
    ]
    split = thompson_split(units=1000, arms=arms, draws_seed=1)
    assert sum(split) == 1000 and split[0] > 500 and split[1] < 20 and split[2] > 50
    assert thompson_split(units=1000, arms=arms, draws_seed=1) == split
