"""Celery entry points of RFQs: close those due and remind suppliers of those closing soon.
The services guard on status under a row lock, so a redelivered or doubled task is harmless."""

from celery import shared_task

from marketplace.rfqs.services import rfq_close_due, rfq_remind_closing


@shared_task(name="marketplace.tasks.rfq_close_due_task")
def rfq_close_due_task() -> int:
    """Beat: close every open RFQ whose closing time has passed, and remind suppliers of those
    closing within a day."""
    rfq_remind_closing()
    return rfq_close_due()
