"""Kit quotes: flatten the BOM through sub-kits, source every part at the lowest cost, add
assembly, design fees and NRE, and save the priced snapshot."""

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models, transaction
from django.utils import timezone

from marketplace.catalogue.models import VendorOrderTerms
from marketplace.exceptions import QuoteInvalid
from marketplace.kits.models import BomLine, Kit
from marketplace.kits.selectors import kit_tree_multipliers, nre_paid_for
from marketplace.kits.services import kit_freeze
from marketplace.sourcing.allocation import MICRO, Offer
from marketplace.sourcing.assembly import assembly_choose, saved_assembly_lines
from marketplace.sourcing.models import Quote, QuoteAllocation, QuoteLine, QuoteVendor
from marketplace.sourcing.offers import (
    assembly_offer_breaks,
    assembly_offer_for,
    load_offers,
)
from marketplace.sourcing.options import (
    MAX_NEEDED,
    MAX_QUANTITY,
    MAX_TOTAL,
    QuoteOptions,
    quote_options_parse,
)
from marketplace.sourcing.plan import Plan, VendorTerms, plan_sourcing
from marketplace.sourcing.rates import QuoteRates, cents, fx_snapshot, quote_rates
from marketplace.sql import InArray
from organizations.models import Organization

QUOTE_VALIDITY = timedelta(days=7)


@dataclass
class Need:
    part_id: int
    needed: int = 0
    substitutes: set[int] = field(default_factory=set)
    position: int = 0


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


def vendor_terms(*, vendor_ids: set[int], rates: QuoteRates) -> dict[int, VendorTerms]:
    """Order terms of these vendors in micro units of the quote's currency (terms set in another
    currency converted at the quote's rate; a vendor whose terms' currency has no rate is quoted
    without terms, as its listings in that currency are left out anyway)."""

    def micro(amount: Decimal, source: str) -> int:
        return int((amount * rates.rates[source] * MICRO).to_integral_value(ROUND_HALF_EVEN))

    out = {}
    for terms in VendorOrderTerms.objects.filter(InArray("vendor_id", vendor_ids), currency__in=list(rates.rates)):
        rates.used.add(terms.currency)
        out[terms.vendor_id] = VendorTerms(
            shipping_fee=micro(terms.shipping_fee, terms.currency),
            free_shipping_over=None if terms.free_shipping_over is None else micro(terms.free_shipping_over, terms.currency),
            min_order_value=micro(terms.min_order_value, terms.currency),
        )
    return out


def sourcing_problem(*, needs: list[Need], offers_by_part: dict[int, list[Offer]], options: QuoteOptions
                     ) -> list[tuple[list[Offer], int]]:
    """(offers, needed) per line. Substitutes only where the BOM lists them, and not at all when
    the buyer said `allow_substitutes: false`."""
    problem = []
    for need in needs:
        parts = [need.part_id] if options.allow_substitutes is False else [need.part_id, *sorted(need.substitutes)]
        problem.append(([o for part_id in parts for o in offers_by_part.get(part_id, [])], need.needed))
    return problem


def plan_for(*, organization: Organization, kit: Kit, quantity: int, options: QuoteOptions,
             rates: QuoteRates | None = None, remaining: dict[int, int] | None = None,
             held: dict[int, int] | None = None,
             ) -> tuple[list[Need], list[tuple[list[Offer], int]], Plan, dict]:
    """Everything a quote sources, without saving: needs, the per-line problem, the plan, the
    multipliers of the kit tree. Priced in `rates.currency` (default: the options' currency or the
    kit's, at the rates in force now). `held`: units of each part's need the buyer already holds
    (a purchase plan's stock), taken off the need; a need they cover is not sourced at all."""
    rates = rates or quote_rates(currency=options.currency or kit.currency)
    multipliers = kit_tree_multipliers(kit)
    needs = flatten_needs(kit, quantity, multipliers)
    if remaining is not None:  # the remainder of an order: only what it still lacks, per part
        needs = [replace(n, needed=remaining[n.part_id]) for n in needs if remaining.get(n.part_id, 0) > 0]
    if held:
        needs = [replace(n, needed=n.needed - held.get(n.part_id, 0)) for n in needs
                 if n.needed > held.get(n.part_id, 0)]
    if any(need.needed > MAX_NEEDED for need in needs):
        raise QuoteInvalid({"quantity": ["That batch needs more than 2 billion of one part; quote a smaller batch."]})
    part_ids = {n.part_id for n in needs} | {s for n in needs for s in n.substitutes}
    offers_by_part = load_offers(part_ids=part_ids, rates=rates, buyer=organization, options=options)
    problem = sourcing_problem(needs=needs, offers_by_part=offers_by_part, options=options)
    return needs, problem, plan_problem(problem, options=options, rates=rates), multipliers


def plan_problem(problem: list[tuple[list[Offer], int]], *, options: QuoteOptions, rates: QuoteRates) -> Plan:
    """The joint plan for one sourcing problem, under the vendors' order terms and the options."""
    vendor_ids = {o.vendor_id for offers, _ in problem for o in offers}
    terms = vendor_terms(vendor_ids=vendor_ids, rates=rates)
    # One objective (docs/quotes.md §4): fewest units short, then landed cost, then lead time; stock a
    # listing shares between lines is counted once; deterministic (work limits, not seconds).
    return plan_sourcing(problem, terms=terms, max_vendors=options.max_vendors)


def _micro_to_money(value: int) -> Decimal:
    return cents(Decimal(value) / MICRO)


def kit_service_lines(*, kit: Kit, quantity: int, multipliers: dict[int, int], assembly_offer=None,
                      rates: QuoteRates, nre_paid: frozenset[int] | set[int] = frozenset(),
                      assembly_mode: str = "author", assembly_lines: list[tuple[int, str, int, Decimal]] | None = None,
                      ) -> list[tuple[str, int, str, int, Decimal]]:
    """What a kit tree costs besides its parts, as order lines in the quote's currency:
    (kind, vendor id, description, quantity, unit price); kind is assembly, design or nre. Each
    kit's own amounts are converted at the quote's rate. A quote adds them up (cents per line)
    and an order from it buys exactly these lines, so the two agree to the cent. The NRE of a
    kit revision in `nre_paid` (the buyer paid it on an earlier order) is left out: it is
    charged once per revision per buyer."""
    out = []
    for sub in Kit.objects.filter(pk__in=multipliers).prefetch_related("assembly_breaks").order_by("pk"):
        batch = multipliers[sub.pk] * quantity

        def unit(amount, sub=sub):
            rates.used.add(sub.currency)  # kept in the snapshot: an order from the quote converts it again
            return rates.unit_price(Decimal(amount), sub.currency)

        if sub.pk == kit.pk and assembly_mode != "author":  # rate-card assembly (chosen) or none
            out.extend(("assembly", factory_id, text, qty, price) for factory_id, text, qty, price in assembly_lines or [])
        elif sub.pk == kit.pk and assembly_offer is not None:  # the buyer's awarded assembly bid (docs/rfqs.md)
            cost = assembly_unit_cost(assembly_offer_breaks(assembly_offer), batch)
            out.append(("assembly", assembly_offer.factory_id, f"Assembly of {batch} × {sub} (RFQ award)", batch, unit(cost)))
            if assembly_offer.setup_cost:
                out.append(("assembly", assembly_offer.factory_id, f"Assembly setup for {sub}", 1, unit(assembly_offer.setup_cost)))
        elif sub.assembly_factory_id:
            cost = assembly_unit_cost([(b.min_qty, b.unit_cost) for b in sub.assembly_breaks.all()], batch)
            out.append(("assembly", sub.assembly_factory_id, f"Assembly of {batch} × {sub}", batch, unit(cost)))
            if sub.assembly_setup_cost:
                out.append(("assembly", sub.assembly_factory_id, f"Assembly setup for {sub}", 1, unit(sub.assembly_setup_cost)))
        if sub.design_fee_per_unit:
            out.append(("design", sub.owner_id, f"Design fee, {sub}", batch, unit(sub.design_fee_per_unit)))
        if sub.nre and sub.pk not in nre_paid:
            out.append(("nre", sub.owner_id, f"NRE, {sub}", 1, unit(sub.nre)))
    return out


def quote_service_lines(*, quote: Quote) -> list[tuple[str, int, str, int, Decimal]]:
    """A saved quote's service lines, at its own rates: what an order from it buys besides parts
    (none for the remainder of an order: that order paid them)."""
    if quote.remainder_of is not None:
        return []
    return kit_service_lines(kit=quote.kit, quantity=quote.quantity, multipliers=kit_tree_multipliers(quote.kit),
                             assembly_offer=quote.assembly_offer, rates=QuoteRates.from_json(quote.currency, quote.fx),
                             nre_paid=quote_nre_paid_ids(quote),
                             assembly_mode=(quote.assembly or {}).get("mode", "author"),
                             assembly_lines=saved_assembly_lines(quote))


def quote_nre_paid_ids(quote: Quote) -> set[int]:
    """The kit revisions whose NRE the quote left out (already paid by the buyer)."""
    return {int(p["kit"]) for p in quote.nre_paid or []}


def quote_nre_charged(*, quote: Quote) -> list[Kit]:
    """The kit revisions whose NRE an order from this quote pays."""
    if quote.remainder_of is not None:  # the order it completes paid (or will pay) the NRE
        return []
    return list(Kit.objects.filter(pk__in=kit_tree_multipliers(quote.kit), nre__gt=0)
                .exclude(pk__in=quote_nre_paid_ids(quote)).order_by("pk"))


@transaction.atomic
def quote_create(
    *, organization: Organization, kit: Kit, quantity: int, created_by: AbstractBaseUser | None = None,
    validity: timedelta = QUOTE_VALIDITY, options: QuoteOptions | dict | None = None,
    remaining: dict[int, int] | None = None, remainder_of: int | None = None, held: dict[int, int] | None = None,
) -> Quote:
    """Price `quantity` units of `kit` for `organization` and save the quote. Parts nobody can
    supply are recorded as shortfalls (the quote still saves; an order from it is refused).
    The whole BOM is sourced jointly (`marketplace.sourcing`): vendors' order terms and the
    buyer's options couple the lines; the gap to the proven lower bound is saved with it.
    `held` (a purchase plan, `marketplace/plans/`): units of each part the buyer's own stock covers,
    left out of the sourcing; the kit tree's other costs are charged as usual."""
    if not 1 <= int(quantity) <= MAX_QUANTITY:
        raise QuoteInvalid({"quantity": [f"Quote between 1 and {MAX_QUANTITY:,} units."]})
    if not isinstance(options, QuoteOptions):
        options = quote_options_parse(options, kit_currency=kit.currency)
    currency = options.currency or kit.currency
    rates = quote_rates(currency=currency)
    if kit.currency not in rates.rates:  # checked with the options too; the rate may have gone since
        raise QuoteInvalid({"currency": [f"No exchange rate from {kit.currency} to {currency}; quote in {kit.currency}."]})
    rates.used.add(kit.currency)  # its assembly, fees and NRE: an order from the quote converts them again
    needs, problem, plan, multipliers = plan_for(organization=organization, kit=kit, quantity=quantity, options=options,
                                                 rates=rates, remaining=remaining, held=held)
    # A remainder quote buys parts only: the order it completes paid the assembly, fees and NRE.
    assembly, choice, assembly_lines = {"mode": options.assembly if remaining is None else "none"}, None, None
    if options.assembly == "auto" and remaining is None:  # factory and parts chosen together (sourcing/assembly.py)
        choice = assembly_choose(
            kit=kit, boards=quantity, processes=list(options.processes), exclude=options.exclude_vendors, rates=rates,
            problem=problem, need_part_ids=[n.part_id for n in needs], base_plan=plan,
            replan=lambda restricted: plan_problem(restricted, options=options, rates=rates))
        assembly = choice.as_json(currency)
        if choice.best is not None:
            plan = choice.best.plan
            assembly_lines = [(choice.best.factory.pk, d, q, u) for d, q, u in choice.best.items]
    line_results = [(need, solution.allocations, solution.shortfall) for need, solution in zip(needs, plan.lines)]

    services = defaultdict(Decimal)
    assembly_offer, nre_paid = None, []
    if remaining is None:
        assembly_offer = (assembly_offer_for(buyer=organization, kit=kit, quantity=quantity)  # an awarded assembly bid
                          if options.assembly == "author" else None)
        paid = nre_paid_for(buyer=organization, kit_ids=multipliers)  # NRE once per kit revision per buyer
        nre_paid = [{"kit": p.kit_id, "name": str(p.kit), "amount": str(p.amount), "currency": p.currency,
                     "order": p.order_id} for p in sorted(paid.values(), key=lambda p: p.kit_id)]
        for kind, _, _, qty, unit in kit_service_lines(kit=kit, quantity=quantity, multipliers=multipliers,
                                                       assembly_offer=assembly_offer, rates=rates, nre_paid=set(paid),
                                                       assembly_mode=options.assembly, assembly_lines=assembly_lines):
            services[kind] += cents(qty * unit)
    assembly_cost, design_fees, nre = services["assembly"], services["design"], services["nre"]

    components_cost = sum((cents(sum((a.extended_price for a in allocs), Decimal(0))) for _, allocs, _ in line_results),
                          Decimal(0))
    shipping = {v: _micro_to_money(fee) for v, fee in plan.shipping.items()}
    shipping_cost = sum(shipping.values(), Decimal(0))
    total = components_cost + shipping_cost + assembly_cost + design_fees + nre
    if total > MAX_TOTAL or max((line_cost(allocs) for _, allocs, _ in line_results), default=0) > MAX_TOTAL:
        raise QuoteInvalid({"quantity": ["The quote would exceed 999,999,999,999.99; quote a smaller batch."]})
    gap = Decimal(str(round(plan.gap, 6)))
    quote = Quote.objects.create(
        kit=kit, organization=organization, created_by=created_by, quantity=quantity, currency=currency,
        components_cost=components_cost, assembly_cost=assembly_cost, design_fees=design_fees, nre=nre, total=total,
        unit_cost=cents(total / quantity), shipping_cost=shipping_cost, optimality_gap=gap, options=options.as_json(),
        fx=fx_snapshot(rates, part_ids={n.part_id for n in needs} | {s for n in needs for s in n.substitutes}),
        lead_time_days=max((a.offer.lead_time_days for _, allocs, _ in line_results for a in allocs), default=0),
        valid_until=timezone.now() + validity, assembly_offer=assembly_offer, nre_paid=nre_paid, assembly=assembly,
        rate_card=choice.best.price.card if choice and choice.best else None, remainder_of=remainder_of,
        held={str(p): q for p, q in sorted((held or {}).items()) if q > 0},
    )
    line_ids = insert_rows(QuoteLine, ("quote", "part", "needed_qty", "shortfall", "position", "cost"), [
        (quote.pk, need.part_id, need.needed, shortfall, need.position, cents(sum((a.extended_price for a in allocs), Decimal(0))))
        for need, allocs, shortfall in line_results
    ])
    insert_rows(QuoteAllocation, ("line", "listing", "vendor", "part", "quantity", "unit_price", "extended_price"), [
        (line_id, a.offer.listing_id, a.offer.vendor_id, a.offer.part_id, a.quantity, a.unit_price, a.extended_price)
        for line_id, (_, allocs, _) in zip(line_ids, line_results) for a in allocs
    ])
    subtotals: dict[int, Decimal] = defaultdict(Decimal)
    leads: dict[int, int] = defaultdict(int)
    for _, allocs, _ in line_results:
        for a in allocs:
            subtotals[a.offer.vendor_id] += a.extended_price
            leads[a.offer.vendor_id] = max(leads[a.offer.vendor_id], a.offer.lead_time_days)
    QuoteVendor.objects.bulk_create([
        QuoteVendor(quote_id=quote.pk, vendor_id=v, subtotal=cents(subtotals[v]), shipping=shipping.get(v, Decimal(0)),
                    lead_time_days=leads[v])
        for v in sorted(subtotals)
    ])
    kit_freeze(kit=kit)
    return quote


def insert_rows(model: type[models.Model], fields: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """Insert `rows` (values in `fields` order, foreign keys as ids) and return their ids, in order.

    On PostgreSQL: one `INSERT … SELECT FROM unnest(…)` with a typed array per column, the values
    as they are — a 300-line quote saves ~1,000 lines and allocations, and Django spent ≈ 25 ms
    of CPU building and preparing a model instance per row (docs/benchmarks.md). Like
    `bulk_create` there: no `save()`, no signals, ids in the order given. Elsewhere `bulk_create`."""
    if not rows:
        return []
    columns = [model._meta.get_field(name) for name in fields]
    # Fields left out take their model default, as bulk_create would give them.
    for field in model._meta.concrete_fields:
        if field not in columns and not field.primary_key and field.has_default():
            columns.append(field)
            default = field.get_default()
            rows = [(*row, default) for row in rows]
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create([model(**{c.attname: v for c, v in zip(columns, row)}) for row in rows])
        return [o.pk for o in created]
    arrays = [list(values) for values in zip(*rows)]
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(c.column for c in columns)}) "  # noqa: S608 (model metadata)
           f"SELECT * FROM unnest({', '.join(f'%s::{c.db_type(connection)}[]' for c in columns)}) RETURNING id")
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return [row[0] for row in cursor.fetchall()]


def quote_constraint_costs(*, quote: Quote) -> list[dict]:
    """What each of the quote's options costs, priced again on today's listings: one vendor
    fewer or more, and without the lead-time limit, the exclusions, or with substitutes off.
    Each entry: {"label", "delta"} (Decimal, + dearer / − cheaper), or {"label", "note"}."""
    options = QuoteOptions.from_json(quote.options)
    kit, org = quote.kit, quote.organization
    rates = QuoteRates.from_json(quote.currency, quote.fx)  # the quote's own rates: only the option varies
    held = quote.held_units
    _, _, base, _ = plan_for(organization=org, kit=kit, quantity=quote.quantity, options=options, rates=rates, held=held)
    vendors_used = len(base.subtotals)
    variants = []
    if vendors_used > 1:
        variants.append((f"one vendor fewer ({vendors_used - 1})", replace(options, max_vendors=vendors_used - 1)))
    if options.max_vendors is not None:
        variants.append((f"one vendor more ({options.max_vendors + 1})", replace(options, max_vendors=options.max_vendors + 1)))
    if options.max_lead_time_days is not None:
        variants.append(("without the lead-time limit", replace(options, max_lead_time_days=None)))
    if options.exclude_vendors:
        variants.append(("without the excluded vendors rule", replace(options, exclude_vendors=())))
    if options.allow_substitutes is not False:
        variants.append(("without substitutes", replace(options, allow_substitutes=False)))
    out = []
    for label, variant in variants:
        _, _, plan, _ = plan_for(organization=org, kit=kit, quantity=quote.quantity, options=variant, rates=rates,
                                 held=held)
        if plan.shortfall > base.shortfall:
            out.append({"label": label, "note": f"{plan.shortfall - base.shortfall:,} more units could not be sourced"})
        elif plan.shortfall < base.shortfall:
            out.append({"label": label, "note": f"sources {base.shortfall - plan.shortfall:,} more units, "
                                                f"{_micro_to_money(plan.cost - base.cost):+} {quote.currency}"})
        else:
            out.append({"label": label, "delta": _micro_to_money(plan.cost - base.cost)})
    return out
