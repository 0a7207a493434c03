"""Celery entry points: load by id, call a service. Every service they call checks the trial's
status under a row lock, so a redelivered task (acks_late, reject_on_worker_lost) is harmless."""

from celery import shared_task

from config.webhooks import webhook_deliver_or_retry
from trials.models import WebhookDelivery
from trials.services import trial_refresh_open, trial_run
from trials.services.lifecycle import TRIAL_RUN_TASK
from trials.services.webhooks import WEBHOOK_DELIVER_TASK


@shared_task(name=TRIAL_RUN_TASK)
def trial_run_task(trial_id: int) -> dict:
    trial = trial_run(trial_id=trial_id)
    return {"trial": trial.pk, "status": trial.status, "verdict": trial.verdict, "simulated": trial.simulated}


@shared_task(name="trials.tasks.trial_refresh_open_task")
def trial_refresh_open_task() -> int:
    return trial_refresh_open()


@shared_task(bind=True, name=WEBHOOK_DELIVER_TASK, max_retries=6)
def webhook_deliver_task(self, delivery_id: int) -> None:
    webhook_deliver_or_retry(self, WebhookDelivery, delivery_id=delivery_id)
