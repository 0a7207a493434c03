"""Kit reads."""

from django.db.models import Prefetch, Q, QuerySet

from organizations.models import Organization
from marketplace.models import BomLine, Kit


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
