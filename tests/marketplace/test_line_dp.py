"""The exact finish of one BOM line (marketplace.sourcing.line_dp) against brute force, and a line
the bounded search hands over (plan.exact_line)."""

import itertools
import random
from decimal import Decimal

from marketplace.sourcing import plan
from marketplace.sourcing.allocation import Allocation, LineSolution, Offer, _greedy, solve_line
from marketplace.sourcing.line_dp import solve_line_dp


def random_line(rng: random.Random, *, rising: bool = False) -> tuple[list[Offer], int]:
    """2–4 offers: MOQs, multiples that do not divide each other, scarce stock, lead times, price
    breaks (falling, or with `rising` sometimes dearer at a larger quantity), equal prices."""
    shared = rng.randint(50, 200)
    offers = []
    for i in range(1, rng.randint(2, 4) + 1):
        price = Decimal(rng.choice([shared, rng.randint(50, 200)])) / 100
        qty, breaks = 1, [(1, price)]
        for _ in range(rng.randint(0, 2)):
            qty += rng.randint(5, 30)
            price = (price * rng.randint(60, 120 if rising else 99) / 100).quantize(Decimal("0.01"))
            breaks.append((qty, price))
        offers.append(Offer(i, i, 1, rng.choice([1, 5, 10, 20, 30]), rng.choice([1, 1, 2, 3, 5, 7, 10]),
                            rng.randint(0, 45), rng.randint(0, 3), tuple(breaks)))
    return offers, rng.randint(1, 80)


def brute_force(offers: list[Offer], needed: int) -> tuple[int, int]:
    """(least cost in micro, then the least longest lead time at that cost)."""
    choices = [[0, *range(o.min_buy, o.max_buy + 1, o.multiple)] if o.max_buy else [0] for o in offers]
    return min((sum(o.micro_cost(q) for o, q in zip(offers, combo) if q),
                max((o.lead_time_days for o, q in zip(offers, combo) if q), default=0))
               for combo in itertools.product(*choices) if sum(combo) >= needed)


def _coverable(offers, needed):
    return sum(o.max_buy for o in offers) > needed


def _check(offers, needed, solution, expected):
    assert solution is not None and solution.proven and solution.shortfall == 0
    assert (solution.cost, max(a.offer.lead_time_days for a in solution.allocations)) == expected, (offers, needed)
    assert solution.cost == sum(a.offer.micro_cost(a.quantity) for a in solution.allocations)
    assert sum(a.quantity for a in solution.allocations) >= needed
    for a in solution.allocations:
        assert a.quantity >= a.offer.min_buy and a.quantity % a.offer.multiple == 0 and a.quantity <= a.offer.max_buy


def test_matches_brute_force_without_an_incumbent():
    """Cost, then the shortest longest lead time, on 300 small adversarial lines (prices that rise
    with quantity included: then no segment is stretched)."""
    rng = random.Random(31)
    total = 0
    while total < 300:
        offers, needed = random_line(rng, rising=total % 2 == 1)
        if not _coverable(offers, needed):
            continue
        total += 1
        _check(offers, needed, solve_line_dp(offers, needed), brute_force(offers, needed))


def test_a_dear_incumbent_never_cuts_the_optimum():
    """Offers and states are cut against the incumbent's cost: with a poor incumbent (the greedy
    split, or a single dear offer) the optimum must still be found."""
    rng = random.Random(37)
    total = 0
    while total < 300:
        offers, needed = random_line(rng, rising=total % 3 == 0)
        if not _coverable(offers, needed):
            continue
        greedy = _greedy(offers, needed)
        if sum(a.quantity for a in greedy) < needed:
            continue
        total += 1
        incumbent = LineSolution(greedy, 0, sum(a.offer.micro_cost(a.quantity) for a in greedy), 0)
        _check(offers, needed, solve_line_dp(offers, needed, incumbent), brute_force(offers, needed))


def test_an_optimal_incumbent_is_kept():
    offers = [Offer(1, 1, 1, 1, 7, 100, 0, ((1, Decimal("1.00")),)), Offer(2, 2, 1, 1, 5, 100, 0, ((1, Decimal("1.00")),))]
    incumbent = LineSolution([Allocation(offers[0], 14), Allocation(offers[1], 10)], 0, 24_000_000, 0)
    solution = solve_line_dp(offers, 24, incumbent)
    assert solution.proven and solution.allocations is incumbent.allocations


def test_above_its_work_limit_it_declines():
    offers, needed = [Offer(1, 1, 1, 1, 1, 100_000, 0, ((1, Decimal("1.00")),)),
                      Offer(2, 2, 1, 1, 1, 100_000, 0, ((1, Decimal("0.99")),))], 50_000
    assert solve_line_dp(offers, needed, work_limit=1_000) is None
    assert solve_line_dp(offers, needed).cost == 50_000 * 990_000


def test_a_line_the_search_hands_over_is_proven_optimal(monkeypatch):
    """`exact_line` with no search budget: every line goes to the programme, and when that declines
    (its work limit forced to nothing) to the full search and HiGHS; both end proven optimal."""
    rng = random.Random(41)
    monkeypatch.setattr(plan, "QUICK_NODES", 0)
    total = 0
    while total < 60:
        offers, needed = random_line(rng)
        if not _coverable(offers, needed):
            continue
        total += 1
        expected = brute_force(offers, needed)
        _check(offers, needed, plan.exact_line(offers, needed), expected)
        with monkeypatch.context() as m:
            m.setattr("marketplace.sourcing.line_dp.DP_WORK", 0)
            m.setattr(plan, "solve_line", lambda o, n, node_limit=0: solve_line(o, n, node_limit=0))
            solution = plan.exact_line(offers, needed)
        assert solution.proven and solution.cost == expected[0]


def test_a_large_line_the_search_does_not_prove_agrees_with_highs():
    """A 20-offer line with a 10,000+ need that the bounded search does not prove (issue 20's kind):
    the programme proves it and agrees with HiGHS."""
    from marketplace.sourcing.joint_milp import prove_line

    rng = random.Random(7)
    found = 0
    for _ in range(40):
        base = Decimal(rng.randint(5, 3000)) / 100
        offers = []
        for i in range(20):
            price = base * Decimal(rng.randint(80, 130)) / 100
            spec = [(1, price), (100, price * Decimal("0.92")), (1000, price * Decimal("0.85")),
                    (5000, price * Decimal("0.8"))][: rng.randint(2, 4)]
            offers.append(Offer(i + 1, i + 1, 1, rng.choice([1, 10, 100, 250, 1000]), rng.choice([1, 3, 7, 10, 25, 50]),
                                rng.choice([500, 2000, 5000, 20000]), rng.choice([0, 3, 7]),
                                tuple((q, p.quantize(Decimal("0.000001"))) for q, p in spec)))
        needed = rng.randint(10_000, 30_000)
        searched = solve_line(offers, needed, node_limit=plan.QUICK_NODES)
        if searched.proven or searched.shortfall:
            continue
        found += 1
        exact = solve_line_dp(offers, needed, searched)
        milp = prove_line(offers, needed, searched)
        assert exact.proven and milp.proven and exact.cost == milp.cost <= searched.cost
        if found == 3:
            break
    assert found
