"""Sourcing alone, in memory (no database): the 300-line × 20-offer kits of `bench/marketplace.py`
drawn the same way, solved by `marketplace.sourcing.plan_sourcing`; prints CPU time per run (p50 /
p95), lines proven and the proven gap, as a Markdown table. For profiling the search without the
loading and saving a quote also does (`--profile` prints cProfile's top functions).

    .venv/bin/python bench/sourcing.py [--runs 5] [--case a100|a1000|a5000|b] [--profile]
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

# The project root instead of bench/ (whose http.py would shadow the standard library's http).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from marketplace.sourcing.allocation import Offer
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
    parser.add_argument("--time-limit", type=float, default=0.8)
    args = parser.parse_args()
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
            plan = plan_sourcing(problem, terms=terms, max_vendors=cap, time_limit=args.time_limit)
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


if __name__ == "__main__":
    main()
