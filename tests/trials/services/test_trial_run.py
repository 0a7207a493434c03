"""A simulated trial from draft to verdict, step by step and as the worker runs it."""

import pytest
from decimal import Decimal

from tests.trials.factories import make_trial
from trials.exceptions import TrialNotInState
from trials.models import DailyMetric, Trial
from trials.services import trial_close, trial_procure, trial_run, trial_simulate_days, trial_start

pytestmark = pytest.mark.django_db


def test_start_queues_the_run_after_commit_and_the_run_closes_with_a_verdict(django_capture_on_commit_callbacks):
    trial = make_trial()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        trial_start(trial=trial)
    assert len(callbacks) == 1  # the run task, eager in tests
    trial.refresh_from_db()
    assert trial.status == Trial.Status.CLOSED
    assert trial.progress == 1.0
    assert trial.verdict in {"scale", "iterate", "kill"} and trial.verdict_reason
    assert trial.report["simulated"] is True and trial.report["final"] is True
    assert trial.cash_deployed == trial.quote.total == Decimal("2400.00")  # 120 units x 20.00, nothing paid
    assert trial.order_id is None
    assert DailyMetric.objects.filter(trial=trial).count() == 2 * 30
    arms = {a["label"]: a for a in trial.report["arms"]}
    assert sum(a["units_sold"] for a in arms.values()) == sum(m.sold for m in DailyMetric.objects.filter(trial=trial))


def test_every_step_is_idempotent_so_a_redelivered_task_counts_nothing_twice():
    trial = make_trial()
    trial_start(trial=trial)
    trial_procure(trial_id=trial.pk)
    quote_id = Trial.objects.get(pk=trial.pk).quote_id
    trial_procure(trial_id=trial.pk)  # redelivered: no second quote
    assert Trial.objects.get(pk=trial.pk).quote_id == quote_id
    trial_simulate_days(trial_id=trial.pk, days=7)
    half = Trial.objects.get(pk=trial.pk)
    assert half.sim_day == 7 and 0.1 < half.progress < 1
    # The worker dies here; the task is redelivered and runs from the top.
    first = trial_run(trial_id=trial.pk)
    again = trial_run(trial_id=trial.pk)
    assert first.status == again.status == Trial.Status.CLOSED
    assert DailyMetric.objects.filter(trial=trial).count() == 60
    assert again.report == first.report and again.closed_at == first.closed_at


def test_the_same_seed_gives_the_same_trial_whatever_the_chunking():
    one, two = make_trial(), make_trial()
    for t in (one, two):
        trial_start(trial=t)
    trial_run(trial_id=one.pk)
    trial_procure(trial_id=two.pk)
    for _ in range(30):
        trial_simulate_days(trial_id=two.pk, days=1)
    trial_close(trial_id=two.pk)
    one.refresh_from_db()
    two.refresh_from_db()
    assert [a["units_sold"] for a in one.report["arms"]] == [a["units_sold"] for a in two.report["arms"]]


def test_only_a_draft_can_be_started():
    trial = make_trial()
    trial_start(trial=trial)
    with pytest.raises(TrialNotInState):
        trial_start(trial=trial)


def test_the_beat_resends_a_simulated_run_whose_task_was_lost(django_capture_on_commit_callbacks):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    from trials.services import trial_refresh

    trial = make_trial()
    trial_start(trial=trial)  # no on-commit capture: the message never reached a worker
    with mock.patch("trials.tasks.trial_run_task.apply_async") as send:
        trial_refresh(trial_id=trial.pk)  # recently started: leave it alone
        assert not send.called
        with django_capture_on_commit_callbacks(execute=True):  # re-sent through the outbox
            trial_refresh(trial_id=trial.pk, now=timezone.now() + timedelta(minutes=11))
    send.assert_called_once_with(args=[trial.pk], kwargs={}, task_id=Trial.objects.get(pk=trial.pk).task_id)
