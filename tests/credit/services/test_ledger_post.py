from decimal import Decimal

import pytest
from django.db import connection

from credit.exceptions import (
    EntryAlreadyReversed,
    InsufficientFunds,
    InvalidAmount,
    ReversalInvalid,
    UnbalancedEntry,
)
from credit.models import Account, AccountKind, EntryKind, JournalEntry, Posting
from credit.selectors import ledger_verify
from credit.services import (
    Transfer,
    account_for,
    entry_reverse,
    ledger_post,
    ledger_post_batch,
    ledger_transfer,
    platform_account,
    wallet_topup,
)
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_topup_moves_money_from_the_bank_clearing_account_into_the_wallet():
    org = OrganizationFactory()
    entry = wallet_topup(organization=org, amount=Decimal("250.00"), currency="CNY", reference="ICBC 0042")
    wallet = account_for(organization=org, kind=AccountKind.WALLET, currency="CNY")
    assert wallet.balance == Decimal("250.00")
    assert platform_account(currency="CNY").balance == Decimal("-250.00")
    assert entry.reference == "ICBC 0042"
    assert sorted(entry.postings.values_list("amount", flat=True)) == [Decimal("-250.00"), Decimal("250.00")]


def test_transfer_updates_stored_balances_and_refuses_an_overdraft_without_writing():
    a, b = funded_wallet(OrganizationFactory(), "100.00"), funded_wallet(OrganizationFactory(), "0")
    ledger_transfer(debit=a, credit=b, amount=Decimal("60.00"))
    entries = JournalEntry.objects.count()
    with pytest.raises(InsufficientFunds):
        ledger_transfer(debit=a, credit=b, amount=Decimal("40.01"))
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.balance, b.balance) == (Decimal("40.00"), Decimal("60.00"))
    assert JournalEntry.objects.count() == entries


def test_unbalanced_entries_and_bad_amounts_are_refused():
    a, b = funded_wallet(OrganizationFactory(), "100.00"), funded_wallet(OrganizationFactory(), "0")
    with pytest.raises(UnbalancedEntry):
        ledger_post(legs=[(a, Decimal("-10.00")), (b, Decimal("9.99"))])
    with pytest.raises(InvalidAmount):
        ledger_transfer(debit=a, credit=b, amount=Decimal("0.001"))
    with pytest.raises(InvalidAmount):
        ledger_transfer(debit=a, credit=b, amount=Decimal("-5"))
    assert ledger_verify().ok


def test_reversal_restores_balances_needs_a_reason_and_happens_once():
    a, b = funded_wallet(OrganizationFactory(), "100.00"), funded_wallet(OrganizationFactory(), "0")
    entry = ledger_transfer(debit=a, credit=b, amount=Decimal("30.00"))
    with pytest.raises(ReversalInvalid):
        entry_reverse(entry=entry, reason="  ")
    reversal = entry_reverse(entry=entry, reason="paid the wrong stall")
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.balance, b.balance) == (Decimal("100.00"), Decimal("0.00"))
    assert reversal.kind == EntryKind.REVERSAL and reversal.reverses == entry
    with pytest.raises(EntryAlreadyReversed):
        entry_reverse(entry=entry, reason="again")


def test_a_topup_that_was_already_spent_cannot_be_reversed():
    org = OrganizationFactory()
    topup = wallet_topup(organization=org, amount=Decimal("50.00"), currency="CNY", reference="r1")
    ledger_transfer(debit=account_for(organization=org, kind="wallet", currency="CNY"),
                    credit=funded_wallet(OrganizationFactory(), "0"), amount=Decimal("20.00"))
    with pytest.raises(InsufficientFunds):
        entry_reverse(entry=topup, reason="bounced cheque")


def test_batch_posts_every_transfer_or_none():
    a, b = funded_wallet(OrganizationFactory(), "100.00"), funded_wallet(OrganizationFactory(), "0")
    ids = ledger_post_batch(transfers=[Transfer(a.pk, b.pk, Decimal("10.00"), "sale 1"), Transfer(b.pk, a.pk, Decimal("5.00"))])
    assert len(ids) == 2 and Posting.objects.filter(entry_id__in=ids).count() == 4
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.balance, b.balance) == (Decimal("95.00"), Decimal("5.00"))
    with pytest.raises(InsufficientFunds) as err:
        ledger_post_batch(transfers=[Transfer(a.pk, b.pk, Decimal("90.00")), Transfer(a.pk, b.pk, Decimal("10.00"))])
    assert "Transfer 2" in str(err.value)
    a.refresh_from_db()
    assert a.balance == Decimal("95.00")
    assert ledger_verify().ok


def test_postings_are_append_only_in_the_database():
    a, b = funded_wallet(OrganizationFactory(), "100.00"), funded_wallet(OrganizationFactory(), "0")
    entry = ledger_transfer(debit=a, credit=b, amount=Decimal("1.00"))
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        Posting.objects.filter(entry=entry).update(amount=Decimal("2.00"))


def test_the_database_refuses_an_overdraft_even_if_a_service_forgot_to_check():
    from django.db import IntegrityError, transaction

    wallet = funded_wallet(OrganizationFactory(), "10.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=wallet.pk).update(balance=Decimal("-1.00"))


@pytest.mark.postgres
def test_postgres_refuses_an_unbalanced_entry_written_around_the_service():
    from django.db import DatabaseError, transaction

    a, b = funded_wallet(OrganizationFactory(), "100.00"), funded_wallet(OrganizationFactory(), "0")
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        entry = JournalEntry.objects.create(kind=EntryKind.TRANSFER)
        Posting.objects.bulk_create([Posting(entry=entry, account=a, amount=Decimal("-5.00"), currency="CNY"),
                                     Posting(entry=entry, account=b, amount=Decimal("4.00"), currency="CNY")])
    assert connection.vendor == "postgresql"
