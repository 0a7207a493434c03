"""Celery entry points of the marketplace: load by id (or find what is due), call a service.
The services guard on status under a row lock, so a redelivered or doubled task is harmless."""

from celery import shared_task


@shared_task(name="marketplace.tasks.rfq_close_due_task")
def rfq_close_due_task() -> int:
    """Beat: close every open RFQ whose closing time has passed, and remind suppliers of those
    closing within a day."""
    from marketplace.services.rfqs import rfq_close_due, rfq_remind_closing

    rfq_remind_closing()
    return rfq_close_due()


@shared_task(bind=True, name="marketplace.tasks.market_webhook_deliver_task", max_retries=6)
def market_webhook_deliver_task(self, delivery_id: int) -> None:
    from config.webhooks import webhook_deliver_or_retry
    from marketplace.models import MarketWebhookDelivery

    webhook_deliver_or_retry(self, MarketWebhookDelivery, delivery_id=delivery_id)
