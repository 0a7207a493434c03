"""Reads of the credit app: accounts, postings, credit lines, ageing, statements, trust, and the
ledger check behind `verify_ledger`."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from credit.exceptions import FxRateMissing
from credit.fx import fx_convert
from credit.models import (
    Account,
    AccountKind,
    BankStatementLine,
    SupplierReserve,
    CreditLine,
    Dispute,
    EntryKind,
    FxRate,
    Payout,
    Hold,
    Invoice,
    JournalEntry,
    Posting,
    PurchaseOrderPayment,
    Repayment,
    ReserveTranche,
    SupplierTerms,
)
from organizations.models import Organization

ZERO = Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)
BUCKETS = ["current", "1-30", "31-60", "61-90", "90+"]


# --- accounts ----------------------------------------------------------------------------------

def account_list(*, organization: Organization) -> QuerySet[Account]:
    return (Account.objects.filter(organization=organization)
            .select_related("credit_line__supplier", "credit_line__buyer").order_by("kind", "currency", "id"))


def posting_list(*, account: Account, at: datetime | None = None) -> QuerySet[Posting]:
    """The account's postings, newest first, with their entries (one join); with `at`, only
    those written by then."""
    qs = Posting.objects.filter(account=account).select_related("entry").order_by("-id")
    if at is not None:
        qs = qs.filter(entry_id__lte=entry_cutoff(at=at))
    return qs


def entry_cutoff(*, at: datetime) -> int:
    """The last journal entry written at or before `at` (0 when none): entries are numbered in
    the order they are written, so "the ledger at `at`" is every entry up to this id. One read of
    the entry_created_idx index."""
    return JournalEntry.objects.filter(created_at__lte=at).order_by("-created_at", "-id").values_list("id", flat=True).first() or 0


def accounts_at(accounts: list[Account], *, at: datetime) -> list[Account]:
    """The accounts as they stood at `at`: `balance` from their postings up to the last entry
    written by then (one grouped read over posting_account_entry_idx), `held` from the holds
    pending at that moment. The instances are changed in place, never saved."""
    ids = [a.pk for a in accounts]
    if not ids:
        return accounts
    cutoff = entry_cutoff(at=at)
    sums = dict(Posting.objects.filter(account_id__in=ids, entry_id__lte=cutoff).values("account")
                .annotate(total=Sum("amount")).values_list("account", "total")) if cutoff else {}
    held = dict(Hold.objects.filter(account_id__in=ids, created_at__lte=at).filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=at))
                .values("account").annotate(total=Sum("amount")).values_list("account", "total"))
    for account in accounts:
        account.balance = _cents(sums.get(account.pk))
        account.held = _cents(held.get(account.pk))
    return accounts


def wallet_summary(*, organization: Organization) -> list[Account]:
    """Wallets and escrow accounts, each currency's wallet first."""
    accounts = Account.objects.filter(organization=organization, kind__in=[AccountKind.WALLET, AccountKind.ESCROW])
    return sorted(accounts, key=lambda a: (a.currency, a.kind != AccountKind.WALLET))


def deposit_list(*, organization: Organization, as_supplier: bool = False) -> QuerySet[PurchaseOrderPayment]:
    qs = PurchaseOrderPayment.objects.filter(method=PurchaseOrderPayment.Method.DEPOSIT)
    qs = qs.filter(supplier=organization) if as_supplier else qs.filter(buyer=organization)
    return qs.select_related("buyer", "supplier").order_by("-created_at", "-id")


def order_payment_list(*, order_id: int) -> dict[int, PurchaseOrderPayment]:
    """How each purchase order of one marketplace order is paid, by purchase-order id."""
    return {p.purchase_order_id: p for p in PurchaseOrderPayment.objects.filter(order_id=order_id)}


def payment_preview(*, buyer: Organization, currency: str, vendor_totals: dict[int, Decimal]) -> dict:
    """What placing an order would take, before it is placed, under each payment method: per
    vendor the deposit moved from the buyer's wallet into escrow (the vendor's terms, rounded as
    the payment will be) or the draw on the vendor's credit line; and whether each method can pay."""
    ids = sorted(vendor_totals)
    terms = {t.organization_id: t for t in SupplierTerms.objects.filter(organization_id__in=ids)}
    default = SupplierTerms()
    lines = {line.supplier_id: line for line in credit_line_list(organization=buyer)
             .filter(buyer=buyer, supplier_id__in=ids, currency=currency, kind=CreditLine.Kind.STANDARD)}
    names = dict(Organization.objects.filter(pk__in=ids).values_list("pk", "name"))
    wallet = Account.objects.filter(organization=buyer, kind=AccountKind.WALLET, currency=currency).first()
    rows = []
    for vendor_id in ids:
        total = vendor_totals[vendor_id]
        percent = terms.get(vendor_id, default).deposit_percent
        line = lines.get(vendor_id)
        rows.append({
            "vendor_id": vendor_id, "vendor": names.get(vendor_id, ""), "total": total, "deposit_percent": percent,
            "deposit": (total * percent / Decimal("100")).quantize(Decimal("0.01"), ROUND_HALF_EVEN),
            "line": line, "credit_ok": bool(line and line.status == CreditLine.Status.ACTIVE and line.available >= total),
        })
    deposit = sum((r["deposit"] for r in rows), ZERO)
    available = wallet.available if wallet else ZERO
    return {"rows": rows, "currency": currency, "deposit": deposit, "wallet_available": available,
            "deposit_ok": available >= deposit, "credit_ok": bool(rows) and all(r["credit_ok"] for r in rows),
            "conversions": _deposit_conversions(buyer=buyer, currency=currency, deposit=deposit)}


def _deposit_conversions(*, buyer: Organization, currency: str, deposit: Decimal) -> list[dict]:
    """Paying the deposits from the buyer's wallets in other currencies: what each would take at
    the rate in force now (the conversion the order would post), and whether the wallet holds it."""
    out = []
    for other in Account.objects.filter(organization=buyer, kind=AccountKind.WALLET).exclude(currency=currency).order_by("currency"):
        try:
            converted = fx_convert(deposit, currency, other.currency)
        except FxRateMissing:
            continue
        out.append({"currency": other.currency, "amount": converted.amount, "rate": converted.rate,
                    "available": other.available, "ok": other.available >= converted.amount})
    return out


# --- credit lines ----------------------------------------------------------------------------

def _line_account(kind: str, column: str):
    return Subquery(Account.objects.filter(credit_line=OuterRef("pk"), kind=kind).values(column)[:1], output_field=MONEY_FIELD)


def credit_line_list(*, organization: Organization) -> QuerySet[CreditLine]:
    """Lines the organisation is party to (supplier, buyer or voucher), with `outstanding`,
    `reserved`, `available` and `overdue` computed in the database."""
    return _with_figures(CreditLine.objects.filter(Q(supplier=organization) | Q(buyer=organization) | Q(vouched_by=organization)))


def credit_line_all() -> QuerySet[CreditLine]:
    """Every line (operators), with the same figures."""
    return _with_figures(CreditLine.objects.all())


def platform_line_list() -> QuerySet[CreditLine]:
    """Every platform line (operators), with the same figures."""
    return _with_figures(CreditLine.objects.filter(supplier__isnull=True, kind=CreditLine.Kind.STANDARD))


def _with_figures(qs: QuerySet[CreditLine]) -> QuerySet[CreditLine]:
    today = timezone.localdate()
    overdue = (Invoice.objects.filter(credit_line=OuterRef("pk"), status__in=[Invoice.Status.OPEN, Invoice.Status.OVERDUE],
                                      due_date__lt=today)
               .values("credit_line").annotate(total=Sum(F("amount") - F("paid") - F("credited"))).values("total")[:1])
    return (qs
            .select_related("supplier", "buyer", "vouched_by")
            .annotate(
                outstanding=ExpressionWrapper(-Coalesce(_line_account(AccountKind.PAYABLE, "balance"), Value(ZERO)), output_field=MONEY_FIELD),
                reserved=Coalesce(_line_account(AccountKind.PAYABLE, "held"), Value(ZERO), output_field=MONEY_FIELD),
                overdue=Coalesce(Subquery(overdue, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD),
            )
            .annotate(available=ExpressionWrapper(F("limit") - F("outstanding") - F("reserved"), output_field=MONEY_FIELD))
            .order_by("-created_at", "-id"))


def invoice_list(*, line: CreditLine) -> QuerySet[Invoice]:
    return Invoice.objects.filter(credit_line=line).order_by("due_date", "id")


def open_invoice_list(*, buyer: Organization) -> QuerySet[Invoice]:
    """What a buyer owes, soonest due first."""
    return (Invoice.objects.filter(credit_line__buyer=buyer, status__in=[Invoice.Status.OPEN, Invoice.Status.OVERDUE])
            .select_related("credit_line__supplier").order_by("due_date", "id"))


def vouched_exposure(*, organization: Organization) -> Decimal:
    lines = credit_line_list(organization=organization).filter(vouched_by=organization)
    return sum((line.outstanding for line in lines), ZERO)


# --- ageing ----------------------------------------------------------------------------------

def aging(*, organization: Organization, side: str, today: date | None = None) -> dict:
    """Open invoices by days past due, per counterparty and currency. `side` is `receivables`
    (the organisation is the supplier) or `payables` (the buyer). Bucketed in the database."""
    today = today or timezone.localdate()
    open_invoices = Invoice.objects.filter(status__in=[Invoice.Status.OPEN, Invoice.Status.OVERDUE])
    if side == "receivables":
        open_invoices, party = open_invoices.filter(credit_line__supplier=organization), "credit_line__buyer"
    else:
        open_invoices, party = open_invoices.filter(credit_line__buyer=organization), "credit_line__supplier"
    remaining = F("amount") - F("paid") - F("credited")

    def bucket(condition):
        return Coalesce(Sum(Case(When(condition, then=remaining), default=Value(ZERO), output_field=MONEY_FIELD)), Value(ZERO),
                        output_field=MONEY_FIELD)

    rows = (open_invoices.values(party, f"{party}__name", "currency")
            .annotate(**{
                "current": bucket(Q(due_date__gte=today)),
                "1-30": bucket(Q(due_date__lt=today, due_date__gte=today - timedelta(days=30))),
                "31-60": bucket(Q(due_date__lt=today - timedelta(days=30), due_date__gte=today - timedelta(days=60))),
                "61-90": bucket(Q(due_date__lt=today - timedelta(days=60), due_date__gte=today - timedelta(days=90))),
                "90+": bucket(Q(due_date__lt=today - timedelta(days=90))),
            })
            .order_by(f"{party}__name", "currency"))
    counterparties, totals = [], defaultdict(lambda: dict.fromkeys(BUCKETS, ZERO))
    for row in rows:
        buckets = {name: row[name] for name in BUCKETS}
        name = row[f"{party}__name"] or "Kitstreet"  # a platform line's lender
        counterparties.append({"organization": {"id": row[party], "name": name}, "currency": row["currency"],
                               "buckets": buckets, "total": sum(buckets.values(), ZERO)})
        for name in BUCKETS:
            totals[row["currency"]][name] += buckets[name]
    return {
        "side": side, "as_of": today, "buckets": BUCKETS, "counterparties": counterparties,
        "totals": [{"currency": c, "buckets": b, "total": sum(b.values(), ZERO)} for c, b in sorted(totals.items())],
    }


# --- statements -------------------------------------------------------------------------------

def statement_rows(*, line: CreditLine) -> list[dict]:
    """Invoices and repayments of a line in date order, with the running balance owed."""
    events = [
        {"date": inv.issued_on, "at": inv.created_at, "type": "invoice", "reference": f"INV-{inv.pk}",
         "description": inv.memo or "Credit draw", "due_date": inv.due_date, "charge": inv.amount, "payment": ZERO}
        for inv in invoice_list(line=line)
    ] + [
        {"date": timezone.localtime(rep.created_at).date(), "at": rep.created_at, "type": "repayment", "reference": f"REP-{rep.pk}",
         "description": "Repayment", "due_date": None, "charge": ZERO, "payment": rep.amount}
        for rep in Repayment.objects.filter(credit_line=line).order_by("created_at", "id")
    ]
    events += [
        {"date": inv.issued_on, "at": inv.created_at, "type": "credit", "reference": f"INV-{inv.pk}",
         "description": "Written off" if inv.status == Invoice.Status.WRITTEN_OFF else "Credit note (dispute)",
         "due_date": None, "charge": ZERO, "payment": inv.credited}
        for inv in invoice_list(line=line).filter(credited__gt=0)
    ]
    events.sort(key=lambda e: (e["date"], e["at"]))
    balance = ZERO
    for event in events:
        balance += event["charge"] - event["payment"]
        event["balance"] = balance
    return events


# --- trust -----------------------------------------------------------------------------------

@dataclass
class Trust:
    score: int
    reasons: list[str] = field(default_factory=list)
    suggested_limit: Decimal = ZERO


def _trust(invoices: list[Invoice], *, since: date, vouches: int, current_limit: Decimal, today: date) -> Trust:
    """A 0-100 score from on-time repayment (40), volume (20), tenure (15), vouches (up to 15)
    and a 10-point base, minus overdue days (up to 40). Each part is a visible reason."""
    score, reasons = 10, ["Base score (+10)"]
    paid = [i for i in invoices if i.status == Invoice.Status.PAID]
    if paid:
        on_time = sum(1 for i in paid if i.paid_on and i.paid_on <= i.due_date)
        points = round(40 * on_time / len(paid))
        score += points
        reasons.append(f"{on_time} of {len(paid)} invoices paid on time (+{points})")
    else:
        reasons.append("No invoices paid yet (+0)")
    year_ago = today - timedelta(days=365)
    volume = sum((i.amount for i in invoices if i.issued_on >= year_ago), ZERO)
    if volume > 0:
        points = min(20, round(4 * math.log10(float(volume))))
        score += points
        reasons.append(f"{volume:,.2f} drawn in the last 12 months (+{points})")
    tenure_days = (today - since).days
    points = min(15, round(15 * tenure_days / 365))
    score += points
    reasons.append(f"Trading on credit for {tenure_days} days (+{points})")
    if vouches:
        points = min(15, 10 * vouches)
        score += points
        reasons.append(f"Vouched for by {vouches} organisation{'s' if vouches > 1 else ''} (+{points})")
    overdue_days = max(((today - i.due_date).days for i in invoices
                        if i.status != Invoice.Status.PAID and i.due_date < today), default=0)
    if overdue_days:
        points = min(40, overdue_days)
        score -= points
        reasons.append(f"An invoice is {overdue_days} days overdue (-{points})")
    late = sum(1 for i in paid if i.paid_on and i.paid_on > i.due_date)
    if late:
        reasons.append(f"{late} invoice{'s' if late > 1 else ''} paid late")
    score = max(0, min(100, score))
    # Suggest about two months of recent volume, scaled by the score; never below half the
    # current limit for a good payer; rounded to 100.
    monthly = volume / Decimal(12)
    suggested = monthly * 2 * Decimal(score) / Decimal(60)
    if score >= 60:
        suggested = max(suggested, current_limit / 2)
    suggested = (suggested / 100).quantize(Decimal("1"), ROUND_HALF_EVEN) * 100
    return Trust(score=score, reasons=reasons, suggested_limit=Decimal(suggested).quantize(Decimal("0.01")))


def trust_for_line(*, line: CreditLine, today: date | None = None) -> Trust:
    today = today or timezone.localdate()
    invoices = list(Invoice.objects.filter(credit_line=line))
    return _trust(invoices, since=_since(line, invoices), vouches=1 if line.vouched_by_id else 0,
                  current_limit=line.limit, today=today)


def _since(line: CreditLine, invoices: list[Invoice]) -> date:
    """When the relationship began: the line, or an earlier first invoice (lines moved onto Kitstreet)."""
    return min([timezone.localtime(line.created_at).date(), *(i.issued_on for i in invoices)])


def trust_for_lines(*, lines: list[CreditLine], today: date | None = None) -> dict[int, Trust]:
    """Trust of many lines with one invoice query (for lists)."""
    today = today or timezone.localdate()
    by_line: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in Invoice.objects.filter(credit_line__in=[line.pk for line in lines]):
        by_line[invoice.credit_line_id].append(invoice)
    return {line.pk: _trust(by_line[line.pk], since=_since(line, by_line[line.pk]),
                            vouches=1 if line.vouched_by_id else 0, current_limit=line.limit, today=today)
            for line in lines}


def trust_for_organization(*, organization: Organization, today: date | None = None) -> Trust:
    """The organisation as a borrower, across all its lines."""
    today = today or timezone.localdate()
    lines = list(CreditLine.objects.filter(buyer=organization))
    invoices = list(Invoice.objects.filter(credit_line__buyer=organization))
    since = min([*(timezone.localtime(line.created_at).date() for line in lines), *(i.issued_on for i in invoices)], default=today)
    vouches = len({line.vouched_by_id for line in lines if line.vouched_by_id})
    return _trust(invoices, since=since, vouches=vouches, current_limit=sum((line.limit for line in lines), ZERO), today=today)


# --- payouts, disputes, FX --------------------------------------------------------------------

def payout_list(*, organization: Organization) -> QuerySet[Payout]:
    """The organisation's payouts, newest first."""
    return Payout.objects.filter(organization=organization).select_related("organization").order_by("-created_at", "-id")


def payouts_to_settle() -> QuerySet[Payout]:
    """The operators' desk queue: requested payouts, oldest first, with the wallet they come from."""
    return (Payout.objects.filter(status=Payout.Status.REQUESTED).select_related("organization", "requested_by")
            .order_by("created_at", "id"))


def dispute_list(*, organization: Organization) -> QuerySet[Dispute]:
    """Disputes on purchase orders the organisation is party to (buyer or supplier)."""
    return (Dispute.objects.filter(Q(payment__buyer=organization) | Q(payment__supplier=organization))
            .select_related("payment__buyer", "payment__supplier", "opened_by").order_by("-created_at", "-id"))


def disputes_to_resolve() -> QuerySet[Dispute]:
    """The operators' desk queue: open disputes, oldest first."""
    return (Dispute.objects.filter(status=Dispute.Status.OPEN)
            .select_related("payment__buyer", "payment__supplier", "opened_by").order_by("created_at", "id"))


def dispute_at_stake(*, dispute: Dispute) -> dict:
    """What an operator splits: what the buyer paid or has held for this purchase order."""
    record = dispute.payment
    held = paid = ZERO
    if record.method == PurchaseOrderPayment.Method.DEPOSIT:
        if record.deposit_status == PurchaseOrderPayment.DepositStatus.ESCROW:
            held = record.deposit_amount
        elif record.deposit_status == PurchaseOrderPayment.DepositStatus.RELEASED:
            paid = record.deposit_amount
        if record.status == PurchaseOrderPayment.Status.SETTLED and not dispute.status == Dispute.Status.RESOLVED:
            paid += record.total - record.deposit_amount
    else:
        if record.hold_id and record.hold.status == Hold.Status.PENDING:
            held = record.total
        else:
            paid = record.total
    return {"method": record.method, "currency": record.currency, "total": record.total, "held": held, "paid": paid,
            "at_stake": held + paid if record.method == PurchaseOrderPayment.Method.DEPOSIT else record.total}


def fx_rate_list(*, base: str | None = None, quote: str | None = None) -> QuerySet[FxRate]:
    """Rates with their history, newest first."""
    qs = FxRate.objects.select_related("created_by").order_by("-valid_from", "-id")
    if base:
        qs = qs.filter(base=base)
    if quote:
        qs = qs.filter(quote=quote)
    return qs


# --- verification ------------------------------------------------------------------------------

@dataclass
class LedgerReport:
    problems: list[str] = field(default_factory=list)
    accounts: int = 0
    entries: int = 0
    postings: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


HALF_CENT, HALF_CENT_BELOW = Decimal("0.005"), Decimal("-0.005")


def _cents(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def ledger_verify() -> LedgerReport:
    """Recompute every stored balance and hold total from postings and pending holds; check that
    every entry balances per currency and that the whole ledger sums to zero per currency; check
    that each credit line's open invoices add up to what its payable account says is owed."""
    report = LedgerReport(
        accounts=Account.objects.count(), entries=JournalEntry.objects.count(), postings=Posting.objects.count(),
    )
    # Sums are rounded to cents: SQLite (development) adds decimals as floats. Every amount has two
    # places, so a real difference is at least a cent; the half-cent band below is exact enough.
    sums = {k: _cents(v) for k, v in Posting.objects.values("account").annotate(total=Sum("amount")).values_list("account", "total")}
    holds = {k: _cents(v) for k, v in Hold.objects.filter(status=Hold.Status.PENDING).values("account")
             .annotate(total=Sum("amount")).values_list("account", "total")}
    for account in Account.objects.order_by("pk").iterator():
        expected = sums.get(account.pk) or ZERO
        if account.balance != expected:
            report.problems.append(f"Account {account.pk} ({account}): stored balance {account.balance}, postings say {expected}")
        if account.held != (holds.get(account.pk) or ZERO):
            report.problems.append(f"Account {account.pk}: stored held {account.held}, pending holds say {holds.get(account.pk) or ZERO}")
        if account.non_negative and account.balance < account.held:
            report.problems.append(f"Account {account.pk}: overdrawn ({account.balance} < held {account.held})")
    for account_id in Posting.objects.exclude(currency=F("account__currency")).values_list("account", flat=True).distinct()[:50]:
        report.problems.append(f"Account {account_id}: postings in another currency than the account's")
    unbalanced = (Posting.objects.values("entry", "currency").annotate(total=Sum("amount"))
                  .exclude(total__gt=HALF_CENT_BELOW, total__lt=HALF_CENT)
                  .values_list("entry", "currency", "total")[:50])
    for entry_id, currency, total in unbalanced:
        report.problems.append(f"Entry {entry_id} does not balance in {currency}: {total:+}")
    empty = JournalEntry.objects.annotate(n=Count("postings")).filter(n__lt=2).values_list("pk", flat=True)[:50]
    for entry_id in empty:
        report.problems.append(f"Entry {entry_id} has fewer than two postings")
    for currency, total in Posting.objects.values("currency").annotate(total=Sum("amount")).values_list("currency", "total"):
        if _cents(total) != 0:
            report.problems.append(f"Postings in {currency} sum to {total:+}, not zero")
    owed = {k: _cents(v) for k, v in Invoice.objects.values("credit_line").annotate(total=Sum(F("amount") - F("paid") - F("credited")))
            .values_list("credit_line", "total")}
    # Conversions go through the platform's FX account of each currency they touch: two
    # currencies, and an FX leg in each (so every currency sums to zero on its own).
    fx_legs = defaultdict(lambda: defaultdict(set))
    for entry_id, currency, kind in (Posting.objects.filter(entry__kind=EntryKind.FX_CONVERSION)
                                     .values_list("entry", "currency", "account__kind")):
        fx_legs[entry_id][currency].add(kind)
    for entry_id, by_currency in sorted(fx_legs.items()):
        if len(by_currency) != 2 or any(AccountKind.FX not in kinds for kinds in by_currency.values()):
            report.problems.append(f"Entry {entry_id}: a conversion must move two currencies through their FX accounts")
    for account_id in Account.objects.filter(kind=AccountKind.FX, organization__isnull=False).values_list("pk", flat=True)[:50]:
        report.problems.append(f"Account {account_id}: FX accounts belong to the platform")
    for account_id in (Account.objects.filter(kind=AccountKind.REVENUE, organization__isnull=False)
                       .values_list("pk", flat=True)[:50]):
        report.problems.append(f"Account {account_id}: revenue accounts belong to the platform")
    # A supplier's reserve account holds exactly its tranches not yet released.
    tranches = {(o, c): _cents(t) for o, c, t in ReserveTranche.objects.filter(status=ReserveTranche.Status.HELD)
                .values("organization", "currency").annotate(t=Sum("amount")).values_list("organization", "currency", "t")}
    for account in Account.objects.filter(kind=AccountKind.RESERVE).order_by("pk"):
        if account.organization_id is None:
            report.problems.append(f"Account {account.pk}: reserve accounts belong to a supplier")
        elif account.balance != tranches.get((account.organization_id, account.currency), ZERO):
            report.problems.append(f"Account {account.pk}: reserve holds {account.balance}, its held tranches say "
                                   f"{tranches.get((account.organization_id, account.currency), ZERO)}")
    for line_id, balance in Account.objects.filter(kind=AccountKind.PAYABLE).values_list("credit_line", "balance"):
        if -balance != (owed.get(line_id) or ZERO):
            report.problems.append(f"Credit line {line_id}: payable says {-balance} owed, invoices say {owed.get(line_id) or ZERO}")
    return report


def trust_visible_organization_list(*, viewer: Organization | None, is_operator: bool = False) -> QuerySet[Organization]:
    """Whose trust score and credit history a viewer may read: its own, its counterparties on a
    credit line (either side, or as voucher), and for operators everyone. Anyone else is a 404."""
    if is_operator:
        return Organization.objects.all()
    if viewer is None:
        return Organization.objects.none()
    counterparties = CreditLine.objects.filter(Q(supplier=viewer) | Q(buyer=viewer) | Q(vouched_by=viewer))
    return Organization.objects.filter(
        Q(pk=viewer.pk)
        | Q(pk__in=counterparties.values("buyer_id"))
        | Q(pk__in=counterparties.values("supplier_id"))
    )


def platform_money_figures() -> dict[str, dict[str, Decimal]]:
    """For the operator's desk: money held in escrow and credit outstanding (open and overdue
    invoices, less what is paid), per currency."""
    escrow = {row["currency"]: row["total"] for row in
              Account.objects.filter(kind=AccountKind.ESCROW).values("currency").annotate(total=Sum("balance")).order_by("currency")}
    outstanding = {row["currency"]: row["total"] for row in
                   Invoice.objects.exclude(status__in=[Invoice.Status.PAID, Invoice.Status.WRITTEN_OFF]).values("currency")
                   .annotate(total=Sum(F("amount") - F("paid") - F("credited"))).order_by("currency")}
    return {"escrow": escrow, "credit_outstanding": outstanding}


# --- the platform's take, reserves, reconciliation ----------------------------------------------

def platform_revenue(*, at: datetime | None = None) -> list[Account]:
    """The platform's revenue accounts (one per currency with fees), as now or at `at`."""
    accounts = list(Account.objects.filter(organization__isnull=True, kind=AccountKind.REVENUE).order_by("currency"))
    return accounts_at(accounts, at=at) if at else accounts


def reserve_list() -> QuerySet[SupplierReserve]:
    """Suppliers under a rolling reserve, with what is held for them now (per currency)."""
    return SupplierReserve.objects.select_related("organization").order_by("organization__name")


def reserve_held(*, organization_ids: list[int]) -> dict[int, list[dict]]:
    """What each supplier's reserve accounts hold, per currency."""
    out: dict[int, list[dict]] = defaultdict(list)
    for org_id, currency, balance in (Account.objects.filter(kind=AccountKind.RESERVE, organization_id__in=organization_ids)
                                      .order_by("organization_id", "currency").values_list("organization_id", "currency", "balance")):
        out[org_id].append({"currency": currency, "held": balance})
    return out


def statement_line_list(*, status: str | None = None) -> QuerySet[BankStatementLine]:
    """Imported bank statement lines, oldest first; the desk lists the unmatched ones."""
    qs = BankStatementLine.objects.select_related("match__organization", "statement").order_by("date", "id")
    return qs.filter(status=status) if status else qs
