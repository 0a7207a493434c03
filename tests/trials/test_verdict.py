"""The verdict rule on hand-computed cases (trials/verdict.py). The Beta tail is written with the
identity I_x(a, b) = P(Binomial(a + b - 1, x) >= a), so the expected values are plain sums."""

from decimal import Decimal
from math import comb, exp, factorial

import pytest

from trials.verdict import Verdict, judge_arm, judge_trial


def binomial_at_least(k: int, n: int, p: float) -> float:
    return sum(comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))


def beta_cdf(x: float, a: int, b: int) -> float:
    return binomial_at_least(a, a + b - 1, x)


def arm(daily, *, units=10, price="100", cost="50", scale_at=0.8, kill_below=0.3, window=None, label="A"):
    return judge_arm(
        label=label, unit_price=Decimal(price), unit_cost=Decimal(cost), units_received=units, daily_sold=daily,
        window_days=window or len(daily), scale_at=scale_at, kill_below=kill_below, currency="CNY",
    )


def test_full_sell_through_on_the_last_day_scales_with_one_minus_point_eight_to_the_eleventh():
    result = arm([0] * 29 + [10])
    assert result.p_reach_scale == pytest.approx(1 - 0.8**11, abs=1e-4)  # 0.9141
    assert result.verdict == Verdict.SCALE
    assert not result.censored and result.stockout_days == 0


def test_nothing_sold_kills_with_one_minus_point_seven_to_the_eleventh():
    result = arm([0] * 30)
    assert result.p_below_kill == pytest.approx(1 - 0.7**11, abs=1e-4)  # 0.9802
    assert result.verdict == Verdict.KILL
    assert "P(sell-through < 30%) = 0.98" in result.reason


def test_half_sold_of_twenty_is_iterate_with_both_probabilities_low():
    result = arm([1] * 10 + [0] * 20, units=20)
    # Beta(11, 11): P(theta < 0.3) = P(Bin(21, 0.3) >= 11); P(theta >= 0.8) = 1 - P(Bin(21, 0.8) >= 11).
    assert result.p_below_kill == pytest.approx(beta_cdf(0.3, 11, 11), abs=1e-4)
    assert result.p_reach_scale == pytest.approx(1 - beta_cdf(0.8, 11, 11), abs=1e-4)
    assert result.verdict == Verdict.ITERATE
    assert "neither target is clear" in result.reason


def test_a_sell_out_that_is_not_censored_can_still_be_iterate_when_the_target_is_high():
    result = arm([0] * 29 + [10], scale_at=0.9)
    assert result.p_reach_scale == pytest.approx(1 - 0.9**11, abs=1e-4)  # 0.686
    assert result.verdict == Verdict.ITERATE


def test_censored_sell_out_estimates_demand_from_in_stock_days_and_scales():
    # The same 10 units and the same 90% target, but sold out on day 3 of 30: 27 days without stock.
    result = arm([4, 3, 3] + [0] * 27, scale_at=0.9)
    assert result.censored and result.sellout_day == 3 and result.stockout_days == 27
    assert result.demand_per_in_stock_day == pytest.approx(10 / 3, abs=1e-3)
    assert result.estimated_window_demand == pytest.approx(100.0)
    # Gamma(10, rate 3 days) on the daily rate: P(rate * 30 >= 9) = P(Poisson(0.9) <= 9).
    expected = sum(exp(-0.9) * 0.9**k / factorial(k) for k in range(10))
    assert result.p_reach_scale == pytest.approx(expected, abs=1e-6)
    assert result.verdict == Verdict.SCALE
    assert "sold out on day 3" in result.reason and "100% understates demand" in result.reason
    assert "10.0× the batch" in result.reason
    assert result.daily[2] == {"day": 3, "sold": 3, "on_hand": 0}


def test_scaling_at_a_loss_is_downgraded_to_iterate():
    result = arm([0] * 29 + [10], price="40", cost="50")
    assert result.margin_per_stocked_unit == Decimal("-10.00")
    assert result.verdict == Verdict.ITERATE
    assert "loses CNY 10.00 per stocked unit" in result.reason


def test_arms_at_different_prices_are_compared_by_margin_per_stocked_unit_not_sell_through():
    dear = arm([0] * 29 + [45], units=50, price="100", label="dear")      # 90%: (4500 - 2500) / 50 = 40
    cheap = arm([0] * 29 + [50], units=50, price="60", label="cheap")    # 100%: (3000 - 2500) / 50 = 10
    assert dear.p_reach_scale == pytest.approx(1 - beta_cdf(0.8, 46, 6), abs=1e-4)
    assert dear.verdict == cheap.verdict == Verdict.SCALE
    assert (dear.margin_per_stocked_unit, cheap.margin_per_stocked_unit) == (Decimal("40.00"), Decimal("10.00"))
    verdict, reason, best = judge_trial([cheap, dear], currency="CNY")
    assert (verdict, best) == (Verdict.SCALE, "dear")
    assert reason.startswith("Scale “dear” at CNY 100.00: CNY 40.00 margin per stocked unit")
    assert "“cheap” CNY 10.00 (scale)" in reason


def test_overall_verdict_is_kill_only_when_every_arm_is_killed():
    killed = arm([0] * 30, label="k")
    unsure = arm([1] * 10 + [0] * 20, units=20, label="u")
    assert judge_trial([killed, unsure], currency="CNY")[0] == Verdict.ITERATE
    assert judge_trial([killed], currency="CNY")[0] == Verdict.KILL
