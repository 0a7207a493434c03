"""Celery finds an app's tasks in `<app>.tasks`; each room keeps its own."""

from marketplace.notifications.tasks import market_webhook_deliver_task  # noqa: F401
from marketplace.orders.tasks import market_deadlines_task, simulated_counterparty_task  # noqa: F401
from marketplace.rfqs.tasks import rfq_close_due_task  # noqa: F401
from marketplace.catalogue.tasks import stock_list_import_task  # noqa: F401,E402
from marketplace.boms.tasks import bom_parts_changed_task  # noqa: F401
