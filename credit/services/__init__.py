"""Every write of the credit app. Other apps import from here (or from credit.payments)."""

from credit.services.credit_lines import (  # noqa: F401
    credit_draw,
    credit_line_grant,
    credit_line_update,
    credit_repay,
    credit_reserve,
    credit_write_off,
    lender_cash,
    invoice_mark_overdue,
    line_accounts,
)
from credit.services.demand import (  # noqa: F401
    Appetite,
    Sweep,
    demand_appetite,
    demand_appetite_set,
    demand_appetites,
    demand_line_figures,
    demand_line_for_order,
    demand_line_for_trial,
    demand_line_open,
    demand_line_stall,
    demand_sweep,
    sweep_share,
)
from credit.services.idempotency import idempotency_run, request_fingerprint  # noqa: F401
from credit.services.ledger import (  # noqa: F401
    Transfer,
    account_for,
    bank_reference_taken,
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
from credit.services.fx import fx_rate_set, wallet_convert, wallet_convert_to  # noqa: F401
from credit.services.platform import (  # noqa: F401
    fee_schedule_current,
    fee_schedule_set,
    platform_fee_for,
    reserve_release_due,
    reserve_set,
    reserve_tranche_release,
)
from credit.services.reconciliation import statement_import, statement_line_resolve  # noqa: F401
from credit.services.payouts import payout_reject, payout_request, payout_settle  # noqa: F401
from credit.services.payments import (  # noqa: F401
    credit_line_for,
    dispute_open,
    dispute_resolve,
    purchase_order_buyer_may_cancel,
    purchase_order_payment_default,
    purchase_order_payment_cancel,
    purchase_order_payment_confirm,
    purchase_order_payment_deliver,
    purchase_order_payment_late,
    purchase_order_payment_open,
    supplier_terms,
    supplier_terms_set,
)
