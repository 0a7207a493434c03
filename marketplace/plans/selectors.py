"""Reads of the buyer's stock and purchase plans: always filtered by the organisation (another's
is a 404)."""

from django.db.models import Prefetch, Q, QuerySet

from marketplace.plans.models import BuyerStock, PurchasePlan, PurchasePlanNeed, PurchasePlanSource
from marketplace.sourcing.models import QuoteLine
from organizations.models import Organization


def stock_list(*, organization: Organization, q: str = "") -> QuerySet[BuyerStock]:
    """The organisation's stock rows with their parts, by MPN."""
    qs = BuyerStock.objects.filter(organization=organization).select_related("part")
    if q := q.strip():
        qs = qs.filter(Q(part__mpn__icontains=q) | Q(part__manufacturer__icontains=q) | Q(note__icontains=q))
    return qs.order_by("part__mpn", "part_id")


def stock_row_get(*, organization: Organization, part_id: int) -> BuyerStock | None:
    if not 0 < part_id <= 2**63 - 1:  # a foreign key's lookup is not range-checked: no OverflowError (500)
        return None
    return BuyerStock.objects.filter(organization=organization, part_id=part_id).select_related("part").first()


def purchase_plan_list(*, organization: Organization) -> QuerySet[PurchasePlan]:
    return (PurchasePlan.objects.filter(organization=organization).select_related("quote")
            .prefetch_related(Prefetch("sources", queryset=PurchasePlanSource.objects.order_by("position")))
            .order_by("-created_at", "-id"))


def purchase_plan_get(*, organization: Organization, pk: int) -> PurchasePlan | None:
    """One plan with its sources, its needs and their parts, and its quote's lines (what is bought
    of each part, and what is short)."""
    return (PurchasePlan.objects.filter(organization=organization, pk=pk).select_related("quote", "quote__kit")
            .prefetch_related(
                Prefetch("sources", queryset=PurchasePlanSource.objects.order_by("position")),
                Prefetch("needs", queryset=PurchasePlanNeed.objects.select_related("part").order_by("position")),
                Prefetch("quote__lines", queryset=QuoteLine.objects.select_related("part")
                         .prefetch_related("allocations__vendor")),
            ).first())


def plan_need_rows(plan: PurchasePlan) -> list[dict]:
    """Each need of a loaded plan with what its quote buys: units bought, short, and from whom."""
    lines = {line.part_id: line for line in plan.quote.lines.all()}
    names = {s.position: s.name for s in plan.sources.all()}
    rows = []
    for need in plan.needs.all():
        line = lines.get(need.part_id)
        allocations = list(line.allocations.all()) if line else []
        rows.append({
            "need": need, "part": need.part, "shortfall": line.shortfall if line else 0,
            "bought": sum(a.quantity for a in allocations),
            "vendors": sorted({a.vendor.name for a in allocations}),
            "by_source": [{**s, "name": names.get(s["source"], "")} for s in need.by_source],
        })
    return rows


def plan_comparison(plan: PurchasePlan) -> dict:
    """The plan against quoting each source alone: totals, units short, purchase orders, and the
    savings — from planning together (separate − together) and from the stock (together − plan)."""
    quote = plan.quote
    short = sum(line.shortfall for line in quote.lines.all())
    return {
        "separate_total": plan.separate_total, "together_total": plan.together_total, "plan_total": quote.total,
        "saving_together": plan.separate_total - plan.together_total,
        "saving_stock": plan.together_total - quote.total, "saving": plan.separate_total - quote.total,
        "separate_shortfall": plan.separate_shortfall, "together_shortfall": plan.together_shortfall,
        "plan_shortfall": short, "separate_purchase_orders": plan.separate_purchase_orders,
        "plan_purchase_orders": quote.vendors.count(),
    }
