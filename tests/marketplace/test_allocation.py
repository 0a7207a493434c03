"""The sourcing of one BOM line (marketplace.allocation), against brute force on small cases."""

import itertools
import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.sourcing.allocation import Offer, allocate, line_lower_bound, lower_bound, order_qty, solve_line


def offer(listing_id, *, moq=1, multiple=1, stock=1000, lead=0, breaks=((1, "1.00"),)):
    return Offer(listing_id, listing_id, 1, moq, multiple, stock, lead, tuple((q, Decimal(p)) for q, p in breaks))


def brute_force(offers, needed):
    choices = [[0, *range(o.min_buy, o.max_buy + 1, o.multiple)] if o.max_buy else [0] for o in offers]
    costs = [sum((o.cost(q) for o, q in zip(offers, combo) if q), Decimal(0))
             for combo in itertools.product(*choices) if sum(combo) >= needed]
    return min(costs) if costs else None


def test_order_qty_follows_the_contract():
    assert order_qty(120, 250, 100) == 300
    assert order_qty(7, 1, 5) == 10
    assert order_qty(10, 1, 5) == 10


def test_split_when_one_vendor_cannot_fill():
    allocations, shortfall = allocate([offer(1, stock=60), offer(2, stock=30, breaks=((1, "1.20"),))], 80)
    assert [(a.offer.listing_id, a.quantity) for a in allocations] == [(1, 60), (2, 20)]
    assert shortfall == 0


def test_everything_available_and_the_rest_is_shortfall():
    allocations, shortfall = allocate([offer(1, stock=60), offer(2, stock=35, multiple=10)], 200)
    assert [(a.offer.listing_id, a.quantity) for a in allocations] == [(1, 60), (2, 30)]
    assert shortfall == 110


def test_a_cheap_first_pick_does_not_force_an_expensive_moq():
    # Greedy would take all 56 cheap units, then pay a 30-unit MOQ for the last 4.
    cheap = offer(2, stock=56, breaks=((1, "0.91"), (9, "0.66")))
    moq_bound = offer(1, moq=30, multiple=5, stock=32, breaks=((1, "1.41"), (12, "0.89")))
    allocations, _ = allocate([moq_bound, cheap], 60)
    assert sum(a.extended_price for a in allocations) == brute_force([moq_bound, cheap], 60) == Decimal("46.50")


def test_overbuying_to_a_break_when_cheaper():
    allocations, _ = allocate([offer(1, breaks=((1, "1.00"), (100, "0.50")))], 90)
    assert [(a.quantity, a.unit_price) for a in allocations] == [(100, Decimal("0.50"))]


def test_ties_are_deterministic():
    for order in ([offer(3), offer(2, lead=2), offer(1, lead=0)], [offer(1), offer(3), offer(2, lead=2)]):
        allocations, _ = allocate(order, 10)
        assert [a.offer.listing_id for a in allocations] == [1]


offers_strategy = st.lists(
    st.builds(
        lambda moq, multiple, stock, lead, p, steps: (moq, multiple, stock, lead, p, steps),
        st.sampled_from([1, 5, 10, 20]), st.sampled_from([1, 5, 10]), st.integers(0, 60), st.integers(0, 3),
        st.integers(20, 200), st.lists(st.tuples(st.integers(5, 30), st.integers(60, 99)), max_size=2),
    ),
    min_size=1, max_size=3,
)


def _build(raw):
    offers = []
    for i, (moq, multiple, stock, lead, p, steps) in enumerate(raw, start=1):
        price, qty, breaks = Decimal(p) / 100, 1, [(1, Decimal(p) / 100)]
        for dq, pct in steps:
            qty, price = qty + dq, (price * pct / 100).quantize(Decimal("0.01"))
            breaks.append((qty, price))
        offers.append(Offer(i, i, 1, moq, multiple, stock, lead, tuple(breaks)))
    return offers


@settings(max_examples=150, deadline=None)
@given(offers_strategy, st.integers(1, 70))
def test_allocations_are_feasible_and_never_below_the_bounds(raw, needed):
    offers = _build(raw)
    allocations, shortfall = allocate(offers, needed)
    bought = sum(a.quantity for a in allocations)
    for a in allocations:
        assert a.quantity >= a.offer.min_buy and a.quantity % a.offer.multiple == 0 and a.quantity <= a.offer.stock
    assert len({a.offer.listing_id for a in allocations}) == len(allocations)
    if shortfall:
        assert bought == needed - shortfall == sum(o.max_buy for o in offers)
    else:
        assert bought >= needed
        cost = sum(a.extended_price for a in allocations)
        assert lower_bound(offers, needed) <= brute_force(offers, needed) <= cost


def test_matches_brute_force_exactly_and_proves_it():
    """Exact (docs/quotes.md): the brute-force optimum on every adversarial small case — MOQs,
    multiples that do not divide each other (3, 7, 10), breaks, scarce stock — and proven so."""
    rng = random.Random(11)
    total = 0
    while total < 400:
        raw = [(rng.choice([1, 5, 10, 20, 30]), rng.choice([1, 1, 3, 5, 7, 10]), rng.randint(0, 60), rng.randint(0, 3),
                rng.randint(50, 200), [(rng.randint(5, 30), rng.randint(60, 99)) for _ in range(rng.randint(0, 2))])
               for _ in range(rng.randint(2, 4))]
        offers, needed = _build(raw), rng.randint(1, 80)
        if sum(o.max_buy for o in offers) < needed:
            continue
        solution = solve_line(offers, needed)
        total += 1
        assert sum(a.extended_price for a in solution.allocations) == brute_force(offers, needed), (raw, needed)
        assert solution.proven
        assert line_lower_bound(offers, needed) <= solution.cost


def test_ties_prefer_the_shorter_lead_time_even_when_a_lower_listing_id_is_slower():
    slow, fast = offer(1, lead=7, breaks=((1, "0.50"),)), offer(2, lead=0, breaks=((1, "0.50"),))
    allocations, _ = allocate([slow, fast], 40)
    assert [(a.offer.listing_id, a.quantity) for a in allocations] == [(2, 40)]


def test_buys_more_at_a_cheaper_break_and_tops_up_with_a_coprime_multiple():
    # 24 needed: 14 of A (multiple 7) and 10 of B (multiple 5) cost 24.00; no anchor-only plan does.
    a, b = offer(1, multiple=7, breaks=((1, "1.00"),)), offer(2, multiple=5, breaks=((1, "1.00"),))
    solution = solve_line([a, b], 24)
    assert sum(a.extended_price for a in solution.allocations) == Decimal("24.00") and solution.proven


def test_the_anchored_search_alone_matches_brute_force_and_the_plain_search(monkeypatch):
    """Lines the plain search does not finish go to the anchored search (all but one offer near
    an end of a segment, docs/quotes.md §3): run it on every case — coprime multiples, MOQs,
    breaks, equal prices, lead-time ties — and it must find the brute-force optimum, prove it,
    and pick the very allocation the plain search picks (the tie-breaks)."""
    from marketplace.sourcing import allocation

    rng = random.Random(23)
    total = 0
    while total < 300:
        price = rng.randint(50, 200)
        raw = [(rng.choice([1, 5, 10, 20, 30]), rng.choice([1, 1, 2, 3, 5, 7, 10]), rng.randint(0, 60), rng.randint(0, 3),
                rng.choice([price, rng.randint(50, 200)]),
                [(rng.randint(5, 30), rng.randint(60, 99)) for _ in range(rng.randint(0, 2))])
               for _ in range(rng.randint(2, 4))]
        offers, needed = _build(raw), rng.randint(1, 90)
        if sum(o.max_buy for o in offers) < needed:
            continue
        total += 1
        monkeypatch.setattr(allocation, "QUICK_NODES", 10**9)
        plain = solve_line(offers, needed)
        monkeypatch.setattr(allocation, "QUICK_NODES", 0)
        anchored = solve_line(offers, needed)
        assert sum(a.extended_price for a in anchored.allocations) == brute_force(offers, needed), (raw, needed)
        assert anchored.proven
        assert [(a.offer.listing_id, a.quantity) for a in anchored.allocations] == \
            [(a.offer.listing_id, a.quantity) for a in plain.allocations], (raw, needed)
        for a in anchored.allocations:
            assert a.quantity >= a.offer.min_buy and a.quantity % a.offer.multiple == 0 and a.quantity <= a.offer.max_buy


def test_a_lone_offer_buys_the_cheapest_quantity_that_covers_the_need():
    """The one-offer shortcut (the joint search prices every line per vendor) against brute force."""
    rng = random.Random(5)
    for _ in range(300):
        raw = [(rng.choice([1, 5, 10, 20, 30]), rng.choice([1, 3, 7, 10]), rng.randint(1, 80), 0, rng.randint(50, 200),
                [(rng.randint(5, 30), rng.randint(60, 99)) for _ in range(rng.randint(0, 2))])]
        offers, needed = _build(raw), rng.randint(1, 80)
        solution = solve_line(offers, needed)
        if offers[0].max_buy <= needed:
            assert solution.shortfall == needed - offers[0].max_buy
            continue
        assert sum(a.extended_price for a in solution.allocations) == brute_force(offers, needed), (raw, needed)
        assert solution.proven and solution.shortfall == 0
