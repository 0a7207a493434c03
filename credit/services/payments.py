"""How purchase orders pay: deposits into escrow, or credit reservations that become invoices.

Called by the marketplace (through credit/payments.py, with plain values: a purchase order is
its id) inside its own order transactions, after it has locked the purchase order; so a refusal
here rolls the order step back. Each purchase order gets one PurchaseOrderPayment row, locked
before any account (see docs/ledger.md).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from credit.exceptions import (
    DisputeConflict,
    DisputeInvalid,
    InsufficientFunds,
    NoCreditLine,
    PaymentStepRefused,
)
from credit.models import (
    Account,
    AccountKind,
    CreditLine,
    Dispute,
    EntryKind,
    Hold,
    Invoice,
    PurchaseOrderPayment,
    SupplierTerms,
)
from credit.services.credit_lines import credit_draw, credit_reserve, lender_cash, line_accounts
from config.events.services import event_record
from credit.services.fx import wallet_convert_to
from credit.services.ledger import (
    CENT,
    ZERO,
    _check_currency,
    account_for,
    hold_place,
    hold_post,
    hold_void,
    ledger_post,
    lock_accounts,
    write_entry,
)
from credit.services.platform import pay_supplier, platform_fee_for, supplier_split, supplier_split_accounts, supplier_split_applied
from organizations.models import Organization

PAYMENT_FIELD = "payment"  # errors from order placement show under the order's `payment` field


def supplier_terms(*, supplier: Organization) -> SupplierTerms:
    """The supplier's deposit terms (defaults when it never set any: 30 %, released on confirmation,
    all of it forfeited if the buyer cancels after confirmation)."""
    return SupplierTerms.objects.filter(organization=supplier).first() or SupplierTerms(organization=supplier)


@transaction.atomic
def supplier_terms_set(*, supplier: Organization, deposit_percent: Decimal, release_on: str, forfeit_percent: Decimal,
                       buyer_may_cancel: bool | None = None, default_grace_days: int | None = None,
                       full_escrow_for_new_buyers: bool | None = None) -> SupplierTerms:
    from credit.exceptions import CreditLineInvalid

    if not supplier.is_supplier:
        raise CreditLineInvalid({"non_field_errors": ["Only suppliers set deposit terms."]})
    errors = {}
    if not Decimal("0") <= deposit_percent <= Decimal("100"):
        errors["deposit_percent"] = ["Between 0 and 100."]
    if not Decimal("0") <= forfeit_percent <= Decimal("100"):
        errors["forfeit_percent"] = ["Between 0 and 100."]
    if release_on not in SupplierTerms.ReleaseOn.values:
        errors["release_on"] = [f"Use one of {', '.join(SupplierTerms.ReleaseOn.values)}."]
    if default_grace_days is not None and not 0 <= default_grace_days <= 365:
        errors["default_grace_days"] = ["Between 0 and 365 days."]
    if errors:
        raise CreditLineInvalid(errors)
    defaults = {"deposit_percent": deposit_percent, "release_on": release_on, "forfeit_percent": forfeit_percent}
    optional = {"buyer_may_cancel": buyer_may_cancel, "default_grace_days": default_grace_days,
                "full_escrow_for_new_buyers": full_escrow_for_new_buyers}
    defaults.update({k: v for k, v in optional.items() if v is not None})
    terms, _ = SupplierTerms.objects.update_or_create(organization=supplier, defaults=defaults)
    return terms


def _event(record: PurchaseOrderPayment, type: str, *, key: str | None = None, **data) -> None:
    """The step, in the buyer's and the supplier's event feeds (and their webhooks)."""
    event_record(type=type, object_type="payment", object_id=record.pk, key=key,
                 organization_ids=[record.buyer_id, record.supplier_id],
                 data={"purchase_order": record.purchase_order_id, "order": record.order_id, "method": record.method,
                       "currency": record.currency, "total": str(record.total), "deposit_amount": str(record.deposit_amount),
                       "deposit_status": record.deposit_status, "status": record.status, **data})


def _share(amount: Decimal, percent: Decimal) -> Decimal:
    return (amount * percent / Decimal("100")).quantize(CENT, ROUND_HALF_EVEN)


def _has_history(*, buyer: Organization, supplier: Organization) -> bool:
    return PurchaseOrderPayment.objects.filter(buyer=buyer, supplier=supplier, status=PurchaseOrderPayment.Status.SETTLED).exists()


def credit_line_for(*, buyer: Organization, vendor: Organization, currency: str, kit_owner_id: int | None = None) -> CreditLine | None:
    """Which line pays a purchase order: the vendor's own line to the buyer; else the kit owner's
    line that pays other vendors (a solution house fronting its kit's sub-vendors); else the
    buyer's platform line. One line can so pay every purchase order of a split order."""
    lines = CreditLine.objects.filter(kind=CreditLine.Kind.STANDARD, buyer=buyer, currency=currency)
    line = lines.filter(supplier=vendor).first()
    if line is None and kit_owner_id is not None and kit_owner_id != vendor.pk:
        line = lines.filter(supplier_id=kit_owner_id, pays_other_vendors=True).first()
    if line is None:
        line = lines.filter(supplier__isnull=True).first()
    return line


@transaction.atomic
def purchase_order_payment_open(
    *, purchase_order_id: int, order_id: int | None, buyer: Organization, vendor: Organization,
    currency: str, total: Decimal, method: str, kit_owner_id: int | None = None,
    fee_basis: dict[str, Decimal] | None = None, fund_currency: str | None = None, credit_line_id: int | None = None,
) -> PurchaseOrderPayment:
    """Open the payment of a purchase order: its deposit into escrow, or its credit reservation on
    the line that pays it (`credit_line_id`: that line, e.g. a demand line; else `credit_line_for`).
    `fee_basis` is its amounts by part category (the platform's fee is fixed from it now; default:
    all of `total` at the default percent). `fund_currency`: the buyer pays a deposit order from
    that currency's wallet, each payment converted at the rate in force when it is made (an FX
    entry before it)."""
    record = PurchaseOrderPayment(purchase_order_id=purchase_order_id, order_id=order_id, buyer=buyer, supplier=vendor,
                                  method=method, currency=currency, total=total)
    record.platform_fee = min(platform_fee_for(basis=fee_basis if fee_basis is not None else {"": total}), total)
    if fund_currency and fund_currency != currency:
        _check_currency(fund_currency, field="fund_currency")
        if method != PurchaseOrderPayment.Method.DEPOSIT:
            raise NoCreditLine({PAYMENT_FIELD: [f"Credit is drawn in the order's currency ({currency}); pay from another "
                                                "currency's wallet only by deposit."]})
        record.fund_currency = fund_currency
    terms = supplier_terms(supplier=vendor)
    record.buyer_may_cancel, record.default_grace_days = terms.buyer_may_cancel, terms.default_grace_days
    if method == PurchaseOrderPayment.Method.DEPOSIT:
        record.release_on, record.forfeit_percent = terms.release_on, terms.forfeit_percent
        percent = terms.deposit_percent
        if terms.full_escrow_for_new_buyers and not _has_history(buyer=buyer, supplier=vendor):
            percent = Decimal("100")  # no history with this supplier yet: all of it in escrow
        record.deposit_amount = _share(total, percent)
        if record.deposit_amount > 0:
            _fund(record, record.deposit_amount, purpose=f"Deposit for PO {purchase_order_id}")
            wallet = account_for(organization=buyer, kind=AccountKind.WALLET, currency=currency)
            escrow = account_for(organization=buyer, kind=AccountKind.ESCROW, currency=currency)
            ledger_post(legs=[(wallet, -record.deposit_amount), (escrow, record.deposit_amount)], kind=EntryKind.DEPOSIT,
                        memo=f"{percent:g}% deposit for PO {purchase_order_id} ({vendor.name})",
                        organization=buyer, field=PAYMENT_FIELD)
            record.deposit_status = PurchaseOrderPayment.DepositStatus.ESCROW
    elif method == PurchaseOrderPayment.Method.CREDIT:
        if credit_line_id is not None:
            line = CreditLine.objects.filter(pk=credit_line_id, buyer=buyer, currency=currency).first()
        else:
            line = credit_line_for(buyer=buyer, vendor=vendor, currency=currency, kit_owner_id=kit_owner_id)
        if line is None:
            raise NoCreditLine({PAYMENT_FIELD: [
                f"{vendor.name} has not granted you a {currency} credit line, and you have no {currency} line that pays "
                "other vendors (a platform line, or the kit's solution house's). Pay by deposit, or ask for a line."
            ]})
        record.credit_line = line
        if total > 0:
            if line.supplier_id == vendor.pk:
                record.hold = credit_reserve(line=line, amount=total, memo=f"Credit for PO {purchase_order_id}", field=PAYMENT_FIELD)
            else:
                record.hold, record.funding_hold = _reserve_fronted(record, line)
    else:
        raise NoCreditLine({PAYMENT_FIELD: ["Pay by deposit or credit."]})
    record.save()
    _event(record, "payment.opened")
    return record


def _reserve_fronted(record: PurchaseOrderPayment, line: CreditLine) -> tuple[Hold, Hold]:
    """A line whose lender is not the vendor: reserve the buyer's credit and, beside it, the
    lender's money for the vendor (paid on delivery). All four accounts are locked first, in id
    order, so this never waits in a cycle with a repayment or another order on the line."""
    payable, receivable = line_accounts(line)
    cash = lender_cash(line)
    vendor_wallet = account_for(organization=record.supplier, kind=AccountKind.WALLET, currency=record.currency)
    lock_accounts([payable.pk, receivable.pk, cash.pk, vendor_wallet.pk])
    hold = credit_reserve(line=line, amount=record.total, memo=f"Credit for PO {record.purchase_order_id}", field=PAYMENT_FIELD)
    try:
        funding = hold_place(account=cash, counter_account=vendor_wallet, amount=record.total, field=PAYMENT_FIELD,
                             memo=f"{line.lender_name} pays {record.supplier.name} for PO {record.purchase_order_id}")
    except InsufficientFunds:
        raise InsufficientFunds({PAYMENT_FIELD: [
            f"{line.lender_name} cannot front {record.total} {record.currency} to {record.supplier.name} right now; "
            "pay this order by deposit or ask them."
        ]}) from None
    return hold, funding


def _fund(record: PurchaseOrderPayment, amount: Decimal, *, purpose: str) -> None:
    """A buyer paying from another currency's wallet: bring `amount` into the order currency's
    wallet first, at the rate in force (the FX entry), in the payment's transaction."""
    if record.fund_currency and record.fund_currency != record.currency and amount > 0:
        wallet_convert_to(organization=record.buyer, amount=amount, from_currency=record.fund_currency,
                          to_currency=record.currency, purpose=purpose, field=PAYMENT_FIELD)


def _locked_record(purchase_order_id: int) -> PurchaseOrderPayment | None:
    return (PurchaseOrderPayment.objects.select_for_update(of=("self",)).select_related("buyer", "supplier", "hold")
            .filter(purchase_order_id=purchase_order_id).first())


def _release(record: PurchaseOrderPayment) -> None:
    """The deposit goes to the supplier: less the platform's fee and the supplier's reserve, in one entry."""
    escrow = account_for(organization=record.buyer, kind=AccountKind.ESCROW, currency=record.currency)
    pay_supplier(record=record, debits=[(escrow, -record.deposit_amount)], kind=EntryKind.DEPOSIT_RELEASE,
                 memo=f"Deposit for PO {record.purchase_order_id} released", organization=record.buyer)
    record.deposit_status = PurchaseOrderPayment.DepositStatus.RELEASED
    _event(record, "payment.deposit_released")


@transaction.atomic
def purchase_order_payment_confirm(*, purchase_order_id: int) -> PurchaseOrderPayment | None:
    record = _locked_record(purchase_order_id)
    if (record and record.deposit_status == PurchaseOrderPayment.DepositStatus.ESCROW
            and record.release_on == SupplierTerms.ReleaseOn.CONFIRM):
        _release(record)
        record.save(update_fields=["deposit_status", "fee_collected", "updated_at"])
    return record


@transaction.atomic
def purchase_order_payment_deliver(*, purchase_order_id: int) -> PurchaseOrderPayment | None:
    """Delivered: the deposit goes to the supplier and the buyer pays the balance from its
    wallet (400 if it cannot: top up first); a credit reservation becomes an invoice."""
    record = _locked_record(purchase_order_id)
    if record is None or record.status != PurchaseOrderPayment.Status.OPEN:
        return record
    _refuse_if_disputed(record, step="confirm delivery of")
    if record.method == PurchaseOrderPayment.Method.DEPOSIT:
        released_now = record.deposit_status == PurchaseOrderPayment.DepositStatus.ESCROW
        if released_now:
            _release(record)
        balance = record.total - record.deposit_amount
        if balance > 0:
            _fund(record, balance, purpose=f"Balance of PO {purchase_order_id}")
            wallet = account_for(organization=record.buyer, kind=AccountKind.WALLET, currency=record.currency)
            pay_supplier(record=record, debits=[(wallet, -balance)], kind=EntryKind.BALANCE_PAYMENT,
                         memo=f"Balance of PO {purchase_order_id} on delivery", organization=record.buyer,
                         field=PAYMENT_FIELD)
        paid_now = balance + (record.deposit_amount if released_now else ZERO)
    elif record.hold is not None and record.hold.status == Hold.Status.PENDING:
        record.invoice = _draw(record, amount=None, memo=f"PO {purchase_order_id} delivered")
        paid_now = record.total
    else:
        paid_now = ZERO
    record.status = PurchaseOrderPayment.Status.SETTLED
    record.save(update_fields=["deposit_status", "invoice", "status", "fee_collected", "updated_at"])
    _event(record, "payment.settled")
    if record.late_credit > 0:
        _post_late_credit(record, limit=paid_now)
    return record


@transaction.atomic
def purchase_order_payment_late(*, purchase_order_id: int, amount: Decimal, days: int) -> PurchaseOrderPayment | None:
    """The vendor shipped `days` after its promised date: the buyer earns `amount` (the vendor's
    late credit, worked out by the marketplace from the terms it copied at placement). Recorded
    now, posted in the ledger when the order settles, as a credit from the vendor to the buyer
    (never more than the vendor is paid at settlement, so it can always be posted)."""
    record = _locked_record(purchase_order_id)
    if record is None or record.status != PurchaseOrderPayment.Status.OPEN:
        return record
    amount = min(max(Decimal(amount).quantize(CENT, ROUND_HALF_EVEN), ZERO), record.total)
    if amount == record.late_credit and days == record.late_days:
        return record
    record.late_credit, record.late_days = amount, days
    record.save(update_fields=["late_credit", "late_days", "updated_at"])
    return record


def _post_late_credit(record: PurchaseOrderPayment, *, limit: Decimal) -> None:
    """Post the late credit of a payment that just settled: a deposit order's buyer gets it back
    in its wallet from the vendor's; a credit order's invoice is reduced by it (a credit note; a
    lender that is not the vendor is repaid by the vendor)."""
    amount = min(record.late_credit - record.late_credit_posted, limit)
    if amount <= 0:
        return
    memo = f"Late credit on PO {record.purchase_order_id}: shipped {record.late_days} day(s) late"
    buyer_wallet = account_for(organization=record.buyer, kind=AccountKind.WALLET, currency=record.currency)
    supplier_wallet = account_for(organization=record.supplier, kind=AccountKind.WALLET, currency=record.currency)
    if record.method == PurchaseOrderPayment.Method.DEPOSIT:
        # Paid back from the supplier's wallet, whose releases were net of the platform's fee and its
        # reserve: never more than the wallet has free.
        free = Account.objects.filter(pk=supplier_wallet.pk).values_list("balance", "held").get()
        amount = min(amount, max(free[0] - free[1], ZERO))
        if amount <= 0:
            return
        entry = ledger_post(legs=[(supplier_wallet, -amount), (buyer_wallet, amount)], kind=EntryKind.LATE_CREDIT,
                            memo=memo, organization=record.supplier, field=PAYMENT_FIELD)
    elif record.invoice_id:
        entry = _credit_note(record, refund=amount, memo=memo, resolved_by=None, reason="", buyer_wallet=buyer_wallet,
                             supplier_wallet=supplier_wallet, kind=EntryKind.LATE_CREDIT, field=PAYMENT_FIELD)
    else:
        return
    record.late_credit_posted += amount
    record.late_credit_entry = entry
    record.save(update_fields=["late_credit_posted", "late_credit_entry", "updated_at"])
    _event(record, "payment.late_credit", amount=str(amount), days_late=record.late_days, entry=entry.pk)


@transaction.atomic
def purchase_order_payment_cancel(*, purchase_order_id: int, by_supplier: bool, after_confirmation: bool) -> PurchaseOrderPayment | None:
    """Cancelled: the supplier's cancellation refunds the whole deposit; the buyer's, after the
    supplier confirmed, forfeits the terms' share of it; a credit reservation is voided."""
    record = _locked_record(purchase_order_id)
    if record is None or record.status != PurchaseOrderPayment.Status.OPEN:
        return record
    _refuse_if_disputed(record, step="cancel")
    if record.method == PurchaseOrderPayment.Method.CREDIT:
        _void_credit(record)
    elif record.deposit_status in (PurchaseOrderPayment.DepositStatus.ESCROW, PurchaseOrderPayment.DepositStatus.RELEASED):
        forfeit = ZERO if (by_supplier or not after_confirmation) else _share(record.deposit_amount, record.forfeit_percent)
        refund = record.deposit_amount - forfeit
        wallet = account_for(organization=record.buyer, kind=AccountKind.WALLET, currency=record.currency)
        supplier_wallet = account_for(organization=record.supplier, kind=AccountKind.WALLET, currency=record.currency)
        memo = f"PO {purchase_order_id} cancelled by the {'supplier' if by_supplier else 'buyer'}"
        if record.deposit_status == PurchaseOrderPayment.DepositStatus.ESCROW:
            escrow = account_for(organization=record.buyer, kind=AccountKind.ESCROW, currency=record.currency)
            legs = [(escrow, -record.deposit_amount), (wallet, refund), (supplier_wallet, forfeit)]
        else:  # already released to the supplier: it pays back the part the buyer does not forfeit
            legs = [(supplier_wallet, -refund), (wallet, refund)]
        if any(amount != 0 for _, amount in legs):
            ledger_post(legs=legs, kind=EntryKind.DEPOSIT_FORFEIT if forfeit else EntryKind.DEPOSIT_REFUND, memo=memo,
                        organization=record.supplier if by_supplier else record.buyer, field=PAYMENT_FIELD)
        record.deposit_status = (PurchaseOrderPayment.DepositStatus.FORFEITED if forfeit
                                 else PurchaseOrderPayment.DepositStatus.REFUNDED)
    record.status = PurchaseOrderPayment.Status.CANCELLED
    record.save(update_fields=["deposit_status", "status", "updated_at"])
    _event(record, "payment.cancelled", by_supplier=by_supplier)
    return record


def _line(record: PurchaseOrderPayment) -> CreditLine:
    if record.credit_line_id:
        return record.credit_line
    return CreditLine.objects.get(supplier=record.supplier, buyer=record.buyer, currency=record.currency,  # older records
                                  kind=CreditLine.Kind.STANDARD)


def _lock_credit_accounts(record: PurchaseOrderPayment, line: CreditLine, *extra) -> None:
    """Every account a credit step may touch, locked at once in id order (no cycles)."""
    payable, receivable = line_accounts(line)
    ids = [payable.pk, receivable.pk, *(a if isinstance(a, int) else a.pk for a in extra)]
    if record.funding_hold_id:
        ids += [record.funding_hold.account_id, record.funding_hold.counter_account_id]
    lock_accounts(ids)


def _draw(record: PurchaseOrderPayment, *, amount: Decimal | None, memo: str) -> Invoice:
    """Post the credit reservation (all of it, or `amount`) into an invoice; when the lender is
    not the vendor, the lender pays the vendor the same amount from the money it set aside."""
    line = _line(record)
    fronted = record.funding_hold_id and record.funding_hold.status == Hold.Status.PENDING
    _lock_credit_accounts(record, line, *(supplier_split_accounts(record) if fronted else ()))
    invoice = credit_draw(line=line, hold=record.hold, amount=amount, memo=memo, purchase_order_id=record.purchase_order_id)
    if fronted:  # the lender pays the vendor: less the platform's fee and the vendor's reserve
        payee = supplier_split(record, record.funding_hold.amount if amount is None else amount)
        entry = hold_post(hold=record.funding_hold, amount=amount, kind=EntryKind.CREDIT_DISBURSEMENT, organization=line.supplier,
                          memo=f"{line.lender_name} paid {record.supplier.name} for PO {record.purchase_order_id}",
                          payees=payee.legs)
        supplier_split_applied(record, payee, entry)
    return invoice


def _void_credit(record: PurchaseOrderPayment) -> None:
    if record.hold is not None and record.hold.status == Hold.Status.PENDING:
        if record.funding_hold_id:
            _lock_credit_accounts(record, _line(record))
        hold_void(hold=record.hold)
    if record.funding_hold_id and record.funding_hold.status == Hold.Status.PENDING:
        hold_void(hold=record.funding_hold)


def _open_dispute(record: PurchaseOrderPayment) -> Dispute | None:
    return Dispute.objects.filter(payment=record, status=Dispute.Status.OPEN).first()


def _refuse_if_disputed(record: PurchaseOrderPayment, *, step: str) -> None:
    dispute = _open_dispute(record)
    if dispute is not None:
        raise DisputeConflict(f"Purchase order {record.purchase_order_id} is disputed (dispute {dispute.pk}); "
                              f"nobody can {step} it until an operator resolves the dispute.")


def purchase_order_buyer_may_cancel(*, purchase_order_id: int) -> bool:
    """Whether the supplier's terms (copied at placement) let the buyer cancel after confirmation."""
    record = PurchaseOrderPayment.objects.filter(purchase_order_id=purchase_order_id).only("buyer_may_cancel").first()
    return True if record is None else record.buyer_may_cancel


@transaction.atomic
def purchase_order_payment_default(*, purchase_order_id: int, shipped_at: datetime, now: datetime | None = None) -> PurchaseOrderPayment:
    """The supplier declares that the buyer of a shipped deposit order did not pay the balance
    within the grace period: the terms' share of the deposit goes to the supplier, the rest back
    to the buyer, and the payment closes (the marketplace returns the goods to stock)."""
    record = _locked_record(purchase_order_id)
    if record is None or record.method != PurchaseOrderPayment.Method.DEPOSIT:
        raise PaymentStepRefused("Only deposit orders can be declared in default; a credit order's debt is on its line.")
    if record.status != PurchaseOrderPayment.Status.OPEN:
        raise PaymentStepRefused(f"Purchase order {purchase_order_id} is already {record.get_status_display().lower()}.")
    _refuse_if_disputed(record, step="declare a default on")
    now = now or timezone.now()
    due = shipped_at + timedelta(days=record.default_grace_days)
    if now < due:
        raise PaymentStepRefused(f"The buyer has until {timezone.localtime(due):%Y-%m-%d %H:%M} to pay the balance "
                                 f"({record.default_grace_days} days after shipping); declare a default after that.")
    forfeit = _share(record.deposit_amount, record.forfeit_percent)
    refund = record.deposit_amount - forfeit
    wallet = account_for(organization=record.buyer, kind=AccountKind.WALLET, currency=record.currency)
    supplier_wallet = account_for(organization=record.supplier, kind=AccountKind.WALLET, currency=record.currency)
    if record.deposit_status == PurchaseOrderPayment.DepositStatus.ESCROW:
        escrow = account_for(organization=record.buyer, kind=AccountKind.ESCROW, currency=record.currency)
        legs = [(escrow, -record.deposit_amount), (wallet, refund), (supplier_wallet, forfeit)]
    elif record.deposit_status == PurchaseOrderPayment.DepositStatus.RELEASED:
        legs = [(supplier_wallet, -refund), (wallet, refund)]
    else:
        legs = []
    legs = [(a, x) for a, x in legs if x != 0]
    if len(legs) >= 2:
        ledger_post(legs=legs, kind=EntryKind.DEPOSIT_DEFAULT, organization=record.supplier, field=PAYMENT_FIELD,
                    memo=f"Buyer defaulted on PO {purchase_order_id}: {forfeit} forfeited, {refund} refunded")
    if record.deposit_amount:
        record.deposit_status = (PurchaseOrderPayment.DepositStatus.FORFEITED if forfeit
                                 else PurchaseOrderPayment.DepositStatus.REFUNDED)
    record.status, record.defaulted_at = PurchaseOrderPayment.Status.CANCELLED, now
    record.save(update_fields=["deposit_status", "status", "defaulted_at", "updated_at"])
    _event(record, "payment.defaulted", forfeited=str(forfeit), refunded=str(refund))
    return record


# --- disputes ----------------------------------------------------------------------------------

DISPUTE_REASON_MAX = 1000  # Dispute.reason's column; the dispute form's maxlength

@transaction.atomic
def dispute_open(*, purchase_order_id: int, opened_by: Organization, reason: str, opened_by_user=None) -> Dispute:
    """A party disputes a shipped or delivered purchase order (the marketplace checks party and
    status). Nothing moves: what is still held (escrow, a credit reservation, the lender's money
    for the vendor) stays held, and delivery, default and cancellation are refused, until an
    operator resolves it."""
    reason = (reason or "").strip()
    if not reason:
        raise DisputeInvalid({"reason": ["Say what is wrong with this purchase order."]})
    if len(reason) > DISPUTE_REASON_MAX:  # refused, never cut: the page's limit, enforced here too
        raise DisputeInvalid({"reason": [f"Say it in at most {DISPUTE_REASON_MAX:,} characters (this is {len(reason):,})."]})
    record = _locked_record(purchase_order_id)
    if record is None:
        raise DisputeConflict(f"Purchase order {purchase_order_id} has no payment to dispute.")
    if record.status == PurchaseOrderPayment.Status.CANCELLED:
        raise DisputeConflict(f"Purchase order {purchase_order_id} is cancelled; there is nothing to dispute.")
    existing = Dispute.objects.filter(payment=record).order_by("-id").first()
    if existing is not None:
        state = "open" if existing.status == Dispute.Status.OPEN else "resolved"
        raise DisputeConflict(f"Purchase order {purchase_order_id} already has a dispute ({existing.pk}, {state}).")
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(payment=record, purchase_order_id=purchase_order_id, opened_by=opened_by,
                                             reason=reason, opened_by_user=opened_by_user)
    except IntegrityError:
        raise DisputeConflict(f"Purchase order {purchase_order_id} already has an open dispute.") from None
    _dispute_event(dispute, record, "dispute.opened")
    return dispute


def _dispute_event(dispute: Dispute, record: PurchaseOrderPayment, type: str) -> None:
    data = {"purchase_order": record.purchase_order_id, "payment": record.pk, "status": dispute.status,
            "opened_by": dispute.opened_by_id, "reason": dispute.reason}
    if dispute.status == Dispute.Status.RESOLVED:
        data.update(refund_percent=str(dispute.refund_percent), refund_amount=str(dispute.refund_amount),
                    currency=record.currency)
    event_record(type=type, object_type="dispute", object_id=dispute.pk, data=data,
                 organization_ids=[record.buyer_id, record.supplier_id])


def _merge(legs) -> list[tuple[int, Decimal]]:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for account, amount in legs:
        totals[account if isinstance(account, int) else account.pk] += amount
    return [(pk, amount) for pk, amount in sorted(totals.items()) if amount != 0]


@transaction.atomic
def dispute_resolve(*, dispute: Dispute, refund_percent: Decimal, note: str, resolved_by=None) -> Dispute:
    """An operator splits what the buyer has at stake: `refund_percent` of it goes (back) to the
    buyer, the rest to the supplier, in one `dispute_split` entry carrying the note as its reason.

    - deposit order: at stake is what the buyer paid (deposit, and the balance once delivered);
      escrow pays first, the supplier's wallet the rest of a refund;
    - credit order not yet delivered: the supplier is owed the kept share (an invoice for it), the
      rest of the reservation is released;
    - credit order delivered: the refund first reduces what the buyer still owes on the invoice,
      then comes back from the lender in cash; a lender that is not the vendor is paid back by the vendor.
    The payment is then closed."""
    note = (note or "").strip()
    if not note:
        raise DisputeInvalid({"note": ["Record why the dispute is split this way."]})
    try:
        refund_percent = Decimal(str(refund_percent))
    except Exception:  # noqa: BLE001
        raise DisputeInvalid({"refund_percent": ["A number between 0 and 100."]}) from None
    if not refund_percent.is_finite() or not Decimal("0") <= refund_percent <= Decimal("100"):
        raise DisputeInvalid({"refund_percent": ["A number between 0 and 100."]})
    record = _locked_record(dispute.purchase_order_id)
    dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if dispute.status != Dispute.Status.OPEN:
        raise DisputeConflict(f"Dispute {dispute.pk} is already resolved.")
    memo = f"Dispute {dispute.pk} on PO {record.purchase_order_id}: {refund_percent:g}% to the buyer"
    entry, refund = None, ZERO
    buyer_wallet = account_for(organization=record.buyer, kind=AccountKind.WALLET, currency=record.currency)
    supplier_wallet = account_for(organization=record.supplier, kind=AccountKind.WALLET, currency=record.currency)
    Status, Deposit = PurchaseOrderPayment.Status, PurchaseOrderPayment.DepositStatus
    if record.method == PurchaseOrderPayment.Method.DEPOSIT:
        in_escrow = record.deposit_amount if record.deposit_status == Deposit.ESCROW else ZERO
        paid_out = (record.deposit_amount if record.deposit_status == Deposit.RELEASED else ZERO) + (
            record.total - record.deposit_amount if record.status == Status.SETTLED else ZERO) - record.late_credit_posted
        refund = _share(in_escrow + paid_out, refund_percent)
        from_escrow = min(refund, in_escrow)
        legs = []
        if in_escrow:
            escrow = account_for(organization=record.buyer, kind=AccountKind.ESCROW, currency=record.currency)
            legs += [(escrow, -in_escrow), (buyer_wallet, from_escrow), (supplier_wallet, in_escrow - from_escrow)]
        if refund > from_escrow:
            legs += [(supplier_wallet, -(refund - from_escrow)), (buyer_wallet, refund - from_escrow)]
        legs = _merge(legs)
        if legs:
            entry = ledger_post(legs=legs, kind=EntryKind.DISPUTE_SPLIT, memo=memo, organization=None,
                                created_by=resolved_by, field="refund_percent", reason=note)
        if in_escrow:
            record.deposit_status = Deposit.REFUNDED if from_escrow == in_escrow else Deposit.RELEASED
    else:
        refund = _share(record.total - record.late_credit_posted, refund_percent)
        if record.hold is not None and record.hold.status == Hold.Status.PENDING:  # not delivered yet
            keep = record.total - refund
            if keep > 0:
                record.invoice = _draw(record, amount=keep, memo=memo)
                entry = record.invoice.entry
            else:
                _void_credit(record)
        elif record.invoice_id and refund > 0:
            entry = _credit_note(record, refund=refund, memo=memo, resolved_by=resolved_by, reason=note,
                                 buyer_wallet=buyer_wallet, supplier_wallet=supplier_wallet)
    record.status = Status.SETTLED
    record.save(update_fields=["deposit_status", "invoice", "status", "fee_collected", "updated_at"])
    dispute.status, dispute.refund_percent, dispute.refund_amount = Dispute.Status.RESOLVED, refund_percent, refund
    dispute.note, dispute.entry, dispute.resolved_by, dispute.resolved_at = note[:1000], entry, resolved_by, timezone.now()
    dispute.save(update_fields=["status", "refund_percent", "refund_amount", "note", "entry", "resolved_by", "resolved_at"])
    _dispute_event(dispute, record, "dispute.resolved")
    return dispute


def _credit_note(record, *, refund, memo, resolved_by, reason, buyer_wallet, supplier_wallet,
                 kind=EntryKind.DISPUTE_SPLIT, field="refund_percent"):
    line = _line(record)
    payable, receivable = line_accounts(line)
    cash = lender_cash(line)
    locked = lock_accounts([payable.pk, receivable.pk, cash.pk, buyer_wallet.pk, supplier_wallet.pk])
    invoice = Invoice.objects.select_for_update().get(pk=record.invoice_id)
    forgiven = min(refund, invoice.outstanding)
    cash_back = refund - forgiven
    legs = [(payable.pk, forgiven), (receivable.pk, -forgiven), (cash.pk, -cash_back), (buyer_wallet.pk, cash_back)]
    if line.supplier_id != record.supplier_id:  # the vendor was paid by the lender: it pays the refund back
        legs += [(supplier_wallet.pk, -refund), (cash.pk, refund)]
    entry = write_entry(locked=locked, legs=_merge(legs), kind=kind, memo=memo, reason=reason[:300],
                        created_by=resolved_by, field=field)
    if forgiven:
        invoice.credited += forgiven
        fields = ["credited"]
        if invoice.outstanding == 0:
            invoice.status, invoice.paid_on = Invoice.Status.PAID, timezone.localdate()
            fields += ["status", "paid_on"]
        invoice.save(update_fields=fields)
    return entry
