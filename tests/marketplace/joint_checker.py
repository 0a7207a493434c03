"""An independent exact solver for the joint sourcing problem, to test `plan_sourcing` against.

It shares no code with the engine beyond `Offer` (the listing as data) and `VendorTerms`: it
prices quantities with its own reading of the price breaks, and models the problem differently —
one binary per (line, offer, *order quantity*) instead of per price segment — solved by
`scipy.optimize.milp` (a different interface and model from the engine's highspy one), with no
node or time limit, in two stages (fewest units short, then cheapest at that shortfall), all in
exact integer millionths (costs are checked again in integers after the solve). Only for small
stocks: every possible order quantity is a column. `brute_force` enumerates every plan instead,
for the tiniest kits, to check the checker.
"""

import itertools
from decimal import ROUND_CEILING, Decimal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

MICRO = 1_000_000


def unit_micro(offer, qty: int) -> int:
    """The unit price (micro, rounded up like a listing's 6-place price) at the largest break ≤ qty."""
    price = None
    for min_qty, p in offer.breaks:
        if min_qty <= qty:
            price = p
    return int((Decimal(price) * MICRO).to_integral_value(ROUND_CEILING))


def quantities(offer) -> list[int]:
    """Every order quantity the listing accepts: multiples, at least the MOQ, at most the stock."""
    first = -(-max(offer.moq, 1) // offer.multiple) * offer.multiple
    return list(range(first, offer.stock // offer.multiple * offer.multiple + 1, offer.multiple))


def landed(plan: dict[tuple[int, int], int], problem, terms) -> tuple[int, int] | None:
    """(shortfall, cost) of a plan {(line, listing id): qty}, or None if it breaks a rule."""
    subtotal: dict[int, int] = {}
    taken: dict[int, int] = {}
    short = 0
    offers_by = {}
    for line, (offers, needed) in enumerate(problem):
        got = 0
        for o in offers:
            offers_by[o.listing_id] = o
            q = plan.get((line, o.listing_id), 0)
            if q:
                got += q
                taken[o.listing_id] = taken.get(o.listing_id, 0) + q
                subtotal[o.vendor_id] = subtotal.get(o.vendor_id, 0) + q * unit_micro(o, q)
        short += max(needed - got, 0)
    if any(q > offers_by[i].stock for i, q in taken.items()):
        return None
    cost = 0
    for v, s in subtotal.items():
        t = terms.get(v)
        if t is None:
            cost += s
            continue
        if s < t.min_order_value:
            return None
        free = t.free_shipping_over is not None and s >= t.free_shipping_over
        cost += s + (0 if free else t.shipping_fee)
    return short, cost


def exact(problem, terms, max_vendors) -> tuple[int, int]:
    """(fewest units short, least landed cost at that shortfall), micro."""
    cost, rows = [], []  # rows: (entries, lb, ub)
    integrality, upper = [], []

    def col(c: float, ub: float = 1, integer: int = 1) -> int:
        cost.append(c)
        upper.append(ub)
        integrality.append(integer)
        return len(cost) - 1

    vendors = sorted({o.vendor_id for offers, _ in problem for o in offers})
    z = {v: col(0) for v in vendors}
    w = {v: col(0) for v in vendors}
    money: dict[int, float] = {}
    subtotal: dict[int, list[tuple[int, float]]] = {v: [] for v in vendors}
    stock: dict[int, list[tuple[int, float]]] = {}
    shorts = []
    for line, (offers, needed) in enumerate(problem):
        cover = []
        for o in offers:
            choice = []
            for q in quantities(o):
                x = col(0)
                money[x] = q * unit_micro(o, q) / MICRO
                cover.append((x, q))
                choice.append((x, 1))
                subtotal[o.vendor_id].append((x, money[x]))
                stock.setdefault(o.listing_id, []).append((x, q))
            if choice:
                rows.append((choice + [(z[o.vendor_id], -1)], -np.inf, 0))
        s = col(0, needed, 0)
        shorts.append(s)
        rows.append((cover + [(s, 1)], needed, np.inf))
    by_id = {o.listing_id: o for offers, _ in problem for o in offers}
    for listing, entries in stock.items():
        rows.append((entries, -np.inf, by_id[listing].stock))
    for v in vendors:
        t = terms.get(v)
        rows.append(([(w[v], 1), (z[v], -1)], -np.inf, 0))
        if t is None or t.free_shipping_over is None:
            rows.append(([(w[v], 1)], -np.inf, 0))
        else:
            rows.append((subtotal[v] + [(w[v], -t.free_shipping_over / MICRO)], 0, np.inf))
        if t is not None and t.min_order_value:
            rows.append((subtotal[v] + [(z[v], -t.min_order_value / MICRO)], 0, np.inf))
        fee = (t.shipping_fee if t else 0) / MICRO
        money[z[v]] = money.get(z[v], 0) + fee
        money[w[v]] = money.get(w[v], 0) - fee
    if max_vendors is not None:
        rows.append(([(z[v], 1) for v in vendors], -np.inf, max_vendors))
    r, c, val = [], [], []
    for i, (entries, _, _) in enumerate(rows):
        for j, v in entries:
            r.append(i)
            c.append(j)
            val.append(v)
    matrix = coo_array((val, (r, c)), shape=(len(rows), len(cost))).tocsr()
    lb = np.array([x[1] for x in rows], dtype=float)
    ub = np.array([x[2] for x in rows], dtype=float)
    bounds = Bounds(0, np.array(upper, dtype=float))
    options = {"mip_rel_gap": 0.0, "disp": False}
    first = np.zeros(len(cost))
    first[shorts] = 1
    stage1 = milp(first, integrality=np.array(integrality), bounds=bounds,
                  constraints=LinearConstraint(matrix, lb, ub), options=options)
    short = round(float(stage1.fun))
    second = np.zeros(len(cost))
    for j, m in money.items():
        second[j] = m
    fix = LinearConstraint(coo_array((np.ones(len(shorts)), (np.zeros(len(shorts)), shorts)),
                                     shape=(1, len(cost))).tocsr(), -np.inf, short + 0.5)
    stage2 = milp(second, integrality=np.array(integrality), bounds=bounds,
                  constraints=[LinearConstraint(matrix, lb, ub), fix], options=options)
    assert stage2.status == 0
    return short, round(float(stage2.fun) * MICRO)


def brute_force(problem, terms, max_vendors) -> tuple[int, int]:
    """Every plan of every line (tiny kits only): the lexicographic best (shortfall, cost)."""
    slots = [(line, o) for line, (offers, _) in enumerate(problem) for o in offers]
    best = None
    for combo in itertools.product(*([0, *quantities(o)] for _, o in slots)):
        plan = {(line, o.listing_id): q for (line, o), q in zip(slots, combo) if q}
        if max_vendors is not None and len({o.vendor_id for (line, o), q in zip(slots, combo) if q}) > max_vendors:
            continue
        value = landed(plan, problem, terms)
        if value is not None and (best is None or value < best):
            best = value
    return best
