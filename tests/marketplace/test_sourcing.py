"""Sourcing a whole BOM jointly (marketplace.sourcing): shipping fees, free shipping, minimum
order values and a cap on vendors, against brute force on small instances."""

import itertools
import random
from decimal import Decimal

from marketplace.sourcing.allocation import Offer
from marketplace.sourcing.plan import MICRO
from marketplace.sourcing.plan import VendorTerms, _cap_bound, plan_sourcing


def offer(listing_id, vendor, *, moq=1, multiple=1, stock=100, breaks=((1, "1.00"),)):
    return Offer(listing_id, vendor, listing_id, moq, multiple, stock, 0, tuple((q, Decimal(p)) for q, p in breaks))


def money(amount: str) -> int:
    return int(Decimal(amount) * MICRO)


def brute_force(problem, terms, max_vendors):
    """Every combination of quantities of every offer of every line: the cheapest feasible plan
    (all lines covered, minimum orders met, at most `max_vendors` vendors), or None."""
    per_offer = []
    for offers, _ in problem:
        for o in offers:
            per_offer.append((o, [0, *range(o.min_buy, o.max_buy + 1, o.multiple)] if o.max_buy else [0]))
    best = None
    for combo in itertools.product(*(choices for _, choices in per_offer)):
        position, ok = 0, True
        for offers, needed in problem:
            if sum(combo[position:position + len(offers)]) < needed:
                ok = False
                break
            position += len(offers)
        if not ok:
            continue
        subtotals = {}
        for (o, _), qty in zip(per_offer, combo):
            if qty:
                subtotals[o.vendor_id] = subtotals.get(o.vendor_id, 0) + o.micro_cost(qty)
        if max_vendors is not None and len(subtotals) > max_vendors:
            continue
        if any(s < terms.get(v, VendorTerms()).min_order_value for v, s in subtotals.items()):
            continue
        cost = sum(subtotals.values()) + sum(terms.get(v, VendorTerms()).shipping(s) for v, s in subtotals.items())
        best = cost if best is None or cost < best else best
    return best


def test_shipping_fee_moves_a_line_to_a_vendor_already_used():
    # Alone, line 2 is 0.10 cheaper at vendor 2; but vendor 2's purchase order costs 5.00 shipping.
    problem = [([offer(1, 1, breaks=((1, "1.00"),))], 10),
               ([offer(2, 1, breaks=((1, "2.00"),)), offer(3, 2, breaks=((1, "1.99"),))], 10)]
    terms = {1: VendorTerms(shipping_fee=money("5")), 2: VendorTerms(shipping_fee=money("5"))}
    plan = plan_sourcing(problem, terms=terms)
    assert sorted(plan.subtotals) == [1]
    assert plan.cost == money("35.00")  # 10 + 20 + one shipping
    assert plan.gap == 0


def test_free_shipping_over_an_amount_and_a_minimum_order():
    problem = [([offer(1, 1, breaks=((1, "1.00"),)), offer(2, 2, breaks=((1, "0.90"),))], 10)]
    # Vendor 2 is cheaper but will not ship an order under 20.00; vendor 1 ships free from 10.00.
    terms = {1: VendorTerms(shipping_fee=money("3"), free_shipping_over=money("10")),
             2: VendorTerms(min_order_value=money("20"))}
    plan = plan_sourcing(problem, terms=terms)
    assert plan.subtotals == {1: money("10")} and plan.shipping == {1: 0}
    assert plan.cost == brute_force(problem, terms, None)


def test_max_vendors_picks_the_best_set():
    def o(listing, vendor, price):
        return offer(listing, vendor, stock=6, breaks=((1, price),))

    problem = [([o(1, 1, "1.00"), o(2, 2, "1.20")], 5),
               ([o(3, 2, "1.00"), o(4, 3, "1.10")], 5),
               ([o(5, 3, "1.00"), o(6, 1, "1.50")], 5)]
    for cap in (2, 3):
        plan = plan_sourcing(problem, max_vendors=cap)
        assert len(plan.subtotals) <= cap and plan.shortfall == 0
        assert plan.cost == brute_force(problem, {}, cap)
        assert plan.gap == 0
    # One vendor cannot supply every line: the quote says what is short rather than break the cap.
    plan = plan_sourcing(problem, max_vendors=1)
    assert len(plan.subtotals) == 1 and plan.shortfall == 5


def test_matches_brute_force_on_small_random_boms():
    """Exact on small BOMs: 2–3 lines, 2–3 offers each over 3 vendors with fees, free-shipping
    thresholds and minimum orders, with and without a cap on vendors."""
    rng = random.Random(3)
    checked = 0
    while checked < 60:
        vendors = [1, 2, 3]
        problem, listing = [], 0
        for _ in range(rng.randint(2, 3)):
            offers = []
            for vendor in rng.sample(vendors, rng.randint(2, 3)):
                listing += 1
                price = Decimal(rng.randint(50, 200)) / 100
                breaks = [(1, price)] + ([(rng.randint(4, 9), price * Decimal("0.8"))] if rng.random() < 0.5 else [])
                offers.append(offer(listing, vendor, moq=rng.choice([1, 2, 5]), multiple=rng.choice([1, 1, 2, 3]),
                                    stock=rng.randint(0, 12), breaks=tuple((q, str(p.quantize(Decimal("0.01")))) for q, p in breaks)))
            problem.append((offers, rng.randint(1, 8)))
        terms = {v: VendorTerms(shipping_fee=money(str(rng.choice([0, 1, 2, 5]))),
                                free_shipping_over=rng.choice([None, money("6"), money("12")]),
                                min_order_value=money(str(rng.choice([0, 0, 3, 8])))) for v in vendors}
        cap = rng.choice([None, 1, 2])
        size = 1
        for offers, _ in problem:
            for o in offers:
                size *= 1 + (o.max_buy - o.min_buy) // o.multiple + 1 if o.max_buy else 1
        if size > 50_000:  # keep brute force quick
            continue
        best = brute_force(problem, terms, cap)
        if best is None:
            continue
        plan = plan_sourcing(problem, terms=terms, max_vendors=cap)
        if cap is not None:  # the LP bound used on large BOMs never exceeds the optimum
            bound, _ = _cap_bound(problem, terms, cap)
            assert bound is None or bound <= best + 10
        checked += 1
        assert plan.shortfall == 0
        assert plan.cost == best, (problem, terms, cap)
        assert plan.gap == 0
        assert len(plan.subtotals) <= (cap or 3)
        for v, s in plan.subtotals.items():
            assert s >= terms[v].min_order_value


def test_without_terms_every_line_is_its_own_optimum_and_proven():
    rng = random.Random(5)
    problem = []
    for line in range(20):
        offers = [offer(line * 10 + i, i, moq=rng.choice([1, 10, 100]), multiple=rng.choice([1, 5]),
                        stock=rng.choice([50, 500, 5000]),
                        breaks=((1, "1.00"), (100, f"0.{rng.randint(80, 99)}"))) for i in range(1, 6)]
        problem.append((offers, rng.randint(1, 900)))
    plan = plan_sourcing(problem)
    assert plan.proven_lines == 20 and plan.gap == 0 and plan.cost == plan.bound
