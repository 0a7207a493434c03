"""Idempotent money-moving requests: `Idempotency-Key` scoped to the acting organisation.

The key row is inserted *first*, in the request's own transaction, with `ON CONFLICT DO NOTHING`:
a concurrent request with the same key blocks on the unique index until the first commits, then
finds the stored response and replays it — the work runs once. If the first request fails, its
transaction (key row included) rolls back and a retry runs afresh.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from credit.exceptions import IdempotencyConflict
from credit.models import IdempotencyKey
from credit.services.ledger import fast_cursor, whole_transaction


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def _claim(*, scope: str, key: str, fingerprint: str) -> int | None:
    table = IdempotencyKey._meta.db_table
    with fast_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, key, request_hash, created_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (scope, key) DO NOTHING RETURNING id",
            [scope, key, fingerprint, timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


@transaction.atomic
def idempotency_run(
    *, scope: str, key: str | None, fingerprint: str, execute: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Run `execute` (returning `(status, body)`) once per (scope, key). Returns
    `(status, body, replayed)`. Same key, other fingerprint -> IdempotencyConflict (422)."""
    if not key:
        status, body = execute()
        return status, body, False
    claimed = _claim(scope=scope, key=key, fingerprint=fingerprint)
    if claimed is None:
        stored = IdempotencyKey.objects.get(scope=scope, key=key)
        if stored.request_hash != fingerprint:
            raise IdempotencyConflict()
        return stored.response_status, stored.response_body, True
    with whole_transaction():  # an error here rolls back everything, key row included
        status, body = execute()
    body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))  # store exactly what is replayed
    with fast_cursor() as cursor:  # plain SQL: this runs on every keyed request (hot path)
        cursor.execute(f"UPDATE {IdempotencyKey._meta.db_table} SET response_status = %s, response_body = %s WHERE id = %s",
                       [status, json.dumps(body), claimed])
    return status, body, False
