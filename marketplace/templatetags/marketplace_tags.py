from django import template

from marketplace.catalogue.models import Listing
from marketplace.notifications.selectors import notification_unread_count
from marketplace.orders.models import Order, OrderStatus, PurchaseOrder
from marketplace.sourcing.allocation import order_qty

register = template.Library()

OPEN = [OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED]


@register.simple_tag
def marketplace_summary(org) -> dict:
    """Counts for the dashboard panel (a handful of indexed COUNTs)."""
    if org is None:
        return {}
    summary = {}
    if org.is_buyer:
        orders = Order.objects.filter(buyer=org)
        summary.update(orders=orders.count(), open_orders=orders.filter(status__in=OPEN).count())
    if org.is_supplier:
        pos = PurchaseOrder.objects.filter(vendor=org)
        summary.update(incoming=pos.count(), to_confirm=pos.filter(status=OrderStatus.PLACED).count(),
                       to_ship=pos.filter(status=OrderStatus.CONFIRMED).count(),
                       listings=Listing.objects.filter(vendor=org, is_active=True).count(),
                       kits=org.kits.filter(is_current=True).count())
    return summary


@register.simple_tag
def status_badge_class(status: str) -> str:
    return {"delivered": "badge-good", "cancelled": "badge-bad", "placed": "badge-warn"}.get(status, "")


@register.filter
def words(value: str) -> list[str]:
    return (value or "").split()


@register.filter
def min_order_qty(listing) -> int:
    """The smallest quantity the listing accepts: with `step` = its multiple, the browser's number
    input then allows exactly what `order_place` accepts (multiples of `multiple`, at least the MOQ)."""

    return order_qty(1, listing.moq, listing.multiple)


@register.simple_tag
def inbox_unread(org) -> int:
    """Unread inbox messages for the header (one indexed COUNT)."""
    if org is None:
        return 0

    return notification_unread_count(organization=org)


@register.filter
def price(value) -> str:
    """A unit price at the precision it carries, at least cents: 49.5 → "49.50", 0.0035 → "0.0035"."""
    from decimal import Decimal

    if value is None or value == "":
        return "—"
    value = Decimal(value)
    cents = value.quantize(Decimal("0.01"))
    return f"{cents}" if value == cents else f"{value.normalize():f}"



# Amounts are written with the ISO code, as on every other page ("6.00 CNY"): ¥ alone is also the yen.
@register.filter
def money(value, currency: str) -> str:
    """An amount with its currency, at the precision it carries (at least cents): "0.10 USD"."""
    if value is None or value == "":
        return "—"
    return f"{price(value)} {currency}"


@register.filter
def unit_price(value) -> str:
    """A unit price for a table: half-even to 4 places, at least cents: 4.33664 → "4.3366", 0.1 → "0.10"."""
    from decimal import ROUND_HALF_EVEN, Decimal

    if value is None or value == "":
        return "—"
    return price(Decimal(value).quantize(Decimal("0.0001"), ROUND_HALF_EVEN))


@register.filter
def approx_money(value, currency: str) -> str:
    """A converted amount for display: half-even to cents ("0.72 CNY"); below 0.10 to 4 places
    (a passive's 0.0230 CNY must not read 0.02 or 0.00). The sort used the unrounded value."""
    from decimal import ROUND_HALF_EVEN, Decimal

    if value is None or value == "":
        return "—"
    value = Decimal(value)
    step = Decimal("0.01") if abs(value) >= Decimal("0.1") else Decimal("0.0001")
    return f"{value.quantize(step, ROUND_HALF_EVEN)} {currency}"
