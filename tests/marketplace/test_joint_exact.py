"""The joint sourcing engine (`plan_sourcing`) against an independent exact solver
(`joint_checker`: another model, another solver interface, no limits) on random small kits with
MOQs, multiples, price breaks, scarce stock, shipping fees, free-shipping thresholds, minimum
orders, a vendor cap and substitutes shared between lines — the kits where the old engine was
short or dear. The engine must leave exactly as few units short as the optimum, cost what the
optimum costs (the issue allows 0.5 %; it is exact here) and give the same plan when asked twice."""

import random
from decimal import Decimal

import pytest

from marketplace.sourcing.allocation import Offer
from marketplace.sourcing.plan import MICRO, VendorTerms, plan_sourcing
from tests.marketplace import joint_checker


def random_kit(rng: random.Random):
    vendors = list(range(1, rng.randint(2, 6) + 1))
    problem, listing = [], 0
    all_offers = []
    for part in range(rng.randint(3, 8)):
        offers = []
        for vendor in rng.sample(vendors, rng.randint(1, min(4, len(vendors)))):
            listing += 1
            price = Decimal(rng.randint(20, 900)) / 100
            breaks = [(1, price)]
            for q in sorted(rng.sample([5, 10, 20, 30], rng.randint(0, 2))):
                price = (price * Decimal(rng.choice(["0.7", "0.85", "0.95"]))).quantize(Decimal("0.01"))
                breaks.append((q, price))
            moq = rng.choice([1, 1, 2, 5, 10, 25])
            multiple = rng.choice([1, 1, 2, 3, 5])
            offers.append(Offer(listing, vendor, part, moq, multiple, rng.choice([0, 4, 8, 15, 25, 40]),
                                rng.choice([0, 0, 3, 7, 14]), tuple(breaks)))
        if all_offers and rng.random() < 0.2:  # a substitute: another line's listing, its stock shared
            offers.append(rng.choice(all_offers))
        all_offers += offers
        problem.append((offers, rng.randint(1, 45)))
    terms = {}
    for v in vendors:
        if rng.random() < 0.8:
            terms[v] = VendorTerms(shipping_fee=rng.choice([0, 2, 5, 15, 40]) * MICRO,
                                   free_shipping_over=rng.choice([None, None, 30 * MICRO, 100 * MICRO]),
                                   min_order_value=rng.choice([0, 0, 10, 50, 150]) * MICRO)
    cap = rng.choice([None, None, 1, 2, 3])
    return problem, terms, cap


def test_checker_agrees_with_brute_force_on_tiny_kits():
    rng = random.Random(11)
    checked = 0
    while checked < 25:
        problem, terms, cap = random_kit(rng)
        problem = problem[:2]
        for offers, _ in problem:
            for o in offers:
                o.stock = min(o.stock, 12)
        size = 1
        for offers, _ in problem:
            for o in offers:
                size *= 1 + len(joint_checker.quantities(o))
        if size > 20_000:
            continue
        # stock was changed in place: rebuild the offers so their derived values follow
        rebuilt = {}
        problem = [([rebuilt.setdefault(o.listing_id, Offer(o.listing_id, o.vendor_id, o.part_id, o.moq, o.multiple,
                                                              o.stock, o.lead_time_days, o.breaks)) for o in offers], n)
                   for offers, n in problem]
        assert joint_checker.exact(problem, terms, cap) == joint_checker.brute_force(problem, terms, cap)
        plan = plan_sourcing(problem, terms=terms, max_vendors=cap)
        assert (plan.shortfall, plan.cost) == joint_checker.exact(problem, terms, cap)
        checked += 1


@pytest.mark.parametrize("seed", range(6))
def test_engine_equals_the_exact_optimum_on_random_small_kits(seed):
    rng = random.Random(1000 + seed)
    for _ in range(25):
        problem, terms, cap = random_kit(rng)
        short, cost = joint_checker.exact(problem, terms, cap)
        plan = plan_sourcing(problem, terms=terms, max_vendors=cap)
        assert plan.shortfall == short, (problem, terms, cap)
        assert plan.cost <= cost * 1.005 + 1, (plan.cost, cost)
        assert plan.cost >= cost  # the checker is exact: nothing is cheaper
        # Rules a buyer would notice: the cap, the minimum orders, the stock.
        assert len(plan.subtotals) <= (cap or len(plan.subtotals))
        for v, s in plan.subtotals.items():
            assert s >= terms.get(v, VendorTerms()).min_order_value
        again = plan_sourcing(problem, terms=terms, max_vendors=cap)
        assert [[(a.offer.listing_id, a.quantity) for a in s.allocations] for s in again.lines] == \
               [[(a.offer.listing_id, a.quantity) for a in s.allocations] for s in plan.lines]
