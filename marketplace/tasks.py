"""Celery finds an app's tasks in `<app>.tasks`; each room keeps its own."""

from marketplace.notifications.tasks import market_webhook_deliver_task  # noqa: F401
from marketplace.rfqs.tasks import rfq_close_due_task  # noqa: F401
