"""Production server settings (issue 23): the app is preloaded and warmed in gunicorn's master so a
new worker answers at once; threaded workers with keep-alive longer than the balancer's; Celery
acks late and requeues a task whose worker process died."""

import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]


def _gunicorn(monkeypatch, **env) -> dict:
    for name in ("WEB_CONCURRENCY", "WEB_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "gunicorn.py"))


def test_gunicorn_preloads_and_uses_threaded_workers_with_sane_timeouts(monkeypatch):
    conf = _gunicorn(monkeypatch)
    assert conf["preload_app"] is True
    assert conf["worker_class"] == "gthread" and conf["threads"] >= 2
    assert conf["timeout"] >= 60 and conf["graceful_timeout"] >= 20
    assert conf["keepalive"] > 60  # longer than a load balancer's usual 60 s idle timeout
    assert callable(conf["when_ready"])


def test_gunicorn_sizing_follows_the_environment(monkeypatch):
    conf = _gunicorn(monkeypatch, WEB_CONCURRENCY="3", WEB_THREADS="8", GUNICORN_TIMEOUT="90", GUNICORN_KEEPALIVE="120")
    assert (conf["workers"], conf["threads"], conf["timeout"], conf["keepalive"]) == (3, 8, 90, 120)


@pytest.mark.django_db(transaction=True)  # a connection can be closed only outside a transaction
def test_warm_up_imports_every_view_and_leaves_no_connection_open():
    from config.warmup import warm_up

    connections["default"].ensure_connection()
    warm_up()
    assert all(connection.connection is None for connection in connections.all(initialized_only=True))
    from django.urls import get_resolver

    assert get_resolver()._populated


def test_celery_acks_late_and_requeues_a_task_whose_worker_died():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1  # a dying worker holds at most the task it runs
