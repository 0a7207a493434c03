"""Sourcing one BOM line from the offers (listings) that can supply it: pure functions, no ORM.

See docs/quotes.md for why it works this way and how far from optimal it can be.
"""

import math
from bisect import insort
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
MICRO = Decimal(1_000_000)  # the search compares costs as integers in millionths (prices have 6 places)


@dataclass(slots=True)
class Offer:
    """One listing as the allocation sees it. Treat it as immutable (quotes use `replace`); it is
    not frozen only because frozen dataclasses build ~2x slower, and a quote builds thousands."""

    listing_id: int
    vendor_id: int
    part_id: int
    moq: int
    multiple: int
    stock: int
    lead_time_days: int
    breaks: tuple[tuple[int, Decimal], ...]  # (min_qty, unit_price), min_qty ascending
    # Derived once per offer (the search asks for them hundreds of thousands of times per quote).
    min_buy: int = field(init=False, repr=False, compare=False)
    max_buy: int = field(init=False, repr=False, compare=False)
    micro_breaks: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    break_buys: tuple[int, ...] = field(init=False, repr=False, compare=False)
    best_micro_price: int | None = field(init=False, repr=False, compare=False)
    # (lo, hi, micro unit price): the quantities one price break sells at, as order quantities
    # (multiples of `multiple`, at least the minimum buy, at most `max_buy`); empty ranges left out.
    segments: tuple[tuple[int, int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One pass over the breaks, no generators: a quote builds ~5,000 offers per call.
        moq, multiple, breaks = self.moq, self.multiple, self.breaks
        self.min_buy = min_buy = -(-moq // multiple) * multiple  # order_qty(1, moq, multiple)
        cap = self.stock // multiple * multiple
        # The most we may buy: stock rounded down to the multiple (0 if that is below the MOQ).
        self.max_buy = cap = cap if cap >= min_buy else 0
        # The best unit price this offer can reach (the lower bound's per-offer price) needs the
        # reach: the cap, or the first break if that is above it.
        reach = (cap if cap > breaks[0][0] else breaks[0][0]) if breaks else 0
        micro, buys, segments, best = [], [], [], None
        ceil, scale = math.ceil, MICRO
        last_q = last_price = None
        for q, p in breaks:
            price = ceil(p * scale)  # exact for a Decimal, and faster than to_integral_value
            micro.append((q, price))
            # Each break's threshold as an order quantity (MOQ and multiple applied), for buy_options.
            buys.append(-(-(q if q > moq else moq) // multiple) * multiple)
            if q <= reach and (best is None or price < best):
                best = price
            if last_q is not None and cap:  # the previous break's segment ends below this one
                lo = -(-(last_q if last_q > min_buy else min_buy) // multiple) * multiple
                hi = (q - 1) // multiple * multiple
                if hi > cap:
                    hi = cap
                if lo <= hi:
                    segments.append((lo, hi, last_price))
            last_q, last_price = q, price
        if last_q is not None and cap:  # the last break's segment runs to the cap
            lo = -(-(last_q if last_q > min_buy else min_buy) // multiple) * multiple
            if lo <= cap:
                segments.append((lo, cap, last_price))
        self.micro_breaks = tuple(micro)
        self.break_buys = tuple(buys)
        self.best_micro_price = best
        self.segments = tuple(segments)

    def unit_price(self, qty: int) -> Decimal | None:
        price = None
        for min_qty, unit_price in self.breaks:
            if min_qty > qty:
                break
            price = unit_price
        return price

    def cost(self, qty: int) -> Decimal:
        return qty * self.unit_price(qty)

    def micro_cost(self, qty: int) -> int:
        """cost(qty) in millionths, as an int: exact for prices with ≤ 6 decimals, and fast."""
        price = 0
        for min_qty, unit_price in self.micro_breaks:
            if min_qty > qty:
                break
            price = unit_price
        return qty * price

    def buy_options(self, remaining: int) -> list[int]:
        """Quantities worth considering when `remaining` units are still needed: just enough (or
        all we may buy), or more, up to each higher price break, when that is cheaper overall."""
        cap = self.max_buy
        if cap == 0:
            return []
        multiple = self.multiple
        first = -(-max(remaining, self.moq) // multiple) * multiple  # order_qty, inlined (hot)
        if first > cap:
            first = cap
        options = [first]
        for qty in self.break_buys:
            if first < qty <= cap:
                options.append(qty)
        return options


def order_qty(qty: int, moq: int, multiple: int) -> int:
    """The contract's order quantity: raised to the MOQ, then up to a multiple."""
    qty = max(qty, moq)
    return -(-qty // multiple) * multiple


@dataclass
class Allocation:
    offer: Offer
    quantity: int

    @property
    def unit_price(self) -> Decimal:
        return self.offer.unit_price(self.quantity)

    @property
    def extended_price(self) -> Decimal:
        """The line's money: quantity × unit price, rounded half-even to the cent once (the one
        rounding rule, docs/ledger.md). Subtotals, quotes and orders add these up."""
        return self.offer.cost(self.quantity).quantize(CENT, ROUND_HALF_EVEN)

    @property
    def micro_extended(self) -> int:
        """`extended_price` in millionths (what minimum-order and free-shipping checks add up)."""
        return micro_cents(self.offer.micro_cost(self.quantity))


def micro_cents(micro: int) -> int:
    """A millionths amount rounded half-even to whole cents (10,000 millionths)."""
    q, r = divmod(micro, 10_000)
    if r > 5_000 or (r == 5_000 and q % 2):
        q += 1
    return q * 10_000


def _key(allocations: list[Allocation]) -> tuple:
    """Lower cost, then shorter lead time, then lower listing ids: deterministic tie-breaks."""
    cost = sum(a.offer.micro_cost(a.quantity) for a in allocations)
    lead = max((a.offer.lead_time_days for a in allocations), default=0)
    return cost, lead, sorted(a.offer.listing_id for a in allocations)


def _greedy(offers: list[Offer], needed: int) -> list[Allocation]:
    """Repeatedly take the option with the lowest cost per still-needed unit it covers."""
    remaining, chosen, used = needed, [], set()
    while remaining > 0:
        best = None
        for offer in offers:
            if offer.listing_id in used:
                continue
            for qty in offer.buy_options(remaining):
                score = (offer.micro_cost(qty) / min(qty, remaining), offer.lead_time_days, offer.listing_id, qty)
                if best is None or score < best[0]:
                    best = (score, offer, qty)
        if best is None:
            break
        _, offer, qty = best
        chosen.append(Allocation(offer, qty))
        used.add(offer.listing_id)
        remaining -= qty
    return chosen


def lower_bound(offers: list[Offer], needed: int) -> Decimal:
    """A cost no allocation can beat: fill `needed` fractionally at each offer's best unit price,
    ignoring MOQs, multiples and the break thresholds (the LP relaxation's floor)."""
    return Decimal(_micro_lower_bound(offers, needed)) / MICRO


def _micro_lower_bound(offers: list[Offer], needed: int) -> int:
    best = sorted((o.best_micro_price, o.max_buy) for o in offers if o.max_buy)
    total, remaining = 0, needed
    for price, cap in best:
        take = min(cap, remaining)
        total += take * price
        remaining -= take
        if remaining <= 0:
            break
    return total


# --- The exact search ----------------------------------------------------------------------------

# Work per line, all passes together: search nodes plus quantities tried (each costs a floor). It
# bounds a line's worst case (measured: ≤ 50 ms of CPU, docs/benchmarks.md); a line that reaches it
# keeps the best allocation found and the floor it proved, so its gap is known.
NODE_LIMIT = 6_000


@dataclass(slots=True)
class LineSolution:
    """One line's answer: what to buy, what is missing, its cost and the lower bound proven for
    it (both in micro units). `proven` means no allocation costs less (cost == bound)."""

    allocations: list[Allocation]
    shortfall: int
    cost: int
    bound: int
    nodes: int = 0

    @property
    def proven(self) -> bool:
        return self.cost <= self.bound


class _Prepared:
    """An offer for the search, its segment prices made strictly comparable: price × R + rank,
    where rank orders offers by listing id and R exceeds any Σ quantity × rank. So at equal cost
    the search prefers units from lower listing ids, and it never has to walk through ties."""

    __slots__ = ("offer", "segments", "multiple", "lead", "best", "max_lo", "top")

    def __init__(self, offer: Offer, rank: int, scale: int):
        self.offer = offer
        segments, best = [], None
        for lo, hi, p in offer.segments:  # one pass: a quote prepares ~5,000 offers
            p = p * scale + rank
            segments.append((lo, hi, p))
            if best is None or p < best:
                best = p
        self.segments = tuple(segments)
        self.multiple = offer.multiple
        self.lead = offer.lead_time_days
        self.best = best
        self.max_lo, self.top = segments[-1][0], segments[-1][1]  # segments ascend in lo and hi


def _unit_bounds(prepared: list[_Prepared], residual: int) -> list[tuple[int, int]]:
    """Per offer, (a price per useful unit no purchase beats, how many useful units it can give),
    when `residual` units are still needed. Buying from segment (lo, hi, p) to cover x ≤ X =
    min(residual, hi) useful units costs p·max(lo, x) ≥ x·p·max(lo, X)/X: a minimum buy above
    what is still needed is charged in full, so small residuals see the true, higher price.
    Rounded down, so it stays a bound."""
    items = []
    for offer in prepared:
        if residual > offer.max_lo:  # every segment reachable below the residual: its plain price
            items.append((offer.best, offer.top if offer.top < residual else residual))
            continue
        best, reach = None, 0
        for lo, hi, price in offer.segments:
            if lo >= residual:
                unit = price * lo // residual
                x = residual
            else:
                x = hi if hi < residual else residual
                unit = price
            if best is None or unit < best:
                best = unit
            if x > reach:
                reach = x
        items.append((best, reach))
    items.sort()
    return items


def _fill(items: list[tuple[int, int]], residual: int) -> int | None:
    """The fractional-knapsack floor of covering `residual` units with `items`; None if it cannot."""
    total = 0
    for unit, reach in items:
        if reach >= residual:
            return total + residual * unit
        total += reach * unit
        residual -= reach
    return None if residual > 0 else total


def line_lower_bound(offers: list[Offer], needed: int) -> int | None:
    """A cost (micro) no allocation covering `needed` can beat (see `_unit_bounds`), or None."""
    if needed <= 0:
        return 0
    return _fill(_unit_bounds([_Prepared(o, 0, 1) for o in offers if o.segments], needed), needed)


def _segment_minimum(segment: tuple[int, int, int], multiple: int, residual: int,
                     items: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Where f(q) = p·q + fill(residual − q) is least over the segment's multiples q < residual, as
    (step, number of steps), or None when the segment has no such q. f is convex there (a linear
    term plus the knapsack floor of what later offers cover), so it falls before and rises after."""
    lo, hi, price = segment
    top = min(hi, (residual - 1) // multiple * multiple)
    if top < lo:
        return None
    covered = 0  # later offers cheaper per unit than this one cover first, this one the rest
    for unit, reach in items:
        if unit >= price:
            break
        covered += reach
    steps = (top - lo) // multiple
    c = (min(max(residual - covered, lo), top) - lo) // multiple
    if c < steps:
        here = _fill(items, residual - lo - c * multiple)
        there = _fill(items, residual - lo - (c + 1) * multiple)
        if there is not None and (here is None or there + price * multiple < here):
            c += 1
    return c, steps


class _NodeLimit(Exception):
    """The node limit was reached; carries the best (value, picks) found so far."""

    def __init__(self, value: int, picks: tuple | None):
        super().__init__(value, picks)
        self.value, self.picks = value, picks


QUICK_NODES = 300  # the plain search proves most lines within this many nodes


def _search(prepared: list[_Prepared], needed: int, best_value: int, node_limit: int
            ) -> tuple[int, tuple | None, int]:
    """The plain search first (cheapest per node, enough for most lines); if it does not finish
    within QUICK_NODES, the anchored search (`_search_free`) from the best allocation it found."""
    try:
        return _search_walk(prepared, needed, best_value, min(QUICK_NODES, node_limit))
    except _NodeLimit as stopped:
        value, picks = stopped.value, stopped.picks
    if node_limit <= QUICK_NODES:  # no budget left for the anchored search (its set-up alone
        raise _NodeLimit(value, picks)  # shrinks every offer once per free choice)
    try:
        found, better, nodes = _search_free(prepared, needed, value, max(node_limit - QUICK_NODES, 1))
    except _NodeLimit as stopped:
        raise _NodeLimit(stopped.value, stopped.picks or picks) from None
    return found, better or picks, nodes + QUICK_NODES


def _search_walk(prepared: list[_Prepared], needed: int, best_value: int, node_limit: int
            ) -> tuple[int, tuple | None, int]:
    """Depth-first branch and bound over `prepared` (cheapest first): each offer buys nothing or a
    quantity of one of its segments; a branch is cut when its cost plus the floor of covering the
    rest is not below the best value found. Returns (best value, its picks or None, nodes).
    Cheap per node and quick on most lines; `_search` runs the ones it does not finish."""
    order = sorted(prepared, key=lambda p: (p.best, p.lead))
    best_picks = None
    nodes = 0
    seen: dict[tuple[int, int], int] = {}

    def dfs(i: int, residual: int, value: int, picks: tuple) -> None:
        nonlocal best_value, best_picks, nodes
        if residual <= 0:
            if value < best_value:
                best_value, best_picks = value, picks
            return
        if i == len(order):
            return
        # The rest of the search depends only on (i, residual): a cheaper way here wins it all.
        key = (i, residual)
        if seen.get(key, best_value) <= value:
            return
        seen[key] = value
        nodes += 1
        if nodes > node_limit:
            raise _NodeLimit(best_value, best_picks)
        offer = order[i]
        items = _unit_bounds(order[i + 1:], residual)
        with_this = list(items)
        insort(with_this, _unit_bounds([offer], residual)[0])
        floor = _fill(with_this, residual)
        if floor is None or value + floor >= best_value:
            return
        multiple = offer.multiple
        for segment in offer.segments:
            lo, hi, price = segment
            # Buying at least what is still needed: only the smallest such multiple of the segment.
            finish = max(lo, -(-residual // multiple) * multiple)
            if finish <= hi and value + price * finish < best_value:
                dfs(i + 1, residual - finish, value + price * finish, picks + ((offer, finish),))
            # Less than needed: walk out from f's minimum while f stays below the best value (which
            # may drop as we go); convexity says nothing further out can get back below it.
            minimum = _segment_minimum(segment, multiple, residual, items)
            if minimum is None:
                continue
            centre, steps = minimum
            for walk in (range(centre, steps + 1), range(centre - 1, -1, -1)):
                for step in walk:
                    nodes += 1  # work: each quantity tried costs a floor
                    if nodes > node_limit:
                        raise _NodeLimit(best_value, best_picks)
                    qty = lo + step * multiple
                    rest = _fill(items, residual - qty)
                    if rest is None:
                        break
                    total = value + qty * price
                    if total + rest >= best_value:
                        break
                    if seen.get((i + 1, residual - qty), best_value) > total:  # else a cheaper way got there
                        dfs(i + 1, residual - qty, total, picks + ((offer, qty),))
        rest = _fill(items, residual)
        if rest is not None and value + rest < best_value:
            dfs(i + 1, residual, value, picks)

    dfs(0, needed, 0, ())
    return best_value, best_picks, nodes


class _Restricted:
    """An offer inside one branch of `_search_free`: its segments cut to the quantities that
    branch allows (the attributes `_unit_bounds` reads, recomputed)."""

    __slots__ = ("offer", "segments", "whole", "multiple", "lead", "best", "max_lo", "top")

    def __init__(self, prepared: _Prepared, segments: list[tuple[int, int, int]], whole: list[tuple[int, int]]):
        self.offer = prepared
        self.segments = segments
        self.whole = whole  # per segment, the (lo, hi) it was cut from
        self.multiple = prepared.multiple
        self.lead = prepared.lead
        self.best = min(p for _, _, p in segments)
        self.max_lo = max(lo for lo, _, _ in segments)
        self.top = max(hi for _, hi, _ in segments)


def _search_free(prepared: list[_Prepared], needed: int, best_value: int, node_limit: int
                 ) -> tuple[int, tuple | None, int]:
    """Exact branch and bound over `prepared`, using the structure of an optimum.

    Within a segment the cost is linear, and the perturbed prices of `_Prepared` are distinct, so
    in an optimum no dearer offer i can give δ = lcm(k_i, k_j) units to a cheaper offer j (i at
    least δ above its segment's bottom, j at least δ below its top): moving them would cost less.
    Let M be the largest such δ in the line and j* the cheapest offer bought at least M below its
    segment's top (the *free* offer). Then every offer cheaper than j* buys within M of its
    segment's top, every dearer one within lcm(k_i, k_j*) of its bottom, and j* buys what the
    others leave (rounded up to its multiple, at least its minimum). So the search branches
    first on j* and its segment (or none: then every offer buys near a segment's top); in a
    branch every other offer's segments shrink to those few quantities, which both cuts the
    quantities to try and tightens the floor (`_unit_bounds` on the shrunk segments, the free
    segment included). Depth-first, most promising child first; a branch is cut when its cost
    plus the floor is not below the best value found, or when the same (offer, residual, free)
    was reached more cheaply. Returns (best value, its picks or None, nodes)."""
    order = sorted(prepared, key=lambda p: (p.best, p.lead))
    span = max((math.lcm(a.multiple, b.multiple) for a in order for b in order), default=1)
    best_picks = None
    nodes = 0
    seen: dict[tuple, int] = {}

    shrunk: dict[tuple, _Restricted | None] = {}  # most branches cut an offer the same way

    def shrink(offers: list[_Prepared], free: tuple | None) -> list[_Restricted]:
        out = []
        for o in offers:
            if free is None:
                key = (id(o), None)
            else:
                key = (id(o), free[0].multiple, tuple(price < free[1][2] for _, _, price in o.segments))
            restricted = shrunk.get(key, False)
            if restricted is False:
                k, segments, whole = o.multiple, [], []
                for lo, hi, price in o.segments:
                    if free is None or price < free[1][2]:  # near the top
                        low, high = max(lo, -(-(hi - span + 1) // k) * k), hi
                    else:  # dearer than the free one: near the bottom
                        low, high = lo, min(hi, lo + math.lcm(k, free[0].multiple) - k)
                    if low <= high:
                        segments.append((low, high, price))
                        whole.append((lo, hi))
                shrunk[key] = restricted = _Restricted(o, segments, whole) if segments else None
            if restricted is not None:
                out.append(restricted)
        return out

    def exchangeable(history: tuple, price: int, k: int, lo: int, hi: int, qty: int) -> bool:
        """Could this pick and an earlier one trade lcm units, the dearer giving to the cheaper?
        Then no optimum extends the path (see above; the memo stays sound because an optimum
        reached more cheaply another way would be a cheaper optimum)."""
        up, down = hi - qty, qty - lo
        for e_price, e_k, e_up, e_down in history:
            d = math.lcm(k, e_k)
            if (down >= d and e_up >= d) if price > e_price else (up >= d and e_down >= d):
                return True
        return False

    def dfs(rest_order: list[_Restricted], i: int, residual: int, value: int, picks: tuple, free: tuple | None,
            history: tuple = ()) -> None:
        nonlocal best_value, best_picks, nodes
        if free is not None:  # let the free offer cover what is left
            f_offer, (lo, hi, price) = free
            qty = max(lo, -(-residual // f_offer.multiple) * f_offer.multiple)
            if qty <= hi and value + qty * price < best_value:
                best_value, best_picks = value + qty * price, picks + ((f_offer, qty),)
        if i == len(rest_order):
            return
        # The rest of the search depends only on (i, residual, free): a cheaper way here wins it all.
        key = (i, residual, free and id(free[1]))
        if seen.get(key, best_value) <= value:
            return
        seen[key] = value
        nodes += 1
        if nodes > node_limit:
            raise _NodeLimit(best_value, best_picks)
        offer = rest_order[i]
        items = _unit_bounds(rest_order[i + 1:], residual)
        if free is not None:
            insort(items, _segment_bound(free[1], residual))
        with_this = list(items)
        insort(with_this, _unit_bounds([offer], residual)[0])
        floor = _fill(with_this, residual)
        if floor is None or value + floor >= best_value:
            return
        multiple = offer.multiple
        # Children as (floor of the whole path, residual left, value so far, quantity), visited
        # most promising first: a good allocation found early cuts most of the tree.
        children = []
        rest = _fill(items, residual)
        if rest is not None and value + rest < best_value:
            children.append((value + rest, residual, value, 0, 0, 0, 0))
        for (lo, hi, price), (whole_lo, whole_hi) in zip(offer.segments, offer.whole):
            # Buying at least what is still needed: only the smallest such multiple of the segment.
            finish = max(lo, -(-residual // multiple) * multiple)
            if finish <= hi and value + price * finish < best_value:
                total = value + price * finish
                children.append((total, residual - finish, total, finish, price, whole_lo, whole_hi))
            quantities = range(lo, min(hi, residual - 1) + 1, multiple)
            nodes += len(quantities)  # work: each quantity tried costs a floor
            if nodes > node_limit:
                raise _NodeLimit(best_value, best_picks)
            for qty in quantities:
                rest = _fill(items, residual - qty)
                if rest is None:
                    continue
                total = value + qty * price
                if total + rest < best_value:
                    children.append((total + rest, residual - qty, total, qty, price, whole_lo, whole_hi))
        children.sort()
        for floor, left, total, qty, price, whole_lo, whole_hi in children:
            if floor >= best_value:
                break  # sorted: no later child can beat the best value either
            if qty and history and exchangeable(history, price, multiple, whole_lo, whole_hi, qty):
                continue
            if left <= 0:  # a finishing purchase: a complete allocation
                best_value, best_picks = total, picks + ((offer.offer, qty),)
                continue
            if qty:
                dfs(rest_order, i + 1, left, total, picks + ((offer.offer, qty),), free,
                    history + ((price, multiple, whole_hi - qty, qty - whole_lo),))
            else:
                dfs(rest_order, i + 1, left, total, picks, free, history)

    # The first choice: which offer and segment is free (or none), most promising first.
    branches = []
    for free in [None] + [(f, segment) for f in order for segment in f.segments]:
        rest_order = shrink([o for o in order if free is None or o is not free[0]], free)
        items = _unit_bounds(rest_order, needed)
        if free is not None:
            insort(items, _segment_bound(free[1], needed))
        floor = _fill(items, needed)
        if floor is not None and floor < best_value:
            branches.append((floor, id(free), free, rest_order))
    branches.sort(key=lambda b: b[0])
    for floor, _, free, rest_order in branches:
        if floor >= best_value:
            break
        dfs(rest_order, 0, needed, 0, (), free)
    return best_value, best_picks, nodes


def _segment_bound(segment: tuple[int, int, int], residual: int) -> tuple[int, int]:
    """(price per useful unit no purchase in the segment beats, useful units it can give): the
    one-segment case of `_unit_bounds`."""
    lo, hi, price = segment
    if lo >= residual:
        return price * lo // residual, residual
    return price, hi if hi < residual else residual


def solve_line(offers: list[Offer], needed: int, *, node_limit: int = NODE_LIMIT) -> LineSolution:
    """Buy at least `needed` units from `offers` at the lowest cost the listings allow, proven.

    - If everything on offer cannot cover the need, buy all of it: the shortfall is as small as
      it can be and there is nothing to choose.
    - Otherwise start from the best of quick candidates (every single offer, a greedy split,
      trimmed) and search exactly (`_search`). Ties: the shortest longest lead time (the search
      is repeated on the offers of shorter lead, looking for the same cost), then units from
      lower listing ids (the price perturbation of `_Prepared`).
    Exact unless `node_limit` is reached; then the cost is the best found and `bound` what the
    search proved, so the gap is known."""
    offers = sorted((o for o in offers if o.segments), key=lambda o: o.listing_id)
    if needed <= 0 or not offers:
        return LineSolution([], max(needed, 0), 0, 0)
    available = sum(o.max_buy for o in offers)
    if available <= needed:
        allocations = [Allocation(o, o.max_buy) for o in offers]
        cost = sum(o.micro_cost(o.max_buy) for o in offers)
        return LineSolution(allocations, needed - available, cost, cost)
    if len(offers) == 1:  # one offer (the joint search asks this thousands of times per quote):
        # within a segment cost grows with quantity, so the least that covers the need is best
        offer, k = offers[0], offers[0].multiple
        cost, qty = min((price * q, q) for lo, hi, price in offer.segments
                        if (q := max(lo, -(-needed // k) * k)) <= hi)
        return LineSolution([Allocation(offer, qty)], 0, cost, cost)

    scale = len(offers) * available + 1  # > Σ quantity × rank of any allocation
    prepared = [_Prepared(o, rank, scale) for rank, o in enumerate(offers)]

    rank = {id(o): r for r, o in enumerate(offers)}

    def value(allocs: list[Allocation]) -> int:
        return sum(a.offer.micro_cost(a.quantity) * scale + a.quantity * rank[id(a.offer)] for a in allocs)

    root = _fill(_unit_bounds(prepared, needed), needed)
    scored = []  # (lead time, value, allocation or (offer, quantity) for a single offer)
    for r, offer in enumerate(offers):
        for qty in offer.buy_options(needed):
            if qty >= needed:
                scored.append((offer.lead_time_days, offer.micro_cost(qty) * scale + qty * r, (offer, qty)))
    # The greedy split, unless a single offer already meets the root floor (most lines: then
    # nothing is cheaper, and the lead-time tie-break below still looks at every allocation).
    if not scored or root + 1 < min(s[1] for s in scored):
        greedy = _greedy(offers, needed)
        if sum(a.quantity for a in greedy) >= needed:
            c = _trim(greedy, needed)
            scored.append((max(a.offer.lead_time_days for a in c), value(c), c))
    # The shortest lead time among the cheapest candidates, else simply the cheapest.
    _, best_value, best = min(scored, key=lambda s: s[:2])
    cheapest = min(scored, key=lambda s: s[1])
    if best_value // scale > cheapest[1] // scale:
        _, best_value, best = cheapest
    if isinstance(best, tuple):
        best = [Allocation(*best)]
    bound, nodes = root // scale, 0
    if root + 1 < best_value:  # +1: the incumbent beats a lone integer floor only by rounding
        try:
            found, picks, nodes = _search(prepared, needed, best_value, node_limit)
            if picks is not None:
                best, best_value = [Allocation(p.offer, q) for p, q in picks], found
            bound = best_value // scale
        except _NodeLimit as stopped:  # keep the best allocation found; the bound is the root floor
            nodes = node_limit
            if stopped.picks is not None and stopped.value < best_value:
                best, best_value = [Allocation(p.offer, q) for p, q in stopped.picks], stopped.value
    else:
        bound = best_value // scale
    cost = best_value // scale
    # Ties on cost: the shortest longest lead time that still reaches the same cost.
    lead = max(a.offer.lead_time_days for a in best)
    if bound == cost:
        for shorter in sorted({p.lead for p in prepared if p.lead < lead}):
            allowed = [p for p in prepared if p.lead <= shorter]
            if sum(p.offer.max_buy for p in allowed) < needed:
                continue
            floor = _fill(_unit_bounds(allowed, needed), needed)
            if floor is None or floor // scale > cost:
                continue
            if nodes >= node_limit:
                break
            try:
                found, picks, more = _search(allowed, needed, (cost + 1) * scale, node_limit - nodes)
            except _NodeLimit:
                nodes = node_limit
                break
            nodes += more
            if picks is not None and found // scale == cost:
                best = [Allocation(p.offer, q) for p, q in picks]
                break
    allocations = sorted(best, key=lambda a: a.offer.listing_id)
    return LineSolution(allocations, 0, sum(a.offer.micro_cost(a.quantity) for a in allocations), bound, nodes)


def allocate(offers: list[Offer], needed: int) -> tuple[list[Allocation], int]:
    """The exact allocation of one line (see `solve_line`): (allocations by listing id, shortfall)."""
    solution = solve_line(offers, needed)
    return solution.allocations, solution.shortfall


def _trim(allocations: list[Allocation], needed: int) -> list[Allocation]:
    """Local improvement: let each pick buy only what the others leave uncovered (or drop it),
    when that is cheaper; repeat until nothing improves."""
    improved = True
    while improved:
        improved = False
        for i, pick in enumerate(allocations):
            others = sum(a.quantity for j, a in enumerate(allocations) if j != i)
            rest = allocations[:i] + allocations[i + 1:]
            if others >= needed:
                trial = rest
            else:
                qty = order_qty(needed - others, pick.offer.moq, pick.offer.multiple)
                if qty >= pick.quantity or qty > pick.offer.max_buy:
                    continue
                trial = rest[:i] + [Allocation(pick.offer, qty)] + rest[i:]
            if _key(trial) < _key(allocations):
                allocations, improved = trial, True
                break
    return allocations
