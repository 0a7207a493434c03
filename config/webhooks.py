"""Signed webhook POSTs, shared by every app that sends webhooks (trials' verdicts, the
marketplace's RFQ events), so receivers verify one scheme.

Signature: header `X-Kitstreet-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
Receivers recompute it over the raw body, compare in constant time and reject old timestamps
(replays). `X-Kitstreet-Event-Id` is stable across retries so a receiver can de-duplicate.
"""

import hashlib
import hmac
import json
import time

import requests

TIMEOUT_SECONDS = 5
BACKOFF_BASE_SECONDS = 10


def webhook_sign(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_backoff_seconds(retries: int) -> int:
    """10 s, 20 s, 40 s, ... doubling per retry."""
    return BACKOFF_BASE_SECONDS * 2**retries


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
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
        return response.status_code, "" if response.ok else f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
