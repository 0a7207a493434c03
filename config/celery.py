import logging
import os
import time

from celery import Celery, states
from celery.backends.redis import RedisBackend

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

logger = logging.getLogger(__name__)

# A final result waits up to ~5 minutes for Redis (2, 4, 8, then every 15 s), holding one pool process.
RESULT_STORE_ATTEMPTS = 22
RESULT_STORE_MAX_WAIT = 15

app = Celery("kitstreet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])  # config/tasks.py: platform tasks (worker ping)


class KitstreetRedisBackend(RedisBackend):
    """The Redis result backend without the subscription Celery makes on every send.

    Celery's Redis backend subscribes to each sent task's result channel, for a later `.get()`.
    We never block on results in a web request (status is polled with `GET /api/v1/tasks/{id}/`),
    and when Redis goes away that subscription's reconnect gives up for good ("the Celery
    application must be restarted"): every later send of that process fails, the outbox relay's
    included. Without it, sends recover as soon as Redis is back; `.get()` still works (it
    subscribes when it waits). Selected in settings: `config.celery:KitstreetRedisBackend+redis://`."""

    def on_task_call(self, producer, task_id):
        pass

    def store_result(self, task_id, result, state, traceback=None, request=None, **kwargs):
        """Only the worker stores results, so an outage here must not cost a task its run.

        STARTED (task_track_started) is stored before the task's body: had it raised, Celery would
        skip the body ("Exception raised outside body") and the message would wait in Redis' unacked
        set for the visibility timeout, a trial stuck "procuring" meanwhile. It is only a progress
        marker, so its loss is logged and the task runs. A final state is what a client polls
        `GET /api/v1/tasks/{id}/` for: it is retried with backoff while Redis comes back. Reads (the
        web's status polls) keep failing fast, as settings ask."""
        attempt = 0
        while True:
            try:
                return super().store_result(task_id, result, state, traceback, request, **kwargs)
            except self.connection_errors as exc:
                if state == states.STARTED:
                    logger.warning("result backend unavailable, task %s runs without its STARTED mark: %s",
                                   task_id, exc)
                    return result
                attempt += 1
                if attempt > RESULT_STORE_ATTEMPTS:
                    raise
                wait = min(2 ** attempt, RESULT_STORE_MAX_WAIT)
                logger.warning("result backend unavailable, storing %s of task %s again in %s s: %s",
                               state, task_id, wait, exc)
                time.sleep(wait)


def _lost_connection_is_a_connection_error() -> None:
    """kombu 5.x: when the Redis connection drops while a worker holds unacked messages (acks_late),
    closing the channel tries to put them back through a connection object that is already gone, and
    kombu's `_connparams` raises AttributeError ("'NoneType' object has no attribute 'hostname'" or
    "... 'client'"). Celery only tolerates connection errors there, so the worker died ("Unrecoverable
    error") instead of reconnecting. Raised as the connection error it is, Celery ignores it, the
    worker reconnects, and the messages stay in Redis' unacked set to be redelivered after the
    visibility timeout. (tests/test_serve.py stops Redis mid-run.)"""
    from kombu.transport import redis as kombu_redis

    original = kombu_redis.Channel._connparams
    if getattr(original, "_kitstreet_patched", False):
        return

    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise kombu_redis.redis.exceptions.ConnectionError("the broker connection is closed")
        return original(self, asynchronous)

    _connparams._kitstreet_patched = True
    kombu_redis.Channel._connparams = _connparams


_lost_connection_is_a_connection_error()
