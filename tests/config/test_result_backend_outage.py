"""The worker's result backend while Redis is down (config/celery.py): a task taken from the queue
just before the outage still runs its body, and its final state is stored once Redis is back.

Before, the STARTED mark (stored before the body) raised, Celery skipped the body, and a trial sat
"procuring" until the broker's visibility timeout (tests/test_serve.py caught it under load)."""

import logging
import shutil
import threading
import uuid

import pytest
from celery import Celery, states
from celery.app.trace import build_tracer

import config.celery
from config.celery import KitstreetRedisBackend
from tests.serving import Redis

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server (CI installs it)")


@pytest.fixture
def redis_down(tmp_path):
    """A redis-server of this test's own, not started yet: its port refuses connections."""
    redis = Redis(tmp_path)
    yield redis
    redis.stop()


def _app(redis: Redis) -> Celery:
    app = Celery("outage-test", set_as_current=False)
    app.conf.update(result_backend=f"config.celery:KitstreetRedisBackend+redis://127.0.0.1:{redis.port}/1",
                    task_track_started=True, redis_socket_connect_timeout=1, redis_socket_timeout=1,
                    result_backend_transport_options={"retry_policy": {"max_retries": 0}})
    return app


def test_a_task_runs_its_body_when_its_started_mark_cannot_be_stored(redis_down, caplog):
    app = _app(redis_down)
    ran = []

    @app.task(name="outage.work")
    def work(n):
        ran.append(n)
        return n * 2

    assert isinstance(app.backend, KitstreetRedisBackend)
    task_id = str(uuid.uuid4())
    threading.Timer(0.5, redis_down.start).start()  # back before the final state's first retry (2 s)
    with caplog.at_level(logging.WARNING, logger="config.celery"):
        trace = build_tracer("outage.work", work, app=app, eager=False, propagate=False)(
            task_id, (21,), {}, {"id": task_id, "delivery_info": {}})
    assert ran == [21]  # the body ran although STARTED could not be stored
    assert trace.retval == 42
    assert "runs without its STARTED mark" in caplog.text
    assert "storing SUCCESS" in caplog.text
    assert app.AsyncResult(task_id).state == states.SUCCESS and app.AsyncResult(task_id).result == 42


def test_a_final_state_gives_up_after_its_attempts(redis_down, monkeypatch):
    app = _app(redis_down)
    monkeypatch.setattr(config.celery, "RESULT_STORE_ATTEMPTS", 1)
    with pytest.raises(app.backend.connection_errors):
        app.backend.store_result(str(uuid.uuid4()), 1, states.SUCCESS)
