"""Large stock lists are applied by a worker (issue 23): 202 with a status URL and progress, on the
API and the page; small ones at once; a job is the vendor's own."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from marketplace.catalogue.imports import stock_list_import_run
from marketplace.models import Listing, StockListImport

pytestmark = pytest.mark.django_db

HEADER = "manufacturer,mpn,stock,moq,multiple,lead_time_days,currency,price_breaks\n"


def _csv(n: int) -> bytes:
    return (HEADER + "".join(f"Yageo,RC{i:06d},100,10,10,0,CNY,10:0.50;1000:0.40\n" for i in range(n))).encode()


def _post(member, content: bytes, name="stock.csv"):
    return member.client.post("/api/v1/listings/import/", {"file": SimpleUploadedFile(name, content)}, format="multipart")


def test_a_small_list_is_applied_at_once(trader):
    response = _post(trader, _csv(30))
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["dry_run"]) == (30, False)
    job = trader.client.get(f"/api/v1/listings/import/{body['import_id']}/").json()
    assert (job["status"], job["processed_rows"], job["total_rows"], job["percent"]) == ("done", 30, 30, 100)


def test_a_large_list_is_queued_with_a_status_url_and_runs_in_the_worker(settings, trader, django_capture_on_commit_callbacks):
    settings.STOCK_LIST_SYNC_MAX_ROWS = 100
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(trader, _csv(450))
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and job["total_rows"] == 450 and job["processed_rows"] == 0
    assert job["status_url"].endswith(f"/api/v1/listings/import/{job['id']}/") and response["Location"]
    assert not Listing.objects.exists()  # nothing applied inside the request
    for callback in callbacks:  # the outbox publishes after commit; eagerly, the task runs here
        callback()
    done = trader.client.get(job["status_url"]).json()
    assert (done["status"], done["created"], done["processed_rows"], done["percent"]) == ("done", 450, 450, 100)
    assert Listing.objects.filter(vendor=trader.org).count() == 450


def test_a_redelivered_task_finishes_a_running_job_and_leaves_a_done_one_alone(trader):
    job = StockListImport.objects.create(vendor=trader.org, content=_csv(20), total_rows=20,
                                         status=StockListImport.Status.RUNNING, processed_rows=0)
    assert stock_list_import_run(job_id=job.pk).status == "done"   # a worker died mid-file: finished
    assert Listing.objects.count() == 20
    again = stock_list_import_run(job_id=job.pk)
    assert again.status == "done" and again.created == 20            # not run twice


def test_a_job_is_the_vendors_own(trader, buyer):
    job_id = _post(trader, _csv(3)).json()["import_id"]
    assert buyer.client.get(f"/api/v1/listings/import/{job_id}/").status_code in (403, 404)
    other = StockListImport.objects.create(vendor=buyer.org, content=b"", total_rows=0)
    assert trader.client.get(f"/api/v1/listings/import/{other.pk}/").status_code == 404


def test_the_page_queues_a_large_list_and_shows_progress(settings, trader, django_capture_on_commit_callbacks):
    settings.STOCK_LIST_SYNC_MAX_ROWS = 10
    page = Client()
    page.force_login(trader.user)
    preview = page.post("/listings/import/", {"file": SimpleUploadedFile("big.csv", _csv(25))})
    assert "applied in the background" in preview.content.decode()
    job = StockListImport.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = page.post("/listings/import/", {"action": "apply", "import": job.pk})
    assert response["Location"] == f"/listings/import/{job.pk}/"
    progress = page.get(response["Location"]).content.decode()
    assert "0 of 25 rows" in progress and 'http-equiv="refresh"' in progress
    for callback in callbacks:
        callback()
    assert "25 new" in page.get(response["Location"]).content.decode()
    assert page.post("/listings/import/", {"action": "apply", "import": job.pk}).status_code == 302  # 409 said on the page


def test_an_xlsx_upload_previews_and_applies_in_the_browser(trader):
    import io

    import openpyxl

    book = openpyxl.Workbook()
    for row in [HEADER.strip().split(","), ["TI", "TPS62840DLCR", 500, 1, 1, 0, "CNY", "1:3.20;100:2.90"]]:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    page = Client()
    page.force_login(trader.user)
    preview = page.post("/listings/import/", {"file": SimpleUploadedFile("s.xlsx", buffer.getvalue())})
    assert "Preview of s.xlsx" in preview.content.decode()
    page.post("/listings/import/", {"action": "apply", "import": StockListImport.objects.get().pk})
    assert Listing.objects.get().stock == 500
