"""Sourcing alone, in memory (no database): the 300-line × 20-offer kits of `bench/marketplace.py`
drawn the same way, solved by `marketplace.sourcing.plan_sourcing`; prints CPU time per run (p50 /
p95), lines proven and the proven gap, as a Markdown table. For profiling the search without the
loading and saving a quote also does (`--profile` prints cProfile's top functions).

    .venv/bin/python bench/sourcing.py [--runs 5] [--case a100|a1000|a5000|b] [--profile]
    .venv/bin/python bench/sourcing.py --lines [--repeat 3]   # per-line CPU (search + hand-over): p50 / p99 / max
    .venv/bin/python bench/sourcing.py --small 10   # 30-line × 10-vendor kits, solved exactly (joint MILP)
    .venv/bin/python bench/sourcing.py --check 200  # small random kits against the independent checker
"""

import argparse
import cProfile
import math
import pstats
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

# The project root first, and not bench/: a script here named like a package (marketplace, trials)
# must not shadow it, whether run as `python bench/x.py` or `python -P bench/x.py`.
sys.path = [str(Path(__file__).resolve().parent.parent)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from marketplace.sourcing.allocation import Offer, solve_line
from marketplace.sourcing.plan import VendorTerms, plan_sourcing

MICRO = 1_000_000


def draw_problem(rng: random.Random, quantity: int, vendors: list[int], lines: int = 300, offers: int = 20,
                 stocks=(0, 200, 1000, 5000, 20000, 100000)) -> list[tuple[list[Offer], int]]:
    """As `bench/marketplace.py build_kit` draws listings; stock-0 listings are not live offers."""
    problem, listing_id = [], 0
    for part_id in range(lines):
        base = Decimal(rng.randint(1, 3000)) / 100
        line = []
        for vendor in rng.sample(vendors, offers):
            listing_id += 1
            moq = rng.choice([1, 1, 10, 100, 1000])
            multiple = rng.choice([1, 1, 10]) if moq > 1 else 1
            stock, lead = rng.choice(stocks), rng.choice([0, 0, 0, 3, 7])
            price = base * Decimal(rng.randint(85, 130)) / 100
            spec = [(1, price), (100, price * Decimal("0.92")), (1000, price * Decimal("0.85")),
                    (5000, price * Decimal("0.8"))][: rng.randint(2, 4)]
            if stock:
                line.append(Offer(listing_id, vendor, part_id, moq, multiple, stock, lead,
                                  tuple((q, p.quantize(Decimal("0.000001"))) for q, p in spec)))
        per_unit = rng.choice([1, 1, 2, 4, 10])
        problem.append((line, math.ceil(per_unit * quantity * Decimal("1.02"))))
    return problem


def case(name: str, seed: int):
    rng = random.Random(seed)
    if name == "b":
        vendors = list(range(1, 26))
        problem = draw_problem(rng, 1000, vendors, stocks=(5000, 20000, 100000))
        terms = {v: VendorTerms(shipping_fee=rng.choice([8, 12, 15, 20, 30]) * MICRO,
                                free_shipping_over=rng.choice([None, 2000 * MICRO, 5000 * MICRO]),
                                min_order_value=rng.choice([50, 100, 200, 500]) * MICRO) for v in vendors}
        return problem, terms, 5
    return draw_problem(rng, int(name[1:]), list(range(1, 401))), {}, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="kits drawn per case (seeds 1..runs)")
    parser.add_argument("--case", action="append", help="a100, a1000, a5000, b (default: all)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--lines", action="store_true", help="per-line CPU time instead of whole kits")
    parser.add_argument("--repeat", type=int, default=1, help="--lines: solve each line this many times, keep the least")
    parser.add_argument("--small", type=int, default=0, help="this many 30×10 kits with terms, with and without a cap")
    parser.add_argument("--check", type=int, default=0, help="this many small random kits against the checker")
    args = parser.parse_args()
    if args.lines:
        return per_line(args.runs, args.repeat)
    if args.small:
        return small_kits(args.small)
    if args.check:
        return check(args.check)
    print("| case | kits | CPU p50 ms | CPU p95 ms | lines proven | worst gap |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in args.case or ["a100", "a1000", "a5000", "b"]:
        times, proven, lines, gaps = [], 0, 0, []
        profile = cProfile.Profile() if args.profile else None
        for seed in range(1, args.runs + 1):
            problem, terms, cap = case(name, seed)
            start = time.process_time()
            if profile:
                profile.enable()
            plan = plan_sourcing(problem, terms=terms, max_vendors=cap)
            if profile:
                profile.disable()
            times.append((time.process_time() - start) * 1000)
            proven += plan.proven_lines
            lines += len(plan.lines)
            gaps.append(plan.gap)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"| {name} | {args.runs} | {times[len(times) // 2]:.0f} | {p95:.0f} | {proven}/{lines} | "
              f"{max(gaps) * 100:.3f} % |", flush=True)
        if profile:
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(25)


def hard_line(rng: random.Random, offers: int = 20) -> tuple[list[Offer], int]:
    """An adversarial line (the issue's: 20 offers, a 10,000+ need, MOQs and multiples 3, 7, 25, 50)."""
    base = Decimal(rng.randint(5, 3000)) / 100
    line = []
    for i in range(offers):
        price = base * Decimal(rng.randint(80, 130)) / 100
        spec = [(1, price), (100, price * Decimal("0.92")), (1000, price * Decimal("0.85")),
                (5000, price * Decimal("0.8")), (10000, price * Decimal("0.77"))][: rng.randint(2, 5)]
        line.append(Offer(i + 1, i + 1, 1, rng.choice([1, 10, 100, 250, 1000, 2500]), rng.choice([1, 1, 3, 7, 10, 25, 50]),
                          rng.choice([500, 2000, 5000, 20000, 100000]), rng.choice([0, 3, 7]),
                          tuple((q, p.quantize(Decimal("0.000001"))) for q, p in spec)))
    return line, rng.randint(10_000, 60_000)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def per_line(runs: int, repeat: int = 1) -> None:
    """CPU per line as `plan.exact_line` solves it (the bounded search; lines it does not prove go
    to the exact dynamic programme of `line_dp`, or above its work limit to HiGHS), and the time
    of those hand-overs. `repeat`: each line is solved that many times and its least time kept
    (the machine is shared: a single run can be preempted mid-line)."""
    from marketplace.sourcing import plan

    handed: list[tuple[str, float]] = []

    def timed(kind, fn):
        def inner(*args, **kwargs):
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                handed.append((kind, (time.process_time() - start) * 1000))
        return inner

    originals = plan.solve_line_dp, plan.prove_line
    plan.solve_line_dp, plan.prove_line = timed("dp", plan.solve_line_dp), timed("highs", plan.prove_line)
    print("| lines | count | **line p50 ms** | **p99** | **max** | proven by the search | finished by the DP | by HiGHS "
          "| DP p50 ms | DP max | proven |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    groups = [(name, [line for seed in range(1, runs + 1) for line in case(name, seed)[0]])
              for name in ("a100", "a1000", "a5000")]
    rng = random.Random(7)
    groups.append(("hard (20 offers, need 10k–60k)", [hard_line(rng) for _ in range(200)]))
    try:
        for name, lines in groups:
            total, dp, proven, by_dp, by_highs = [], [], 0, 0, 0
            for offers, needed in lines:
                best = None
                for _ in range(repeat):
                    handed.clear()
                    start = time.process_time()
                    solution = plan.exact_line(offers, needed)
                    spent = (time.process_time() - start) * 1000
                    best = spent if best is None else min(best, spent)
                total.append(best)
                proven += solution.proven
                kinds = [k for k, _ in handed]
                by_highs += "highs" in kinds
                by_dp += "dp" in kinds and "highs" not in kinds
                dp += [t for k, t in handed if k == "dp"]
            extra = f"{_pct(dp, 0.5):.1f} | {max(dp):.1f}" if dp else "– | –"
            print(f"| {name} | {len(lines)} | {_pct(total, 0.5):.2f} | {_pct(total, 0.99):.1f} | {max(total):.1f} | "
                  f"{len(lines) - by_dp - by_highs} | {by_dp} | {by_highs} | {extra} | {proven} |", flush=True)
    finally:
        plan.solve_line_dp, plan.prove_line = originals


def small_kits(count: int) -> None:
    """30 lines × 10 vendors with shipping, free-shipping thresholds and minimum orders (the size the
    joint MILP solves exactly), with no cap and with max_vendors = 3."""
    print("| kits (30 × 10) | cap | CPU p50 ms | p95 | max | proven (gap ≤ 0.1 %) | worst gap | same plan twice |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for cap in (None, 3):
        times, gaps, proven, same = [], [], 0, True
        for seed in range(1, count + 1):
            rng = random.Random(seed)
            vendors = list(range(1, 11))
            problem = draw_problem(rng, 100, vendors, lines=30, offers=10)
            terms = {v: VendorTerms(shipping_fee=rng.choice([8, 12, 15, 20, 30]) * MICRO,
                                    free_shipping_over=rng.choice([None, 2000 * MICRO, 5000 * MICRO]),
                                    min_order_value=rng.choice([50, 100, 200, 500]) * MICRO) for v in vendors}
            start = time.process_time()
            plan = plan_sourcing(problem, terms=terms, max_vendors=cap)
            times.append((time.process_time() - start) * 1000)
            gaps.append(plan.gap)
            proven += plan.gap <= 0.001
            if seed <= 3:
                again = plan_sourcing(problem, terms=terms, max_vendors=cap)
                same &= [[(a.offer.listing_id, a.quantity) for a in s.allocations] for s in again.lines] == \
                        [[(a.offer.listing_id, a.quantity) for a in s.allocations] for s in plan.lines]
        print(f"| {count} | {cap or '–'} | {_pct(times, 0.5):.0f} | {_pct(times, 0.95):.0f} | {max(times):.0f} | "
              f"{proven}/{count} | {max(gaps) * 100:.3f} % | {'yes' if same else 'NO'} |", flush=True)


def check(count: int) -> None:
    """Small random kits (3–8 lines, 2–6 vendors, terms, caps, substitutes) against the independent
    exact checker of the tests: how often the shortfall and the cost agree."""
    from tests.marketplace import joint_checker
    from tests.marketplace.test_joint_exact import random_kit

    rng = random.Random(2026)
    short_ok = cost_ok = exact = 0
    worst = 0.0
    for _ in range(count):
        problem, terms, cap = random_kit(rng)
        short, cost = joint_checker.exact(problem, terms, cap)
        plan = plan_sourcing(problem, terms=terms, max_vendors=cap)
        short_ok += plan.shortfall == short
        if plan.shortfall == short:
            gap = (plan.cost - cost) / cost if cost else 0.0
            worst = max(worst, gap)
            cost_ok += gap <= 0.005
            exact += plan.cost == cost
    print(f"{count} kits: shortfall equal to the optimum {short_ok}/{count}; cost within 0.5 % {cost_ok}/{count}; "
          f"exactly optimal {exact}/{count}; worst excess {worst * 100:.3f} %")


if __name__ == "__main__":
    main()
