"""Kit quotes: flatten the BOM through sub-kits, source every part at the lowest cost, add
assembly, design fees and NRE, and save the priced snapshot."""

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from django.utils import timezone

from marketplace.allocation import Offer, allocate
from marketplace.exceptions import QuoteInvalid
from organizations.models import Organization
from marketplace.models import BomLine, Kit, Listing, PriceBreak, Quote, QuoteAllocation, QuoteLine, SubKit
from marketplace.services.kits import kit_freeze

CENT = Decimal("0.01")
QUOTE_VALIDITY = timedelta(days=7)
MAX_QUANTITY = 10_000_000
MAX_NEEDED = 2_000_000_000
MAX_TOTAL = Decimal("999999999999.99")  # the money columns (14 digits, 2 places)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass
class Need:
    part_id: int
    needed: int = 0
    substitutes: set[int] = field(default_factory=set)
    position: int = 0


def kit_tree_multipliers(kit: Kit) -> dict[int, int]:
    """Units of each kit in the tree per unit of `kit` (summed over every path through sub-kits)."""
    edges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    frontier, seen = {kit.pk}, set()
    while frontier:
        seen |= frontier
        for parent, child, qty in SubKit.objects.filter(kit_id__in=frontier).values_list("kit_id", "child_id", "quantity"):
            edges[parent].append((child, qty))
        frontier = {c for children in edges.values() for c, _ in children} - seen
    multipliers: dict[int, int] = defaultdict(int)
    stack = [(kit.pk, 1)]
    while stack:  # sub-kit graphs are acyclic (kit_create rejects cycles), so this ends
        kit_id, mult = stack.pop()
        multipliers[kit_id] += mult
        stack.extend((child, mult * qty) for child, qty in edges[kit_id])
    return dict(multipliers)


def flatten_needs(kit: Kit, quantity: int, multipliers: dict[int, int]) -> list[Need]:
    """needed_qty per part = Σ ceil(quantity_per_unit × units × (1 + attrition)) over the tree."""
    needs: dict[int, Need] = {}
    # Plain rows, not model instances: a 300-line kit would build 300 BomLines and their M2M caches.
    lines = BomLine.objects.filter(kit_id__in=multipliers).values_list("id", "kit_id", "part_id", "quantity", "attrition",
                                                                        "position")
    substitutes: dict[int, set[int]] = defaultdict(set)
    for line_id, part_id in BomLine.substitutes.through.objects.filter(bomline__kit_id__in=multipliers).values_list(
            "bomline_id", "part_id"):
        substitutes[line_id].add(part_id)
    ordered = sorted(lines, key=lambda l: (l[1] != kit.pk, l[1], l[5], l[0]))
    for line_id, kit_id, part_id, qty_per_unit, attrition, _ in ordered:
        need = needs.setdefault(part_id, Need(part_id=part_id, position=len(needs)))
        need.needed += math.ceil(qty_per_unit * multipliers[kit_id] * quantity * (1 + attrition))
        need.substitutes |= substitutes.get(line_id, set()) - {part_id}
    return list(needs.values())


def load_offers(*, part_ids: set[int], currency: str, buyer: Organization) -> dict[int, list[Offer]]:
    """Live offers by part: active, in stock, in the quote's currency, from verified vendors
    (never the buyer itself)."""
    # One round trip: every price break of every live offer, with its listing's fields.
    rows = (
        PriceBreak.objects.filter(listing__part_id__in=part_ids, listing__is_active=True, listing__stock__gt=0,
                                  listing__currency=currency, listing__vendor_verified=True)  # the listing's copy: no join
        .exclude(listing__vendor_id=buyer.pk)
        .order_by("listing_id", "min_qty")
        .values_list("listing_id", "listing__vendor_id", "listing__part_id", "listing__moq", "listing__multiple",
                     "listing__stock", "listing__lead_time_days", "min_qty", "unit_price")
    )
    offers: dict[int, list[Offer]] = defaultdict(list)
    current, breaks = None, []
    for row in rows:
        if current is not None and row[0] != current[0]:
            offers[current[2]].append(Offer(*current[:7], tuple(breaks)))
            breaks = []
        current = row
        breaks.append((row[7], row[8]))
    if current is not None:
        offers[current[2]].append(Offer(*current[:7], tuple(breaks)))
    return offers


def line_cost(allocations) -> Decimal:
    return cents(sum((a.extended_price for a in allocations), Decimal(0)))


def assembly_unit_cost(breaks: list[tuple[int, Decimal]], quantity: int) -> Decimal:
    """Unit cost at the largest break ≤ quantity; below the first break, the first break's cost
    (the factory's minimum-batch price)."""
    if not breaks:
        return Decimal(0)
    cost = breaks[0][1]
    for min_qty, unit_cost in breaks:
        if min_qty <= quantity:
            cost = unit_cost
    return cost


@transaction.atomic
def quote_create(
    *, organization: Organization, kit: Kit, quantity: int, created_by: AbstractBaseUser | None = None,
    validity: timedelta = QUOTE_VALIDITY,
) -> Quote:
    """Price `quantity` units of `kit` for `organization` and save the quote. Parts nobody can
    supply are recorded as shortfalls (the quote still saves; an order from it is refused)."""
    if not 1 <= int(quantity) <= MAX_QUANTITY:
        raise QuoteInvalid({"quantity": [f"Quote between 1 and {MAX_QUANTITY:,} units."]})
    multipliers = kit_tree_multipliers(kit)
    needs = flatten_needs(kit, quantity, multipliers)
    if any(need.needed > MAX_NEEDED for need in needs):
        raise QuoteInvalid({"quantity": ["That batch needs more than 2 billion of one part; quote a smaller batch."]})
    part_ids = {n.part_id for n in needs} | {s for n in needs for s in n.substitutes}
    offers_by_part = load_offers(part_ids=part_ids, currency=kit.currency, buyer=organization)
    stock_left: dict[int, int] = {}  # stock a line already took from a listing (substitutes are shared)

    line_results = []
    for need in needs:
        offers = []
        for part_id in [need.part_id, *sorted(need.substitutes)]:
            for o in offers_by_part.get(part_id, []):
                left = stock_left.get(o.listing_id, o.stock)
                offers.append(o if left == o.stock else replace(o, stock=left))
        allocations, shortfall = allocate(offers, need.needed)
        for a in allocations:
            stock_left[a.offer.listing_id] = stock_left.get(a.offer.listing_id, a.offer.stock) - a.quantity
        line_results.append((need, allocations, shortfall))

    kits = {k.pk: k for k in Kit.objects.filter(pk__in=multipliers).prefetch_related("assembly_breaks")}
    assembly_cost = design_fees = nre = Decimal(0)
    for kit_id, mult in multipliers.items():
        sub = kits[kit_id]
        batch = mult * quantity
        if sub.assembly_factory_id:
            breaks = [(b.min_qty, b.unit_cost) for b in sub.assembly_breaks.all()]
            assembly_cost += sub.assembly_setup_cost + batch * assembly_unit_cost(breaks, batch)
        design_fees += sub.design_fee_per_unit * batch
        nre += sub.nre

    components_cost = sum((cents(sum((a.extended_price for a in allocs), Decimal(0))) for _, allocs, _ in line_results),
                          Decimal(0))
    assembly_cost, design_fees, nre = cents(assembly_cost), cents(design_fees), cents(nre)
    total = components_cost + assembly_cost + design_fees + nre
    if total > MAX_TOTAL or max((line_cost(allocs) for _, allocs, _ in line_results), default=0) > MAX_TOTAL:
        raise QuoteInvalid({"quantity": ["The quote would exceed 999,999,999,999.99; quote a smaller batch."]})
    quote = Quote.objects.create(
        kit=kit, organization=organization, created_by=created_by, quantity=quantity, currency=kit.currency,
        components_cost=components_cost, assembly_cost=assembly_cost, design_fees=design_fees, nre=nre, total=total,
        unit_cost=cents(total / quantity),
        lead_time_days=max((a.offer.lead_time_days for _, allocs, _ in line_results for a in allocs), default=0),
        valid_until=timezone.now() + validity,
    )
    lines = QuoteLine.objects.bulk_create([
        QuoteLine(quote_id=quote.pk, part_id=need.part_id, needed_qty=need.needed, shortfall=shortfall, position=need.position,
                  cost=cents(sum((a.extended_price for a in allocs), Decimal(0))))
        for need, allocs, shortfall in line_results
    ])
    QuoteAllocation.objects.bulk_create([
        QuoteAllocation(line_id=line.pk, listing_id=a.offer.listing_id, vendor_id=a.offer.vendor_id, part_id=a.offer.part_id,
                        quantity=a.quantity, unit_price=a.unit_price, extended_price=a.extended_price)
        for line, (_, allocs, _) in zip(lines, line_results) for a in allocs
    ])
    kit_freeze(kit=kit)
    return quote



