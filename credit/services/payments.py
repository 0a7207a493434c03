"""How purchase orders pay: deposits into escrow, or credit reservations that become invoices.

Called by the marketplace (through credit/payments.py, with plain values: a purchase order is
its id) inside its own order transactions, after it has locked the purchase order; so a refusal
here rolls the order step back. Each purchase order gets one PurchaseOrderPayment row, locked
before any account (see docs/ledger.md).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from django.db import transaction

from credit.exceptions import NoCreditLine
from credit.models import AccountKind, CreditLine, EntryKind, Hold, PurchaseOrderPayment, SupplierTerms
from credit.services.credit_lines import credit_draw, credit_reserve
from credit.services.ledger import CENT, ZERO, account_for, hold_void, ledger_post
from organizations.models import Organization

PAYMENT_FIELD = "payment"  # errors from order placement show under the order's `payment` field


def supplier_terms(*, supplier: Organization) -> SupplierTerms:
    """The supplier's deposit terms (defaults when it never set any: 30 %, released on confirmation,
    all of it forfeited if the buyer cancels after confirmation)."""
    return SupplierTerms.objects.filter(organization=supplier).first() or SupplierTerms(organization=supplier)


@transaction.atomic
def supplier_terms_set(*, supplier: Organization, deposit_percent: Decimal, release_on: str, forfeit_percent: Decimal) -> SupplierTerms:
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
    if errors:
        raise CreditLineInvalid(errors)
    terms, _ = SupplierTerms.objects.update_or_create(
        organization=supplier,
        defaults={"deposit_percent": deposit_percent, "release_on": release_on, "forfeit_percent": forfeit_percent},
    )
    return terms


def _share(amount: Decimal, percent: Decimal) -> Decimal:
    return (amount * percent / Decimal("100")).quantize(CENT, ROUND_HALF_EVEN)


@transaction.atomic
def purchase_order_payment_open(
    *, purchase_order_id: int, order_id: int | None, buyer: Organization, vendor: Organization,
    currency: str, total: Decimal, method: str,
) -> PurchaseOrderPayment:
    record = PurchaseOrderPayment(purchase_order_id=purchase_order_id, order_id=order_id, buyer=buyer, supplier=vendor,
                                  method=method, currency=currency, total=total)
    if method == PurchaseOrderPayment.Method.DEPOSIT:
        terms = supplier_terms(supplier=vendor)
        record.release_on, record.forfeit_percent = terms.release_on, terms.forfeit_percent
        record.deposit_amount = _share(total, terms.deposit_percent)
        if record.deposit_amount > 0:
            wallet = account_for(organization=buyer, kind=AccountKind.WALLET, currency=currency)
            escrow = account_for(organization=buyer, kind=AccountKind.ESCROW, currency=currency)
            ledger_post(legs=[(wallet, -record.deposit_amount), (escrow, record.deposit_amount)], kind=EntryKind.DEPOSIT,
                        memo=f"{terms.deposit_percent:g}% deposit for PO {purchase_order_id} ({vendor.name})",
                        organization=buyer, field=PAYMENT_FIELD)
            record.deposit_status = PurchaseOrderPayment.DepositStatus.ESCROW
    elif method == PurchaseOrderPayment.Method.CREDIT:
        line = CreditLine.objects.filter(supplier=vendor, buyer=buyer, currency=currency).first()
        if line is None:
            raise NoCreditLine({PAYMENT_FIELD: [
                f"{vendor.name} has not granted you a {currency} credit line. Pay by deposit, or ask them for a line."
            ]})
        if total > 0:
            record.hold = credit_reserve(line=line, amount=total, memo=f"Credit for PO {purchase_order_id}", field=PAYMENT_FIELD)
    else:
        raise NoCreditLine({PAYMENT_FIELD: ["Pay by deposit or credit."]})
    record.save()
    return record


def _locked_record(purchase_order_id: int) -> PurchaseOrderPayment | None:
    return (PurchaseOrderPayment.objects.select_for_update(of=("self",)).select_related("buyer", "supplier", "hold")
            .filter(purchase_order_id=purchase_order_id).first())


def _release(record: PurchaseOrderPayment) -> None:
    escrow = account_for(organization=record.buyer, kind=AccountKind.ESCROW, currency=record.currency)
    supplier_wallet = account_for(organization=record.supplier, kind=AccountKind.WALLET, currency=record.currency)
    ledger_post(legs=[(escrow, -record.deposit_amount), (supplier_wallet, record.deposit_amount)],
                kind=EntryKind.DEPOSIT_RELEASE, memo=f"Deposit for PO {record.purchase_order_id} released",
                organization=record.buyer)
    record.deposit_status = PurchaseOrderPayment.DepositStatus.RELEASED


@transaction.atomic
def purchase_order_payment_confirm(*, purchase_order_id: int) -> PurchaseOrderPayment | None:
    record = _locked_record(purchase_order_id)
    if (record and record.deposit_status == PurchaseOrderPayment.DepositStatus.ESCROW
            and record.release_on == SupplierTerms.ReleaseOn.CONFIRM):
        _release(record)
        record.save(update_fields=["deposit_status", "updated_at"])
    return record


@transaction.atomic
def purchase_order_payment_deliver(*, purchase_order_id: int) -> PurchaseOrderPayment | None:
    """Delivered: the deposit goes to the supplier and the buyer pays the balance from its
    wallet (400 if it cannot: top up first); a credit reservation becomes an invoice."""
    record = _locked_record(purchase_order_id)
    if record is None or record.status != PurchaseOrderPayment.Status.OPEN:
        return record
    if record.method == PurchaseOrderPayment.Method.DEPOSIT:
        if record.deposit_status == PurchaseOrderPayment.DepositStatus.ESCROW:
            _release(record)
        balance = record.total - record.deposit_amount
        if balance > 0:
            wallet = account_for(organization=record.buyer, kind=AccountKind.WALLET, currency=record.currency)
            supplier_wallet = account_for(organization=record.supplier, kind=AccountKind.WALLET, currency=record.currency)
            ledger_post(legs=[(wallet, -balance), (supplier_wallet, balance)], kind=EntryKind.BALANCE_PAYMENT,
                        memo=f"Balance of PO {purchase_order_id} on delivery", organization=record.buyer,
                        field=PAYMENT_FIELD)
    elif record.hold is not None and record.hold.status == Hold.Status.PENDING:
        line = CreditLine.objects.get(supplier=record.supplier, buyer=record.buyer, currency=record.currency)
        record.invoice = credit_draw(line=line, hold=record.hold, memo=f"PO {purchase_order_id} delivered",
                                     purchase_order_id=purchase_order_id)
    record.status = PurchaseOrderPayment.Status.SETTLED
    record.save(update_fields=["deposit_status", "invoice", "status", "updated_at"])
    return record


@transaction.atomic
def purchase_order_payment_cancel(*, purchase_order_id: int, by_supplier: bool, after_confirmation: bool) -> PurchaseOrderPayment | None:
    """Cancelled: the supplier's cancellation refunds the whole deposit; the buyer's, after the
    supplier confirmed, forfeits the terms' share of it; a credit reservation is voided."""
    record = _locked_record(purchase_order_id)
    if record is None or record.status != PurchaseOrderPayment.Status.OPEN:
        return record
    if record.method == PurchaseOrderPayment.Method.CREDIT:
        if record.hold is not None and record.hold.status == Hold.Status.PENDING:
            hold_void(hold=record.hold)
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
    return record
