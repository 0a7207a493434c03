"""Quote, order and purchase-order reads, scoped to the acting organisation."""

from datetime import timedelta

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from marketplace.orders.models import (
    Order,
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
)
from marketplace.sourcing.models import Quote
from organizations.models import Organization


def quote_open_order(*, quote: Quote) -> Order | None:
    """The order placed from this quote that is not cancelled (there is at most one)."""
    return quote.orders.exclude(status=OrderStatus.CANCELLED).order_by("-id").first()


def _po_prefetch() -> Prefetch:
    return Prefetch("purchase_orders", queryset=PurchaseOrder.objects.select_related("vendor").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("listing__part"))))


def order_list(*, organization: Organization, status: str | None = None) -> QuerySet[Order]:
    """Orders the organisation placed, or that contain one of its purchase orders as vendor."""
    qs = Order.objects.filter(Q(buyer=organization) | Q(purchase_orders__vendor=organization)).distinct()
    if status in OrderStatus.values:
        qs = qs.filter(status=status)
    return qs.select_related("buyer", "quote__kit").prefetch_related(_po_prefetch()).order_by("-created_at", "-id")


def purchase_order_list(*, organization: Organization, role: str = "any", status: str | None = None) -> QuerySet[PurchaseOrder]:
    """POs the organisation is party to: `vendor` (incoming), `buyer` (its own orders) or `any`."""
    party = {"vendor": Q(vendor=organization), "buyer": Q(order__buyer=organization)}.get(
        role, Q(vendor=organization) | Q(order__buyer=organization))
    qs = PurchaseOrder.objects.filter(party)
    if status in OrderStatus.values:
        qs = qs.filter(status=status)
    return qs.select_related("vendor", "order__buyer").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("listing__part"))
    ).order_by("-created_at", "-id")


def fulfilment_record(*, supplier: Organization) -> dict:
    """What buyers should know before ordering: purchase orders received, delivered, cancelled by
    the supplier, and how fast it confirms and ships (medians over its last 500 POs)."""
    counts = PurchaseOrder.objects.filter(vendor=supplier).aggregate(
        received=Count("id"),
        delivered=Count("id", filter=Q(status=OrderStatus.DELIVERED)),
        open=Count("id", filter=Q(status__in=[OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED])),
        cancelled_by_supplier=Count("id", filter=Q(status=OrderStatus.CANCELLED, cancelled_by_supplier=True)),
    )
    recent = list(PurchaseOrder.objects.filter(vendor=supplier).order_by("-created_at")
                  .values_list("created_at", "confirmed_at", "shipped_at")[:500])

    def median_hours(deltas: list[timedelta]) -> float | None:
        if not deltas:
            return None
        deltas = sorted(deltas)
        return round(deltas[len(deltas) // 2].total_seconds() / 3600, 1)

    closed = counts["delivered"] + counts["cancelled_by_supplier"]
    return {
        **counts,
        "fill_rate": round(counts["delivered"] / closed, 3) if closed else None,
        "median_hours_to_confirm": median_hours([c - p for p, c, _ in recent if c]),
        "median_hours_to_ship": median_hours([s - p for p, _, s in recent if s]),
        "listings": supplier.listings.filter(is_active=True).count(),
        "kits": supplier.kits.filter(is_current=True, is_active=True).count(),
    }


def gmv_by_currency(*, days: int = 30) -> dict[str, object]:
    """Gross merchandise value for the operator's desk: the totals of orders placed in the last
    `days` days that were not cancelled, per currency."""
    since = timezone.now() - timedelta(days=days)
    rows = (Order.objects.filter(created_at__gte=since).exclude(status=OrderStatus.CANCELLED)
            .values("currency").annotate(total=Sum("total"), orders=Count("id")).order_by("currency"))
    return {row["currency"]: {"total": row["total"], "orders": row["orders"]} for row in rows}
