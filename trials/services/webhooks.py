"""Webhooks: on a verdict, POST a signed event to every active endpoint of the organisation.

Signing and the POST itself are shared with the marketplace's RFQ webhooks (config/webhooks.py).
"""

from __future__ import annotations



from config.webhooks import webhook_attempt, webhook_backoff_seconds, webhook_post, webhook_sign, webhook_url_problem  # noqa: F401
from config.outbox.services import outbox_enqueue
from config.webhooks import webhook_endpoint_register, webhook_endpoint_retire
from config.webhooks import webhook_give_up as give_up
from trials.models import Trial, WebhookDelivery, WebhookEndpoint

WEBHOOK_DELIVER_TASK = "trials.tasks.webhook_deliver_task"  # enqueued by name: trials.tasks calls these services
MAX_ATTEMPTS = 7  # the first try and six retries: about 10 minutes in all


def webhook_endpoint_create(*, organization, url: str) -> WebhookEndpoint:
    return webhook_endpoint_register(WebhookEndpoint, organization=organization, url=url)


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    webhook_endpoint_retire(endpoint)


def verdict_payload(trial: Trial) -> dict:
    return {
        "event": "trial.verdict",
        "trial": {
            "id": trial.pk, "name": trial.name, "simulated": trial.simulated, "mode": trial.mode,
            "verdict": trial.verdict, "reason": trial.verdict_reason, "best_arm": trial.best_arm,
            "closed_at": trial.closed_at.isoformat() if trial.closed_at else None,
            "cash": {"deployed": str(trial.cash_deployed), "recovered": str(trial.cash_recovered),
                     "currency": trial.currency},
        },
    }


def webhooks_enqueue_verdict(*, trial: Trial) -> list[WebhookDelivery]:
    """Inside trial_close's transaction: one delivery per endpoint, sent after commit."""
    deliveries = []
    for endpoint in WebhookEndpoint.objects.filter(organization_id=trial.organization_id, is_active=True).order_by("pk"):
        delivery, created = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint, trial=trial, event="trial.verdict", defaults={"payload": verdict_payload(trial)},
        )
        if created:
            outbox_enqueue(WEBHOOK_DELIVER_TASK, args=[delivery.pk])
        deliveries.append(delivery)
    return deliveries


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery:
    """One attempt (config.webhooks.webhook_attempt); WebhookDeliveryFailed unless 2xx."""
    return webhook_attempt(WebhookDelivery, delivery_id=delivery_id)


def webhook_give_up(*, delivery_id: int) -> WebhookDelivery:
    return give_up(WebhookDelivery, delivery_id=delivery_id)
