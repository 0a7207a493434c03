"""Demo world, part 2: money. Wallets topped up from bank receipts, deposit terms, supplier credit
lines between people who know each other (one vouched for by a solution house), months of
invoices and repayments — some on time, some late, some overdue (the marketplace's
demo adds deposit orders once wallets hold money)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from credit.models import Repayment
from credit.services import (
    credit_draw,
    credit_line_grant,
    credit_repay,
    invoice_mark_overdue,
    supplier_terms_set,
    wallet_topup,
)

TOPUPS = [  # (org key, amount, currency)
    ("buyer:lumen", "250000.00", "CNY"),
    ("buyer:pocket", "90000.00", "CNY"),
    ("buyer:pocket", "6000.00", "USD"),
    ("buyer:makerbox", "60000.00", "CNY"),
    ("factory:longhua", "20000.00", "CNY"),
]
# (supplier, buyer, limit, terms, vouched_by, [(days ago issued, amount, repaid: "on_time" | "late" | None)])
LINES = [
    ("trader:huaxin", "buyer:lumen", "50000.00", 30, "solution:brightpath", [
        (150, "8200.00", "on_time"), (120, "12650.00", "on_time"), (90, "9400.00", "late"),
        (55, "15800.00", "on_time"), (20, "11200.00", None), (6, "6480.00", None),
    ]),
    ("trader:tongtian", "buyer:lumen", "20000.00", 45, None, [
        (100, "4300.00", "on_time"), (62, "7100.00", None), (12, "3950.00", None),
    ]),
    ("trader:saige", "buyer:pocket", "30000.00", 30, "solution:audiocore", [
        (130, "6100.00", "on_time"), (80, "5400.00", "on_time"), (35, "9800.00", None),
    ]),
    ("trader:yuanwang", "buyer:makerbox", "10000.00", 15, None, [
        (95, "2300.00", "late"), (60, "3100.00", None), (25, "1800.00", None),
    ]),
    ("trader:mingtong", "buyer:lumen", "8000.00", 30, None, []),
    ("factory:longhua", "buyer:pocket", "40000.00", 60, "solution:brightpath", [(40, "18500.00", None)]),
]
TERMS = [  # (supplier, deposit %, release on, forfeit %)
    ("trader:saige", "40", "deliver", "50"),
    ("factory:longhua", "50", "confirm", "100"),
    ("solution:audiocore", "30", "deliver", "100"),
]


def seed(ctx) -> None:
    orgs = ctx.orgs
    rng = ctx.rng
    today = timezone.localdate()
    operator = ctx.users.get("operator")
    for n, (key, amount, currency) in enumerate(ctx.progress(TOPUPS, desc="top-ups")):
        if key in orgs:
            wallet_topup(organization=orgs[key], amount=Decimal(amount), currency=currency,
                         reference=f"ICBC 6222-{2600 + n:04d}-{rng.randint(1000, 9999)}", created_by=operator)
    for key, deposit, release_on, forfeit in TERMS:
        if key in orgs:
            supplier_terms_set(supplier=orgs[key], deposit_percent=Decimal(deposit), release_on=release_on,
                               forfeit_percent=Decimal(forfeit))

    invoices = repayments = 0
    for supplier, buyer, limit, terms, voucher, draws in ctx.progress(LINES, desc="credit lines"):
        if supplier not in orgs or buyer not in orgs:
            continue
        line = credit_line_grant(supplier=orgs[supplier], buyer=orgs[buyer], limit=Decimal(limit), currency="CNY",
                                 terms_days=terms, vouched_by=orgs.get(voucher) if voucher else None)
        for days_ago, amount, repaid in sorted(draws, reverse=True):
            issued = today - timedelta(days=days_ago)
            invoice = credit_draw(line=line, amount=Decimal(amount), issued_on=issued, memo=f"Stock order, {issued:%d %b}")
            invoices += 1
            if repaid:
                paid_on = invoice.due_date - timedelta(days=rng.randint(1, 8)) if repaid == "on_time" \
                    else invoice.due_date + timedelta(days=rng.randint(5, 20))
                paid_on = min(paid_on, today)
                repayment = credit_repay(line=line, amount=invoice.amount, created_by=ctx.users.get("buyer"), paid_on=paid_on)
                # The ledger entry keeps its real time; the repayment row shows when the money was sent.
                Repayment.objects.filter(pk=repayment.pk).update(
                    created_at=timezone.make_aware(timezone.datetime.combine(paid_on, timezone.datetime.min.time()).replace(hour=10)))
                repayments += 1
    swept = invoice_mark_overdue(today=today)
    ctx.say(f"  {len(TOPUPS)} top-ups, {invoices} invoices, {repayments} repayments, "
            f"{swept['marked_overdue']} overdue, {swept['lines_frozen']} line(s) frozen")
