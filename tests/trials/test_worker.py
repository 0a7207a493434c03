"""A whole simulated trial through a real Celery worker process (filesystem broker locally,
Redis and PostgreSQL in CI): the API returns 202 at once, the worker plays the window, the page
and the API show progress and then the verdict."""

import os
import time

import pytest

from tests.trials.factories import make_kit

pytestmark = pytest.mark.worker


def test_a_simulated_trial_runs_in_a_worker_process_to_a_verdict(celery_worker_process, buyer):
    kit = make_kit()
    created = buyer.client.post("/api/v1/trials/", {
        "name": "Worker trial", "kit": kit.pk, "mode": "simulated", "window_days": 30,
        "arms": [{"label": "A", "unit_price": "99.00", "units": 80}, {"label": "B", "unit_price": "119.00", "units": 80}],
        "demand": {"base_daily": 2.5, "seed": 3},
    }, format="json").json()
    started = buyer.client.post(f"/api/v1/trials/{created['id']}/start/")
    assert started.status_code == 202
    task_id = started.json()["task_id"]

    deadline = time.monotonic() + 60
    seen = set()
    while (trial := buyer.client.get(f"/api/v1/trials/{created['id']}/").json())["status"] != "closed":
        seen.add(trial["status"])
        assert trial["status"] in {"procuring", "selling"}, trial
        assert time.monotonic() < deadline, f"the worker did not close the trial in 60 s: {trial}"
        time.sleep(0.2)
    assert trial["progress"] == 1.0 and trial["verdict"] in {"scale", "iterate", "kill"}
    assert trial["simulated"] is True and trial["task_id"] == task_id

    report = buyer.client.get(f"/api/v1/trials/{created['id']}/report/").json()
    assert report["final"] is True and all(len(arm["daily"]) == 30 for arm in report["arms"])
    status = buyer.client.get(f"/api/v1/tasks/{task_id}/").json()
    assert status["state"] == "SUCCESS" and status["result"]["verdict"] == trial["verdict"]
    assert os.getpid() != celery_worker_process.pid
