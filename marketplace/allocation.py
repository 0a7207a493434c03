"""Sourcing one BOM line from the offers (listings) that can supply it: pure functions, no ORM.

See docs/quotes.md for why it works this way and how far from optimal it can be.
"""

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

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

    def __post_init__(self) -> None:
        moq, multiple = self.moq, self.multiple
        self.min_buy = min_buy = -(-moq // multiple) * multiple  # order_qty(1, moq, multiple)
        cap = self.stock // multiple * multiple
        # The most we may buy: stock rounded down to the multiple (0 if that is below the MOQ).
        self.max_buy = cap = cap if cap >= min_buy else 0
        self.micro_breaks = micro = tuple((q, int((p * MICRO).to_integral_value(ROUND_CEILING))) for q, p in self.breaks)
        # Each break's threshold as an order quantity (MOQ and multiple applied), for buy_options.
        self.break_buys = tuple(-(-(q if q > moq else moq) // multiple) * multiple for q, _ in self.breaks)
        # The best unit price this offer can reach (the lower bound's per-offer price).
        reach = max(cap, self.breaks[0][0]) if self.breaks else 0
        self.best_micro_price = min((p for q, p in micro if q <= reach), default=None)

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
        return self.offer.cost(self.quantity)


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


def _anchors(offer: Offer) -> set[int]:
    """Quantities an offer sits at in an optimal solution unless it is the one "topping up": its
    minimum buy, each price-break threshold it can reach, and everything it may buy."""
    cap = offer.max_buy
    points = {offer.min_buy, cap}
    for min_qty, _ in offer.breaks:
        qty = order_qty(min_qty, offer.moq, offer.multiple)
        if qty <= cap:
            points.add(qty)
    return points


def _frontier_search(offers: list[Offer], needed: int, bound: float, beam: int = 16) -> list[Allocation] | None:
    """Dynamic programme over offers on (units covered, capped at `needed`) → cheapest way there.
    Each offer buys nothing, one of its anchors, or just enough to finish from the current state.
    Pruned by dominance (covering less must cost less), by a bound (cost so far + the remaining
    units at the cheapest price any later offer has ≥ the best known cover) and to the `beam`
    cheapest-per-unit states. Returns the best full cover found, or None."""
    floor_after = [0] * (len(offers) + 1)
    floor_after[len(offers)] = 10**30  # nothing left to buy from
    for i in range(len(offers) - 1, -1, -1):
        floor_after[i] = min(floor_after[i + 1], offers[i].micro_breaks[-1][1])
    best_full: tuple | None = None
    states: dict[int, tuple[int, tuple]] = {0: (0, ())}
    for index, offer in enumerate(offers):
        cap, moq, multiple = offer.max_buy, offer.moq, offer.multiple
        anchors = sorted(_anchors(offer))
        anchor_costs = [(q, offer.micro_cost(q)) for q in anchors]
        later_floor = floor_after[index + 1]
        grown = dict(states)
        for covered, (cost, picks) in states.items():
            if covered >= needed:
                continue
            options = anchor_costs
            top_up = needed - covered
            if top_up < moq:
                top_up = moq
            top_up = -(-top_up // multiple) * multiple
            if top_up <= cap and top_up not in anchors:
                options = [*anchor_costs, (top_up, offer.micro_cost(top_up))]
            for qty, extra in options:
                total = cost + extra
                reach = covered + qty
                if reach >= needed:
                    reach = needed
                    if total >= bound:
                        continue
                elif total + (needed - reach) * later_floor >= bound:
                    continue
                current = grown.get(reach)
                if current is None or total < current[0]:
                    grown[reach] = (total, picks + ((offer, qty),))
        if needed in grown and grown[needed][0] < bound:
            bound = grown[needed][0]
            best_full = grown[needed]
        # Keep the Pareto frontier (more coverage must cost more), then the beam.
        frontier, cheapest_above = [], None
        for covered in sorted(grown, reverse=True):
            cost, picks = grown[covered]
            if covered < needed and cost + (needed - covered) * later_floor >= bound:
                continue
            if cheapest_above is None or cost < cheapest_above:
                frontier.append((covered, cost, picks))
                cheapest_above = cost
        if len(frontier) > beam:
            frontier = [frontier[0]] + sorted(frontier[1:], key=lambda s: (s[1] + (needed - s[0]) * later_floor, -s[0]))[:beam - 1]
        states = {covered: (cost, picks) for covered, cost, picks in frontier}
    if best_full is None:
        return None
    return [Allocation(offer, qty) for offer, qty in best_full[1]]


def allocate(offers: list[Offer], needed: int) -> tuple[list[Allocation], int]:
    """Buy at least `needed` units from `offers` at the lowest cost we can find; returns the
    allocations (ordered by listing id) and the shortfall (units no offer can supply).

    - If everything on offer cannot cover the need, buy all of it: the shortfall is as small as
      it can be and there is nothing to choose.
    - Otherwise take the cheapest of the greedy split, every single offer that can fill it alone,
      and a bounded dynamic programme over the offers' anchor quantities (see docs/quotes.md)."""
    offers = sorted((o for o in offers if o.max_buy > 0), key=lambda o: o.listing_id)
    if needed <= 0 or not offers:
        return [], max(needed, 0)
    if sum(o.max_buy for o in offers) <= needed:
        allocations = [Allocation(o, o.max_buy) for o in offers]
        return allocations, needed - sum(o.max_buy for o in offers)

    candidates = []
    for offer in offers:
        for qty in offer.buy_options(needed):
            if qty >= needed:
                candidates.append([Allocation(offer, qty)])
    greedy = _greedy(offers, needed)
    if sum(a.quantity for a in greedy) >= needed:
        candidates.append(greedy)
    best = min(candidates, key=_key) if candidates else None
    bound = _key(best)[0] + 1 if best else float("inf")
    floor = _micro_lower_bound(offers, needed)
    # The offer that "tops up" is best seen last; try cheapest-first and dearest-first orders,
    # unless a candidate already meets the lower bound (then it is provably optimal).
    by_price = sorted(offers, key=lambda o: (o.breaks[-1][1], o.lead_time_days, o.listing_id))
    for order, beam in ((by_price, 16), (by_price[::-1], 6)):
        if bound <= floor + 1:
            break
        searched = _frontier_search(order, needed, bound, beam=beam)
        if searched is not None:
            candidates.append(searched)
            bound = min(bound, _key(searched)[0] + 1)
    best = min((_trim(c, needed) if len(c) > 1 else c for c in candidates), key=_key)
    return sorted(best, key=lambda a: a.offer.listing_id), 0


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
