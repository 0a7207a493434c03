"""Operators change money only through actions that call the services and ask for a reason."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from credit.models import EntryKind, JournalEntry
from credit.services import account_for, ledger_transfer
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    client.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))
    return client


def test_topup_page_records_a_bank_receipt(ops):
    org = OrganizationFactory(name="Lumen")
    url = reverse("admin:credit_account_topup")
    assert ops.get(url).status_code == 200
    form = {"organization": org.pk, "amount": "300.00", "currency": "CNY", "reference": "ICBC 1", "token": "t1"}
    assert ops.post(url, form).status_code == 302
    assert ops.post(url, form).status_code == 302  # the same page submitted twice
    assert account_for(organization=org, kind="wallet", currency="CNY").balance == Decimal("300.00")
    response = ops.post(url, {**form, "reference": "", "token": "t2"})
    assert response.status_code == 200 and JournalEntry.objects.count() == 1


def test_reversal_action_asks_for_a_reason_then_reverses(ops):
    a, b = funded_wallet(OrganizationFactory(), "100.00"), funded_wallet(OrganizationFactory(), "0")
    entry = ledger_transfer(debit=a, credit=b, amount=Decimal("40.00"))
    url = reverse("admin:credit_journalentry_changelist")
    page = ops.post(url, {"action": "reverse_entries", ACTION_CHECKBOX_NAME: [entry.pk]})
    assert page.status_code == 200 and b"reason" in page.content
    assert not JournalEntry.objects.filter(kind=EntryKind.REVERSAL).exists()
    ops.post(url, {"action": "reverse_entries", ACTION_CHECKBOX_NAME: [entry.pk], "apply": "1", "reason": "wrong stall"})
    reversal = JournalEntry.objects.get(kind=EntryKind.REVERSAL)
    assert reversal.reason == "wrong stall"
    a.refresh_from_db()
    assert a.balance == Decimal("100.00")


def test_ledger_rows_cannot_be_edited_or_deleted_in_the_admin(ops):
    a, b = funded_wallet(OrganizationFactory(), "100.00"), funded_wallet(OrganizationFactory(), "0")
    entry = ledger_transfer(debit=a, credit=b, amount=Decimal("1.00"))
    assert ops.get(reverse("admin:credit_journalentry_change", args=[entry.pk])).status_code in (200, 403)
    assert ops.post(reverse("admin:credit_journalentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert ops.get(reverse("admin:credit_account_add")).status_code == 403
    for name in ("account", "journalentry", "posting", "hold", "creditline", "invoice", "repayment",
                 "purchaseorderpayment", "supplierterms", "idempotencykey"):
        assert ops.get(reverse(f"admin:credit_{name}_changelist")).status_code == 200, name
