"""The in-app inbox and the marketplace's webhooks (rfq.created, bid.received, rfq.awarded).

Both are written inside the transaction of the event they report, so an event that rolls back
leaves no message behind; webhook deliveries are sent by a Celery task after commit, signed with
the shared helper in config/webhooks.py (the same scheme as the trial webhooks).
"""


from django.db import transaction
from django.utils import timezone

from config.outbox.services import outbox_enqueue
from config.webhooks import (
    webhook_attempt,
    webhook_endpoint_register,
    webhook_endpoint_retire,
)
from marketplace.notifications.models import (
    MarketWebhookDelivery,
    MarketWebhookEndpoint,
    Notification,
)
from organizations.models import Organization

MARKET_WEBHOOK_DELIVER_TASK = "marketplace.tasks.market_webhook_deliver_task"  # enqueued by name: the task calls this module


def notify(*, organization_ids: list[int], kind: str, text: str, rfq=None) -> list[Notification]:
    ids = sorted(set(organization_ids))
    return Notification.objects.bulk_create(
        [Notification(organization_id=pk, kind=kind, text=text[:300], rfq=rfq) for pk in ids])


@transaction.atomic
def notifications_mark_read(*, organization: Organization, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(organization=organization, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def market_webhook_create(*, organization: Organization, url: str) -> MarketWebhookEndpoint:
    return webhook_endpoint_register(MarketWebhookEndpoint, organization=organization, url=url)


def market_webhook_delete(*, endpoint: MarketWebhookEndpoint) -> None:
    webhook_endpoint_retire(endpoint)


def webhooks_enqueue(*, organization_ids: list[int], event: str, event_key: str, payload: dict) -> list[MarketWebhookDelivery]:
    """One delivery per active endpoint of these organisations, sent after commit; the same
    (endpoint, event_key) is delivered once, so a repeated service call sends nothing twice."""
    deliveries = []
    endpoints = MarketWebhookEndpoint.objects.filter(organization_id__in=set(organization_ids), is_active=True).order_by("pk")
    for endpoint in endpoints:
        delivery, created = MarketWebhookDelivery.objects.get_or_create(
            endpoint=endpoint, event_key=event_key, defaults={"event": event, "payload": {"event": event, **payload}})
        if created:
            outbox_enqueue(MARKET_WEBHOOK_DELIVER_TASK, args=[delivery.pk])
        deliveries.append(delivery)
    return deliveries


def market_webhook_deliver(*, delivery_id: int) -> MarketWebhookDelivery:
    """One attempt (config.webhooks.webhook_attempt); WebhookDeliveryFailed unless 2xx."""
    return webhook_attempt(MarketWebhookDelivery, delivery_id=delivery_id)
