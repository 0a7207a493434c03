"""A seeded backtest of demand-backed credit against credit by trust score alone (pure numpy and
trials.science; no Django). `manage.py credit_backtest` prints it; docs/trials.md records a run.

The world, per market and maker:
- a market's demand level, and each maker's product a true daily demand rate drawn around it with
  a heavy tail (most small batches do not sell; a few are hits);
- a history on credit (invoices paid on time with the maker's reliability, volume, tenure) from
  which a trust score is computed the way credit.selectors._trust does (base 10, on time 40,
  volume 20, tenure 15, overdue minus);
- a trial: a batch sold over a window, negative-binomial daily demand, censored when it sells out;
  the trial's censoring-aware demand posterior (trials.science.demand_estimate), its p10 and p90
  over the horizon (demand_quantile), the reorder sized at p90 as the real reorder is;
- the reorder, financed by a loan of its cost, sold over the horizon at a demand that drifts from
  the trial's (the future is not the trial); `repayment_share` of each sale repays the loan; at
  the term a maker pays what is left from its cash and the rest of its revenue with probability
  equal to its reliability, else defaults on it.

Policies, at equal approval rates: the trust policy approves scores of at least `trust_cutoff`;
the demand policy approves as many makers, those whose p10 demand repays the largest share of the
loan. "demand, sized" also lends only what the p10 demand repays (the maker pays the rest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trials.science import demand_estimate, demand_quantile


@dataclass(frozen=True)
class Maker:
    trust: int
    p10_units: int
    reorder_units: int
    unit_cost: float
    price: float
    sold: int  # what the reorder sold over the horizon
    reliability: float
    cash: float


@dataclass
class PolicyResult:
    name: str
    applicants: int = 0
    approved: int = 0
    defaults: int = 0
    lent: float = 0.0
    lost: float = 0.0
    hits_funded: int = 0
    hits: int = 0

    @property
    def approval_rate(self) -> float:
        return self.approved / self.applicants if self.applicants else 0.0

    @property
    def default_rate(self) -> float:
        return self.defaults / self.approved if self.approved else 0.0

    @property
    def loss_rate(self) -> float:
        return self.lost / self.lent if self.lent else 0.0


def trust_score(rng: np.random.Generator, reliability: float) -> int:
    """credit.selectors._trust on a simulated history."""
    score = 10
    invoices = rng.poisson(4) if rng.random() > 0.3 else 0  # 30 % have no history on credit
    if invoices:
        on_time = rng.binomial(invoices, reliability)
        score += round(40 * on_time / invoices)
        volume = invoices * rng.lognormal(math.log(8_000), 0.8)
        score += min(20, round(4 * math.log10(volume)))
        if rng.random() > reliability:  # an unreliable payer is more often overdue right now
            score -= min(40, int(rng.integers(5, 40)))
    score += min(15, round(15 * rng.uniform(0, 730) / 365))
    return max(0, min(100, score))


def simulate_maker(rng: np.random.Generator, *, market_level: float, batch: int, window: int, horizon: int,
                   dispersion: float, drift: float) -> Maker:
    rate = market_level * rng.lognormal(0.0, 1.2)
    reliability = float(rng.beta(4, 1.5))
    unit_cost = float(rng.uniform(20, 80))
    price = unit_cost * float(rng.uniform(1.8, 2.6))
    n, p = dispersion, dispersion / (dispersion + rate)
    daily = rng.negative_binomial(n, p, size=window)
    cumulative = np.cumsum(daily)
    sold_daily = np.diff(np.concatenate([[0], np.minimum(cumulative, batch)]))
    estimate = demand_estimate([int(x) for x in sold_daily], batch, window_days=window)
    p10 = demand_quantile(estimate, horizon_days=horizon, level=0.1)
    p90 = demand_quantile(estimate, horizon_days=horizon, level=0.9)
    units = max(batch, p90)
    future_rate = rate * rng.lognormal(0.0, drift)
    demand = rng.negative_binomial(dispersion * horizon, dispersion / (dispersion + future_rate))  # sum of NB days
    cash_share = float(rng.lognormal(math.log(0.3), 0.8))
    return Maker(trust=trust_score(rng, reliability), p10_units=p10, reorder_units=units, unit_cost=unit_cost, price=price,
                 sold=int(min(units, demand)), reliability=reliability, cash=cash_share * units * unit_cost)


def _outcome(rng: np.random.Generator, maker: Maker, loan: float, share: float) -> tuple[bool, float]:
    """(defaulted, lost) of a loan repaid by `share` of the reorder's sales, then at the term by the
    maker with probability = reliability (from its cash and the rest of its revenue)."""
    revenue = maker.sold * maker.price
    left = max(0.0, loan - share * revenue)
    if left > 0.005 and rng.random() < maker.reliability:
        left = max(0.0, left - (maker.cash + (1 - share) * revenue))
    return left > 0.005, left


def run_backtest(*, markets: int = 10, makers: int = 200, seed: int = 2026, share: float = 0.5, trust_cutoff: int = 60,
                 batch: int = 60, window: int = 30, horizon: int = 30, dispersion: float = 2.0, drift: float = 0.35,
                 hit_sell_through: float = 0.8) -> dict:
    rng = np.random.default_rng(seed)
    people: list[Maker] = []
    for _ in range(markets):
        level = float(rng.lognormal(math.log(1.2), 0.6))
        people += [simulate_maker(rng, market_level=level, batch=batch, window=window, horizon=horizon,
                                  dispersion=dispersion, drift=drift) for _ in range(makers)]
    cost = np.array([m.reorder_units * m.unit_cost for m in people])
    repayable = np.array([min(m.p10_units, m.reorder_units) * m.price * share for m in people])
    trust = np.array([m.trust for m in people])
    hits = np.array([m.sold >= hit_sell_through * m.reorder_units for m in people])
    by_trust = trust >= trust_cutoff
    k = int(by_trust.sum())
    # Equal approval rates: the demand policy approves the k best covered loans (ties by index).
    coverage = repayable / cost
    by_demand = np.zeros(len(people), bool)
    by_demand[np.argsort(-coverage, kind="stable")[:k]] = True
    outcome_rng = np.random.default_rng(seed + 1)  # the same future for every policy
    seeds = outcome_rng.integers(0, 2**31, size=len(people))
    results = []
    for name, approved, sized in (("trust score", by_trust, False), ("demand (p10)", by_demand, False),
                                  ("demand (p10), sized", by_demand, True)):
        r = PolicyResult(name=name, applicants=len(people), approved=int(approved.sum()), hits=int(hits.sum()))
        for i in np.nonzero(approved)[0]:
            loan = float(min(cost[i], repayable[i]) if sized else cost[i])
            if loan <= 0:
                continue
            rng_i = np.random.default_rng(int(seeds[i]))  # the same draw whichever policy lent
            defaulted, lost = _outcome(rng_i, people[i], loan, share)
            r.lent += loan
            r.lost += lost
            r.defaults += int(defaulted)
            r.hits_funded += int(hits[i])
        results.append(r)
    return {"markets": markets, "makers": makers, "seed": seed, "share": share, "trust_cutoff": trust_cutoff,
            "hit_rate": float(hits.mean()), "results": results}


def format_table(outcome: dict) -> str:
    rows = [f"{outcome['markets']} markets × {outcome['makers']} makers, seed {outcome['seed']}, repayment share "
            f"{outcome['share']:.0%}, trust cut-off {outcome['trust_cutoff']}; hits (reorder ≥ 80 % sold) "
            f"{outcome['hit_rate']:.1%} of makers", "",
            "| policy | approved | approval rate | default rate | loss rate | lent | hits funded |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in outcome["results"]:
        rows.append(f"| {r.name} | {r.approved:,} | {r.approval_rate:.1%} | {r.default_rate:.1%} | {r.loss_rate:.1%} | "
                    f"{r.lent:,.0f} | {r.hits_funded:,} of {r.hits:,} |")
    return "\n".join(rows)
