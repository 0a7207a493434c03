"""Celery entry points of the catalogue: a large stock list is applied by a worker. The service
runs a job only while it is queued or running, so a redelivered task (acks_late, a killed worker)
finishes the file instead of doubling it."""

from celery import shared_task


@shared_task(name="marketplace.tasks.stock_list_import_task")
def stock_list_import_task(job_id: int) -> dict | None:
    from marketplace.catalogue.imports import stock_list_import_run

    job = stock_list_import_run(job_id=job_id)
    return {"id": job.pk, "status": job.status, "processed_rows": job.processed_rows} if job else None
