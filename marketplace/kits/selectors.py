"""Kit reads."""


from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from marketplace.catalogue.models import Part
from marketplace.kits.models import BomLine, Kit, KitNrePaid, SubKit
from organizations.models import Organization


def kit_list(*, viewer: Organization | None, q: str | None = None, category: str | None = None,
             owner_id: int | None = None, current_only: bool = True, include_private: bool = False) -> QuerySet[Kit]:
    """Kits of verified solution houses plus the viewer's own, with the joins the API needs.
    Private kits (a buyer's BOM) only for their owner, and only when asked (not in browse lists)."""
    visible = Q(owner__verified=True, is_active=True, private=False)
    if viewer is not None:
        visible |= Q(owner=viewer)
    qs = Kit.objects.filter(visible).select_related("owner", "assembly_factory").prefetch_related(
        Prefetch("bom_lines", queryset=BomLine.objects.select_related("part").prefetch_related("substitutes")),
        "subkits__child", "assembly_breaks",
    )
    if current_only:
        qs = qs.filter(is_current=True)
    if not include_private:
        qs = qs.filter(private=False)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(category__icontains=q))
    if category:
        qs = qs.filter(category__iexact=category)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return qs.order_by("name", "-revision", "id")


def kit_get(*, viewer: Organization | None, pk: int, with_bom: bool = True) -> Kit | None:
    """Any revision the viewer may see (old revisions stay readable: quotes refer to them).
    `with_bom=False` skips the BOM's prefetches, for callers that read the tree themselves (a quote)."""
    qs = kit_list(viewer=viewer, current_only=False, include_private=True).filter(pk=pk)
    return (qs if with_bom else qs.prefetch_related(None)).first()


def kit_tree(kit: Kit) -> list[tuple[int, Kit, int]]:
    """(depth, kit, units per parent unit) for the kit and its sub-kits, depth-first; for pages."""
    out = []

    def walk(node: Kit, depth: int, qty: int) -> None:
        out.append((depth, node, qty))
        for sub in node.subkits.select_related("child").all():
            walk(sub.child, depth + 1, sub.quantity)

    walk(kit, 0, 1)
    return out



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


def part_kits(*, viewer: Organization | None, part: Part) -> list[dict]:
    """Current kits the viewer may see whose BOM uses the part, directly or as a substitute."""
    kits = kit_list(viewer=viewer).filter(Q(bom_lines__part=part) | Q(bom_lines__substitutes=part)).distinct()
    lines = BomLine.objects.filter(Q(part=part) | Q(substitutes=part), kit__in=kits).select_related("kit", "kit__owner")
    out = {}
    for line in lines.order_by("kit__name", "kit_id", "position", "id"):
        entry = out.setdefault(line.kit_id, {"kit": line.kit, "quantity": Decimal(0), "designators": [],
                                             "as_substitute": line.part_id != part.pk})
        entry["quantity"] += line.quantity
        if line.designators:
            entry["designators"].append(line.designators)
    return list(out.values())


def nre_paid_for(*, buyer: Organization, kit_ids) -> dict[int, KitNrePaid]:
    """The kit revisions among `kit_ids` whose NRE the buyer has paid, by kit id."""
    return {p.kit_id: p for p in KitNrePaid.objects.filter(buyer=buyer, kit_id__in=list(kit_ids)).select_related("kit")}
