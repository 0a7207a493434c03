"""Helpers for tests that start the production profile (`make serve`) on PostgreSQL and their own
Redis: tests/test_serve.py and tests/test_schemathesis.py."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "serve-test-" + "x" * 60


def _free_port(candidates=()) -> int:
    for port in [*candidates, 0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


class Redis:
    """A redis-server of this test's own (never the shared one), with an append-only file so a
    restart keeps what was queued, as docs/deploy.md asks of production."""

    def __init__(self, workdir: Path):
        self.port, self.dir = _free_port(), workdir
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def _admin_connection():
    import psycopg

    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                           password=db["PASSWORD"], dbname="postgres", autocommit=True)


class Served:
    def __init__(self, base: str, env: dict, log: Path, redis: Redis, database_url: str):
        self.base, self.env, self.log, self.redis, self.database_url = base, env, log, redis, database_url

    def token(self, username: str) -> dict:
        response = requests.post(f"{self.base}/api/v1/auth/token/", json={"username": username, "password": "kitstreet"},
                                 timeout=30)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Token {response.json()['token']}"}

    def sql(self, query: str, *params):
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("make serve runs the production profile: PostgreSQL only (CI runs it)")
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server (CI installs it)")
    work = tmp_path_factory.mktemp("serve")
    redis = Redis(work)
    redis.start()
    db = settings.DATABASES["default"]
    name = f"{db['NAME'].removeprefix('test_')}_serve"
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    port = _free_port(range(0))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KITSTREET_", "CELERY_"))},
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis.port}/0",
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/1",
        "SECRET_KEY": SECRET, "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false", "SECURE_COOKIES": "false",
        "WEB_CONCURRENCY": "2", "CELERY_CONCURRENCY": "2", "PORT": str(port), "BIND": f"127.0.0.1:{port}",
        "KITSTREET_DATA_DIR": str(work), "GUNICORN_ACCESS_LOG": "0",
    }
    subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", "migrate", "--noinput"], cwd=ROOT,
                   env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.production"}, check=True,
                   capture_output=True, timeout=600)
    subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", "seed_demo", "--if-empty", "--seed", "5"], cwd=ROOT,
                   env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.production"}, check=True,
                   capture_output=True, timeout=600)
    # Under var/ (like the worker fixture's log): pytest's temporary folders are pruned by later runs.
    log = ROOT / "var" / f"test-serve-{os.getpid()}-{work.name}.log"
    log.parent.mkdir(exist_ok=True)
    proc = subprocess.Popen(["make", "serve"], cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if requests.get(f"{base}/login/", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"make serve did not come up:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        # The worker is up when it answers a ping through the broker.
        headers = Served(base, env, log, redis, database_url).token("operator")
        ping = requests.post(f"{base}/api/v1/system/ping/", headers=headers, timeout=30)
        assert ping.status_code == 202, ping.text
        while time.monotonic() < deadline:
            state = requests.get(f"{base}/api/v1/tasks/{ping.json()['task_id']}/", headers=headers, timeout=30)
            if state.json()["state"] == "SUCCESS":
                break
            time.sleep(1)
        yield Served(base, env, log, redis, database_url)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        redis.stop()
        with _admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


