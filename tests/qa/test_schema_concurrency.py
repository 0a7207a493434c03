"""QA: the first requests for /api/schema/ after a server starts, if concurrent, must not fail.

drf-spectacular loads its extension classes lazily and not thread-safely: two threads building the
first schema at once raised AttributeError (a 500) in all but one. Reproduced with a real threaded
server in a subprocess (the schema view needs no database)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_concurrent_first_schema_requests_all_succeed(tmp_path):
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:  # ready when the port accepts connections (no HTTP request: that would warm the schema)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(pool.map(_status, [f"http://127.0.0.1:{port}/api/schema/"] * 4))
        assert statuses == [200, 200, 200, 200]
    finally:
        server.terminate()
        server.wait(timeout=20)
