"""Celery entry point: deliver one market webhook (signed, retried, given up as config.webhooks says)."""

from celery import shared_task

from config.webhooks import webhook_deliver_or_retry
from marketplace.notifications.models import MarketWebhookDelivery
from marketplace.notifications.services import MARKET_WEBHOOK_DELIVER_TASK


@shared_task(bind=True, name=MARKET_WEBHOOK_DELIVER_TASK, max_retries=6)
def market_webhook_deliver_task(self, delivery_id: int) -> None:
    webhook_deliver_or_retry(self, MarketWebhookDelivery, delivery_id=delivery_id)
