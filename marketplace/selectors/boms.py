"""Buyer BOM reads: always filtered by the owning organisation (another's BOM is a 404)."""

from django.db.models import Count, Prefetch, Q, QuerySet

from marketplace.models import Bom, BomItem
from organizations.models import Organization


def bom_list(*, owner: Organization) -> QuerySet[Bom]:
    """The organisation's BOMs with their line counts by status (for lists)."""
    return Bom.objects.filter(owner=owner).annotate(
        line_count=Count("items"),
        matched_count=Count("items", filter=Q(items__part__isnull=False)),
        unmatched_count=Count("items", filter=Q(items__part__isnull=True, items__dnp=False)),
    ).order_by("-created_at", "-id")


def bom_get(*, owner: Organization, pk: int) -> Bom | None:
    """One BOM with its lines, their parts and substitutes loaded."""
    items = BomItem.objects.select_related("part").prefetch_related("substitutes").order_by("line")
    return (Bom.objects.filter(owner=owner, pk=pk).select_related("kit")
            .prefetch_related(Prefetch("items", queryset=items)).first())
