"""Demand-backed credit: a line opened for one proven trial's reorder, paid back by a share of the
sales of the batch it financed (docs/ledger.md, "Demand-backed credit").

Credit knows nothing of trials or orders: a trial and an order are plain ids. The trials app works
out the offer (how much the pessimistic demand would repay) and calls `demand_line_open` inside the
order's transaction, then `demand_sweep` inside each sales batch's transaction, and
`demand_line_stall` when sales fall behind the forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum

from credit.exceptions import CreditLineInvalid, DemandCreditConflict
from credit.models import Account, AccountKind, CreditLine, DemandAppetite, Hold, PurchaseOrderPayment, Repayment
from credit.services.credit_lines import credit_line_update, line_accounts, repayment_lock, repayment_write
from credit.services.ledger import CENT, ZERO, _check_currency, service_atomic
from organizations.models import Organization

STALL_PREFIX = "sales stalled"


@dataclass(frozen=True)
class Appetite:
    """What one lender will still lend on demand in one currency."""

    lender: Organization | None
    currency: str
    max_per_line: Decimal
    max_total: Decimal
    exposure: Decimal  # owed plus reserved on its demand lines now
    repayment_share: Decimal
    lends_on_simulated: bool
    active: bool

    @property
    def name(self) -> str:
        return self.lender.name if self.lender is not None else "Kitstreet"

    @property
    def room(self) -> Decimal:
        """How much one more line may get from this lender."""
        if not self.active:
            return ZERO
        return max(ZERO, min(self.max_per_line, self.max_total - self.exposure))


def _platform_default(currency: str) -> dict:
    conf = getattr(settings, "KITSTREET_DEMAND_CREDIT", {}) or {}
    per_line = Decimal(str((conf.get("platform_max_per_line") or {}).get(currency, "0")))
    return {
        "max_per_line": per_line,
        "max_total": Decimal(str((conf.get("platform_max_total") or {}).get(currency, per_line * 20))),
        "repayment_share": Decimal(str(conf.get("repayment_share", "0.5"))),
        "lends_on_simulated": bool(conf.get("simulated_trials", False)),
        "active": per_line > 0,
    }


def demand_exposure(*, lender: Organization | None, currency: str) -> Decimal:
    """What a lender's demand lines owe and have reserved now (each line's payable balance and holds)."""
    lines = CreditLine.objects.filter(kind=CreditLine.Kind.DEMAND, currency=currency, supplier=lender)
    row = (Account.objects.filter(credit_line__in=lines, kind=AccountKind.PAYABLE)
           .aggregate(owed=Sum("balance"), held=Sum("held")))
    return (-(row["owed"] or ZERO) + (row["held"] or ZERO)).quantize(CENT)


def demand_appetite(*, lender: Organization | None, currency: str) -> Appetite:
    """A lender's appetite: its row, or for the platform the settings' default when it has none."""
    row = DemandAppetite.objects.filter(lender=lender, currency=currency).first()
    values = (
        {"max_per_line": row.max_per_line, "max_total": row.max_total, "repayment_share": row.repayment_share,
         "lends_on_simulated": row.lends_on_simulated, "active": row.active}
        if row is not None else (_platform_default(currency) if lender is None else None)
    )
    if values is None:
        return Appetite(lender, currency, ZERO, ZERO, ZERO, Decimal("0.5"), False, False)
    return Appetite(lender=lender, currency=currency, exposure=demand_exposure(lender=lender, currency=currency), **values)


def demand_appetites(*, currency: str, supplier_ids: list[int] | None = None) -> list[Appetite]:
    """The platform's appetite, then that of every supplier among `supplier_ids` who opted in."""
    out = [demand_appetite(lender=None, currency=currency)]
    rows = DemandAppetite.objects.filter(lender__isnull=False, currency=currency, active=True).select_related("lender")
    if supplier_ids is not None:
        rows = rows.filter(lender_id__in=supplier_ids)
    for row in rows.order_by("lender_id"):
        out.append(demand_appetite(lender=row.lender, currency=currency))
    return out


@transaction.atomic
def demand_appetite_set(
    *, lender: Organization | None, currency: str, max_per_line: Decimal, max_total: Decimal,
    repayment_share: Decimal = Decimal("0.5"), lends_on_simulated: bool = False, active: bool = True,
) -> DemandAppetite:
    """A supplier opts in to finance proven trials' reorders (or an operator sets the platform's)."""
    _check_currency(currency)
    if lender is not None and not lender.is_supplier:
        raise CreditLineInvalid({"non_field_errors": ["Only suppliers (or the platform) lend on demand."]})
    errors = {}
    if max_per_line < 0:
        errors["max_per_line"] = ["Zero or more."]
    if max_total < max_per_line:
        errors["max_total"] = ["At least the most for one line."]
    if not Decimal("0") < repayment_share <= Decimal("1"):
        errors["repayment_share"] = ["A share above 0 and at most 1."]
    if errors:
        raise CreditLineInvalid(errors)
    row, _ = DemandAppetite.objects.update_or_create(lender=lender, currency=currency, defaults={
        "max_per_line": max_per_line, "max_total": max_total, "repayment_share": repayment_share,
        "lends_on_simulated": lends_on_simulated, "active": active,
    })
    return row


def demand_line_for_trial(*, trial_id: int) -> CreditLine | None:
    return CreditLine.objects.filter(kind=CreditLine.Kind.DEMAND, trial_id=trial_id).select_related("supplier", "buyer").first()


def demand_line_for_order(*, order_id: int) -> CreditLine | None:
    return CreditLine.objects.filter(kind=CreditLine.Kind.DEMAND, order_id=order_id).select_related("supplier", "buyer").first()


def _order_is_live(order_id: int | None) -> bool:
    if order_id is None:
        return False
    return PurchaseOrderPayment.objects.filter(order_id=order_id).exclude(status=PurchaseOrderPayment.Status.CANCELLED).exists()


@service_atomic
def demand_line_open(
    *, buyer: Organization, lender: Organization | None, trial_id: int, order_id: int, currency: str,
    limit: Decimal, repayment_share: Decimal, terms_days: int,
) -> CreditLine:
    """Open the demand line of a trial for the order about to be placed on it (or reopen it when
    the earlier order on it was cancelled). One live order per trial: a second is a conflict."""
    _check_currency(currency)
    if limit <= 0:
        raise CreditLineInvalid({"payment": ["This trial's demand supports no credit."]})
    if not Decimal("0") < repayment_share <= Decimal("1"):
        raise CreditLineInvalid({"payment": ["The repayment share is above 0 and at most 1."]})
    terms_days = max(0, min(365, int(terms_days)))
    line = CreditLine.objects.select_for_update().filter(kind=CreditLine.Kind.DEMAND, trial_id=trial_id).first()
    if line is not None:
        if line.buyer_id != buyer.pk:
            raise DemandCreditConflict(f"Trial {trial_id}'s demand already backs another organisation's line.")
        if _order_is_live(line.order_id):
            raise DemandCreditConflict(f"Trial {trial_id}'s reorder was already ordered on demand credit (order {line.order_id}); "
                                       "one order per proven trial.")
        payable, _ = line_accounts(line)
        if payable.balance != 0 or payable.held != 0:
            raise DemandCreditConflict(f"Demand line {line.pk} still has money owed or reserved.")
        credit_line_update(line=line, limit=limit, status=CreditLine.Status.ACTIVE, terms_days=terms_days)
        line.refresh_from_db()
        line.order_id, line.repayment_share = order_id, repayment_share
        line.save(update_fields=["order_id", "repayment_share", "updated_at"])
        return line
    try:
        with transaction.atomic():
            line = CreditLine.objects.create(
                kind=CreditLine.Kind.DEMAND, supplier=lender, buyer=buyer, currency=currency, limit=limit,
                terms_days=terms_days, grace_days=7, pays_other_vendors=True, trial_id=trial_id, order_id=order_id,
                repayment_share=repayment_share,
            )
    except IntegrityError:  # a concurrent order on the same trial won
        raise DemandCreditConflict(f"Trial {trial_id}'s reorder is being ordered on demand credit already.") from None
    Account.objects.bulk_create([
        Account(organization=buyer, credit_line=line, kind=AccountKind.PAYABLE, currency=currency,
                non_negative=False, credit_limit=limit),
        Account(organization=lender, credit_line=line, kind=AccountKind.RECEIVABLE, currency=currency, non_negative=True),
    ])
    return line


@dataclass(frozen=True)
class Sweep:
    """What a batch of sales sent to its demand line: `due` (the share of revenue), `swept` (what
    moved), `short` (what the wallet could not cover, still owed on the invoices)."""

    line_id: int
    due: Decimal
    swept: Decimal
    repayment_id: int | None
    note: str

    def as_dict(self) -> dict:
        return {"line": self.line_id, "due": str(self.due), "swept": str(self.swept),
                "short": str(self.due - self.swept), "repayment": self.repayment_id, "note": self.note}


def sweep_share(*, revenue: Decimal, share: Decimal) -> Decimal:
    """One sale's share, rounded once (half-even to the cent): a batch's due is the sum of these, so
    however sales are batched the same sales sweep the same total."""
    return (Decimal(revenue) * share).quantize(CENT, ROUND_HALF_EVEN)


@service_atomic
def demand_sweep(*, order_id: int, revenues: list[Decimal], reference: str) -> Sweep | None:
    """Sweep `repayment_share` of each sale's revenue from the buyer's wallet to the demand line
    that financed `order_id`, oldest invoice first, in the caller's transaction (the sales event's).
    Idempotent by `reference`: a batch already swept returns its first sweep. What is not owed yet
    (nothing delivered) or not in the wallet is not swept, and the note says so; the invoices
    keep their due dates and ageing."""
    line = demand_line_for_order(order_id=order_id)
    if line is None:
        return None
    due = sum((sweep_share(revenue=r, share=line.repayment_share) for r in revenues), ZERO)
    previous = Repayment.objects.filter(reference=reference).first()
    if previous is not None:
        return Sweep(line.pk, due, previous.amount, previous.pk, "already swept")
    if due <= 0:
        return Sweep(line.pk, ZERO, ZERO, None, "")
    locked, accounts = repayment_lock(line)
    owed = -locked[accounts[0].pk].balance
    available = locked[accounts[2].pk].balance - locked[accounts[2].pk].held
    amount = min(due, owed, max(available, ZERO))
    note = ""
    if amount < due:
        note = (f"{due - amount} {line.currency} not swept: "
                + ("nothing more is owed on the line yet" if owed < due and owed <= available
                   else f"the wallet holds {max(available, ZERO)} {line.currency}") + ".")
    if amount <= 0:
        return Sweep(line.pk, due, ZERO, None, note)
    repayment = repayment_write(line=line, amount=amount, locked=locked, accounts=accounts, reference=reference[:80],
                                memo=f"{line.repayment_share * 100:g}% of sales swept to {line.lender_name} "
                                     f"(demand line {line.pk}, trial {line.trial_id})")
    return Sweep(line.pk, due, amount, repayment.pk, note)


@service_atomic
def demand_line_stall(*, line: CreditLine, stalled: bool, reason: str = "") -> CreditLine:
    """Freeze a demand line's new draws while its batch sells below the forecast (and say why), or
    lift that freeze once sales are back on pace. A freeze for any other reason is left alone."""
    line = CreditLine.objects.get(pk=line.pk)
    frozen_by_stall = line.status == CreditLine.Status.FROZEN and line.frozen_reason.startswith(STALL_PREFIX)
    if stalled and line.status == CreditLine.Status.ACTIVE:
        return credit_line_update(line=line, status=CreditLine.Status.FROZEN, frozen_reason=f"{STALL_PREFIX}: {reason}"[:200])
    if stalled and frozen_by_stall and line.frozen_reason != f"{STALL_PREFIX}: {reason}"[:200]:
        return credit_line_update(line=line, status=CreditLine.Status.FROZEN, frozen_reason=f"{STALL_PREFIX}: {reason}"[:200])
    if not stalled and frozen_by_stall:
        return credit_line_update(line=line, status=CreditLine.Status.ACTIVE)
    return line


def demand_line_figures(*, line: CreditLine) -> dict:
    """Owed, reserved, swept so far and the line's state, for the trial page."""
    payable, _ = line_accounts(line)
    swept = Repayment.objects.filter(credit_line=line).exclude(reference="").aggregate(total=Sum("amount"))["total"] or ZERO
    reserved = Hold.objects.filter(account=payable, status=Hold.Status.PENDING).aggregate(total=Sum("amount"))["total"] or ZERO
    return {"line": line.pk, "lender": line.lender_name, "limit": line.limit, "currency": line.currency,
            "owed": -payable.balance, "reserved": reserved, "swept": swept, "repayment_share": line.repayment_share,
            "terms_days": line.terms_days, "status": line.status, "frozen_reason": line.frozen_reason,
            "order": line.order_id, "trial": line.trial_id}
