"""Payouts: money leaving Kitstreet from an organisation's wallet to its bank.

A request holds the amount on the wallet at once (for the platform's clearing account), so
orders and repayments cannot spend it meanwhile; an operator settles it when the bank transfer
went out (the hold is posted: wallet -> clearing) or rejects it (the hold is released). The
payout row is locked before the accounts, like a payment record (see docs/ledger.md)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from credit.exceptions import PayoutAlreadyResolved, PayoutInvalid
from config.events.services import event_record
from credit.models import AccountKind, BankReference, EntryKind, Payout
from credit.references import reference_key
from credit.services.ledger import (
    _already_used,
    account_for,
    bank_reference_record,
    bank_reference_taken,
    hold_place,
    hold_post,
    hold_void,
    money,
    platform_account,
    service_atomic,
)
from organizations.models import Organization


def _event(payout: Payout, type: str) -> None:
    """The step in the organisation's event feed (and its webhooks)."""
    event_record(type=type, object_type="payout", object_id=payout.pk, organization_ids=[payout.organization_id],
                 data={"amount": str(payout.amount), "currency": payout.currency, "status": payout.status,
                       "reference": payout.reference, "reason": payout.reason})


@service_atomic
def payout_request(*, organization: Organization, amount: Decimal, currency: str, requested_by=None) -> Payout:
    """Hold `amount` on the organisation's wallet for a bank transfer an operator will settle."""
    amount = money(amount)
    wallet = account_for(organization=organization, kind=AccountKind.WALLET, currency=currency)
    clearing = platform_account(currency=currency)
    hold = hold_place(account=wallet, counter_account=clearing, amount=amount,
                      memo=f"Payout to {organization.name}'s bank")
    payout = Payout.objects.create(organization=organization, amount=amount, currency=currency, hold=hold,
                                   requested_by=requested_by)
    _event(payout, "payout.requested")
    return payout


def _locked_requested(payout: Payout) -> Payout:
    payout = Payout.objects.select_for_update(of=("self",)).select_related("hold", "organization").get(pk=payout.pk)
    if payout.status != Payout.Status.REQUESTED:
        raise PayoutAlreadyResolved(f"Payout {payout.pk} is already {payout.get_status_display().lower()}.")
    return payout


@service_atomic
def payout_settle(*, payout: Payout, reference: str, settled_by=None) -> Payout:
    """The bank transfer went out: the wallet pays the clearing account (the bank's mirror)."""
    reference = (reference or "").strip()
    if not reference_key(reference):
        raise PayoutInvalid({"reference": ["Give the outgoing bank transfer's reference."]})
    reference = reference[:200]
    payout = _locked_requested(payout)
    first = bank_reference_taken(direction=BankReference.Direction.OUT, reference=reference)
    if first is not None:  # one outgoing transfer settles one payout (statements match on it)
        raise _already_used(first, reference)
    payout.entry = hold_post(hold=payout.hold, kind=EntryKind.PAYOUT, organization=payout.organization,
                             memo=f"Payout {payout.pk} to bank, {reference[:150]}")
    bank_reference_record(direction=BankReference.Direction.OUT, reference=reference, entry=payout.entry,
                          organization=payout.organization, amount=payout.amount, currency=payout.currency)
    payout.status, payout.reference, payout.resolved_by, payout.resolved_at = (
        Payout.Status.SETTLED, reference, settled_by, timezone.now())
    payout.save(update_fields=["entry", "status", "reference", "resolved_by", "resolved_at"])
    _event(payout, "payout.settled")
    return payout


@service_atomic
def payout_reject(*, payout: Payout, reason: str, rejected_by=None) -> Payout:
    """The transfer will not go out (wrong bank details, a compliance stop): the hold is released."""
    reason = (reason or "").strip()
    if not reason:
        raise PayoutInvalid({"reason": ["Say why the payout is rejected."]})
    payout = _locked_requested(payout)
    hold_void(hold=payout.hold)
    payout.status, payout.reason, payout.resolved_by, payout.resolved_at = (
        Payout.Status.REJECTED, reason[:300], rejected_by, timezone.now())
    payout.save(update_fields=["status", "reason", "resolved_by", "resolved_at"])
    _event(payout, "payout.rejected")
    return payout
