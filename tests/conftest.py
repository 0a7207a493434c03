"""Fixtures shared by every app's tests."""

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.organizations.factories import MembershipFactory, OrganizationFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


# Hypothesis: no per-example deadline and no "too slow" health check. Both measure the machine's
# load (a 2-core machine shared by many jobs, or xdist's workers), not the code; a property that
# fails fails on any machine. HYPOTHESIS_PROFILE=dev keeps hypothesis's defaults.
hypothesis.settings.register_profile("kitstreet", deadline=None,
                                     suppress_health_check=[hypothesis.HealthCheck.too_slow])
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kitstreet"))

# Slow tests (marked `slow`) start first under `make test`'s parallel run, so that none of them is
# left for the end with one worker busy and the other idle.
SLOW_FIRST = ("serve", "slow", "browser", "worker")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need row locks and real concurrency: skip them on SQLite. The
    slow ones go first (a stable sort: within each kind the collection order stays)."""
    items.sort(key=lambda item: next((n for n, mark in enumerate(SLOW_FIRST) if mark in item.keywords),
                                     len(SLOW_FIRST)))
    if django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (select_for_update is a no-op on SQLite); CI runs it")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


if importlib.util.find_spec("xdist"):
    def pytest_xdist_make_scheduler(config, log):
        """`make test` runs in parallel (pytest-xdist, `--dist loadgroup`): each test file goes to
        one worker whole (its module-scoped servers start once), and a file marked
        `xdist_group(name)` goes with the others of that group (the two that start `make serve`
        run one after the other, not side by side). Files are handed out in collection order, slow
        kinds first (above). Each worker has its own test database (pytest-django's `_gwN` suffix),
        Celery queue and folders (config/settings/test.py: per process)."""
        from xdist.scheduler import LoadGroupScheduling

        class LoadFileAndGroupScheduling(LoadGroupScheduling):
            def _split_scope(self, nodeid: str) -> str:
                if nodeid.rfind("@") > nodeid.rfind("]"):
                    return "group:" + nodeid.split("@")[-1]
                return nodeid.split("::", 1)[0]

        return LoadFileAndGroupScheduling(config, log)


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
