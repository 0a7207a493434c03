"""Quote, order and purchase-order reads, scoped to the acting organisation."""

from datetime import timedelta

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from marketplace.catalogue.models import Listing
from marketplace.orders.models import (
    Order,
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    ShipmentLine,
)
from marketplace.sourcing.allocation import Offer, allocate
from marketplace.sourcing.models import Quote
from organizations.models import Organization


def quote_open_order(*, quote: Quote) -> Order | None:
    """The order placed from this quote that is not cancelled (there is at most one)."""
    return quote.orders.exclude(status=OrderStatus.CANCELLED).order_by("-id").first()


def _shipments_prefetch() -> Prefetch:
    return Prefetch("shipments", queryset=Shipment.objects.prefetch_related(
        Prefetch("lines", queryset=ShipmentLine.objects.order_by("pk"))).order_by("number"))


def _po_prefetch() -> Prefetch:
    return Prefetch("purchase_orders", queryset=PurchaseOrder.objects.select_related("vendor", "ship_to").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("listing__part")), _shipments_prefetch()))


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
    return qs.select_related("vendor", "order__buyer", "ship_to").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("listing__part")), _shipments_prefetch(),
    ).order_by("-created_at", "-id")


def shipment_list(*, purchase_order: PurchaseOrder) -> QuerySet[Shipment]:
    return Shipment.objects.filter(purchase_order=purchase_order).prefetch_related(
        Prefetch("lines", queryset=ShipmentLine.objects.order_by("pk"))).order_by("number")


def lot_trace(*, lot: str, vendor: Organization | None) -> QuerySet[ShipmentLine]:
    """Who received which units of a lot: every shipped line with that lot code, of `vendor`
    (the shipping supplier) or of every supplier (operators: vendor=None), oldest first."""
    qs = ShipmentLine.objects.filter(lot=lot)
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    return qs.select_related("vendor", "listing__part", "shipment__purchase_order__order__buyer").order_by("shipment__created_at", "pk")


def resource_offer(*, purchase_order: PurchaseOrder) -> dict:
    """What a buyer could order instead of a cancelled purchase order's goods, without its vendor:
    each listing line solved again by the allocation engine over the other live listings of the
    same part in the order's currency (stock, MOQ, multiples, price breaks), cheapest first."""
    order = purchase_order.order
    wanted = list(purchase_order.lines.filter(listing__isnull=False).select_related("listing__part").order_by("pk"))
    part_of = {line.pk: line.listing.part_id for line in wanted}
    listings = (Listing.objects.filter(part_id__in=set(part_of.values()), is_active=True, stock__gt=0,
                                       currency=purchase_order.currency, vendor_verified=True, reserved_for=None)
                .exclude(vendor_id__in=[purchase_order.vendor_id, order.buyer_id])
                .prefetch_related("price_breaks").order_by("pk"))
    offers: dict[int, list[Offer]] = {}
    for listing in listings:
        breaks = tuple((b.min_qty, b.unit_price) for b in sorted(listing.price_breaks.all(), key=lambda b: b.min_qty))
        if breaks:
            offers.setdefault(listing.part_id, []).append(Offer(
                listing_id=listing.pk, vendor_id=listing.vendor_id, part_id=listing.part_id, moq=listing.moq,
                multiple=listing.multiple, stock=listing.stock, lead_time_days=listing.lead_time_days, breaks=breaks))
    lines, short, used = [], [], {}
    for line in wanted:
        # Offers share stock between lines of the same part: take what earlier lines used off it.
        available = [o for o in offers.get(part_of[line.pk], []) if o.stock - used.get(o.listing_id, 0) > 0]
        available = [Offer(listing_id=o.listing_id, vendor_id=o.vendor_id, part_id=o.part_id, moq=o.moq,
                           multiple=o.multiple, stock=o.stock - used.get(o.listing_id, 0),
                           lead_time_days=o.lead_time_days, breaks=o.breaks) for o in available]
        allocations, shortfall = allocate(available, line.quantity)
        for a in allocations:
            used[a.offer.listing_id] = used.get(a.offer.listing_id, 0) + a.quantity
            lines.append({"listing": a.offer.listing_id, "vendor": a.offer.vendor_id, "part": line.listing.part_id,
                          "description": str(line.listing.part), "quantity": a.quantity, "unit_price": a.unit_price,
                          "replaces_line": line.pk})
        if shortfall:
            short.append({"part": line.listing.part_id, "description": str(line.listing.part), "shortfall": shortfall})
    return {"purchase_order": purchase_order.pk, "excluded_vendor": purchase_order.vendor_id,
            "currency": purchase_order.currency, "lines": lines, "short": short}


def fulfilment_record(*, supplier: Organization) -> dict:
    """What buyers should know before ordering: purchase orders received, delivered, cancelled by
    the supplier (its own cancellations and the orders it let expire unconfirmed), how fast it
    confirms and ships (medians over its last 500 POs), and whether it keeps its promised ship
    dates: `on_time_rate` (shipped by `ship_by`) and `median_slip_days` (shipped minus promised,
    in days; negative is early), over its last 500 shipped POs."""
    counts = PurchaseOrder.objects.filter(vendor=supplier).aggregate(
        received=Count("id"),
        delivered=Count("id", filter=Q(status=OrderStatus.DELIVERED)),
        open=Count("id", filter=Q(status__in=[OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.PARTLY_SHIPPED,
                                               OrderStatus.SHIPPED])),
        cancelled_by_supplier=Count("id", filter=Q(status=OrderStatus.CANCELLED, cancelled_by_supplier=True)),
        expired_unconfirmed=Count("id", filter=Q(status=OrderStatus.CANCELLED, cancel_reason="unconfirmed")),
    )
    recent = list(PurchaseOrder.objects.filter(vendor=supplier).order_by("-created_at")
                  .values_list("created_at", "confirmed_at", "shipped_at")[:500])
    shipped = list(PurchaseOrder.objects.filter(vendor=supplier, shipped_at__isnull=False, ship_by__isnull=False)
                   .order_by("-shipped_at").values_list("shipped_at", "ship_by")[:500])

    def median_hours(deltas: list[timedelta]) -> float | None:
        if not deltas:
            return None
        deltas = sorted(deltas)
        return round(deltas[len(deltas) // 2].total_seconds() / 3600, 1)

    slips = sorted((s - promised) for s, promised in shipped)
    closed = counts["delivered"] + counts["cancelled_by_supplier"]
    return {
        **counts,
        "fill_rate": round(counts["delivered"] / closed, 3) if closed else None,
        "median_hours_to_confirm": median_hours([c - p for p, c, _ in recent if c]),
        "median_hours_to_ship": median_hours([s - p for p, _, s in recent if s]),
        "shipped_with_promise": len(shipped),
        "on_time_rate": round(sum(1 for s, promised in shipped if s <= promised) / len(shipped), 3) if shipped else None,
        "median_slip_days": round(slips[len(slips) // 2].total_seconds() / 86400, 1) if slips else None,
        "listings": supplier.listings.filter(is_active=True).count(),
        "kits": supplier.kits.filter(is_current=True, is_active=True).count(),
    }


def on_time_rates(*, vendor_ids: list[int]) -> dict[int, float | None]:
    """`on_time_rate` of many suppliers at once (quotes and bids show it beside each vendor)."""
    rows = (PurchaseOrder.objects.filter(vendor_id__in=vendor_ids, shipped_at__isnull=False, ship_by__isnull=False)
            .values("vendor_id").annotate(n=Count("id"), on_time=Count("id", filter=Q(shipped_at__lte=F("ship_by")))))
    rates: dict[int, float | None] = {pk: None for pk in vendor_ids}
    for row in rows:
        rates[row["vendor_id"]] = round(row["on_time"] / row["n"], 3)
    return rates


def gmv_by_currency(*, days: int = 30) -> dict[str, object]:
    """Gross merchandise value for the operator's desk: the totals of orders placed in the last
    `days` days that were not cancelled, per currency."""
    since = timezone.now() - timedelta(days=days)
    rows = (Order.objects.filter(created_at__gte=since).exclude(status=OrderStatus.CANCELLED)
            .values("currency").annotate(total=Sum("total"), orders=Count("id")).order_by("currency"))
    return {row["currency"]: {"total": row["total"], "orders": row["orders"]} for row in rows}
