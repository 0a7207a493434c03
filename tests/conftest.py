"""Fixtures shared by every app's tests."""

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.organizations.factories import MembershipFactory, OrganizationFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need row locks and real concurrency: skip them on SQLite."""
    if django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (select_for_update is a no-op on SQLite); CI runs it")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (login lockout counters, throttles)."""
    from django.core.cache import cache

    cache.clear()


@dataclass
class Member:
    """A person acting for one organisation, with an API client already logged in as them."""

    user: object
    org: object
    client: APIClient


def _member(**org_kwargs) -> Member:
    membership = MembershipFactory(organization=OrganizationFactory(**org_kwargs))
    client = APIClient()
    client.force_authenticate(membership.user)
    client.credentials(HTTP_X_ORGANIZATION=str(membership.organization.pk))
    return Member(user=membership.user, org=membership.organization, client=client)


@pytest.fixture
def make_member(db):
    """make_member(trader=True, name="Hua Xin") -> Member. Kwargs go to OrganizationFactory."""
    return _member


@pytest.fixture
def buyer(db) -> Member:
    return _member(name="Buyer Co")


@pytest.fixture
def trader(db) -> Member:
    return _member(name="Trader Co", trader=True)


@pytest.fixture
def solution_house(db) -> Member:
    return _member(name="Solution House Co", solution_house=True)


@pytest.fixture
def factory_org(db) -> Member:
    return _member(name="Factory Co", factory_kind=True)


@pytest.fixture
def operator(db) -> Member:
    user = UserFactory(username="ops", is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_authenticate(user)
    return Member(user=user, org=None, client=client)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real `celery worker` process on this run's queue, reading and writing the test database.

    Tasks sent during the test go through the real broker (filesystem folders by default, Redis
    in CI) instead of running eagerly. Yields the Popen; the worker is stopped before the test
    database is flushed.
    """
    from config.celery import app
    from config.tasks import worker_ping

    conf = app.conf
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "KITSTREET_CELERY_EAGER": "0",
        "DATABASE_URL": _database_url(),
        "KITSTREET_TEST_QUEUE": conf.task_default_queue,
        "CELERY_BROKER_URL": conf.broker_url,
        "CELERY_RESULT_BACKEND": conf.result_backend,
    }
    if conf.broker_url.startswith("filesystem://"):
        env["CELERY_BROKER_DIR"] = str(Path(conf.broker_transport_options["data_folder_in"]).parent)
    log_path = ROOT / "var" / f"test-worker-{os.getpid()}.log"
    log = open(log_path, "w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--pool", "prefork",
         "--concurrency", "1", "-Q", conf.task_default_queue, "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--hostname", f"test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    eager = conf.task_always_eager
    conf.task_always_eager = False
    try:
        # Ready when it answers a ping through the broker.
        deadline = time.monotonic() + 60
        while True:
            try:
                worker_ping.delay("ready?").get(timeout=5)
                break
            except Exception:
                if worker.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(f"Celery worker did not start:\n{log_path.read_text()[-3000:]}")
        yield worker
    finally:
        conf.task_always_eager = eager
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        log.close()
        from django.db import connections

        connections.close_all()


def pytest_sessionfinish(session, exitstatus):
    for leftover in ("test-broker", "test-results"):
        shutil.rmtree(ROOT / "var" / leftover / str(os.getpid()), ignore_errors=True)
