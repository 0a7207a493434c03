"""pytest settings: fast hashing, eager Celery by default (the worker tests start a real worker)."""

import os
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, DATA_DIR

DEBUG = False
SECRET_KEY = "kitstreet-test-secret"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_AUTOREFRESH = True

# Tests run eagerly; a real worker process (tests/conftest.py `celery_worker_process`) sets this off.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("KITSTREET_CELERY_EAGER", "1") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_STORE_EAGER_RESULT = True  # /api/v1/tasks/{id}/ reads eager results like a worker's

# Isolate every test run's Celery traffic (parallel runs, a `make run` worker on the same machine):
# its own queue, and with the filesystem broker its own folders. A worker started by the
# `celery_worker_process` fixture inherits these through the environment.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("KITSTREET_TEST_QUEUE", f"kitstreet-test-{os.getpid()}")
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    _broker_dir = Path(os.environ.get("CELERY_BROKER_DIR") or DATA_DIR / "test-broker" / str(os.getpid()))
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {  # noqa: F405
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
    }
if CELERY_RESULT_BACKEND.startswith("file://") and "CELERY_RESULT_BACKEND" not in os.environ:  # noqa: F405
    CELERY_RESULT_BACKEND = f"file://{DATA_DIR / 'test-results' / str(os.getpid())}"
    Path(CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(parents=True, exist_ok=True)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a worker process can open the same test database.
    # Per process, so that parallel test runs do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
DATA_DIR.mkdir(parents=True, exist_ok=True)
# Replica aliases (DATABASE_REPLICA_URLS) mirror the test database, but requests read from the
# primary unless a test turns this on (tests/config/test_replicas.py): a replica cannot see what a
# test wrote inside its rolled-back transaction.
REPLICA_READS = False
# Each test starts with empty lockout counters (config/lockout.py); no files shared between runs.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kitstreet-tests"}}
