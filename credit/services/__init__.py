"""Every write of the credit app. Other apps import from here (or from credit.payments)."""

from credit.services.credit_lines import (  # noqa: F401
    credit_draw,
    credit_line_grant,
    credit_line_update,
    credit_repay,
    credit_reserve,
    invoice_mark_overdue,
    line_accounts,
)
from credit.services.idempotency import idempotency_run, request_fingerprint  # noqa: F401
from credit.services.ledger import (  # noqa: F401
    Transfer,
    account_for,
    entry_reverse,
    hold_expire_due,
    hold_place,
    hold_post,
    hold_void,
    ledger_post,
    ledger_post_batch,
    ledger_transfer,
    money,
    platform_account,
    wallet_topup,
)
from credit.services.payments import (  # noqa: F401
    purchase_order_payment_cancel,
    purchase_order_payment_confirm,
    purchase_order_payment_deliver,
    purchase_order_payment_open,
    supplier_terms,
    supplier_terms_set,
)
