"""How marketplace orders pay: the seam between the marketplace and credit apps.

The marketplace calls these inside its own order transactions (so a refused payment rolls the
order back); the credit app implements them with its ledger services. Until the credit issue
lands they only accept the chosen payment method, as the marketplace issue allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from marketplace.models import Order, PurchaseOrder


def order_payment_open(*, order: Order) -> None:
    """Called once the order and its purchase orders exist. Deposit: hold the deposit of each
    purchase order from the buyer's wallet into escrow. Credit: draw each purchase order on the
    buyer's credit line with that vendor. Raises a DomainValidationError subclass (400) when the
    money is not there."""


def purchase_order_payment_confirmed(*, purchase_order: PurchaseOrder) -> None:
    """The supplier confirmed: release the deposit to the supplier if its terms say so."""


def purchase_order_payment_delivered(*, purchase_order: PurchaseOrder) -> None:
    """Delivered: release what is still held and pay the balance."""


def purchase_order_payment_cancelled(*, purchase_order: PurchaseOrder, by_supplier: bool) -> None:
    """Cancelled: refund the deposit if the supplier cancelled; forfeit per terms if the buyer
    cancelled after confirmation; void any credit draw."""
