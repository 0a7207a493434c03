"""Purchase plans: several BOMs and kits at their own build quantities, bought at once.

1. Each source becomes a kit (a BOM its private kit, `bom_kit_sync`); the plan is a private kit
   of the buyer whose sub-kits are the sources at their quantities, so the need per part is
   summed by the kit quote's own flattening (`flatten_needs`: attrition, sub-kits, substitutes).
2. The buyer's stock is taken off the need, part by part (`stock_netting`): a part's own stock
   first, then, where substitutes may be used, the stock of its substitutes left over.
3. What is left is sourced in ONE `quote_create` (one `plan_sourcing` call): a part two sources
   need is one line, so its MOQ, price breaks and each vendor's shipping, free-shipping amount
   and minimum order are counted once. The quote is an ordinary quote — same objective (fewest
   units short first), same order path — whose `held` says what stock covered.
4. Beside it, what the sources would cost quoted alone (each its own quote, no stock), and all of
   them planned together before the stock: the two savings (docs/purchase-plans.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from marketplace.boms.models import Bom
from marketplace.boms.services import bom_kit_sync, unsourced_lines
from marketplace.catalogue.models import Part
from marketplace.exceptions import PurchasePlanInvalid, QuoteInvalid
from marketplace.kits.models import Kit
from marketplace.kits.selectors import kit_tree_multipliers, nre_paid_for
from marketplace.kits.services import kit_create
from marketplace.plans.models import BuyerStock, PurchasePlan, PurchasePlanNeed, PurchasePlanSource
from marketplace.sourcing.options import MAX_QUANTITY, QuoteOptions, quote_options_parse
from marketplace.sourcing.plan import Plan
from marketplace.sourcing.quotes import Need, flatten_needs, kit_service_lines, line_cost, plan_for, quote_create
from marketplace.sourcing.rates import QuoteRates, cents, quote_rates
from organizations.models import Organization

MAX_SOURCES = 20
PLAN_OPTIONS = ("max_vendors", "allow_substitutes", "max_lead_time_days", "exclude_vendors", "currency")


@dataclass
class PlanSource:
    """One BOM or kit of a plan request, at its build quantity."""

    quantity: int
    bom: Bom | None = None
    kit: Kit | None = None

    @property
    def name(self) -> str:
        return (self.bom.name if self.bom is not None else str(self.kit))[:200]


@dataclass
class Netting:
    """What the buyer's stock covers, per need (keyed by the need's part)."""

    covered: dict[int, int] = field(default_factory=dict)
    used: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # need part -> [(stock part, units)]


def stock_netting(needs: list[Need], stock: dict[int, int], *, substitutes: bool) -> Netting:
    """Take the buyer's stock off the needs, deterministically: first every need from its own
    part's stock (in BOM order), then, when substitutes may be used, what is still needed from the
    stock of its substitutes that their own needs left (substitutes in id order). A unit of stock
    is used once."""
    left = dict(stock)
    out = Netting()
    for need in needs:
        take = min(left.get(need.part_id, 0), need.needed)
        if take:
            left[need.part_id] -= take
            out.covered[need.part_id] = take
            out.used[need.part_id] = [(need.part_id, take)]
    if substitutes:
        for need in needs:
            for sub in sorted(need.substitutes):
                rest = need.needed - out.covered.get(need.part_id, 0)
                take = min(left.get(sub, 0), rest)
                if take > 0:
                    left[sub] -= take
                    out.covered[need.part_id] = out.covered.get(need.part_id, 0) + take
                    out.used.setdefault(need.part_id, []).append((sub, take))
    return out


def _options(raw: dict | None, *, organization: Organization) -> QuoteOptions:
    raw = dict(raw or {})
    extra = sorted(set(raw) - set(PLAN_OPTIONS))
    if extra:
        raise QuoteInvalid({"options": [f"Unknown option(s) for a purchase plan: {', '.join(map(str, extra))} "
                                        f"(it takes {', '.join(PLAN_OPTIONS)}; each kit is assembled as its own "
                                        "quote would be)."]})
    currency = raw.get("currency") or organization.default_currency
    currency = currency.upper() if isinstance(currency, str) else currency  # a bad type: the parser says so
    raw["currency"] = currency
    # The plan's own kit is priced in the plan's currency; its kits' currencies are checked against the rates later.
    return quote_options_parse(raw, kit_currency=currency if isinstance(currency, str) else organization.default_currency)


def _check_sources(sources: list[PlanSource]) -> None:
    errors = []
    if not sources:
        errors.append("Choose at least one BOM or kit, each with its build quantity.")
    if len(sources) > MAX_SOURCES:
        errors.append(f"At most {MAX_SOURCES} BOMs and kits per plan.")
    seen = set()
    for i, s in enumerate(sources, start=1):
        if (s.bom is None) == (s.kit is None):
            errors.append(f"Source {i}: give a BOM or a kit.")
            continue
        key = ("bom", s.bom.pk) if s.bom is not None else ("kit", s.kit.pk)
        if key in seen:
            errors.append(f"Source {i}: {s.name} is already in the plan; give it one quantity.")
        seen.add(key)
        if isinstance(s.quantity, bool) or not isinstance(s.quantity, int) or not 1 <= s.quantity <= MAX_QUANTITY:
            errors.append(f"Source {i} ({s.name}): build from 1 to {MAX_QUANTITY:,} units.")
    if errors:
        raise PurchasePlanInvalid({"sources": errors})


def _money(plan: Plan) -> tuple[Decimal, Decimal]:
    """(components, shipping) of a plan, rounded exactly as `quote_create` rounds a quote."""
    components = sum((line_cost(s.allocations) for s in plan.lines), Decimal(0))
    shipping = sum((cents(Decimal(fee) / 1_000_000) for fee in plan.shipping.values()), Decimal(0))
    return components, shipping


def _services(*, organization: Organization, kit: Kit, quantity: int, multipliers: dict[int, int],
              rates: QuoteRates) -> Decimal:
    """Assembly (the kits' own factories), design fees and NRE not yet paid, as a quote adds them."""
    paid = set(nre_paid_for(buyer=organization, kit_ids=multipliers))
    return sum((cents(q * unit) for _, _, _, q, unit in kit_service_lines(
        kit=kit, quantity=quantity, multipliers=multipliers, rates=rates, nre_paid=paid)), Decimal(0))


@transaction.atomic
def purchase_plan_create(*, organization: Organization, sources: list[PlanSource], name: str = "",
                         options: dict | None = None, use_stock: bool = True,
                         created_by: AbstractBaseUser | None = None) -> PurchasePlan:
    """Plan the purchase of every source at its quantity, net of the organisation's stock, in one
    joint sourcing; save the plan, its quote (order it like any quote) and the comparison with
    quoting each source alone. 400s (PurchasePlanInvalid, QuoteInvalid) change nothing."""
    _check_sources(sources)
    opts = _options(options, organization=organization)
    currency = opts.currency
    rates = quote_rates(currency=currency)
    kits: list[Kit | None] = []
    unsourced: list[dict] = []
    for position, source in enumerate(sources):
        kit = source.kit
        if source.bom is not None:
            kit = bom_kit_sync(bom=source.bom)
            unsourced += [{**u, "bom": source.bom.pk, "bom_name": source.bom.name, "source": position}
                          for u in unsourced_lines(source.bom, source.quantity)]
        kits.append(kit)
    used = [k for k in kits if k is not None]
    if not used:
        raise PurchasePlanInvalid({"sources": ["No line of these BOMs is matched to a part yet: pick parts for their "
                                               "lines, then plan."]})
    if len({k.pk for k in used}) < len(used):
        raise PurchasePlanInvalid({"sources": ["Two sources are the same kit revision; give it one quantity."]})
    tree_currencies = set(Kit.objects.filter(pk__in={p for k in used for p in kit_tree_multipliers(k)})
                          .values_list("currency", flat=True))
    if missing := sorted(tree_currencies - set(rates.rates)):
        raise QuoteInvalid({"currency": [f"No exchange rate from {', '.join(missing)} to {currency}; plan in "
                                         f"{missing[0]} or ask an operator for the rate."]})
    label = name.strip() or ", ".join(f"{s.quantity} × {s.name}" for s in sources)
    plan_kit = kit_create(owner=organization, name=label[:200], bom=[], private=True, currency=currency,
                          subkits=[{"kit": k, "quantity": s.quantity} for s, k in zip(sources, kits) if k is not None],
                          description=f"Purchase plan of {timezone.now():%Y-%m-%d}: {len(sources)} BOMs and kits")
    needs = flatten_needs(plan_kit, 1, kit_tree_multipliers(plan_kit))
    stock = {}
    if use_stock:
        wanted = {n.part_id for n in needs} | {s for n in needs for s in n.substitutes}
        stock = dict(BuyerStock.objects.filter(organization=organization, part_id__in=wanted, quantity__gt=0)
                     .values_list("part_id", "quantity"))
    netting = stock_netting(needs, stock, substitutes=opts.allow_substitutes is not False)
    quote = quote_create(organization=organization, kit=plan_kit, quantity=1, created_by=created_by, options=opts,
                         held=netting.covered)
    if unsourced:
        quote.unsourced = unsourced
        quote.save(update_fields=["unsourced"])

    # What each source would cost quoted alone (its own quote: no stock, its own vendors and shipping).
    rows, by_source = [], defaultdict(list)
    for position, (source, kit) in enumerate(zip(sources, kits)):
        figures = {"components": Decimal(0), "shipping": Decimal(0), "services": Decimal(0), "shortfall": 0, "vendors": 0}
        if kit is not None:
            alone_needs, _, alone, multipliers = plan_for(organization=organization, kit=kit, quantity=source.quantity,
                                                          options=opts, rates=rates)
            figures["components"], figures["shipping"] = _money(alone)
            figures["services"] = _services(organization=organization, kit=kit, quantity=source.quantity,
                                            multipliers=multipliers, rates=rates)
            figures["shortfall"], figures["vendors"] = alone.shortfall, len(alone.subtotals)
            for need in alone_needs:
                by_source[need.part_id].append({"source": position, "quantity": need.needed})
        rows.append(PurchasePlanSource(
            position=position, bom=source.bom, kit=kit, name=source.name, quantity=source.quantity,
            total=figures["components"] + figures["shipping"] + figures["services"],
            unsourced=sum(1 for u in unsourced if u["source"] == position), **figures))
    # All of them planned together before the stock: the same quote when no stock was used.
    together_total, together_short = quote.total, sum(line.shortfall for line in quote.lines.all())
    if netting.covered:
        _, _, together, _ = plan_for(organization=organization, kit=plan_kit, quantity=1, options=opts, rates=rates)
        components, shipping = _money(together)
        together_total = components + shipping + quote.assembly_cost + quote.design_fees + quote.nre
        together_short = together.shortfall
    plan = PurchasePlan.objects.create(
        organization=organization, created_by=created_by, name=label[:200], quote=quote, use_stock=use_stock,
        currency=currency, separate_total=sum((r.total for r in rows), Decimal(0)),
        separate_shortfall=sum(r.shortfall for r in rows), separate_purchase_orders=sum(r.vendors for r in rows),
        together_total=together_total, together_shortfall=together_short)
    for r in rows:
        r.plan = plan
    PurchasePlanSource.objects.bulk_create(rows)
    from_parts = dict(Part.objects.filter(pk__in={p for u in netting.used.values() for p, _ in u})
                      .values_list("pk", "mpn"))
    PurchasePlanNeed.objects.bulk_create([
        PurchasePlanNeed(plan=plan, part_id=n.part_id, position=i, needed=n.needed,
                         from_stock=netting.covered.get(n.part_id, 0), to_buy=n.needed - netting.covered.get(n.part_id, 0),
                         by_source=by_source.get(n.part_id, []),
                         stock=[{"part": p, "mpn": from_parts.get(p, ""), "quantity": q}
                                for p, q in netting.used.get(n.part_id, [])])
        for i, n in enumerate(needs)
    ])
    return plan

