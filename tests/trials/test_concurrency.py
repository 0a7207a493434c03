"""Races on PostgreSQL: the same sales batch posted twice at once is counted once; two workers
running the same trial at once (a redelivery while the first still runs) count nothing twice."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from tests.trials.factories import make_trial
from trials.models import DailyMetric, SalesEvent, Trial, TrialArm
from trials.services import trial_run, trial_sales_record, trial_start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(target, n):
    errors = []

    def wrapped():
        try:
            target()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_the_same_batch_posted_concurrently_is_counted_once():
    trial = make_trial(mode="live", demand=None)
    now = timezone.now()
    Trial.objects.filter(pk=trial.pk).update(status="selling", selling_started_at=now - timedelta(hours=1),
                                             ends_at=now + timedelta(days=30))
    TrialArm.objects.filter(trial=trial).update(units_received=60)
    batch = [{"arm": "A", "units": 1, "unit_price": Decimal("99"), "sold_at": now, "channel": "pos", "external_id": f"e{i}"}
             for i in range(20)]
    errors = run_in_threads(lambda: trial_sales_record(trial=trial, events=batch), 4)
    assert errors == []
    assert SalesEvent.objects.filter(trial=trial).count() == 20
    assert TrialArm.objects.get(trial=trial, label="A").units_sold == 20
    assert Trial.objects.get(pk=trial.pk).cash_recovered == Decimal("1980.00")


def test_two_workers_running_the_same_trial_count_nothing_twice():
    trial = make_trial()
    trial_start(trial=trial, enqueue=False)
    errors = run_in_threads(lambda: trial_run(trial_id=trial.pk), 3)
    assert errors == []
    trial.refresh_from_db()
    assert trial.status == "closed"
    assert DailyMetric.objects.filter(trial=trial).count() == 60
    sold = sum(DailyMetric.objects.filter(trial=trial).values_list("sold", flat=True))
    assert sold == sum(TrialArm.objects.filter(trial=trial).values_list("units_sold", flat=True))


def test_different_batches_at_once_keep_the_daily_metrics_and_e_values_exact():
    """Four integrations report different sales at the same moment: the incremental daily metrics
    and the e-value state end exactly where a rebuild from all the events would."""
    from trials.services.lifecycle import _rebuild_live_metrics

    trial = make_trial(mode="live", demand=None)
    now = timezone.now()
    start = now - timedelta(days=3, hours=1)
    Trial.objects.filter(pk=trial.pk).update(status="selling", selling_started_at=start, ends_at=start + timedelta(days=30))
    TrialArm.objects.filter(trial=trial).update(units_received=60)
    counter = iter(range(1000))
    lock = threading.Lock()

    def post():
        with lock:
            n = next(counter)
        batch = [{"arm": "AB"[i % 2], "units": 1, "unit_price": Decimal("99"), "sold_at": start + timedelta(days=i % 4),
                  "channel": "pos", "external_id": f"w{n}-{i}"} for i in range(8)]
        trial_sales_record(trial=trial, events=batch)

    assert run_in_threads(post, 4) == []
    trial = Trial.objects.get(pk=trial.pk)
    incremental = sorted(DailyMetric.objects.filter(trial=trial).values_list("arm_id", "day", "sold", "on_hand"))
    assert sum(row[2] for row in incremental) == 32
    assert sum(sum(arm["daily"]) for arm in trial.sequential["arms"].values()) == 32
    _rebuild_live_metrics(trial, list(TrialArm.objects.filter(trial=trial).order_by("pk")), start + timedelta(days=3, hours=2))
    assert sorted(DailyMetric.objects.filter(trial=trial).values_list("arm_id", "day", "sold", "on_hand")) == incremental


def test_a_running_trial_does_not_block_a_new_trial_on_the_same_kit_and_organisation():
    """A trial step locks its trial row only. Locking the kit and organisation it joins as well
    (a plain FOR UPDATE locks every joined row) blocked every new trial on that kit, whose insert
    takes a key-share lock on them, and deadlocked the two (a 503 to the buyer)."""
    from django.db import transaction

    from trials.services.lifecycle import _locked

    running = make_trial()
    locked, release, outcome = threading.Event(), threading.Event(), []

    def hold_the_running_trial_lock():
        try:
            with transaction.atomic():
                _locked(running.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_running_trial_lock)
    holder.start()
    try:
        assert locked.wait(timeout=30)

        def create_another():
            try:
                with transaction.atomic():
                    with connections["default"].cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '5s'")  # blocked = an error, not a hang
                    outcome.append(make_trial(organization=running.organization, kit=running.kit, name="second"))
            except Exception as exc:  # noqa: BLE001 - asserted below
                outcome.append(exc)
            finally:
                connections.close_all()

        creator = threading.Thread(target=create_another)
        creator.start()
        creator.join(timeout=60)
    finally:
        release.set()
        holder.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], Trial), outcome
    assert Trial.objects.filter(organization=running.organization, kit=running.kit).count() == 2
