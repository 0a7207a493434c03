import logging
import os

from celery import Celery
from celery.backends.redis import RedisBackend

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

logger = logging.getLogger(__name__)

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


def _tolerate_lost_connection_on_restore() -> None:
    """kombu 5.x: when the broker connection drops while a worker holds unacked messages (acks_late),
    closing the channel tries to put them back on a connection that is already gone and raises
    AttributeError ('NoneType' object has no attribute 'hostname'), which kills the worker instead
    of letting it reconnect. The messages stay in Redis' unacked set either way and are redelivered
    after the visibility timeout; so log and carry on reconnecting."""
    from kombu.transport import redis as kombu_redis

    original = kombu_redis.QoS.restore_unacked
    if getattr(original, "_kitstreet_patched", False):
        return

    def restore_unacked(self, client=None):
        try:
            return original(self, client)
        except (AttributeError, OSError, kombu_redis.redis.exceptions.ConnectionError) as exc:
            logger.warning("broker connection lost; unacked messages stay for redelivery (%r)", exc)
            self._delivered.clear()

    restore_unacked._kitstreet_patched = True
    kombu_redis.QoS.restore_unacked = restore_unacked


_tolerate_lost_connection_on_restore()
