"""The platform's take and its rolling reserves.

- Operators set the fee schedule (a default percent, and percents by part category). A purchase
  order's `platform_fee` is fixed when it is placed, from the schedule in force then.
- Every release of money to the supplier of a purchase order (its deposit, the balance on
  delivery, a lender's disbursement) pays the platform's revenue account in the same entry: the
  first releases pay the fee until it is collected (`fee_collected`), so a 400.00 order at 2 %
  pays the supplier 392.00 in total however it is split.
- A supplier under a rolling reserve (percent and days, set by an operator) has that percent of
  what each release pays it (after the fee) posted to its reserve account in the same entry, and
  the beat (`reserve_release_due`) moves each tranche back to its wallet when it is due.
See docs/ledger.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from credit.exceptions import FeeScheduleInvalid, ReserveInvalid
from credit.models import (
    Account,
    AccountKind,
    EntryKind,
    PlatformFeeSchedule,
    PurchaseOrderPayment,
    ReserveTranche,
    SupplierReserve,
)
from credit.services.ledger import CENT, ZERO, account_for, ledger_post, platform_account, service_atomic
from organizations.models import Organization

HUNDRED = Decimal("100")
MAX_CATEGORIES = 200
MAX_RESERVE_DAYS = 365


def _percent(value, *, field: str, error=FeeScheduleInvalid) -> Decimal:
    try:
        percent = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise error({field: [f"{value!r} is not a number."]}) from None
    if isinstance(value, bool) or not percent.is_finite() or not ZERO <= percent <= HUNDRED:
        raise error({field: ["A percent from 0 to 100."]})
    if percent != percent.quantize(CENT):
        raise error({field: ["Use at most two decimal places."]})
    return percent.quantize(CENT)


# --- the fee schedule --------------------------------------------------------------------------

@transaction.atomic
def fee_schedule_set(*, default_percent, by_category: dict | None = None, created_by=None) -> PlatformFeeSchedule:
    """A new fee schedule, in force for purchase orders placed from now on (old ones keep theirs).
    Categories are matched without regard to case or surrounding spaces."""
    default = _percent(default_percent, field="default_percent")
    by_category = by_category or {}
    if not isinstance(by_category, dict) or len(by_category) > MAX_CATEGORIES:
        raise FeeScheduleInvalid({"by_category": [f"Give an object of at most {MAX_CATEGORIES} {{category: percent}}."]})
    cleaned: dict[str, str] = {}
    for name, percent in by_category.items():
        key = str(name).strip()
        if not key or len(key) > 100:
            raise FeeScheduleInvalid({"by_category": ["Category names are 1 to 100 characters."]})
        if key.casefold() in {k.casefold() for k in cleaned}:
            raise FeeScheduleInvalid({"by_category": [f"Category {key!r} is given twice."]})
        cleaned[key] = str(_percent(percent, field="by_category"))
    return PlatformFeeSchedule.objects.create(default_percent=default, by_category=cleaned, created_by=created_by)


def fee_schedule_current() -> PlatformFeeSchedule:
    """The schedule in force (no fee until an operator sets one)."""
    return PlatformFeeSchedule.objects.order_by("-id").first() or PlatformFeeSchedule(default_percent=ZERO, by_category={})


def platform_fee_for(*, basis: dict[str, Decimal], schedule: PlatformFeeSchedule | None = None) -> Decimal:
    """The fee on a purchase order whose amounts by part category are `basis` (category "" for
    lines without one: services, shipping): each category at its percent (else the default),
    summed and rounded half-even to the cent once."""
    schedule = schedule or fee_schedule_current()
    percents = {k.strip().casefold(): Decimal(v) for k, v in (schedule.by_category or {}).items()}
    exact = sum((Decimal(amount) * percents.get((category or "").strip().casefold(), schedule.default_percent)
                 for category, amount in basis.items()), Decimal(0))
    return (exact / HUNDRED).quantize(CENT, ROUND_HALF_EVEN)


# --- rolling reserves --------------------------------------------------------------------------

@transaction.atomic
def reserve_set(*, organization: Organization, percent, days: int, updated_by=None) -> SupplierReserve | None:
    """Set a supplier's rolling reserve; percent 0 removes it (tranches already held still come
    back when due)."""
    percent = _percent(percent, field="percent", error=ReserveInvalid)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_RESERVE_DAYS:
        raise ReserveInvalid({"days": [f"A whole number of days from 0 to {MAX_RESERVE_DAYS}."]})
    if not organization.is_supplier:
        raise ReserveInvalid({"organization": ["Only suppliers are paid releases; a reserve applies to a supplier."]})
    if percent == 0:
        SupplierReserve.objects.filter(organization=organization).delete()
        return None
    reserve, _ = SupplierReserve.objects.update_or_create(
        organization=organization, defaults={"percent": percent, "days": days, "updated_by": updated_by})
    return reserve


@dataclass
class Payee:
    """How one release to a supplier is split: its wallet, the platform's revenue, its reserve."""

    legs: list[tuple[Account, Decimal]]
    fee: Decimal
    reserved: Decimal
    days: int


def supplier_split(record: PurchaseOrderPayment, amount: Decimal) -> Payee:
    """The credit legs for releasing `amount` to the record's supplier (the caller adds the debit
    legs): the fee still to collect first, then the reserve's share of the rest, the wallet the rest."""
    currency, supplier = record.currency, record.supplier
    fee = min(max(record.platform_fee - record.fee_collected, ZERO), amount)
    reserve = SupplierReserve.objects.filter(organization=supplier).first()
    reserved = ((amount - fee) * reserve.percent / HUNDRED).quantize(CENT, ROUND_HALF_EVEN) if reserve else ZERO
    legs = [(account_for(organization=supplier, kind=AccountKind.WALLET, currency=currency), amount - fee - reserved)]
    if fee:
        legs.append((platform_account(kind=AccountKind.REVENUE, currency=currency), fee))
    if reserved:
        legs.append((account_for(organization=supplier, kind=AccountKind.RESERVE, currency=currency), reserved))
    return Payee(legs=[(a, x) for a, x in legs if x], fee=fee, reserved=reserved, days=reserve.days if reserve else 0)


def supplier_split_accounts(record: PurchaseOrderPayment) -> list[int]:
    """Every account a release to this supplier may credit (to lock them with the others, in order)."""
    currency = record.currency
    return [account_for(organization=record.supplier, kind=AccountKind.WALLET, currency=currency).pk,
            account_for(organization=record.supplier, kind=AccountKind.RESERVE, currency=currency).pk,
            platform_account(kind=AccountKind.REVENUE, currency=currency).pk]


def supplier_split_applied(record: PurchaseOrderPayment, payee: Payee, entry) -> None:
    """After the release's entry: count the fee collected and open the reserve's tranche.
    The caller saves `fee_collected` with the record's other fields."""
    record.fee_collected += payee.fee
    if payee.reserved:
        ReserveTranche.objects.create(organization=record.supplier, currency=record.currency, amount=payee.reserved,
                                      purchase_order_id=record.purchase_order_id, entry=entry,
                                      due_at=timezone.now() + timedelta(days=payee.days))


@service_atomic
def pay_supplier(*, record: PurchaseOrderPayment, debits: list[tuple[Account, Decimal]], kind: str, memo: str,
                 organization: Organization | None = None, field: str = "amount"):
    """One entry: `debits` (negative legs summing to minus the release) pay the supplier its
    share, the platform its fee and the reserve its share."""
    amount = -sum((x for _, x in debits), ZERO)
    payee = supplier_split(record, amount)
    entry = ledger_post(legs=[*debits, *payee.legs], kind=kind, memo=memo, organization=organization, field=field)
    supplier_split_applied(record, payee, entry)
    return entry


# --- the beat ------------------------------------------------------------------------------------

@service_atomic
def reserve_tranche_release(*, tranche: ReserveTranche) -> ReserveTranche | None:
    """Move one due tranche from the supplier's reserve account back to its wallet, once (None
    when it was released already)."""
    tranche = ReserveTranche.objects.select_for_update().select_related("organization").get(pk=tranche.pk)
    if tranche.status != ReserveTranche.Status.HELD:
        return None
    reserve = account_for(organization=tranche.organization, kind=AccountKind.RESERVE, currency=tranche.currency)
    wallet = account_for(organization=tranche.organization, kind=AccountKind.WALLET, currency=tranche.currency)
    tranche.released_entry = ledger_post(
        legs=[(reserve, -tranche.amount), (wallet, tranche.amount)], kind=EntryKind.RESERVE_RELEASE,
        organization=tranche.organization,
        memo=f"Rolling reserve for PO {tranche.purchase_order_id} released" if tranche.purchase_order_id
        else "Rolling reserve released")
    tranche.status = ReserveTranche.Status.RELEASED
    tranche.save(update_fields=["status", "released_entry"])
    return tranche


def reserve_release_due(*, now: datetime | None = None) -> int:
    """Free every tranche due by `now`, each in its own transaction; a doubled beat frees nothing twice."""
    now = now or timezone.now()
    released = 0
    for tranche in ReserveTranche.objects.filter(status=ReserveTranche.Status.HELD, due_at__lte=now).order_by("due_at", "pk"):
        if reserve_tranche_release(tranche=tranche) is not None:
            released += 1
    return released
