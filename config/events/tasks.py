"""Celery entry point of the event log: publish committed events to their listeners."""

from celery import shared_task


@shared_task(name="config.events.tasks.events_publish_task")
def events_publish_task(event_ids: list[int]) -> int:
    from config.events.services import events_publish

    return len(events_publish(event_ids=event_ids))
