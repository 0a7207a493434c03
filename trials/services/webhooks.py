"""Webhooks: on a verdict, POST a signed event to every active endpoint of the organisation.

Signing and the POST itself are shared with the marketplace's RFQ webhooks (config/webhooks.py).
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from config.webhooks import webhook_backoff_seconds, webhook_post, webhook_sign, webhook_url_problem  # noqa: F401
from trials.exceptions import WebhookDeliveryFailed, WebhookInvalid
from trials.models import Trial, WebhookDelivery, WebhookEndpoint

MAX_ATTEMPTS = 7  # the first try and six retries: about 10 minutes in all


@transaction.atomic
def webhook_endpoint_create(*, organization, url: str) -> WebhookEndpoint:
    problem = webhook_url_problem(url)  # https, public addresses only (config/webhooks.py)
    if problem:
        raise WebhookInvalid({"url": [problem]})
    return WebhookEndpoint.objects.create(organization=organization, url=url, secret=secrets.token_hex(32))


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.is_active = False  # kept, so past deliveries still say where they went
    endpoint.save(update_fields=["is_active"])


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
    from config.outbox.services import outbox_enqueue
    from trials.tasks import webhook_deliver_task

    deliveries = []
    for endpoint in WebhookEndpoint.objects.filter(organization_id=trial.organization_id, is_active=True).order_by("pk"):
        delivery, created = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint, trial=trial, event="trial.verdict", defaults={"payload": verdict_payload(trial)},
        )
        if created:
            outbox_enqueue(webhook_deliver_task, args=[delivery.pk])
        deliveries.append(delivery)
    return deliveries


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery:
    """One attempt. The attempt is counted in its own short transaction; the HTTP call runs with no
    lock held. Raises WebhookDeliveryFailed (the task retries) unless the receiver says 2xx."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint").get(pk=delivery_id)
        if delivery.status != WebhookDelivery.Status.PENDING:
            return delivery
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    status, error = webhook_post(url=delivery.endpoint.url, secret=delivery.endpoint.secret, event=delivery.event,
                                 event_id=f"whd_{delivery.pk}", payload=delivery.payload)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.response_status = status
        delivery.last_error = error
        if not error:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
        delivery.save(update_fields=["response_status", "last_error", "status", "delivered_at"])
    if error:
        raise WebhookDeliveryFailed(error)
    return delivery


@transaction.atomic
def webhook_give_up(*, delivery_id: int) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.PENDING:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.save(update_fields=["status"])
    return delivery
