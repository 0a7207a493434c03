"""The beat tasks, by their scheduled names, run in a real worker process on the test database."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from config.celery import app
from credit.models import Hold, Invoice
from credit.services import credit_draw, hold_place
from tests.credit.factories import credit_line, funded_wallet
from tests.marketplace.factories import OrganizationFactory

pytestmark = pytest.mark.worker


def test_scheduled_tasks_expire_holds_and_mark_invoices_overdue_in_a_worker(celery_worker_process):
    wallet, other = funded_wallet(OrganizationFactory(), "100.00"), funded_wallet(OrganizationFactory(), "0")
    hold = hold_place(account=wallet, counter_account=other, amount=Decimal("40.00"),
                      expires_at=timezone.now() - timedelta(minutes=1))
    line = credit_line(limit="500.00", terms_days=30)
    invoice = credit_draw(line=line, amount=Decimal("50.00"), issued_on=timezone.localdate() - timedelta(days=45))

    # Sent by name, exactly as beat sends them (config/settings/base.py CELERY_BEAT_SCHEDULE).
    assert app.send_task("credit.tasks.hold_expire_due_task").get(timeout=30) == 1
    swept = app.send_task("credit.tasks.invoice_mark_overdue_task").get(timeout=30)
    assert swept["marked_overdue"] == 1 and swept["lines_frozen"] == 1

    hold.refresh_from_db(), wallet.refresh_from_db(), invoice.refresh_from_db(), line.refresh_from_db()
    assert hold.status == Hold.Status.EXPIRED and wallet.held == Decimal("0.00")
    assert invoice.status == Invoice.Status.OVERDUE and line.status == "frozen"
