"""Demo world, part 3: a few orders paid by deposit, once credit's demo has topped up wallets, so
wallets show money in escrow and released to suppliers."""

from django.db import transaction

from marketplace.catalogue.models import Listing
from marketplace.orders.services import order_place, purchase_order_confirm
from marketplace.sourcing.allocation import order_qty


def seed(ctx) -> None:
    ctx.say(f"  {_deposit_orders(ctx)} deposit orders")


def _deposit_orders(ctx) -> int:
    """A few orders paid by deposit, so wallets show money in escrow and released to suppliers.
    Skipped quietly if the catalogue has nothing suitable."""
    buyer, user = ctx.orgs.get("buyer:lumen"), ctx.users.get("buyer")
    if buyer is None or user is None:
        return 0
    placed = 0
    for vendor_key, confirm in (("trader:huaxin", True), ("trader:saige", False), ("trader:tongtian", True)):
        vendor = ctx.orgs.get(vendor_key)
        listing = (Listing.objects.filter(vendor=vendor, is_active=True, stock__gte=200, currency="CNY")
                   .order_by("pk").first()) if vendor else None
        if listing is None:
            continue
        try:
            with transaction.atomic():
                qty = order_qty(max(listing.moq, 100), listing.moq, listing.multiple)
                order = order_place(buyer=buyer, placed_by=user, payment="deposit", lines=[(listing, qty)])
                if confirm:
                    purchase_order_confirm(purchase_order=order.purchase_orders.get(), actor=vendor)
            placed += 1
        except Exception as exc:  # demo data must never stop the seed; say why and go on
            ctx.say(f"  (skipped a demo deposit order: {exc})")
    return placed
