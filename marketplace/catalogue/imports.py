"""Stock-list imports as a job: upload (validated and previewed at once), then applied in the
request when small or by a worker with progress when large. The rows are applied by
`catalogue.listings.stock_list_apply` either way (bulk, in short chunks).

Redelivery is harmless: the task runs a job only while it is queued or running (a worker killed
mid-file leaves it running; the redelivered task applies the file again and the rows already
applied compare `unchanged`), and a done or failed job is left alone."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import StateConflict
from config.outbox.services import outbox_enqueue
from marketplace.catalogue.listings import StockListResult, _require_supplier, stock_list_apply, stock_list_parse
from marketplace.catalogue.models import StockListImport
from marketplace.exceptions import StockListInvalid
from organizations.models import Organization

STOCK_LIST_IMPORT_TASK = "marketplace.tasks.stock_list_import_task"  # by name: the task calls this module


def sync_max_rows() -> int:
    """Files up to this many rows are applied in the request; larger ones by a worker."""
    return int(getattr(settings, "STOCK_LIST_SYNC_MAX_ROWS", 20_000))


def stock_list_import_list(*, vendor: Organization) -> QuerySet[StockListImport]:
    return StockListImport.objects.filter(vendor=vendor).defer("content")


def stock_list_upload(*, vendor: Organization, user: AbstractBaseUser | None, content: bytes, filename: str = "",
                      ) -> tuple[StockListImport, StockListResult]:
    """Validate and preview a file (a dry run: nothing is applied) and keep it for `stock_list_import_apply`.
    StockListInvalid with every error when a row is bad (nothing kept)."""
    _require_supplier(vendor)
    rows = stock_list_parse(content=content)
    preview = stock_list_apply(vendor=vendor, rows=rows, dry_run=True)
    job = StockListImport.objects.create(vendor=vendor, created_by=user, filename=filename[:200], content=content,
                                         total_rows=len(rows))
    return job, preview


def stock_list_import_apply(*, job: StockListImport, rows: list[dict] | None = None) -> StockListImport:
    """Apply a previewed file: now when it is small, else queue it for a worker (the job then
    reports progress). 409 when the job was already applied or queued."""
    with transaction.atomic():
        job = StockListImport.objects.select_for_update().get(pk=job.pk)
        if job.status != StockListImport.Status.PREVIEWED:
            raise StateConflict(f"This stock list is already {job.get_status_display().lower()}.")
        job.status = StockListImport.Status.QUEUED
        job.save(update_fields=["status"])
        if job.total_rows > sync_max_rows():
            outbox_enqueue(STOCK_LIST_IMPORT_TASK, args=[job.pk])
            return job
    return stock_list_import_run(job_id=job.pk, rows=rows)


def stock_list_import_start(*, vendor: Organization, user: AbstractBaseUser | None, content: bytes, filename: str = "",
                            ) -> StockListImport:
    """The API's one step: validate, keep and apply (or queue) a file."""
    _require_supplier(vendor)
    rows = stock_list_parse(content=content)
    job = StockListImport.objects.create(vendor=vendor, created_by=user, filename=filename[:200], content=content,
                                         total_rows=len(rows))
    return stock_list_import_apply(job=job, rows=rows)


def _claim(job_id: int) -> StockListImport | None:
    with transaction.atomic():
        job = StockListImport.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in (StockListImport.Status.QUEUED, StockListImport.Status.RUNNING):
            return None
        job.status, job.started_at = StockListImport.Status.RUNNING, job.started_at or timezone.now()
        job.save(update_fields=["status", "started_at"])
        return job


def stock_list_import_run(*, job_id: int, rows: list[dict] | None = None) -> StockListImport | None:
    """Apply a queued job's file in chunks, recording progress after each (its own short UPDATE,
    so the page and the API see it while the file is still going in)."""
    job = _claim(job_id)
    if job is None:
        return StockListImport.objects.filter(pk=job_id).defer("content").first()

    def progress(done: int, total: int) -> None:
        StockListImport.objects.filter(pk=job.pk).update(processed_rows=done, total_rows=total)

    try:
        if rows is None:
            rows = stock_list_parse(content=bytes(job.content))
        result = stock_list_apply(vendor=job.vendor, rows=rows, progress=progress)
    except StockListInvalid as exc:  # the file was valid at upload; the catalogue may have changed since
        StockListImport.objects.filter(pk=job.pk).update(status=StockListImport.Status.FAILED, errors=exc.errors,
                                                         finished_at=timezone.now())
    else:
        StockListImport.objects.filter(pk=job.pk).update(
            status=StockListImport.Status.DONE, created=result.created, updated=result.updated,
            unchanged=result.unchanged, processed_rows=len(rows), finished_at=timezone.now(), content=b"")
    return StockListImport.objects.defer("content").get(pk=job.pk)
