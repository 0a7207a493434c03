"""Webhooks: on a verdict, POST a signed event to every active endpoint of the organisation.

Signature: header `X-Kitstreet-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
Receivers recompute it over the raw body, compare in constant time and reject old timestamps
(replays). `X-Kitstreet-Event-Id` is stable across retries so a receiver can de-duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from trials.exceptions import WebhookDeliveryFailed, WebhookInvalid
from trials.models import Trial, WebhookDelivery, WebhookEndpoint

TIMEOUT_SECONDS = 5
BACKOFF_BASE_SECONDS = 10
MAX_ATTEMPTS = 7  # the first try and six retries: about 10 minutes in all


def webhook_backoff_seconds(retries: int) -> int:
    """10 s, 20 s, 40 s, ... doubling per retry."""
    return BACKOFF_BASE_SECONDS * 2**retries


def webhook_sign(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- Where a webhook may go (SSRF) -----------------------------------------------------------
# A receiver must be a public address: otherwise any organisation could make our worker POST to
# 127.0.0.1, the cloud metadata service (169.254.169.254) or the private network. The check runs
# at registration and again at delivery, on the addresses DNS gives at that moment, and the
# request is then sent to the address that was checked (no second lookup an attacker's DNS could
# answer differently). Redirects are not followed.


class WebhookAddressRefused(Exception):
    pass


def _resolve(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    # WEBHOOK_ALLOWED_NETWORKS: private networks an operator explicitly trusts (tests, on-premise).
    if any(ip in ipaddress.ip_network(net) for net in getattr(settings, "WEBHOOK_ALLOWED_NETWORKS", [])):
        return True
    return ip.is_global and not ip.is_multicast


def webhook_allowed_schemes() -> list[str]:
    return ["http", "https"] if settings.WEBHOOK_ALLOW_HTTP else ["https"]


def webhook_target_addresses(url: str) -> list[str]:
    """The URL's host resolved now; every address must be public. Raises WebhookAddressRefused."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = _resolve(host)
        except (socket.gaierror, UnicodeError) as exc:
            raise WebhookAddressRefused(f"{host} does not resolve ({exc}).") from None
    refused = [a for a in addresses if not _address_allowed(a)]
    if not addresses or refused:
        raise WebhookAddressRefused(f"{host} resolves to a non-public address ({', '.join(refused) or 'none'}).")
    return addresses


@transaction.atomic
def webhook_endpoint_create(*, organization, url: str) -> WebhookEndpoint:
    schemes = webhook_allowed_schemes()
    try:
        URLValidator(schemes=schemes)(url)
    except ValidationError:
        raise WebhookInvalid({"url": [f"Enter an {' or '.join(schemes)} URL."]}) from None
    try:
        webhook_target_addresses(url)
    except WebhookAddressRefused as exc:
        # A name that does not resolve yet is accepted (delivery checks again); a name or address
        # that is known to be private is not.
        if "does not resolve" not in str(exc):
            raise WebhookInvalid({"url": [f"Webhooks go to public addresses only: {exc}"]}) from None
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
    from outbox.services import outbox_enqueue
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
        delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery_id)
        if delivery.status != WebhookDelivery.Status.PENDING:
            return delivery
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    body = json.dumps({"id": f"whd_{delivery.pk}", **delivery.payload}, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Kitstreet-Webhooks/1",
        "X-Kitstreet-Event": delivery.event,
        "X-Kitstreet-Event-Id": f"whd_{delivery.pk}",
        "X-Kitstreet-Signature": webhook_sign(secret=delivery.endpoint.secret, timestamp=int(time.time()), body=body),
    }
    try:
        response = _post_pinned(delivery.endpoint.url, body=body, headers=headers)
        # 2xx only: a redirect is not followed and not a delivery.
        status = response.status_code
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except WebhookAddressRefused as exc:
        status, error = None, f"Refused: {exc}"[:500]
    except requests.RequestException as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"[:500]
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


class _PinnedHostAdapter(requests.adapters.HTTPAdapter):
    """Connects to an address already checked while TLS still verifies the URL's host name."""

    def __init__(self, hostname: str, **kwargs):
        self._hostname = hostname
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = self._hostname
        kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)


def _post_pinned(url: str, *, body: bytes, headers: dict) -> requests.Response:
    parts = urlsplit(url)
    if parts.scheme not in webhook_allowed_schemes():
        raise WebhookAddressRefused(f"{parts.scheme} URLs are not allowed.")
    address = webhook_target_addresses(url)[0]
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: we connect where we checked
        session.mount(f"{parts.scheme}://{netloc}", _PinnedHostAdapter(parts.hostname))
        return session.post(pinned, data=body, timeout=TIMEOUT_SECONDS, allow_redirects=False,
                            headers={**headers, "Host": parts.netloc.rsplit("@", 1)[-1]})


@transaction.atomic
def webhook_give_up(*, delivery_id: int) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.PENDING:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.save(update_fields=["status"])
    return delivery
