"""A task sent through the API is executed by a real Celery worker process (not eager mode)."""

import os
import time

import pytest

pytestmark = pytest.mark.worker


def test_worker_ping_from_the_api_runs_in_a_worker_process(celery_worker_process, buyer):
    response = buyer.client.post("/api/v1/system/ping/")
    assert response.status_code == 202
    task_id = response.json()["task_id"]

    deadline = time.monotonic() + 30
    while (status := buyer.client.get(f"/api/v1/tasks/{task_id}/").json())["state"] != "SUCCESS":
        assert status["state"] in {"PENDING", "STARTED"}, status
        assert time.monotonic() < deadline, "the worker did not answer within 30 s"
        time.sleep(0.1)
    assert status["result"]["message"].startswith("pong for")
    assert status["result"]["pid"] != os.getpid()  # ran in another process
