"""Sourcing a whole BOM jointly: lines are coupled through each vendor's order terms (a shipping
fee per purchase order, free shipping over an amount, a minimum order value), the buyer's cap on
the number of vendors, and stock a listing shares between lines. Pure functions, no ORM; amounts
are integers in millionths (micro).

One objective (docs/quotes.md §4): the fewest units short, then the lowest landed cost
(components + shipping), then the shortest lead time. Deterministic: every limit is counted in
work, never in seconds.

1. every line is solved exactly on its own (`exact_line`: the bounded search of
   `allocation.solve_line`; a line it does not prove goes to the dynamic programme of `line_dp`,
   or to HiGHS, `joint_milp.prove_line`, if even that would be too large). Without terms, cap or
   shared stock that is the answer, and the sum of the lines' floors its bound;
2. otherwise a feasible plan from the heuristic (vendors chosen under the cap, vendors below their
   minimum order or not worth their shipping dropped, the lines that used them re-solved);
3. BOMs up to `EXACT_SEGMENTS` price segments are solved exactly by the lexicographic MILP of
   `joint_milp`, warm-started from that plan; larger ones keep the heuristic's plan with the best
   bound it can prove (the per-line floors, the LP of the vendor cap).

The reported gap is (cost − bound) ÷ cost: 0 means proven optimal.
"""

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array

from marketplace.sourcing.allocation import (
    QUICK_NODES,
    Allocation,
    LineSolution,
    Offer,
    _Prepared,
    _unit_bounds,
    solve_line,
)
from marketplace.sourcing.joint_milp import STAGE_NODES, prove_line, solve_joint
from marketplace.sourcing.line_dp import solve_line_dp

MICRO = 1_000_000
# The joint MILP runs up to this many price segments (30 lines × 10 vendors × up to 4 breaks, and
# room for substitutes); above it, the heuristic with its proven bound.
EXACT_SEGMENTS = 1_600
EXACT_GAP_SEGMENTS = 400  # up to here (≈ 10 lines × 10 vendors) the MILP closes the gap to zero


@dataclass(frozen=True, slots=True)
class VendorTerms:
    """A vendor's terms per purchase order, in micro units of the quote's currency."""

    shipping_fee: int = 0
    free_shipping_over: int | None = None  # subtotal at or above which shipping is free
    min_order_value: int = 0

    def shipping(self, subtotal: int) -> int:
        if subtotal <= 0:
            return 0
        if self.free_shipping_over is not None and subtotal >= self.free_shipping_over:
            return 0
        return self.shipping_fee


@dataclass
class Plan:
    """The answer for a whole BOM: per line its solution, per vendor its subtotal and shipping."""

    lines: list[LineSolution]
    subtotals: dict[int, int] = field(default_factory=dict)
    shipping: dict[int, int] = field(default_factory=dict)
    cost: int = 0  # components + shipping, micro (shortfall lines count what they buy)
    bound: int = 0  # no plan with the same shortfall costs less
    shortfall: int = 0
    method: str = "per line"
    short_bound: int = 0  # no plan leaves fewer units short (as far as proven)
    work: int = 0  # branch-and-bound nodes the joint MILP took

    @property
    def lead(self) -> int:
        """The longest lead time of anything bought (days): when the last part can ship."""
        return max((a.offer.lead_time_days for s in self.lines for a in s.allocations), default=0)

    @property
    def gap(self) -> float:
        return 0.0 if self.cost <= 0 or self.bound >= self.cost else (self.cost - self.bound) / self.cost

    @property
    def proven_lines(self) -> int:
        return sum(1 for s in self.lines if s.proven)


def _evaluate(lines: list[LineSolution], terms: dict[int, VendorTerms]) -> Plan:
    """A plan's vendor subtotals, shipping and cost. A subtotal is the sum of its rounded lines
    (each allocation's extended price rounded to the cent), exactly what the purchase order will
    charge, so minimum-order and free-shipping thresholds are judged on that amount."""
    subtotals: dict[int, int] = {}
    for solution in lines:
        for a in solution.allocations:
            subtotals[a.offer.vendor_id] = subtotals.get(a.offer.vendor_id, 0) + a.micro_extended
    shipping = {v: terms.get(v, VendorTerms()).shipping(s) for v, s in subtotals.items()}
    cost = sum(subtotals.values()) + sum(shipping.values())
    return Plan(lines=lines, subtotals=subtotals, shipping=shipping, cost=cost,
                shortfall=sum(s.shortfall for s in lines))


def _violations(plan: Plan, terms: dict[int, VendorTerms], max_vendors: int | None) -> bool:
    if max_vendors is not None and len(plan.subtotals) > max_vendors:
        return True
    return any(s < terms.get(v, VendorTerms()).min_order_value for v, s in plan.subtotals.items())


def _restricted(offers: list[Offer], allowed: set[int] | None) -> list[Offer]:
    return offers if allowed is None else [o for o in offers if o.vendor_id in allowed]


def _choose_vendors(problem: list[tuple[list[Offer], int]], vendors: list[int], terms: dict[int, VendorTerms],
                    max_vendors: int) -> set[int]:
    """At most `max_vendors` vendors for the whole BOM. Each line is costed as if bought from one
    vendor of the set (what that vendor alone charges to cover it, plus a prohibitive price per
    unit it cannot supply) — an upper estimate of what the exact line solve will find. Vendors are
    added greedily, then swapped in and out while the estimate falls."""
    column = {v: j for j, v in enumerate(vendors)}
    missing_price = 10 * max((p for offers, _ in problem for o in offers for _, _, p in o.segments), default=1)
    cost = np.full((len(problem), len(vendors)), 0, dtype=np.float64)
    for i, (offers, needed) in enumerate(problem):
        by_vendor: dict[int, list[Offer]] = {}
        for o in offers:
            by_vendor.setdefault(o.vendor_id, []).append(o)
        cost[i, :] = float(needed * missing_price)
        for v, own in by_vendor.items():
            solution = solve_line(own, needed, node_limit=500)
            cost[i, column[v]] = solution.cost + solution.shortfall * missing_price
    fees = np.array([terms.get(v, VendorTerms()).shipping_fee for v in vendors], dtype=np.float64)

    def total(chosen: list[int]) -> float:
        return float(cost[:, chosen].min(axis=1).sum() + fees[chosen].sum()) if chosen else float("inf")

    chosen: list[int] = []
    current = np.full(len(problem), np.inf)
    for _ in range(min(max_vendors, len(vendors))):
        scores = np.minimum(current[:, None], cost).sum(axis=0) + fees
        scores[chosen] = np.inf
        pick = int(np.argmin(scores))
        chosen.append(pick)
        current = np.minimum(current, cost[:, pick])
    improved = True
    while improved:
        improved = False
        base = total(chosen)
        for out in list(chosen):
            rest = [c for c in chosen if c != out]
            floor = cost[:, rest].min(axis=1) if rest else np.full(len(problem), np.inf)
            scores = np.minimum(floor[:, None], cost).sum(axis=0) + fees + fees[rest].sum()
            scores[chosen] = np.inf
            pick = int(np.argmin(scores))
            if scores[pick] < base - 1e-6:
                chosen = rest + [pick]
                improved = True
                break
    return {vendors[j] for j in chosen}


def plan_heuristic(problem: list[tuple[list[Offer], int]], terms: dict[int, VendorTerms], max_vendors: int | None,
                   first: list[LineSolution], vendor_set: set[int] | None = None) -> Plan:
    """A feasible plan: choose the vendors (under the cap), solve every line exactly on them, then
    drop vendors under their minimum order, or whose shipping costs more than buying elsewhere,
    one at a time (the lines that used one re-solved exactly without it)."""
    vendors = sorted({o.vendor_id for offers, _ in problem for o in offers})
    allowed = set(vendors)
    lines = list(first)
    if vendor_set is not None:
        allowed = set(vendor_set)
        lines = [solve_line(_restricted(offers, allowed), needed) for offers, needed in problem]
    elif max_vendors is not None and len({a.offer.vendor_id for s in first for a in s.allocations}) > max_vendors:
        allowed = _choose_vendors(problem, vendors, terms, max_vendors)
        lines = [solve_line(_restricted(offers, allowed), needed) for offers, needed in problem]
    plan = _evaluate(lines, terms)

    def without(vendor: int) -> Plan:
        trial = list(plan.lines)
        for i, s in enumerate(plan.lines):
            if any(a.offer.vendor_id == vendor for a in s.allocations):
                offers, needed = problem[i]
                trial[i] = solve_line(_restricted(offers, allowed - {vendor}), needed, node_limit=2_000)
        return _evaluate(trial, terms)

    for _ in range(len(vendors)):
        under = sorted((s, v) for v, s in plan.subtotals.items() if s < terms.get(v, VendorTerms()).min_order_value)
        if under:  # must go: the smallest order first
            vendor = under[0][1]
            plan, allowed = without(vendor), allowed - {vendor}
            continue
        # Worth dropping? Try the vendors whose shipping is largest against what they sell.
        changed = False
        shipped = sorted(((plan.subtotals[v] - plan.shipping[v], v) for v in plan.shipping if plan.shipping[v]))[:8]
        for _, vendor in shipped:
            trial = without(vendor)
            if trial.shortfall <= plan.shortfall and trial.cost < plan.cost:
                plan, allowed, changed = trial, allowed - {vendor}, True
                break
        if not changed:
            break
    return plan


def _surrogate_vendors(problem: list[tuple[list[Offer], int]], terms: dict[int, VendorTerms], max_vendors: int,
                       start: list[int]) -> set[int]:
    """A vendor set (at most `max_vendors`) by swapping vendors in and out of `start` while a fast
    estimate falls: each line filled fractionally from the set's offers at their floor prices
    (`allocation._unit_bounds`, the per-line relaxation), plus the shipping fee of each vendor
    whose estimated subtotal stays under its free-shipping amount, with a prohibitive price on
    units the set cannot supply. One estimate is a few numpy operations on a lines × offers
    table, so a few thousand swaps cost tens of milliseconds; the set is then planned exactly."""

    vendors = sorted({o.vendor_id for offers, _ in problem for o in offers})
    column = {v: j for j, v in enumerate(vendors)}
    width = max((len(offers) for offers, _ in problem), default=0)
    if not width or len(vendors) <= max_vendors:
        return set(vendors)
    unit = np.zeros((len(problem), width))
    reach = np.zeros((len(problem), width))
    owner = np.full((len(problem), width), len(vendors))  # padding belongs to no vendor
    for i, (offers, needed) in enumerate(problem):
        items = []
        for o in offers:
            if o.segments:
                (u, r), = _unit_bounds([_Prepared(o, 0, 1)], needed)
                items.append((u, r, column[o.vendor_id]))
        items.sort()
        for j, (u, r, v) in enumerate(items):
            unit[i, j], reach[i, j], owner[i, j] = u, r, v
    needed = np.array([n for _, n in problem], dtype=float)
    missing = 10.0 * unit.max() + 1.0
    fee = np.array([terms.get(v, VendorTerms()).shipping_fee for v in vendors] + [0], dtype=float)
    free_over = np.array([t.free_shipping_over if (t := terms.get(v)) and t.free_shipping_over is not None
                          else np.inf for v in vendors] + [np.inf])

    def estimate(chosen: list[int]) -> float:
        mask = np.zeros(len(vendors) + 1, dtype=bool)
        mask[chosen] = True
        r = np.where(mask[owner], reach, 0.0)
        before = np.cumsum(r, axis=1) - r
        take = np.clip(needed[:, None] - before, 0.0, r)
        cost = take * unit
        short = np.maximum(needed - r.sum(axis=1), 0.0)
        subtotal = np.bincount(owner.ravel(), weights=cost.ravel(), minlength=len(vendors) + 1)
        shipping = np.where(mask & (subtotal < free_over), fee, 0.0).sum()
        return float(cost.sum() + short.sum() * missing + shipping)

    chosen = [column[v] for v in start if v in column][:max_vendors]
    current = estimate(chosen)
    improved = True
    while improved:
        improved = False
        for out in list(chosen):
            for candidate in range(len(vendors)):
                if candidate in chosen:
                    continue
                trial = [c for c in chosen if c != out] + [candidate]
                value = estimate(trial)
                if value < current - 1e-6:
                    chosen, current, improved = trial, value, True
                    break
            if improved:
                break
    return {vendors[j] for j in chosen}


def _cap_bound(problem: list[tuple[list[Offer], int]], terms: dict[int, VendorTerms], max_vendors: int
               ) -> tuple[float | None, list[int]]:
    """A lower bound under a vendor cap: the LP relaxation of choosing at most `max_vendors`
    vendors (z ∈ [0, 1]) where a line may take from an offer at most z × what it can give, each
    useful unit priced at the offer's floor for the line's need (`allocation._unit_bounds`), plus
    the shipping fee of vendors that never ship free. Every plan maps to a feasible point costing
    no more, so the LP's optimum is a bound. Returns (bound in micro or None, vendors by z, most
    chosen first — a hint for the vendor set)."""

    vendors = sorted({o.vendor_id for offers, _ in problem for o in offers})
    column = {v: j for j, v in enumerate(vendors)}
    cost = [(t.shipping_fee if (t := terms.get(v)) and t.free_shipping_over is None else 0) / MICRO for v in vendors]
    upper = [1.0] * len(vendors)
    rows, cols, vals, rhs = [], [], [], []
    for offers, needed in problem:
        cover = []
        for offer in offers:
            if not offer.segments:
                continue
            (unit, reach), = _unit_bounds([_Prepared(offer, 0, 1)], needed)
            x = len(cost)
            cost.append(unit / MICRO)
            upper.append(float(reach))
            cover.append(x)
            rows += [len(rhs), len(rhs)]
            cols += [x, column[offer.vendor_id]]
            vals += [1.0, -float(reach)]
            rhs.append(0.0)  # x ≤ reach · z
        if cover:
            rows += [len(rhs)] * len(cover)
            cols += cover
            vals += [-1.0] * len(cover)
            rhs.append(-float(needed))  # Σ x ≥ needed
    rows += [len(rhs)] * len(vendors)
    cols += list(range(len(vendors)))
    vals += [1.0] * len(vendors)
    rhs.append(float(max_vendors))
    matrix = coo_array((vals, (rows, cols)), shape=(len(rhs), len(cost))).tocsr()
    result = linprog(np.array(cost), A_ub=matrix, b_ub=np.array(rhs), bounds=np.column_stack([np.zeros(len(cost)), upper]),
                     method="highs")
    if result.status != 0:
        return None, []
    order = sorted(vendors, key=lambda v: -result.x[column[v]])
    return float(result.fun) * MICRO, order


def shares_stock(problem: list[tuple[list[Offer], int]]) -> bool:
    """Whether some listing can serve several lines (a part that is also another line's substitute)."""
    seen: set[int] = set()
    for offers, _ in problem:
        ids = {o.listing_id for o in offers}
        if seen & ids:
            return True
        seen |= ids
    return False


def share_stock(problem: list[tuple[list[Offer], int]], lines: list[LineSolution]) -> list[LineSolution]:
    """Lines that can use the same listing must not buy its stock twice: any line that would take
    more than an earlier line left is re-solved exactly, in BOM order, on what is left."""
    left: dict[int, int] = {}
    out = []
    for (offers, needed), solution in zip(problem, lines):
        if any(a.quantity > left.get(a.offer.listing_id, a.offer.max_buy) for a in solution.allocations):
            usable = [o if o.listing_id not in left else replace(o, stock=max(left[o.listing_id], 0)) for o in offers]
            solution = exact_line(usable, needed)
            # keep the caller's Offer objects (the stock-reduced copies only bounded the search)
            originals = {o.listing_id: o for o in offers}
            solution.allocations = [Allocation(originals[a.offer.listing_id], a.quantity) for a in solution.allocations]
        for a in solution.allocations:
            left[a.offer.listing_id] = left.get(a.offer.listing_id, a.offer.max_buy) - a.quantity
        out.append(solution)
    return out


def _within_stock(lines: list[LineSolution]) -> bool:
    taken: dict[int, int] = {}
    for s in lines:
        for a in s.allocations:
            taken[a.offer.listing_id] = taken.get(a.offer.listing_id, 0) + a.quantity
            if taken[a.offer.listing_id] > a.offer.max_buy:
                return False
    return True


def _key(plan: Plan) -> tuple[int, int, int]:
    """The objective, in order: units short, landed cost (micro), longest lead time (docs/quotes.md §4)."""
    return plan.shortfall, plan.cost, plan.lead


def exact_line(offers: list[Offer], needed: int) -> LineSolution:
    """One line, proven optimal (docs/quotes.md §3): the quick plain search (`QUICK_NODES` units
    of work) proves most lines; one it has not proven (cost and lead-time tie-break) goes, with
    its best allocation, to the dynamic programme of `line_dp` (exact; its work is known in
    advance and bounded by `DP_WORK`, ≈ 25 ms); a line too large for that gets the search's full
    budget (`NODE_LIMIT`, the anchored search) and then HiGHS (`prove_line`)."""
    solution = solve_line(offers, needed, node_limit=QUICK_NODES)
    if solution.proven and solution.nodes < QUICK_NODES:  # (at the limit, the lead-time tie-break
        return solution                                    # may be unfinished)
    exact = solve_line_dp(offers, needed, solution)
    if exact is not None:
        return exact
    solution = solve_line(offers, needed)
    return solution if solution.proven else prove_line(offers, needed, solution)


def _segments(problem: list[tuple[list[Offer], int]]) -> int:
    return sum(len(o.segments) for offers, _ in problem for o in offers)


def plan_sourcing(problem: list[tuple[list[Offer], int]], *, terms: dict[int, VendorTerms] | None = None,
                  max_vendors: int | None = None, node_limit: int = STAGE_NODES) -> Plan:
    """Source every (offers, needed) line of a BOM: the fewest units short, then the lowest landed
    cost, then the shortest lead time (see the module doc). Deterministic: the same problem gives
    the same plan whatever the machine's load (every limit is counted in work, never in seconds)."""
    terms = {v: t for v, t in (terms or {}).items() if t.shipping_fee or t.min_order_value}
    first = [exact_line(offers, needed) for offers, needed in problem]
    shared = shares_stock(problem)
    if shared:
        first = share_stock(problem, first)
    base = _evaluate(first, terms)
    floor = sum(s.bound for s in first)
    # Units no plan can avoid leaving short: per line, what everything on offer cannot cover.
    least_short = sum(max(needed - sum(o.max_buy for o in offers if o.segments), 0) for offers, needed in problem)
    if not terms and max_vendors is None and not shared:
        base.bound = floor
        return base
    best = plan_heuristic(problem, terms, max_vendors, first)
    best.method = "joint"
    if shared:
        best = _evaluate(share_stock(problem, best.lines), terms)
        best.method = "joint"
    if _violations(base, terms, max_vendors) is False and _key(base) < _key(best):
        best = base
    segments = _segments(problem)
    if segments <= EXACT_SEGMENTS:
        warm = None if _violations(best, terms, max_vendors) else best.lines
        # Small BOMs are closed exactly (no gap tolerance); larger ones within REL_GAP (0.1 %).
        result = solve_joint(problem, terms=terms, max_vendors=max_vendors, warm=warm, shortfall_floor=least_short,
                             node_limit=node_limit, rel_gap=0.0 if segments <= EXACT_GAP_SEGMENTS else None)
        if result.lines is not None:
            candidate = _evaluate(result.lines, terms)
            if (_within_stock(candidate.lines) and not _violations(candidate, terms, max_vendors)
                    and (warm is None or _key(candidate) < _key(best))):
                candidate.method = "exact" if result.proven else "joint"
                best = candidate
        best.short_bound = result.shortfall_bound
        bound = 0
        if result.cost_bound is not None and best.shortfall <= result.shortfall_bound:
            # HiGHS computes in floats: a plan within its tolerance of the bound is the optimum.
            slack = 10 + best.cost * 1e-9
            bound = best.cost if best.cost <= result.cost_bound + slack else int(result.cost_bound - slack)
        if best.shortfall == base.shortfall and not shared:
            bound = max(bound, floor)
        best.bound = min(bound, best.cost)
        best.work = result.nodes
        return best
    # Above the exact size: the heuristic with its proven bound (docs/quotes.md §4).
    if best.shortfall > base.shortfall or _violations(best, terms, max_vendors):
        floor = 0  # the per-line floor assumes the same shortfall
    cap_bound = None
    if max_vendors is not None and best.shortfall == 0:
        cap_bound, hint = _cap_bound(problem, terms, max_vendors)
        if hint:  # the LP's favourite vendors: a second feasible plan, sometimes better
            guided = plan_heuristic(problem, terms, max_vendors, first, vendor_set=set(hint[:max_vendors]))
            if not _violations(guided, terms, max_vendors) and _key(guided) < _key(best):
                guided.method = "joint"
                best = guided
            # Swaps from the better set, judged by the per-line relaxation: a third plan.
            swapped = _surrogate_vendors(problem, terms, max_vendors, sorted(best.subtotals, key=best.subtotals.get,
                                                                           reverse=True))
            if swapped != set(best.subtotals):
                third = plan_heuristic(problem, terms, max_vendors, first, vendor_set=swapped)
                if not _violations(third, terms, max_vendors) and _key(third) < _key(best):
                    third.method = "joint"
                    best = third
    bound = floor if best.shortfall == base.shortfall else 0
    if cap_bound is not None and best.shortfall == 0:
        bound = max(bound, int(cap_bound * (1 - 1e-9)) - 10)  # HiGHS works in floats
    best.bound = min(bound, best.cost)
    return best
