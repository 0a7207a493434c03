"""acks_late + reject_on_worker_lost: a worker process killed in the middle of a simulated run
gives the task back to the broker; the run is redelivered and resumes from the last committed
chunk. No trial is lost and no day is counted twice."""

import subprocess
import time

import pytest

from tests.trials.factories import make_trial
from trials.models import DailyMetric, Trial, TrialArm
from trials.services import trial_start

pytestmark = pytest.mark.worker


@pytest.fixture
def slow_simulated_clock(monkeypatch):
    # Read by the worker process (it inherits the environment): 0.15 s per simulated day.
    monkeypatch.setenv("KITSTREET_TRIALS_SIM_DAY_SECONDS", "0.15")


def pool_children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_worker_killed_mid_run_leaves_no_lost_trial_and_nothing_counted_twice(slow_simulated_clock, celery_worker_process):
    import os
    import signal

    trial = make_trial(window_days=30)
    trial_start(trial=trial)  # committed (transactional test): the run is sent now

    deadline = time.monotonic() + 60
    while Trial.objects.get(pk=trial.pk).progress < 0.2:
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.05)
    [child] = pool_children(celery_worker_process.pid)
    # Frozen first, so that what it has committed cannot move between the check and the kill
    # (however slowly this test process is scheduled on a loaded machine).
    os.kill(child, signal.SIGSTOP)
    half = Trial.objects.get(pk=trial.pk)
    assert half.status == Trial.Status.SELLING and 0 < half.sim_day < 30, "the run finished before it was stopped"
    os.kill(child, signal.SIGKILL)  # the process running the task dies mid-window

    deadline = time.monotonic() + 90
    while (current := Trial.objects.get(pk=trial.pk)).status != Trial.Status.CLOSED:
        assert time.monotonic() < deadline, f"the redelivered run did not finish: {current.status} day {current.sim_day}"
        time.sleep(0.1)
    assert DailyMetric.objects.filter(trial=trial).count() == 2 * 30  # every day once
    for arm in TrialArm.objects.filter(trial=trial):
        assert arm.units_sold == sum(DailyMetric.objects.filter(arm=arm).values_list("sold", flat=True))
    assert pool_children(celery_worker_process.pid) != [child]  # a new pool process did the rest
