"""Celery entry points: load by id, call a service. Every service they call checks the trial's
status under a row lock, so a redelivered task (acks_late, reject_on_worker_lost) is harmless."""

from celery import shared_task


@shared_task(name="trials.tasks.trial_run_task")
def trial_run_task(trial_id: int) -> dict:
    from trials.services import trial_run

    trial = trial_run(trial_id=trial_id)
    return {"trial": trial.pk, "status": trial.status, "verdict": trial.verdict, "simulated": trial.simulated}


@shared_task(name="trials.tasks.trial_refresh_open_task")
def trial_refresh_open_task() -> int:
    from trials.services import trial_refresh_open

    return trial_refresh_open()


@shared_task(bind=True, name="trials.tasks.webhook_deliver_task", max_retries=6)
def webhook_deliver_task(self, delivery_id: int) -> None:
    from trials.exceptions import WebhookDeliveryFailed
    from trials.services import webhook_backoff_seconds, webhook_deliver, webhook_give_up

    try:
        webhook_deliver(delivery_id=delivery_id)
    except WebhookDeliveryFailed as exc:
        if self.request.retries >= self.max_retries:
            webhook_give_up(delivery_id=delivery_id)
            return
        raise self.retry(exc=exc, countdown=webhook_backoff_seconds(self.request.retries))
