"""The beat tasks load nothing themselves: they call the services (which are tested on their own)."""

from unittest import mock

from credit import tasks


def test_beat_task_names_match_the_schedule():
    from django.conf import settings

    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {tasks.hold_expire_due_task.name, tasks.invoice_mark_overdue_task.name} <= names


def test_tasks_call_their_services():
    with mock.patch("credit.services.hold_expire_due", return_value=3) as expire:
        assert tasks.hold_expire_due_task() == 3
    expire.assert_called_once_with()
    with mock.patch("credit.services.invoice_mark_overdue", return_value={"marked_overdue": 1}) as mark:
        assert tasks.invoice_mark_overdue_task() == {"marked_overdue": 1}
    mark.assert_called_once_with()


def test_the_reserve_beat_is_scheduled_and_calls_its_service():
    from django.conf import settings

    assert tasks.reserve_release_due_task.name in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    with mock.patch("credit.services.reserve_release_due", return_value=2) as release:
        assert tasks.reserve_release_due_task() == 2
    release.assert_called_once_with()
