"""Celery entry point: a listing change reached the BOMs (enqueued by name through the outbox by
the catalogue's listing services, which cannot import this room)."""

from celery import shared_task

BOM_PARTS_CHANGED_TASK = "marketplace.tasks.bom_parts_changed_task"


@shared_task(name=BOM_PARTS_CHANGED_TASK)
def bom_parts_changed_task(part_ids: list[int]) -> dict:
    from marketplace.boms.watch import bom_parts_changed

    return bom_parts_changed(part_ids=part_ids)
