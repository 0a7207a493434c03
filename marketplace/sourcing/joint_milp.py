"""The exact joint sourcing of a BOM as a mixed-integer programme, solved by HiGHS (`highspy`).

Pure functions, no ORM. One objective, lexicographic (docs/quotes.md §4):

1. the fewest units short (given stock, MOQs, multiples, the vendors' minimum orders and the
   buyer's vendor cap),
2. then the lowest landed cost of the parts (components + shipping),
3. then the shortest lead time (the longest lead time of anything bought).

It is solved as three MILPs on one model, each stage fixing the optimum of the one before as a
constraint, so no big-M weight ever trades a unit short against money. Every stage is warm-started
from the best plan known (the heuristic's, then the previous stage's).

**Deterministic.** HiGHS runs single-threaded with a fixed seed, and every limit is counted in
work — branch-and-bound nodes and simplex iterations per stage — never in seconds, so the same
problem gives the same plan on an idle or a busy machine. If a limit is reached the stage keeps
the best plan found (never worse than its warm start) and its proven bound, and says so.

Formulation (per line `l`, offer `o` of the line, price segment `s = (lo, hi, p)` of the offer,
`k` the offer's order multiple; per vendor `v`):

- `t[l,o,s]` integer ∈ [0, hi / k] — multiples bought in that segment; `y[l,o,s]` binary;
  `lo·y ≤ k·t ≤ hi·y`; Σ_s y[l,o,s] ≤ z[v] (one segment per offer; z only for coupled vendors,
  else ≤ 1);
- `short[l]` ≥ 0 with Σ k·t[l,·,·] + short[l] ≥ need[l];
- a listing that several lines can use (a part that is also another line's substitute): Σ over
  those lines of k·t ≤ its stock (rounded down to the multiple);
- vendors with terms, or every vendor under a cap: `z[v]` binary (used), `w[v]` binary (free
  shipping reached, only with a threshold and a fee): subtotal[v] ≥ min_order·z, subtotal ≥
  free_over·w, w ≤ z; shipping fee·(z − w); Σ z ≤ max_vendors;
- `lead` ≥ lead_time[o]·y[l,o,s] for every segment.

Stage 1 minimises Σ short; stage 2 adds Σ short ≤ s* and minimises Σ p·k·t + Σ fee·(z − w);
stage 3 adds that cost ≤ c* and minimises `lead`. Costs go to HiGHS in units of the currency
(floats); the answer is rounded to whole multiples and evaluated again exactly in integer
millionths by the caller, which keeps an earlier stage's plan if rounding ever made a later one
worse.
"""

from dataclasses import dataclass

import highspy
import numpy as np

from marketplace.sourcing.allocation import Allocation, LineSolution, Offer

MICRO = 1_000_000
STAGE_NODES = 500  # branch-and-bound nodes per stage: the work limit (never wall-clock)
REL_GAP = 1e-3  # the cost stage stops when proven within 0.1 % (the issue allows 0.5 %); shortfall is exact
STAGE_ITERATIONS = 400_000  # simplex iterations per stage, the same kind of limit


@dataclass(frozen=True, slots=True)
class Terms:
    """A vendor's order terms in micro units (the shape of `sourcing.VendorTerms`, restated here so
    this module imports nothing above `allocation`)."""

    shipping_fee: int = 0
    free_shipping_over: int | None = None
    min_order_value: int = 0


@dataclass
class JointResult:
    """What the MILP found: per line its solution (None when HiGHS found no plan at all), the
    shortfall it proved minimal (or a lower bound), the cost bound it proved at that shortfall
    (micro, float), whether stages 1 and 2 are proven, and the work it took."""

    lines: list[LineSolution] | None
    shortfall_bound: int
    cost_bound: float | None
    proven: bool
    nodes: int
    iterations: int
    stages: int


def _highs(node_limit: int, iteration_limit: int, rel_gap: float | None = None) -> highspy.Highs:
    h = highspy.Highs()
    for name, value in (("output_flag", False), ("threads", 1), ("random_seed", 0), ("mip_rel_gap", rel_gap if rel_gap is not None else REL_GAP),
                        ("mip_abs_gap", 1e-9), ("mip_max_nodes", node_limit), ("mip_allow_restart", False),
                        ("simplex_iteration_limit", iteration_limit), ("presolve", "on")):
        h.setOptionValue(name, value)
    return h


class _Model:
    """Columns and rows of the formulation (see the module doc), built once per problem."""

    def __init__(self, problem: list[tuple[list[Offer], int]], terms: dict[int, Terms], max_vendors: int | None):
        self.problem = problem
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.rows: list[tuple[list[int], list[float], float, float]] = []
        vendors = sorted({o.vendor_id for offers, _ in problem for o in offers})
        self.coupled = [v for v in vendors if max_vendors is not None or v in terms]
        self.z = {v: self._column(terms.get(v, Terms()).shipping_fee / MICRO, 1, 1.0) for v in self.coupled}
        self.w = {v: self._column(-terms[v].shipping_fee / MICRO, 1, 1.0) for v in self.coupled
                  if v in terms and terms[v].free_shipping_over is not None and terms[v].shipping_fee}
        self.lead = self._column(0.0, 0, float(max((o.lead_time_days for offers, _ in problem for o in offers),
                                                   default=0)))
        subtotal: dict[int, tuple[list[int], list[float]]] = {v: ([], []) for v in self.coupled}
        by_listing: dict[int, tuple[list[int], list[float], set[int], int]] = {}
        # (line, offer, segment index) -> (t column, y column)
        self.segment_cols: dict[tuple[int, int, int], tuple[int, int]] = {}
        self.shorts: list[int] = []
        self.threshold = {v: max(t.min_order_value, t.free_shipping_over or 0) for v, t in terms.items()}
        self.minimum = {v: t.min_order_value for v, t in terms.items()}
        self.fee = {v: t.shipping_fee for v, t in terms.items()}
        self.index: list[tuple[int, Offer, int]] = []  # (line, offer, t column)
        for line, (offers, needed) in enumerate(problem):
            cover_c, cover_v = [], []
            for position, offer in enumerate(offers):
                k = offer.multiple
                ys = []
                for s, (lo, hi, price) in enumerate(offer.segments):
                    # Within a segment, a purchase above both what the line needs and the segment's
                    # bottom is only worth it to reach the vendor's minimum order or free-shipping
                    # amount (else one multiple less is cheaper and still covers the line; and when
                    # a multiple costs more than the shipping fee, only the minimum order can make
                    # it worth it): so t ≤ max(lo/k, ⌈need/k⌉, ⌊threshold/(p·k)⌋ + 1).
                    threshold = self.minimum.get(offer.vendor_id, 0)
                    if price * k <= self.fee.get(offer.vendor_id, 0):
                        threshold = self.threshold.get(offer.vendor_id, 0)
                    top = hi // k
                    if price > 0:
                        top = min(top, max(lo // k, -(-needed // k), threshold // (price * k) + 1))
                    t = self._column(price * k / MICRO, 1, float(top))
                    y = self._column(0.0, 1, 1.0)
                    self.rows.append(([t, y], [float(k), float(-lo)], 0.0, np.inf))
                    self.rows.append(([t, y], [1.0, float(-top)], -np.inf, 0.0))
                    if offer.lead_time_days:
                        self.rows.append(([self.lead, y], [1.0, -float(offer.lead_time_days)], 0.0, np.inf))
                    # The useful cover u ≤ min(k·t, need·y): with a fractional y the LP still pays
                    # the whole minimum buy for the units it counts, and a line needs whole
                    # vendors (z) to be covered, which is what makes a vendor cap bite in the LP.
                    if max_vendors is not None:
                        u = self._column(0.0, 0, float(needed))
                        self.rows.append(([u, t], [1.0, -float(k)], -np.inf, 0.0))
                        self.rows.append(([u, y], [1.0, -float(needed)], -np.inf, 0.0))
                        cover_c.append(u)
                        cover_v.append(1.0)
                    else:
                        cover_c.append(t)
                        cover_v.append(float(k))
                    ys.append(y)
                    self.segment_cols[(line, position, s)] = (t, y)
                    self.index.append((line, offer, t))
                    if offer.vendor_id in subtotal:
                        subtotal[offer.vendor_id][0].append(t)
                        subtotal[offer.vendor_id][1].append(price * k / MICRO)
                    cols, vals, lines, _ = by_listing.setdefault(offer.listing_id, ([], [], set(), offer.max_buy))
                    cols.append(t)
                    vals.append(float(k))
                    lines.add(line)
                if ys:
                    if offer.vendor_id in self.z:
                        self.rows.append((ys + [self.z[offer.vendor_id]], [1.0] * len(ys) + [-1.0], -np.inf, 0.0))
                    elif len(ys) > 1:
                        self.rows.append((ys, [1.0] * len(ys), -np.inf, 1.0))
            short = self._column(0.0, 0, float(needed))
            self.shorts.append(short)
            self.rows.append((cover_c + [short], cover_v + [1.0], float(needed), np.inf))
        for cols, vals, lines, stock in by_listing.values():
            if len(lines) > 1:  # one listing, several lines: its stock is shared
                self.rows.append((cols, vals, -np.inf, float(stock)))
        for v in self.coupled:
            t = terms.get(v, Terms())
            cols, vals = subtotal[v]
            if t.min_order_value:
                self.rows.append((cols + [self.z[v]], vals + [-t.min_order_value / MICRO], 0.0, np.inf))
            if v in self.w:
                self.rows.append((cols + [self.w[v]], vals + [-t.free_shipping_over / MICRO], 0.0, np.inf))
                self.rows.append(([self.w[v], self.z[v]], [1.0, -1.0], -np.inf, 0.0))
        if max_vendors is not None:
            self.rows.append((list(self.z.values()), [1.0] * len(self.z), -np.inf, float(max_vendors)))
        self.money = np.array(self.cost)  # the stage-2 objective (components + shipping)

    def _column(self, cost: float, integer: int, upper: float) -> int:
        self.cost.append(cost)
        self.integer.append(integer)
        self.upper.append(upper)
        return len(self.cost) - 1

    def load(self, h: highspy.Highs) -> None:
        lp = highspy.HighsLp()
        n = len(self.cost)
        lp.num_col_ = n
        lp.num_row_ = len(self.rows)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.zeros(n)
        lp.col_upper_ = np.array(self.upper)
        lp.row_lower_ = np.array([r[2] for r in self.rows])
        lp.row_upper_ = np.array([r[3] for r in self.rows])
        starts, index, value = [0], [], []
        for cols, vals, _, _ in self.rows:
            index += cols
            value += vals
            starts.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value)
        lp.a_matrix_.num_col_ = n
        lp.a_matrix_.num_row_ = len(self.rows)
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in self.integer]
        h.passModel(lp)

    def values(self, lines: list[LineSolution], terms: dict[int, Terms]) -> np.ndarray:
        """The column values of a known plan (the warm start)."""
        x = np.zeros(len(self.cost))
        used: dict[int, int] = {}
        lead = 0
        for line, ((offers, needed), solution) in enumerate(zip(self.problem, lines)):
            position = {o.listing_id: p for p, o in enumerate(offers)}
            bought = 0
            for a in solution.allocations:
                p = position.get(a.offer.listing_id)
                if p is None:
                    continue
                offer = offers[p]
                for s, (lo, hi, _) in enumerate(offer.segments):
                    if lo <= a.quantity <= hi:
                        t, y = self.segment_cols[(line, p, s)]
                        x[t] = a.quantity // offer.multiple
                        x[y] = 1
                        bought += a.quantity
                        used[offer.vendor_id] = used.get(offer.vendor_id, 0) + offer.micro_cost(a.quantity)
                        lead = max(lead, offer.lead_time_days)
                        break
            x[self.shorts[line]] = max(needed - bought, 0)
        for v, subtotal in used.items():
            if v in self.z:
                x[self.z[v]] = 1
            if v in self.w and subtotal >= terms[v].free_shipping_over:
                x[self.w[v]] = 1
        x[self.lead] = lead
        return x

    def solutions(self, x: np.ndarray) -> list[LineSolution]:
        picks: dict[int, list[Allocation]] = {}
        for line, offer, t in self.index:
            qty = round(float(x[t])) * offer.multiple
            if qty:
                picks.setdefault(line, []).append(Allocation(offer, qty))
        out = []
        for line, (_, needed) in enumerate(self.problem):
            allocations = sorted(picks.get(line, []), key=lambda a: a.offer.listing_id)
            bought = sum(a.quantity for a in allocations)
            cost = sum(a.offer.micro_cost(a.quantity) for a in allocations)
            out.append(LineSolution(allocations, max(needed - bought, 0), cost, cost))
        return out


def _run(h: highspy.Highs, start: np.ndarray | None, objective_of: np.ndarray
         ) -> tuple[np.ndarray | None, float | None, float | None, bool, int, int]:
    """One stage: (x, objective, dual bound, proven optimal, nodes, iterations). The objective is
    recomputed from x (`objective_of` the stage's costs); if HiGHS's own differs, nothing it
    claims is trusted as proven (highspy 1.16.0 reported an objective its solution did not have
    after a start solution and presolve)."""
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(start)
        solution.value_valid = True
        h.setSolution(solution)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    nodes = int(info.mip_node_count) if info.mip_node_count >= 0 else 0
    iterations = int(max(info.simplex_iteration_count, 0))
    if status == highspy.HighsModelStatus.kInfeasible:
        return None, None, None, True, nodes, iterations
    proven = status == highspy.HighsModelStatus.kOptimal
    x = None
    if info.primal_solution_status == 2:  # feasible
        x = np.array(h.getSolution().col_value)
    objective = float(objective_of @ x) if x is not None else None
    bound = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else None
    if x is not None and abs(objective - info.objective_function_value) > 1e-6 * max(1.0, abs(objective)):
        return x, objective, None, False, nodes, iterations
    if proven and objective is not None and bound is None:
        bound = objective
    return x, objective, bound, proven, nodes, iterations


def solve_joint(problem: list[tuple[list[Offer], int]], *, terms: dict[int, Terms] | None = None,
                max_vendors: int | None = None, warm: list[LineSolution] | None = None,
                shortfall_floor: int = 0, node_limit: int = STAGE_NODES,
                iteration_limit: int = STAGE_ITERATIONS, lead_stage: bool = True, rel_gap: float | None = None
                ) -> JointResult:
    """The lexicographic optimum (fewest short, then cheapest, then quickest) of the whole BOM.

    `warm`: a feasible plan to start from (every stage keeps at least its value). `shortfall_floor`:
    a shortfall no plan can beat (Σ per line of need − everything on offer): when the warm start
    reaches it, stage 1 is skipped."""
    terms = terms or {}
    model = _Model(problem, terms, max_vendors)
    h = _highs(node_limit, iteration_limit, rel_gap)
    model.load(h)
    n = len(model.cost)
    start = model.values(warm, terms) if warm is not None else None
    nodes = iterations = stages = 0
    proven = True

    # Stage 1: the fewest units short.
    warm_short = sum(s.shortfall for s in warm) if warm is not None else None
    if warm_short is not None and warm_short <= shortfall_floor:
        best_short, x1 = warm_short, start
    else:
        c = np.zeros(n)
        c[model.shorts] = 1.0
        h.changeColsCost(n, np.arange(n, dtype=np.int32), c)
        x1, objective, bound, ok, k, it = _run(h, start, c)
        stages, nodes, iterations = stages + 1, nodes + k, iterations + it
        if x1 is None:  # cannot happen (buying nothing is a plan); keep the warm start
            return JointResult(None, shortfall_floor, None, False, nodes, iterations, stages)
        best_short = round(float(objective))
        if warm_short is not None and warm_short <= best_short:
            x1, best_short = start, warm_short
        if ok:
            shortfall_floor = best_short
        else:
            proven = False
            shortfall_floor = max(shortfall_floor, int(np.ceil((bound or 0) - 1e-6)))
    h.addRow(-np.inf, best_short + 0.5, len(model.shorts), np.array(model.shorts, dtype=np.int32),
             np.ones(len(model.shorts)))

    # Stage 2: the lowest cost at that shortfall.
    h.changeColsCost(n, np.arange(n, dtype=np.int32), model.money)
    x2, cost, cost_bound, ok, k, it = _run(h, x1, model.money)
    stages, nodes, iterations = stages + 1, nodes + k, iterations + it
    proven = proven and ok
    if x2 is None:
        x2 = x1
        cost = float(model.money @ x1) if x1 is not None else None
    result = model.solutions(x2) if x2 is not None else None
    cost_bound_micro = None if cost_bound is None else cost_bound * MICRO

    # Stage 3: the shortest lead time at that cost.
    if lead_stage and x2 is not None and cost is not None:
        leads = {o.lead_time_days for offers, _ in problem for o in offers if o.segments}
        current = max((a.offer.lead_time_days for s in result for a in s.allocations), default=0)
        if current > min(leads, default=0):
            money = np.nonzero(model.money)[0]
            h.addRow(-np.inf, cost + 1e-7 + abs(cost) * 1e-12, len(money), money.astype(np.int32),
                     model.money[money])
            c = np.zeros(n)
            c[model.lead] = 1.0
            h.changeColsCost(n, np.arange(n, dtype=np.int32), c)
            x2[model.lead] = current
            x3, lead, _, _, k, it = _run(h, x2, c)
            stages, nodes, iterations = stages + 1, nodes + k, iterations + it
            if x3 is not None and lead is not None and lead < current - 0.5:
                result3 = model.solutions(x3)
                result = _lexicographic_best(result, result3, problem, terms)
    return JointResult(result, shortfall_floor, cost_bound_micro, proven, nodes, iterations, stages)


def plan_key(lines: list[LineSolution], terms: dict[int, Terms]) -> tuple[int, int, int]:
    """(units short, landed cost in micro, longest lead time): lower is better, in that order."""
    subtotals: dict[int, int] = {}
    for s in lines:
        for a in s.allocations:
            subtotals[a.offer.vendor_id] = subtotals.get(a.offer.vendor_id, 0) + a.offer.micro_cost(a.quantity)
    shipping = 0
    for v, subtotal in subtotals.items():
        t = terms.get(v)
        if t and subtotal > 0 and not (t.free_shipping_over is not None and subtotal >= t.free_shipping_over):
            shipping += t.shipping_fee
    lead = max((a.offer.lead_time_days for s in lines for a in s.allocations), default=0)
    return sum(s.shortfall for s in lines), sum(subtotals.values()) + shipping, lead


def _lexicographic_best(a: list[LineSolution], b: list[LineSolution], problem, terms) -> list[LineSolution]:
    return b if plan_key(b, terms) < plan_key(a, terms) else a


LINE_NODES = 200  # branch-and-bound nodes per stage when one line is handed over (`prove_line`)


def prove_line(offers: list[Offer], needed: int, solution: LineSolution) -> LineSolution:
    """A line the bounded search did not prove (docs/quotes.md §3), solved exactly by HiGHS from the
    search's best allocation: the same allocation or a cheaper one, and a bound (usually the cost)."""
    result = solve_joint([(offers, needed)], warm=[solution], node_limit=LINE_NODES, rel_gap=0.0,
                         shortfall_floor=solution.shortfall)
    if result.lines is None:
        return solution
    found = result.lines[0]
    better = plan_key([found], {}) < plan_key([solution], {})
    best = found if better else solution
    bound = solution.bound
    if result.cost_bound is not None:
        slack = 10 + best.cost * 1e-9  # HiGHS computes in floats
        bound = max(bound, best.cost if best.cost <= result.cost_bound + slack else int(result.cost_bound - slack))
    return LineSolution(best.allocations, best.shortfall, best.cost, min(bound, best.cost), solution.nodes)
