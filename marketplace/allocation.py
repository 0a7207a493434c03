"""Sourcing one BOM line from the offers (listings) that can supply it: pure functions, no ORM.

See docs/quotes.md for why it works this way and how far from optimal it can be.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Offer:
    listing_id: int
    vendor_id: int
    part_id: int
    moq: int
    multiple: int
    stock: int
    lead_time_days: int
    breaks: tuple[tuple[int, Decimal], ...]  # (min_qty, unit_price), min_qty ascending

    @property
    def min_buy(self) -> int:
        return order_qty(1, self.moq, self.multiple)

    @property
    def max_buy(self) -> int:
        """The most we may buy: stock rounded down to the multiple (0 if that is below the MOQ)."""
        cap = self.stock // self.multiple * self.multiple
        return cap if cap >= self.min_buy else 0

    def unit_price(self, qty: int) -> Decimal | None:
        price = None
        for min_qty, unit_price in self.breaks:
            if min_qty > qty:
                break
            price = unit_price
        return price

    def cost(self, qty: int) -> Decimal:
        return qty * self.unit_price(qty)

    def buy_options(self, remaining: int) -> list[int]:
        """Quantities worth considering when `remaining` units are still needed: just enough (or
        all we may buy), or more, up to each higher price break, when that is cheaper overall."""
        cap = self.max_buy
        if cap == 0:
            return []
        options = [min(cap, order_qty(remaining, self.moq, self.multiple))]
        for min_qty, _ in self.breaks:
            qty = order_qty(min_qty, self.moq, self.multiple)
            if options[0] < qty <= cap:
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
    cost = sum((a.extended_price for a in allocations), Decimal(0))
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
                cost = offer.cost(qty)
                score = (cost / min(qty, remaining), offer.lead_time_days, offer.listing_id, qty)
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
    best = sorted((min(p for q, p in o.breaks if q <= max(o.max_buy, o.breaks[0][0])), o.max_buy)
                  for o in offers if o.max_buy)
    total, remaining = Decimal(0), needed
    for price, cap in best:
        take = min(cap, remaining)
        total += take * price
        remaining -= take
        if remaining <= 0:
            break
    return total


def allocate(offers: list[Offer], needed: int) -> tuple[list[Allocation], int]:
    """Buy at least `needed` units from `offers` at the lowest cost we can find; returns the
    allocations (ordered by listing id) and the shortfall (units no offer can supply).

    - If everything on offer cannot cover the need, buy all of it: the shortfall is as small as
      it can be and there is nothing to choose.
    - Otherwise take the cheapest of: every single offer that can fill it alone (at each break it
      may reach), the greedy split, and the greedy split with each of its picks excluded in turn
      (a local search that fixes greedy's classic mistake of a cheap first pick that forces an
      expensive MOQ for the last few units)."""
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
    candidates.append(greedy)
    for excluded in {a.offer.listing_id for a in greedy} if len(greedy) > 1 else ():
        alternative = _greedy([o for o in offers if o.listing_id != excluded], needed)
        if sum(a.quantity for a in alternative) >= needed:
            candidates.append(alternative)
    best = min(candidates, key=_key)
    return sorted(best, key=lambda a: a.offer.listing_id), 0
