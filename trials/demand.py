"""The demand model behind simulated trials and forecasts (pure numpy; no Django).

Daily demand for an arm priced `p` is negative binomial with mean

    mu(p) = base_daily * (p / reference_price) ** elasticity

and dispersion k (variance mu + mu**2 / k): real retail demand is burstier than Poisson, and
k -> infinity recovers Poisson. Sales on a day are min(demand, on hand), so a batch that sells out
is *censored*: the demand that found no stock is never seen.

numpy's `negative_binomial(n, p)` counts failures before n successes; with n = k and
p = k / (k + mu) its mean is mu and its variance mu + mu**2 / k.

Randomness is seeded per (seed, arm, day): a simulated trial replays day d identically however
many times a worker is killed and the task redelivered, so nothing is ever counted differently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

DEFAULT_DISPERSION = 2.0
DEFAULT_ELASTICITY = -1.5
DEFAULT_SEED = 0
MAX_CELLS_PER_ARM = 5_000_000  # paths x days drawn at once per arm: ~40 MB of int64
# The largest mean daily demand the model may give an arm. Each field of the model is bounded by the
# API schema, but their combination is not: base_daily x (price / reference) ** elasticity reaches
# 1e285 with elasticity -20 and a reference far above the price, and numpy's negative_binomial then
# fails ("n too large or p too small"). A trial batch is at most a few thousand units, so a million
# a day already sells out on day one; more says nothing new.
MAX_MEAN_DAILY = 1_000_000.0


@dataclass(frozen=True)
class DemandModel:
    base_daily: float
    dispersion: float = DEFAULT_DISPERSION
    reference_price: float | None = None  # None: the first arm's price
    elasticity: float = DEFAULT_ELASTICITY
    seed: int = DEFAULT_SEED

    def __post_init__(self):
        if not self.base_daily > 0:
            raise ValueError("base_daily must be positive")
        if not self.dispersion > 0:
            raise ValueError("dispersion must be positive")
        if self.reference_price is not None and not self.reference_price > 0:
            raise ValueError("reference_price must be positive")
        if self.elasticity > 0:
            raise ValueError("elasticity must be zero or negative")

    @classmethod
    def from_dict(cls, data: dict, *, default_reference: Decimal | float | None = None) -> "DemandModel":
        reference = data.get("reference_price") or default_reference
        return cls(
            base_daily=float(data["base_daily"]),
            dispersion=float(data.get("dispersion") or DEFAULT_DISPERSION),
            reference_price=float(reference) if reference is not None else None,
            elasticity=float(data["elasticity"]) if data.get("elasticity") is not None else DEFAULT_ELASTICITY,
            seed=int(data["seed"]) if data.get("seed") is not None else DEFAULT_SEED,
        )

    def as_dict(self) -> dict:
        return {
            "base_daily": self.base_daily, "dispersion": self.dispersion, "reference_price": self.reference_price,
            "elasticity": self.elasticity, "seed": self.seed,
        }

    def mean_daily(self, price: Decimal | float) -> float:
        reference = self.reference_price or float(price)
        try:
            return self.base_daily * (float(price) / reference) ** self.elasticity
        except OverflowError:
            return math.inf

    def check_prices(self, prices) -> None:
        """ValueError unless the mean daily demand at every price is at most MAX_MEAN_DAILY."""
        for price in prices:
            mu = self.mean_daily(price)
            if not math.isfinite(mu) or mu > MAX_MEAN_DAILY:
                raise ValueError(
                    f"at {price} the model's mean daily demand is {mu:.3g}, above {MAX_MEAN_DAILY:,.0f}: lower "
                    "base_daily, or bring reference_price closer to the arms' prices or elasticity closer to 0")

    def nb_params(self, price: Decimal | float) -> tuple[float, float]:
        """(n, p) for numpy's negative_binomial at this price."""
        self.check_prices([price])
        mu = self.mean_daily(price)
        return self.dispersion, self.dispersion / (self.dispersion + mu)

    def day_demand(self, *, price: Decimal | float, arm_index: int, day: int) -> int:
        """One day's demand for one arm, reproducible from (seed, arm, day)."""
        n, p = self.nb_params(price)
        rng = np.random.default_rng([self.seed, arm_index, day])
        return int(rng.negative_binomial(n, p))


@dataclass(frozen=True)
class ArmPlan:
    label: str
    unit_price: Decimal
    units: int


def forecast(
    *, model: DemandModel, arms: list[ArmPlan], window_days: int, scale_at: float, kill_below: float,
    paths: int = 10_000, prior_alpha: float = 1.0, prior_beta: float = 1.0,
) -> list[dict]:
    """Monte Carlo over the demand model: per arm, the distribution of sell-through at the window's
    end and the probability that the verdict rule (trials.verdict) would say scale or kill.

    Vectorised: one (paths x days) draw per arm; the cumulative sum finds each path's sales
    (min(total demand, units)) and its sell-out day, which the censoring rule needs.
    """
    from trials.verdict import p_reach_scale_vector, p_below_kill_vector

    if paths * window_days > MAX_CELLS_PER_ARM:
        raise ValueError(f"paths × window_days is at most {MAX_CELLS_PER_ARM:,}")
    model.check_prices([arm.unit_price for arm in arms])  # before any draw
    rng = np.random.default_rng(model.seed)
    out = []
    for arm in arms:
        n, p = model.nb_params(arm.unit_price)
        demand = rng.negative_binomial(n, p, size=(paths, window_days))
        cumulative = np.cumsum(demand, axis=1)
        sold = np.minimum(cumulative[:, -1], arm.units)
        sold_out = cumulative[:, -1] >= arm.units
        # The day stock ran out (1-based); the window's length when it never did.
        sellout_day = np.where(sold_out, np.argmax(cumulative >= arm.units, axis=1) + 1, window_days)
        in_stock_days = sellout_day.astype(float)
        censored = sold_out & (sellout_day < window_days)
        sell_through = sold / arm.units
        p_scale = p_reach_scale_vector(
            sold=sold, units=arm.units, scale_at=scale_at, censored=censored, in_stock_days=in_stock_days,
            window_days=window_days, alpha=prior_alpha, beta=prior_beta,
        )
        p_kill = p_below_kill_vector(sold=sold, units=arm.units, kill_below=kill_below, censored=censored,
                                     alpha=prior_alpha, beta=prior_beta)
        p10, p50, p90 = np.quantile(sell_through, [0.1, 0.5, 0.9])
        out.append({
            "label": arm.label,
            "units": arm.units,
            "unit_price": arm.unit_price,
            "mean_daily_demand": round(model.mean_daily(arm.unit_price), 3),
            "sell_through": {"p10": round(float(p10), 4), "p50": round(float(p50), 4), "p90": round(float(p90), 4)},
            "p_scale": round(float(np.mean(p_scale >= 0.9)), 4),
            "p_kill": round(float(np.mean(p_kill >= 0.9)), 4),
            "p_sellout": round(float(np.mean(sold_out)), 4),
            # The median path's cumulative expected sales, for the forecast chart.
            "median_cumulative": [int(v) for v in np.minimum(np.median(cumulative, axis=0), arm.units)],
        })
    return out
