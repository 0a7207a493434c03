"""How marketplace orders pay: the seam between the marketplace and credit apps.

The marketplace calls these inside its own order transactions (so a refused payment rolls the
order back); they delegate to credit.services.payments. Errors are DomainValidationError
subclasses (400) under the `payment` field: InsufficientFunds, CreditLimitExceeded, NoCreditLine,
CreditLineFrozen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

if TYPE_CHECKING:
    from marketplace.models import Order, PurchaseOrder


@transaction.atomic
def order_payment_open(*, order: Order) -> None:
    """Called once the order and its purchase orders exist. Deposit: move the vendor's deposit
    share of each purchase order from the buyer's wallet into escrow. Credit: reserve each purchase
    order on the buyer's credit line with that vendor (an invoice is issued on delivery)."""
    from credit.services.payments import purchase_order_payment_open

    for purchase_order in order.purchase_orders.select_related("vendor").order_by("pk"):
        purchase_order_payment_open(purchase_order=purchase_order, buyer=order.buyer, method=order.payment)


def purchase_order_payment_confirmed(*, purchase_order: PurchaseOrder) -> None:
    """The supplier confirmed: release the deposit to the supplier if its terms say so."""
    from credit.services.payments import purchase_order_payment_confirm

    purchase_order_payment_confirm(purchase_order=purchase_order)


def purchase_order_payment_delivered(*, purchase_order: PurchaseOrder) -> None:
    """Delivered: release what is still held and pay the balance (deposit orders); turn the
    credit reservation into an invoice due on the line's terms (credit orders)."""
    from credit.services.payments import purchase_order_payment_deliver

    purchase_order_payment_deliver(purchase_order=purchase_order)


def purchase_order_payment_cancelled(*, purchase_order: PurchaseOrder, by_supplier: bool) -> None:
    """Cancelled: refund the deposit if the supplier cancelled; forfeit per terms if the buyer
    cancelled after confirmation; void any credit reservation."""
    from credit.services.payments import purchase_order_payment_cancel

    purchase_order_payment_cancel(purchase_order=purchase_order, by_supplier=by_supplier)
