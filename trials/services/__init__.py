"""Every write of the trials app. Import from here: `from trials.services import trial_start`."""

from trials.services.lifecycle import (  # noqa: F401
    plan_forecast_record,
    trial_close,
    trial_create,
    trial_fail,
    trial_forecast_record,
    trial_procure,
    trial_refresh,
    trial_refresh_open,
    trial_restock_split,
    trial_reorder_quote,
    trial_run,
    trial_simulate_days,
    trial_start,
    trial_update,
)
from trials.services.sales import trial_sales_record  # noqa: F401
from trials.services.webhooks import (  # noqa: F401
    webhook_backoff_seconds,
    webhook_deliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_give_up,
    webhook_sign,
    webhooks_enqueue_verdict,
)
