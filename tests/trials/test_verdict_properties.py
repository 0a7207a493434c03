"""Properties of the verdict rule over many inputs (Hypothesis, few examples: it is fast)."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from trials.verdict import judge_arm


def judge(sold_per_day, units, window=30):
    return judge_arm(label="A", unit_price=Decimal("100"), unit_cost=Decimal("40"), units_received=units,
                     daily_sold=sold_per_day + [0] * (window - len(sold_per_day)), window_days=window,
                     scale_at=0.8, kill_below=0.3, currency="CNY")


@settings(max_examples=60, deadline=None)
@given(units=st.integers(min_value=1, max_value=400), data=st.data())
def test_selling_one_more_unit_never_makes_the_verdict_worse(units, data):
    sold = data.draw(st.integers(min_value=0, max_value=units - 1))
    fewer, more = judge([0] * 29 + [sold], units), judge([0] * 29 + [sold + 1], units)
    assert more.p_reach_scale >= fewer.p_reach_scale - 1e-12
    assert more.p_below_kill <= fewer.p_below_kill + 1e-12
    rank = {"kill": 0, "iterate": 1, "scale": 2}
    assert rank[more.verdict] >= rank[fewer.verdict]


@settings(max_examples=60, deadline=None)
@given(units=st.integers(min_value=1, max_value=400), day=st.integers(min_value=1, max_value=29))
def test_an_earlier_sell_out_is_never_weaker_evidence(units, day):
    earlier = judge([0] * (day - 1) + [units], units)
    later = judge([0] * day + [units], units)
    assert earlier.censored and earlier.p_reach_scale >= later.p_reach_scale - 1e-12
    assert earlier.verdict in {"scale", "iterate"} and earlier.p_below_kill == 0
    assert earlier.estimated_window_demand >= later.estimated_window_demand
