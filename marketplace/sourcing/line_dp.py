"""The exact finish of a line the bounded search did not prove: a dynamic programme over the units
covered, vectorised with numpy. Pure functions, no ORM; see docs/quotes.md §3 step 6.

State: `dp[c]` = the least cost (micro, exact int64) of covering exactly `c` units with the offers
seen so far, for c < n + 2K (n the need, K the largest multiple; see `_solve` for why no optimum
needs more). Offer by offer, `dp` becomes the minimum of buying nothing and buying one quantity `q`
(a multiple `k` in one price segment `[lo, hi]` at price `p`):

    new[c'] = min(old[c'],  min over segments  p·c' + min{ old[c] − p·c : c ≡ c' (mod k),
                                                           c' − hi ≤ c ≤ c' − lo })

— a sliding-window minimum per residue class (a prefix minimum when the window reaches back to
0), O(states) numpy work per segment. The line's optimum is the least `dp[c]` for c ≥ n, or a
last purchase at a segment's bottom from a state below n (`done`). Every quantity is a multiple
of g = gcd of the offers' multiples, so the states count g units. When an offer's prices fall
with quantity (the usual case), each segment may be stretched up to the offer's cap: a larger
quantity priced at an earlier, dearer break is never cheaper than its true price, so the minimum
is unchanged and the window becomes a prefix minimum.

Exact and deterministic: integer costs, no tolerance, no clock; the work is Σ (segments + 1) ×
states, known before it starts, and a line above `DP_WORK` is not attempted (`plan.exact_line`
then gives it the full search and HiGHS).
"""

from math import gcd

import numpy as np

from marketplace.sourcing.allocation import Allocation, LineSolution, Offer

# Cells of work per line (Σ over offers of (segments + 1) × states): ≈ 2.5–3.5 ms of CPU per million
# with no cut on the standard machine (docs/benchmarks.md), so a line attempted here stays under
# ≈ 25 ms, and its arrays (the states and each offer's undo window) under 48 MB.
DP_WORK = 6_000_000
INF = np.int64(1) << np.int64(60)  # "unreachable"; INF + INF still fits an int64


def _fill(items: list[tuple[int, int]], residual: int) -> tuple[int, int] | None:
    """The fractional floor of covering `residual` units with (best unit price, units) items in
    price order, and the price of the last unit used; None if they cannot cover it."""
    total = price = 0
    for price, units in items:
        if residual <= 0:
            break
        take = units if units < residual else residual
        total += take * price
        residual -= take
    return None if residual > 0 else (total, price)


def _useful(offers: list[Offer], needed: int, ceiling: int | None) -> list[Offer]:
    """The offers that can be in an allocation costing at most `ceiling` (all if None).

    Any allocation costs at least its units at each offer's best unit price, so with offer o buying
    q ≥ lo at price p the cost is ≥ p·q + F(needed − q), F the fractional floor of the others;
    F(needed − q) ≥ F(needed) − λ·q (F is convex, λ the price of its last unit) and ≥ 0. That
    is piecewise linear in q: its least value on [lo, hi] is at lo, hi or where F − λ·q reaches 0.
    An offer whose every segment gives more than `ceiling` is in no such allocation."""
    if ceiling is None:
        return offers
    items = sorted((o.best_micro_price, o.max_buy, i) for i, o in enumerate(offers))
    kept = []
    for i, o in enumerate(offers):
        rest = _fill([(p, units) for p, units, j in items if j != i], needed)
        if rest is None:  # the others cannot cover the line without it
            kept.append(o)
            continue
        floor, last = rest
        least = None
        for lo, hi, price in o.segments:
            points = {lo, hi}
            if last:
                points |= {min(hi, max(lo, floor // last)), min(hi, max(lo, -(-floor // last)))}
            for q in points:
                value = max(0, floor - last * q) + price * q
                least = value if least is None or value < least else least
        if least <= ceiling:
            kept.append(o)
    return kept


def _prepare(offers: list[Offer], needed: int, ceiling: int | None
             ) -> tuple[list[Offer], int, int, int, int]:
    """(the useful offers by lead time, then cheapest first (best unit price, listing id), g, the
    need in g units, the largest multiple in g units, the work in cells)."""
    offers = _useful([o for o in offers if o.segments], needed, ceiling)
    offers.sort(key=lambda o: (o.lead_time_days, o.best_micro_price, o.listing_id))
    g = 0
    for o in offers:
        g = gcd(g, o.multiple)
    g = max(g, 1)
    n = -(-needed // g)
    most = max((o.multiple // g for o in offers), default=1)
    return offers, g, n, most, sum(len(o.segments) + 1 for o in offers) * (n + 2 * most)


def dp_work(offers: list[Offer], needed: int, ceiling: int | None = None) -> int:
    """The cells one run of the programme computes for this line (known before it starts)."""
    return _prepare(offers, needed, ceiling)[4]


def _window_min(b: np.ndarray, w: int) -> np.ndarray:
    """out[j] = min(b[max(0, j − w + 1) .. j]) along axis 0 (van Herk / Gil-Werman: prefix minima
    in blocks of w rows, suffix minima in the blocks a window can start in; O(rows) whatever w
    is, and no padding: a window nearly as long as the array costs two passes, not four)."""
    rows, k = b.shape
    full = rows // w
    pre = np.empty_like(b)
    if full:
        shape = (full, w) if k == 1 else (full, w, k)
        pre[: full * w] = np.minimum.accumulate(b[: full * w].reshape(shape), axis=1).reshape(full * w, k)
    if full * w < rows:
        pre[full * w:] = np.minimum.accumulate(b[full * w:], axis=0)
    starts = (rows - w) // w + 1  # blocks a window can start in (windows start at 0 .. rows − w)
    shape = (starts, w) if k == 1 else (starts, w, k)
    suf = np.minimum.accumulate(b[: starts * w][::-1].reshape(shape), axis=1).reshape(starts * w, k)[::-1]
    np.minimum(suf[: rows - w + 1], pre[w - 1:], out=pre[w - 1:])
    return pre


def _segments(offer: Offer, g: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """The offer's segments in g units (lo, hi, price per g units): as they are, and stretched to
    the cap when the prices never rise with quantity (see the module doc)."""
    exact = [(lo // g, hi // g, price * g) for lo, hi, price in offer.segments]
    prices = [p for _, _, p in exact]
    if all(a >= b for a, b in zip(prices, prices[1:])):
        top = max(hi for _, hi, _ in exact)
        return exact, [(lo, top, p) for lo, _, p in exact]
    return exact, exact


def _step(dp: np.ndarray, n: int, k: int, exact: list, stretched: list, line: np.ndarray,
          buf_pl: np.ndarray, buf_b: np.ndarray, low: int, high: int) -> tuple[int, np.ndarray, int]:
    """One offer (k in g units), in place: `dp` becomes the states after it. Only states in
    [low, high) change: below `low` the later offers cannot finish the line, above `high` none is
    reachable. Returns (start, the old values from there — what undoes the step —, the least cost
    of finishing the line with one purchase at a segment's bottom from a state below n)."""
    done = INF
    for lo, _, price in exact:
        least = int(dp[max(0, n - lo): n].min())
        if least + price * lo < done:
            done = least + price * lo
    start = low // k * k  # a multiple of k, so row j, column r of the view is state start + j·k + r
    rows = -(-(high - start) // k)
    size = rows * k
    old = dp[start: start + size].copy()  # every segment reads the states before this offer
    for lo, hi, price in stretched:
        first = lo // k  # rows back to the window's nearest end
        if first >= rows:
            continue  # its least purchase covers the need from any state: the finish above
        span = min(hi // k, rows) - first + 1
        pl = buf_pl[:size]
        np.multiply(line[start: start + size], price, out=pl)
        b = buf_b[:size]
        np.subtract(old, pl, out=b)
        b2 = b.reshape(rows, k)
        if span >= rows:
            np.minimum.accumulate(b2, axis=0, out=b2)
            m = b
        else:
            m = _window_min(b2, span).reshape(-1)
        tail = pl[first * k:]
        np.add(m[: size - first * k], tail, out=tail)
        target = dp[start + first * k: start + size]
        np.minimum(target, tail, out=target)
    return start, old, int(done)


def _purchase(before: np.ndarray, target: int, c: int, k: int, exact: list) -> int | None:
    """The smallest quantity (g units) that took `before` to `target` at state c, if any."""
    best = None
    for lo, hi, price in exact:
        top = min(hi, c)
        if top < lo:
            continue
        qs = np.arange(lo, top + 1, k, dtype=np.int64)
        match = np.nonzero(before[c - qs] + price * qs == target)[0]
        if len(match) and (best is None or int(qs[match[0]]) < best):
            best = int(qs[match[0]])
    return best


def _later_floors(offers: list[Offer], g: int) -> list:
    """Per position i, (n, c_low, c_high) ↦ for the states c in [c_low, c_high), a floor (micro) of
    covering the n − c units left with the offers after i: each offer's stock at its best unit
    price, cheapest first; 0 when nothing is left, INF when they cannot cover it. r = n − c falls by
    one per state, so each price fills one slice."""
    curves = []
    for i in range(len(offers)):
        pieces, covered, cost = [], 0, 0
        for price, units in sorted((o.best_micro_price * g, o.max_buy // g) for o in offers[i + 1:]):
            pieces.append((covered, covered + units, cost, price))  # r in (covered, covered + units]
            covered += units
            cost += units * price

        def floor(n: int, c_low: int, c_high: int, pieces=pieces) -> np.ndarray:
            out = np.full(c_high - c_low, INF)
            r0 = n - c_low  # r of the first state; r of state c_low + t is r0 − t
            if r0 - (c_high - c_low - 1) <= 0:  # states at or past n: nothing left
                out[max(0, r0): ] = 0
            for a, b, base, price in pieces:  # r in (a, b]  ⇔  t in [r0 − b, r0 − a)
                t0, t1 = max(0, r0 - b), min(c_high - c_low, r0 - a)
                if t0 < t1:
                    out[t0:t1] = base + price * (r0 - a - np.arange(t0, t1, dtype=np.int64))
            return out

        curves.append(floor)
    return curves


def _solve(offers: list[Offer], needed: int, ceiling: int | None, budget: int
           ) -> tuple[int, list[Allocation]] | None:
    """(least cost, an allocation reaching it with the shortest longest lead time) of covering
    `needed` from `offers`, no allocation dearer than `ceiling` considered; None above `budget`
    cells, or if nothing within the ceiling covers the line.

    States: c units covered exactly, for c < n + 2K (K the largest multiple, in g units). An
    optimum never needs more: with T units bought, an offer buying above its segment's bottom
    could buy k less (cheaper) unless T − n < k ≤ K; so either T < n + K, or every offer buys at
    a segment's bottom and the last one (in the programme's order) finishes the line from a state
    below n — `done`, the least such finish, kept beside the states. Offers go by lead time
    (so the first prefix that reaches the optimum gives the shortest lead time), cheapest first
    within one lead time (with a ceiling, the live states of `_later_floors` narrow fastest)."""
    offers, g, n, most, work = _prepare(offers, needed, ceiling)
    if not offers or n <= 0 or work > budget:
        return None
    if ceiling is not None:  # the useful offers' floor already above the ceiling: nothing to find
        floor = _fill(sorted((o.best_micro_price, o.max_buy) for o in offers), needed)
        if floor is None or floor[0] > ceiling:
            return None
    length = n + 2 * most  # the states; the arrays have K more so that a view of whole rows fits
    line = np.arange(length + most, dtype=np.int64)
    buf_pl, buf_b = np.empty(length + most, dtype=np.int64), np.empty(length + most, dtype=np.int64)
    steps, undo = [], []
    dp = np.full(length + most, INF)
    dp[0] = 0
    dones, values = [int(INF)], [int(INF)]
    floors = _later_floors(offers, g) if ceiling is not None else None
    later = sum(o.max_buy // g for o in offers)  # what the offers not yet seen can still buy
    low, high = 0, 1  # the live states so far: [low, high)
    for i, o in enumerate(offers):
        k, cap = o.multiple // g, o.max_buy // g
        exact, stretched = _segments(o, g)
        steps.append((k, exact))
        low = max(low, n - later)  # below it, this offer and the later ones cannot finish the line
        later -= cap
        high = min(length, high + cap)
        start, old, done = _step(dp, n, k, exact, stretched, line, buf_pl, buf_b, low, high)
        undo.append((start, old))
        dones.append(min(dones[-1], done))
        values.append(min(dones[-1], int(dp[n:].min())))
        if floors is not None and high > low:
            # States from which even the later offers' floor cannot stay within the ceiling are on
            # no allocation worth having: the next offer computes only between the lowest and the
            # highest live state.
            live = np.flatnonzero(dp[low:high] + floors[i](n, low, high) <= ceiling)
            if len(live):
                low, high = low + int(live[0]), low + int(live[-1]) + 1

    best = values[-1]
    if best >= INF // 2 or (ceiling is not None and best > ceiling):
        return None
    # The shortest longest lead time at that cost: the first prefix (offers by lead time) reaching
    # it. (Exact: an allocation of that cost within the prefix keeps all its states live.)
    end = len(offers)
    for i in range(1, len(offers)):
        if offers[i].lead_time_days != offers[i - 1].lead_time_days and values[i] == best:
            end = i
            break
    at = len(offers)  # `dp` holds the states after the first `at` offers; undo steps to go back

    def rewind(to: int) -> None:
        nonlocal at
        while at > to:
            at -= 1
            start, old = undo[at]
            dp[start: start + len(old)] = old

    rewind(end)
    allocations = []
    states = dp[n:]
    if int(states.min()) == best:
        c, i = n + int(np.argmin(states)), end
    else:  # finished by one purchase at a segment's bottom: the last offer whose finish reached it
        i = max(j for j in range(end) if dones[j] > best)
        rewind(i)
        k, exact = steps[i]
        c = None
        for lo, _, price in exact:
            start = max(0, n - lo)
            hits = np.nonzero(dp[start:n] + price * lo == best)[0]
            if len(hits):
                c = start + int(hits[-1])
                allocations.append(Allocation(offers[i], lo * g))
                break
        if c is None:
            return None  # cannot happen; the caller keeps what it had
    for i in range(i - 1, -1, -1):
        target = int(dp[c])  # the states after offer i
        rewind(i)  # the states before it
        if int(dp[c]) == target:
            continue
        k, exact = steps[i]
        q = _purchase(dp, target, c, k, exact)
        if q is None:
            return None  # cannot happen
        c -= q
        allocations.append(Allocation(offers[i], q * g))
    cost = sum(a.offer.micro_cost(a.quantity) for a in allocations)
    if c != 0 or cost != best or sum(a.quantity for a in allocations) < needed:
        return None  # cannot happen
    return best, sorted(allocations, key=lambda a: a.offer.listing_id)


def solve_line_dp(offers: list[Offer], needed: int, incumbent: LineSolution | None = None,
                  *, work_limit: int | None = None) -> LineSolution | None:
    """The proven optimum of one line that everything on offer can cover: the lowest cost, then
    the shortest longest lead time (beyond that: the incumbent if it is one, else the programme's
    own deterministic choice), or None above `work_limit` cells (default `DP_WORK`).
    `incumbent`: the search's best allocation; the programme only looks for cheaper ones or ties."""
    ceiling = incumbent.cost if incumbent is not None and not incumbent.shortfall else None
    found = _solve(offers, needed, ceiling, DP_WORK if work_limit is None else work_limit)
    if found is None:
        return None
    best, allocations = found
    if ceiling == best and max((a.offer.lead_time_days for a in incumbent.allocations), default=0) <= \
            max(a.offer.lead_time_days for a in allocations):
        allocations = incumbent.allocations
    return LineSolution(allocations, 0, best, best, incumbent.nodes if incumbent is not None else 0)
