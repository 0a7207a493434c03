"""The demand model and the Monte Carlo forecast against closed forms.

The sum of W independent NB(k, p) days is NB(W k, p), so a window's sales, min(total demand, n),
have an exact distribution to compare the simulation with."""

from decimal import Decimal

import numpy as np
import pytest
from scipy.special import betainc
from scipy.stats import nbinom

from trials.demand import ArmPlan, DemandModel, forecast


def test_price_elasticity_moves_the_mean_around_the_reference_price():
    model = DemandModel(base_daily=4, reference_price=100, elasticity=-2)
    assert model.mean_daily(100) == pytest.approx(4)
    assert model.mean_daily(200) == pytest.approx(1)  # twice the price, a quarter of the demand
    assert model.mean_daily(50) == pytest.approx(16)


def test_daily_demand_is_reproducible_per_seed_arm_and_day():
    model = DemandModel(base_daily=3, seed=42)
    draws = [model.day_demand(price=Decimal("99"), arm_index=0, day=d) for d in range(20)]
    assert draws == [model.day_demand(price=Decimal("99"), arm_index=0, day=d) for d in range(20)]
    assert draws != [DemandModel(base_daily=3, seed=43).day_demand(price=Decimal("99"), arm_index=0, day=d) for d in range(20)]


def test_daily_draws_have_the_negative_binomial_mean_and_variance():
    model = DemandModel(base_daily=5, dispersion=2)
    n, p = model.nb_params(Decimal("10"))
    draws = np.random.default_rng(1).negative_binomial(n, p, size=200_000)
    assert draws.mean() == pytest.approx(5, rel=0.02)
    assert draws.var() == pytest.approx(5 + 25 / 2, rel=0.03)


@pytest.mark.parametrize("base_daily,units", [(2.0, 100), (5.0, 100), (0.8, 50)])
def test_forecast_matches_the_closed_form_window_distribution(base_daily, units):
    model = DemandModel(base_daily=base_daily, dispersion=1.5, seed=7)
    window, scale_at, kill_below = 30, 0.8, 0.3
    [arm] = forecast(model=model, arms=[ArmPlan("A", Decimal("100"), units)], window_days=window,
                     scale_at=scale_at, kill_below=kill_below, paths=20_000)
    k, p = model.nb_params(Decimal("100"))
    total = nbinom(window * k, p)  # the window's demand
    for q, key in [(0.1, "p10"), (0.5, "p50"), (0.9, "p90")]:
        exact = min(total.ppf(q), units) / units
        assert arm["sell_through"][key] == pytest.approx(exact, abs=0.03), key
    assert arm["p_sellout"] == pytest.approx(total.sf(units - 1), abs=0.015)
    # Kill happens on uncensored paths with sold <= s*, the largest s the Beta rule kills.
    sold = np.arange(units + 1)
    killed = sold[betainc(1 + sold, 1 + units - sold, kill_below) >= 0.9]
    exact_kill = total.cdf(killed.max()) if killed.size else 0.0
    assert arm["p_kill"] == pytest.approx(exact_kill, abs=0.015)


def test_each_arm_is_forecast_at_its_own_price():
    model = DemandModel(base_daily=3, reference_price=100, elasticity=-1.5, seed=3)
    cheap, dear = forecast(
        model=model, arms=[ArmPlan("cheap", Decimal("80"), 150), ArmPlan("dear", Decimal("130"), 150)],
        window_days=30, scale_at=0.8, kill_below=0.3, paths=2_000,
    )
    assert cheap["mean_daily_demand"] > 3 > dear["mean_daily_demand"]
    assert cheap["sell_through"]["p50"] > dear["sell_through"]["p50"]
    assert len(cheap["median_cumulative"]) == 30


def test_bad_model_parameters_are_rejected():
    for bad in ({"base_daily": 0}, {"base_daily": 1, "dispersion": 0}, {"base_daily": 1, "elasticity": 0.5}):
        with pytest.raises(ValueError):
            DemandModel(**bad)
