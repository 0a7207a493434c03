"""Celery entry point of the event log: publish committed events to their listeners."""

from celery import shared_task

from config.events.services import EVENTS_PUBLISH_TASK, events_publish


@shared_task(name=EVENTS_PUBLISH_TASK)
def events_publish_task(event_ids: list[int]) -> int:
    return len(events_publish(event_ids=event_ids))
