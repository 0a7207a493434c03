"""Supplier credit lines: grant, change, reserve and draw (each draw an invoice), repay oldest
first, and the daily overdue sweep that freezes lines past their grace period.

A line owns two ledger accounts: the buyer's `payable` (negative = owed; its `credit_limit` is
the line's limit) and the supplier's `receivable`. Locking the payable account serialises every
draw, repayment and limit change on a line, so `owed + reserved + draw <= limit` holds under any
concurrency.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from credit.exceptions import CreditLineFrozen, CreditLineInvalid, RepaymentInvalid, WriteOffInvalid
from credit.models import (
    Account,
    AccountKind,
    CreditLine,
    EntryKind,
    Hold,
    Invoice,
    JournalEntry,
    Repayment,
    RepaymentAllocation,
)
from credit.services.ledger import (
    ZERO,
    _check_currency,
    account_for,
    hold_place,
    platform_account,
    hold_post,
    lock_accounts,
    money,
    service_atomic,
    write_entry,
)
from organizations.models import Organization


def line_accounts(line: CreditLine) -> tuple[Account, Account]:
    """(payable, receivable) of a line."""
    accounts = {a.kind: a for a in Account.objects.filter(credit_line=line)}
    return accounts[AccountKind.PAYABLE], accounts[AccountKind.RECEIVABLE]


@service_atomic
def credit_line_grant(
    *, supplier: Organization | None, buyer: Organization, limit: Decimal, currency: str, terms_days: int = 30,
    vouched_by: Organization | None = None, grace_days: int = 7, pays_other_vendors: bool = False,
    voucher_share_percent: Decimal = Decimal("0"),
) -> CreditLine:
    """A supplier lets a buyer draw up to `limit` on net-`terms_days` terms. `supplier=None` is a
    platform line (granted by an operator), which pays every vendor of an order; a supplier's line
    with `pays_other_vendors` pays the other vendors of orders for that supplier's kits."""
    limit = money(limit, field="limit", positive=False)
    _check_currency(currency)
    if limit <= 0:
        # A zero line lets nobody draw anything: it only clutters both parties' pages.
        raise CreditLineInvalid({"limit": ["Enter a limit above zero: the most this buyer may owe you at once."]})
    if supplier is not None and not supplier.is_supplier:
        raise CreditLineInvalid({"non_field_errors": ["Only suppliers grant credit lines."]})
    if supplier is not None and buyer.pk == supplier.pk:
        raise CreditLineInvalid({"buyer": ["You cannot grant credit to yourself."]})
    if vouched_by is not None and vouched_by.pk in (buyer.pk, supplier.pk if supplier else None):
        raise CreditLineInvalid({"vouched_by": ["The voucher must be a third organisation."]})
    if not 0 <= terms_days <= 365:
        raise CreditLineInvalid({"terms_days": ["Terms are between 0 and 365 days."]})
    voucher_share_percent = Decimal(str(voucher_share_percent))
    if not Decimal("0") <= voucher_share_percent <= Decimal("100") or (voucher_share_percent and vouched_by is None):
        raise CreditLineInvalid({"voucher_share_percent": ["Between 0 and 100, and only with a voucher."]})
    lender = f"{supplier.name} grants" if supplier else "Kitstreet grants"
    if CreditLine.objects.filter(supplier=supplier, buyer=buyer, currency=currency, kind=CreditLine.Kind.STANDARD).exists():
        raise CreditLineInvalid({"buyer": [f"{lender} {buyer.name} a {currency} line already; change its limit instead."]})
    try:
        with transaction.atomic():
            line = CreditLine.objects.create(
                supplier=supplier, buyer=buyer, vouched_by=vouched_by, currency=currency, limit=limit,
                terms_days=terms_days, grace_days=grace_days, pays_other_vendors=pays_other_vendors or supplier is None,
                voucher_share_percent=voucher_share_percent,
            )
    except IntegrityError:  # a concurrent grant of the same line won
        raise CreditLineInvalid({"buyer": [f"{lender} {buyer.name} a {currency} line already."]}) from None
    Account.objects.bulk_create([
        Account(organization=buyer, credit_line=line, kind=AccountKind.PAYABLE, currency=currency,
                non_negative=False, credit_limit=limit),
        # A platform line's receivable belongs to the platform (no organisation).
        Account(organization=supplier, credit_line=line, kind=AccountKind.RECEIVABLE, currency=currency, non_negative=True),
    ])
    return line


def lender_cash(line: CreditLine) -> Account:
    """Where a line's lender pays vendors from and is repaid into: the supplier's wallet, or for a
    platform line the platform's credit fund (the platform's own money, unlimited here)."""
    if line.supplier_id is None:
        return platform_account(kind=AccountKind.CREDIT_FUND, currency=line.currency)
    return account_for(organization=line.supplier, kind=AccountKind.WALLET, currency=line.currency)


@service_atomic
def credit_line_update(
    *, line: CreditLine, limit: Decimal | None = None, status: str | None = None, terms_days: int | None = None,
    frozen_reason: str = "",
) -> CreditLine:
    """The supplier changes the limit (even below what is owed: that only stops new draws),
    freezes or unfreezes the line, or changes the terms of future draws."""
    payable, _ = line_accounts(line)
    lock_accounts([payable.pk])  # the same lock draws take: a draw sees the old or the new limit, never half
    line = CreditLine.objects.select_for_update().get(pk=line.pk)
    fields = []
    if limit is not None:
        limit = money(limit, field="limit", positive=False)
        if limit < 0:
            raise CreditLineInvalid({"limit": ["The limit cannot be negative."]})
        line.limit = limit
        Account.objects.filter(pk=payable.pk).update(credit_limit=limit)
        fields.append("limit")
    if terms_days is not None:
        if not 0 <= terms_days <= 365:
            raise CreditLineInvalid({"terms_days": ["Terms are between 0 and 365 days."]})
        line.terms_days = terms_days
        fields.append("terms_days")
    if status is not None:
        if status not in CreditLine.Status.values:
            raise CreditLineInvalid({"status": [f"Use one of {', '.join(CreditLine.Status.values)}."]})
        line.status = status
        line.frozen_reason = (frozen_reason or "Frozen by the supplier")[:200] if status == CreditLine.Status.FROZEN else ""
        fields += ["status", "frozen_reason"]
    if fields:
        line.save(update_fields=[*fields, "updated_at"])
    return line


def _active_line_after_lock(line: CreditLine, *, field: str) -> CreditLine:
    line = CreditLine.objects.get(pk=line.pk)  # re-read under the payable lock: status and limit are current
    if line.status != CreditLine.Status.ACTIVE:
        raise CreditLineFrozen({field: [
            f"{line.lender_name} has frozen this credit line" + (f" ({line.frozen_reason})" if line.frozen_reason else "")
            + ": no new draws."
        ]})
    return line


@service_atomic
def credit_reserve(*, line: CreditLine, amount: Decimal, memo: str = "", expires_at=None, field: str = "amount") -> Hold:
    """Reserve credit for an order (a hold on the buyer's payable account): counted against the
    limit at once, becomes an invoice when posted (`credit_draw(hold=...)`), or is voided."""
    payable, receivable = line_accounts(line)
    lock_accounts([payable.pk, receivable.pk])
    _active_line_after_lock(line, field=field)
    return hold_place(account=payable, counter_account=receivable, amount=amount, memo=memo, expires_at=expires_at, field=field)


@service_atomic
def credit_draw(
    *, line: CreditLine, amount: Decimal | None = None, hold: Hold | None = None, memo: str = "",
    issued_on: date | None = None, purchase_order_id: int | None = None, field: str = "amount",
) -> Invoice:
    """Draw on the line: an invoice due `terms_days` after `issued_on`. Either posts a
    reservation (`hold`, already counted against the limit; `amount` posts part of it and
    releases the rest) or draws `amount` directly."""
    payable, receivable = line_accounts(line)
    if hold is not None:
        entry = hold_post(hold=hold, amount=amount, kind=EntryKind.CREDIT_DRAW, memo=memo)
        amount = hold.amount if amount is None else money(amount)
        line = CreditLine.objects.get(pk=line.pk)
    else:
        amount = money(amount, field=field)
        locked = lock_accounts([payable.pk, receivable.pk])
        line = _active_line_after_lock(line, field=field)
        entry = write_entry(locked=locked, legs=[(payable.pk, -amount), (receivable.pk, amount)], kind=EntryKind.CREDIT_DRAW,
                            memo=memo, organization=line.buyer, field=field)
    issued_on = issued_on or timezone.localdate()
    return Invoice.objects.create(
        credit_line=line, purchase_order_id=purchase_order_id, amount=amount, currency=line.currency, issued_on=issued_on,
        due_date=issued_on + timedelta(days=line.terms_days), memo=memo[:300], entry=entry,
    )


@service_atomic
def credit_repay(*, line: CreditLine, amount: Decimal, created_by=None, paid_on: date | None = None) -> Repayment:
    """The buyer pays the supplier from its wallet; the money settles the oldest invoices first
    (by due date). Refused when it is more than is owed or more than the wallet holds."""
    amount = money(amount)
    locked, accounts = repayment_lock(line)
    owed = -locked[accounts[0].pk].balance
    if amount > owed:
        raise RepaymentInvalid({"amount": [f"You owe {owed} {line.currency} on this line; repay at most that."]})
    return repayment_write(line=line, amount=amount, locked=locked, accounts=accounts, created_by=created_by, paid_on=paid_on)


def repayment_lock(line: CreditLine) -> tuple[dict[int, Account], tuple[Account, Account, Account, Account]]:
    """Lock what a repayment moves, in id order: (payable, receivable, buyer's wallet, lender's cash)."""
    payable, receivable = line_accounts(line)
    buyer_wallet = account_for(organization=line.buyer, kind=AccountKind.WALLET, currency=line.currency)
    lender = lender_cash(line)
    locked = lock_accounts([payable.pk, receivable.pk, buyer_wallet.pk, lender.pk])
    return locked, (payable, receivable, buyer_wallet, lender)


def repayment_write(
    *, line: CreditLine, amount: Decimal, locked: dict[int, Account], accounts, created_by=None,
    paid_on: date | None = None, reference: str = "", memo: str = "",
) -> Repayment:
    """Post a repayment of `amount` (accounts locked by `repayment_lock`, amount within what is
    owed) and fill the oldest invoices first."""
    payable, receivable, buyer_wallet, lender = accounts
    entry = write_entry(
        locked=locked, kind=EntryKind.REPAYMENT, memo=memo or f"Repayment to {line.lender_name}", organization=line.buyer,
        created_by=created_by,
        legs=[(buyer_wallet.pk, -amount), (lender.pk, amount), (payable.pk, amount), (receivable.pk, -amount)],
    )
    repayment = Repayment.objects.create(credit_line=line, amount=amount, currency=line.currency, entry=entry,
                                         created_by=created_by, reference=reference)
    paid_on = paid_on or timezone.localdate()
    remaining, allocations = amount, []
    invoices = (Invoice.objects.select_for_update()
                .filter(credit_line=line, status__in=[Invoice.Status.OPEN, Invoice.Status.OVERDUE])
                .order_by("due_date", "id"))
    for invoice in invoices:
        if remaining <= 0:
            break
        share = min(remaining, invoice.outstanding)
        invoice.paid += share
        remaining -= share
        fields = ["paid"]
        if invoice.outstanding == 0:
            invoice.status, invoice.paid_on = Invoice.Status.PAID, paid_on
            fields += ["status", "paid_on"]
        invoice.save(update_fields=fields)
        allocations.append(RepaymentAllocation(repayment=repayment, invoice=invoice, amount=share))
    if remaining != ZERO:  # invoices and the payable account disagree: refuse rather than lose money
        raise RepaymentInvalid({"amount": ["The line's invoices do not add up to what is owed; contact support."]})
    RepaymentAllocation.objects.bulk_create(allocations)
    return repayment


def invoice_mark_overdue(*, today: date | None = None) -> dict[str, int]:
    """The daily sweep: open invoices past due become overdue; a line with an invoice more than
    `grace_days` past due is frozen for new draws. Idempotent."""
    today = today or timezone.localdate()
    marked = Invoice.objects.filter(status=Invoice.Status.OPEN, due_date__lt=today).update(status=Invoice.Status.OVERDUE)
    frozen = 0
    overdue = (Invoice.objects.filter(status=Invoice.Status.OVERDUE, credit_line__status=CreditLine.Status.ACTIVE)
               .select_related("credit_line").order_by("credit_line_id", "due_date"))
    seen: set[int] = set()
    for invoice in overdue:
        line = invoice.credit_line
        if line.pk in seen:
            continue
        seen.add(line.pk)
        days = (today - invoice.due_date).days
        if days > line.grace_days:
            credit_line_update(line=line, status=CreditLine.Status.FROZEN,
                               frozen_reason=f"invoice {invoice.pk} is {days} days overdue")
            frozen += 1
    return {"marked_overdue": marked, "lines_frozen": frozen}


@service_atomic
def credit_write_off(*, line: CreditLine, reason: str, created_by=None) -> JournalEntry | None:
    """The lender gives up on what the buyer owes on the line: the debt leaves the payable and
    receivable, and open invoices are marked written off. A voucher shares the exposure for real:
    its `voucher_share_percent` of the written-off amount moves from the voucher's wallet to the
    lender (refused with 400 when the voucher's wallet cannot cover it). The line is frozen."""
    reason = (reason or "").strip()
    if not reason:
        raise WriteOffInvalid({"reason": ["Say why the debt is written off."]})
    payable, receivable = line_accounts(line)
    ids = [payable.pk, receivable.pk]
    voucher_wallet = cash = None
    line = CreditLine.objects.select_related("supplier", "buyer", "vouched_by").get(pk=line.pk)
    if line.vouched_by_id and line.voucher_share_percent:
        voucher_wallet = account_for(organization=line.vouched_by, kind=AccountKind.WALLET, currency=line.currency)
        cash = lender_cash(line)
        ids += [voucher_wallet.pk, cash.pk]
    locked = lock_accounts(ids)
    owed = -locked[payable.pk].balance
    if owed <= 0:
        raise WriteOffInvalid({"non_field_errors": ["Nothing is owed on this line."]})
    legs = [(payable.pk, owed), (receivable.pk, -owed)]
    share = ZERO
    if voucher_wallet is not None:
        share = (owed * line.voucher_share_percent / Decimal("100")).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        if share > 0:
            legs += [(voucher_wallet.pk, -share), (cash.pk, share)]
    entry = write_entry(locked=locked, legs=legs, kind=EntryKind.WRITE_OFF, reason=reason[:300], created_by=created_by,
                        organization=line.supplier, memo=f"Write-off of {owed} {line.currency} owed by {line.buyer.name}"
                        + (f"; {line.vouched_by.name} pays its {line.voucher_share_percent:g}% ({share})" if share else ""))
    for invoice in (Invoice.objects.select_for_update().filter(credit_line=line, status__in=[Invoice.Status.OPEN, Invoice.Status.OVERDUE])
                    .order_by("due_date", "id")):
        invoice.credited += invoice.outstanding
        invoice.status = Invoice.Status.WRITTEN_OFF
        invoice.save(update_fields=["credited", "status"])
    CreditLine.objects.filter(pk=line.pk).update(status=CreditLine.Status.FROZEN, frozen_reason="written off")
    return entry
