"""Tasks are thin: they load by id and call the service."""

from unittest import mock

import pytest

from trials.tasks import trial_refresh_open_task, trial_run_task

pytestmark = pytest.mark.django_db


def test_run_task_calls_the_run_service_with_the_id():
    trial = mock.Mock(pk=7, status="closed", verdict="kill", simulated=True)
    with mock.patch("trials.tasks.trial_run", return_value=trial) as run:
        assert trial_run_task.delay(7).get() == {"trial": 7, "status": "closed", "verdict": "kill", "simulated": True}
    run.assert_called_once_with(trial_id=7)


def test_beat_task_refreshes_open_trials():
    with mock.patch("trials.tasks.trial_refresh_open", return_value=3) as refresh:
        assert trial_refresh_open_task.delay().get() == 3
    refresh.assert_called_once_with()
