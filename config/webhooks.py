"""Signed webhook POSTs, shared by every app that sends webhooks (trials' verdicts, the
marketplace's RFQ events), so receivers verify one scheme.

Signature: header `X-Kitstreet-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
Receivers recompute it over the raw body, compare in constant time and reject old timestamps
(replays). `X-Kitstreet-Event-Id` is stable across retries so a receiver can de-duplicate.
"""

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

from config.errors import DomainValidationError

TIMEOUT_SECONDS = 5
BACKOFF_BASE_SECONDS = 10


def webhook_sign(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_backoff_seconds(retries: int) -> int:
    """10 s, 20 s, 40 s, ... doubling per retry."""
    return BACKOFF_BASE_SECONDS * 2**retries


# --- Where a webhook may go (SSRF) -----------------------------------------------------------
# A receiver must be a public https address (http only in local settings): otherwise any
# organisation could make our worker POST to 127.0.0.1, the cloud metadata service
# (169.254.169.254) or the private network. Checked at registration (`webhook_url_problem`) and
# again at delivery, on the addresses DNS gives at that moment; the request then goes to the
# address that was checked (no second lookup an attacker's DNS could answer differently), and
# redirects are not followed.


class WebhookAddressRefused(Exception):
    pass


def _resolve(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


# IPv6 spellings of an IPv4 address. A check on the IPv6 address alone is fooled by them: Python
# (and the IANA registry) call 64:ff9b::7f00:1 "global", yet a NAT64 gateway turns it into
# 127.0.0.1; 2002:7f00:1:: (6to4) and ::127.0.0.1 (IPv4-compatible) likewise. We unwrap the IPv4
# address and judge that (mapped, NAT64, 6to4), or refuse the form outright (IPv4-compatible,
# local-use NAT64, Teredo).
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")           # deprecated (RFC 4291); :: and ::1 included
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")   # RFC 6052: the IPv4 address in the last 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")      # RFC 8215: local-use translation, never public
_TEREDO = ipaddress.ip_network("2001::/32")                # RFC 4380: tunnels to an IPv4 server and client
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")           # RFC 3056: the IPv4 address in bits 16-48


def _ipv4_behind(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4), or None when
    it embeds none. Raises WebhookAddressRefused for forms that are refused whatever they embed."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in _NAT64_LOCAL:
        raise WebhookAddressRefused(f"{ip} is a local-use NAT64 address.")
    if ip in _TEREDO:
        raise WebhookAddressRefused(f"{ip} is a Teredo tunnel address.")
    if ip in _IPV4_COMPATIBLE:
        raise WebhookAddressRefused(f"{ip} is an IPv4-compatible IPv6 address (deprecated).")
    if ip in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    return None


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        try:
            ipv4 = _ipv4_behind(ip)
        except WebhookAddressRefused:
            return False
        if ipv4 is not None:
            ip = ipv4
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


def webhook_url_problem(url: str) -> str | None:
    """Why `url` cannot be registered, or None. A name that does not resolve yet is accepted
    (delivery checks again); one known to point at a private address is not."""
    schemes = webhook_allowed_schemes()
    try:
        URLValidator(schemes=schemes)(url)
    except ValidationError:
        return f"Enter an {' or '.join(schemes)} URL."
    try:
        webhook_target_addresses(url)
    except WebhookAddressRefused as exc:
        if "does not resolve" not in str(exc):
            return f"Webhooks go to public addresses only: {exc}"
    return None


class _PinnedHostAdapter(requests.adapters.HTTPAdapter):
    """Connects to an address already checked while TLS still verifies the URL's host name."""

    def __init__(self, hostname: str, **kwargs):
        self._hostname = hostname
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = self._hostname
        kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)


def _post_pinned(url: str, *, data: bytes, headers: dict, timeout: float) -> requests.Response:
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
        return session.post(pinned, data=data, timeout=timeout, allow_redirects=False,
                            headers={**headers, "Host": parts.netloc.rsplit("@", 1)[-1]})


def webhook_post(*, url: str, secret: str, event: str, event_id: str, payload: dict) -> tuple[int | None, str]:
    """One signed POST. Returns (HTTP status or None, error text; empty when the receiver said 2xx).
    Call it with no database lock held: the receiver may be slow."""
    body = json.dumps({"id": event_id, **payload}, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Kitstreet-Webhooks/1",
        "X-Kitstreet-Event": event,
        "X-Kitstreet-Event-Id": event_id,
        "X-Kitstreet-Signature": webhook_sign(secret=secret, timestamp=int(time.time()), body=body),
    }
    try:
        response = _post_pinned(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
        # 2xx only: a redirect is not followed and not a delivery.
        return response.status_code, "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    except WebhookAddressRefused as exc:
        return None, f"Refused: {exc}"[:500]
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


# --- Endpoints (every app's: config.webhook_models) -----------------------------------------


class WebhookEndpointInvalid(DomainValidationError):
    pass


@transaction.atomic
def webhook_endpoint_register(endpoint_model, *, organization, url: str):
    """A new endpoint with its own signing secret; https and public addresses only."""
    problem = webhook_url_problem(url)
    if problem:
        raise WebhookEndpointInvalid({"url": [problem]})
    return endpoint_model.objects.create(organization=organization, url=url, secret=secrets.token_hex(32))


@transaction.atomic
def webhook_endpoint_retire(endpoint) -> None:
    endpoint.is_active = False  # kept, so past deliveries still say where they went
    endpoint.save(update_fields=["is_active"])


# --- One attempt, and giving up (every app's deliveries: config.webhook_models) ---------------


class WebhookDeliveryFailed(Exception):
    """The receiver did not answer 2xx; the task retries with backoff."""


def webhook_attempt(delivery_model, *, delivery_id: int):
    """One attempt at a pending delivery. The attempt is counted in its own short transaction and
    the HTTP call runs with no lock held. Raises WebhookDeliveryFailed (the task retries) unless
    the receiver says 2xx; a delivery already delivered or given up is left alone."""
    pending = delivery_model.Status.PENDING
    with transaction.atomic():
        delivery = delivery_model.objects.select_for_update(of=("self",)).select_related("endpoint").get(pk=delivery_id)
        if delivery.status != pending:
            return delivery
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    status, error = webhook_post(url=delivery.endpoint.url, secret=delivery.endpoint.secret, event=delivery.event,
                                 event_id=delivery.event_id, payload=delivery.payload)
    with transaction.atomic():
        delivery = delivery_model.objects.select_for_update().get(pk=delivery_id)
        delivery.response_status, delivery.last_error = status, error
        if not error:
            delivery.status, delivery.delivered_at = delivery_model.Status.DELIVERED, timezone.now()
        delivery.save(update_fields=["response_status", "last_error", "status", "delivered_at"])
    if error:
        raise WebhookDeliveryFailed(error)
    return delivery


@transaction.atomic
def webhook_give_up(delivery_model, *, delivery_id: int):
    delivery = delivery_model.objects.select_for_update().get(pk=delivery_id)
    if delivery.status == delivery_model.Status.PENDING:
        delivery.status = delivery_model.Status.FAILED
        delivery.save(update_fields=["status"])
    return delivery


def webhook_deliver_or_retry(task, delivery_model, *, delivery_id: int) -> None:
    """The body of a bound Celery delivery task: attempt, retry with backoff, give up after the
    task's `max_retries`."""
    try:
        webhook_attempt(delivery_model, delivery_id=delivery_id)
    except WebhookDeliveryFailed as exc:
        if task.request.retries >= task.max_retries:
            webhook_give_up(delivery_model, delivery_id=delivery_id)
            return
        raise task.retry(exc=exc, countdown=webhook_backoff_seconds(task.request.retries)) from exc
