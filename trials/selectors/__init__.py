"""Every read of the trials app. Import from here: `from trials.selectors import trial_list`."""

from trials.selectors.reports import (  # noqa: F401
    trial_forecast,
    trial_funnel,
    trial_report,
    trial_report_build,
    trial_report_csv_rows,
)
from trials.selectors.trials import (  # noqa: F401
    trial_arm_list,
    trial_get,
    trial_kit_get,
    trial_list,
    trial_sales_list,
    trial_visible_kit_list,
    webhook_delivery_list,
    webhook_endpoint_list,
)
