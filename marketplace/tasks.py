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


@shared_task(name="marketplace.tasks.market_deadlines_task")
def market_deadlines_task() -> int:
    """Beat: the market's deadline sweep as of now (`manage.py market_deadlines` runs the same).
    A sweep already run as of a later moment (an operator's --as-of) makes this one wait."""
    from marketplace.exceptions import SweepInThePast
    from marketplace.services.deadlines import market_deadlines_sweep

    try:
        return len(market_deadlines_sweep().expired)
    except SweepInThePast:
        return 0


@shared_task(name="marketplace.tasks.simulated_counterparty_task")
def simulated_counterparty_task() -> dict:
    """Beat: demo stalls nobody logs in to confirm and ship their orders after a realistic delay."""
    from marketplace.services.deadlines import simulated_counterparty_run

    return simulated_counterparty_run()
