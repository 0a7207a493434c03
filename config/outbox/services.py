"""The transactional outbox: `outbox_enqueue` instead of `task.delay_on_commit`.

Why: `delay_on_commit` publishes after commit with nothing kept. With Redis down the publish
fails (or hangs) after the work was already committed, the API answered a 500 and the work only
ran when a beat noticed it much later. Here the message is a row written in the caller's
transaction: after commit we try to publish it at once; if the broker is down the row stays and
the relay (`manage.py outbox_relay`, one per deployment or more) publishes it when the broker is
back. The API can therefore answer 202 honestly: the work is committed and will run.

Delivery is at least once (a relay killed between publish and marking the row sent publishes it
again, under the same task id); every task is idempotent (it re-checks its row's state under a
lock), so that is harmless. Two relays never publish the same row concurrently: each holds the
row lock (`SKIP LOCKED`) while publishing.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from config.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

# What a publish raises when the broker is unreachable (kombu wraps most, not all, of them).
BROKER_ERRORS = (KombuOperationalError, ConnectionError, OSError, TimeoutError)

# After a failed publish this process stops trying in the request path for a while: requests stay
# fast during an outage and the relay catches up.
BREAKER_SECONDS = 5.0
_broker_down_until = 0.0


def outbox_enqueue(task, *, args: Sequence = (), kwargs: dict | None = None, task_id: str | None = None) -> OutboxMessage:
    """Record `task(*args, **kwargs)` in the current transaction; publish it after commit.
    Call inside the `transaction.atomic()` of the change the task acts on. `task` is a task or its
    registered name: services enqueue by name, so they never import the tasks that call them."""
    message = OutboxMessage.objects.create(
        task_name=task if isinstance(task, str) else task.name, args=list(args), kwargs=kwargs or {}, task_id=task_id or str(uuid.uuid4()),
    )
    # robust: a failure after commit is the relay's to retry, never the caller's error (except in
    # eager test runs, where a task's error should surface as it would without the outbox).
    transaction.on_commit(lambda: outbox_relay_one(message_id=message.pk), robust=not _eager())
    return message


def _app():
    from config.celery import app

    return app


def _publish(message: OutboxMessage) -> None:
    _app().send_task(message.task_name, args=message.args, kwargs=message.kwargs, task_id=message.task_id,
                     retry=False)


def _eager() -> bool:
    return bool(_app().conf.task_always_eager)


def outbox_relay_one(*, message_id: int) -> bool:
    """Publish one message now if the broker takes it. True when it was sent by this call."""
    if _eager():
        # Tests: the task runs in-process. Mark it sent first, then run it outside any lock, so
        # the task's own transactions and errors behave as they would in a worker.
        if not OutboxMessage.objects.filter(pk=message_id, sent_at=None).update(sent_at=timezone.now()):
            return False
        message = OutboxMessage.objects.get(pk=message_id)
        _app().tasks[message.task_name].apply_async(args=message.args, kwargs=message.kwargs, task_id=message.task_id)
        return True
    if time.monotonic() < _broker_down_until:
        return False
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id, sent_at=None).first()
        if message is None:  # sent already, or a relay holds it right now
            return False
        return _send_locked(message)


def _send_locked(message: OutboxMessage) -> bool:
    global _broker_down_until
    message.attempts += 1
    try:
        _publish(message)
    except BROKER_ERRORS as exc:
        _broker_down_until = time.monotonic() + BREAKER_SECONDS
        message.last_error = f"{type(exc).__name__}: {exc}"[:500]
        message.save(update_fields=["attempts", "last_error"])
        logger.warning("outbox: broker unavailable, message %s kept for the relay: %s", message.pk, exc)
        return False
    message.sent_at = timezone.now()
    message.last_error = ""
    message.save(update_fields=["attempts", "sent_at", "last_error"])
    return True


def outbox_relay_pending(*, batch: int = 100) -> tuple[int, int]:
    """Publish pending messages, oldest first, until the broker refuses one or none are left.
    Returns (sent, still pending)."""
    sent = 0
    while True:
        with transaction.atomic():
            messages = list(OutboxMessage.objects.select_for_update(skip_locked=True)
                            .filter(sent_at=None).order_by("id")[:batch])
            if not messages:
                break
            for message in messages:
                if not _send_locked(message):
                    return sent, OutboxMessage.objects.filter(sent_at=None).count()
                sent += 1
    return sent, OutboxMessage.objects.filter(sent_at=None).count()


def outbox_purge_sent(*, older_than_days: int = 7) -> int:
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
    return deleted
