"""How orders pay: the small interface the marketplace calls, in plain values.

It knows nothing of marketplace models: a purchase order is its id, its order's id, its buyer and
vendor organisations, its currency and total. The marketplace calls these inside its own order
transactions (so a refused payment rolls the order back). Errors are DomainValidationError
subclasses (400) under the `payment` field: InsufficientFunds, CreditLimitExceeded, NoCreditLine,
CreditLineFrozen.
"""

from credit.services.payments import (  # noqa: F401
    dispute_open,
    purchase_order_buyer_may_cancel,
    purchase_order_payment_cancel,
    purchase_order_payment_default,
    purchase_order_payment_confirm,
    purchase_order_payment_deliver,
    purchase_order_payment_late,
    purchase_order_payment_open,
)
