from datetime import date, timedelta
from decimal import Decimal

import pytest

from credit.exceptions import CreditLimitExceeded, CreditLineFrozen, CreditLineInvalid, InsufficientFunds, RepaymentInvalid
from credit.models import CreditLine, Invoice
from credit.selectors import aging, credit_line_list, ledger_verify, statement_rows, trust_for_line
from credit.services import (
    credit_draw,
    credit_line_update,
    credit_repay,
    credit_reserve,
    hold_void,
    invoice_mark_overdue,
)
from tests.credit.factories import credit_line, funded_wallet
from tests.marketplace.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def _line_state(line):
    return credit_line_list(organization=line.supplier).get(pk=line.pk)


def test_draws_are_invoices_due_after_the_terms_and_stop_at_the_limit():
    line = credit_line(limit="1000.00", terms_days=45)
    invoice = credit_draw(line=line, amount=Decimal("600.00"), issued_on=date(2026, 11, 1))
    assert invoice.due_date == date(2026, 12, 16)
    reservation = credit_reserve(line=line, amount=Decimal("300.00"))
    state = _line_state(line)
    assert (state.outstanding, state.reserved, state.available) == (Decimal("600.00"), Decimal("300.00"), Decimal("100.00"))
    with pytest.raises(CreditLimitExceeded):
        credit_draw(line=line, amount=Decimal("100.01"))
    hold_void(hold=reservation)
    credit_draw(line=line, amount=Decimal("400.00"))
    assert _line_state(line).available == Decimal("0.00")
    assert ledger_verify().ok


def test_grant_is_refused_twice_or_to_yourself_or_vouched_by_a_party():
    supplier = OrganizationFactory(trader=True)
    buyer = OrganizationFactory()
    credit_line(supplier=supplier, buyer=buyer)
    with pytest.raises(CreditLineInvalid):
        credit_line(supplier=supplier, buyer=buyer)
    with pytest.raises(CreditLineInvalid):
        credit_line(supplier=supplier, buyer=supplier)
    with pytest.raises(CreditLineInvalid):
        credit_line(supplier=supplier, buyer=OrganizationFactory(), vouched_by=supplier)


def test_repayments_settle_the_oldest_invoices_first():
    line = credit_line(limit="1000.00", terms_days=30)
    funded_wallet(line.buyer, "500.00")
    newer = credit_draw(line=line, amount=Decimal("200.00"), issued_on=date(2026, 10, 10))
    older = credit_draw(line=line, amount=Decimal("150.00"), issued_on=date(2026, 10, 1))
    repayment = credit_repay(line=line, amount=Decimal("180.00"))
    older.refresh_from_db(), newer.refresh_from_db()
    assert (older.status, older.paid) == (Invoice.Status.PAID, Decimal("150.00"))
    assert (newer.status, newer.paid) == (Invoice.Status.OPEN, Decimal("30.00"))
    assert [(a.invoice_id, a.amount) for a in repayment.allocations.all()] == [(older.pk, Decimal("150.00")), (newer.pk, Decimal("30.00"))]
    assert _line_state(line).outstanding == Decimal("170.00")
    assert ledger_verify().ok


def test_cannot_repay_more_than_owed_or_more_than_the_wallet_holds():
    line = credit_line(limit="1000.00")
    funded_wallet(line.buyer, "50.00")
    credit_draw(line=line, amount=Decimal("100.00"))
    with pytest.raises(RepaymentInvalid):
        credit_repay(line=line, amount=Decimal("100.01"))
    with pytest.raises(InsufficientFunds):
        credit_repay(line=line, amount=Decimal("60.00"))
    assert _line_state(line).outstanding == Decimal("100.00")


def test_limit_can_be_lowered_below_what_is_owed_which_only_stops_new_draws():
    line = credit_line(limit="1000.00")
    credit_draw(line=line, amount=Decimal("800.00"))
    credit_line_update(line=line, limit=Decimal("500.00"))
    state = _line_state(line)
    assert (state.limit, state.outstanding) == (Decimal("500.00"), Decimal("800.00"))
    with pytest.raises(CreditLimitExceeded):
        credit_draw(line=line, amount=Decimal("1.00"))


def test_a_frozen_line_refuses_draws_until_unfrozen():
    line = credit_line(limit="1000.00")
    credit_line_update(line=line, status=CreditLine.Status.FROZEN, frozen_reason="late payments")
    with pytest.raises(CreditLineFrozen, match="late payments"):
        credit_reserve(line=line, amount=Decimal("10.00"))
    credit_line_update(line=line, status=CreditLine.Status.ACTIVE)
    credit_reserve(line=line, amount=Decimal("10.00"))


def test_overdue_sweep_marks_invoices_and_freezes_lines_past_the_grace_period():
    late = credit_line(limit="1000.00", terms_days=30, grace_days=7)
    slightly_late = credit_line(limit="1000.00", terms_days=30, grace_days=7)
    today = date(2026, 11, 25)
    credit_draw(line=late, amount=Decimal("100.00"), issued_on=today - timedelta(days=40))  # 10 days past due
    credit_draw(line=slightly_late, amount=Decimal("100.00"), issued_on=today - timedelta(days=33))  # 3 days
    credit_draw(line=slightly_late, amount=Decimal("50.00"), issued_on=today)
    assert invoice_mark_overdue(today=today) == {"marked_overdue": 2, "lines_frozen": 1}
    assert invoice_mark_overdue(today=today) == {"marked_overdue": 0, "lines_frozen": 0}
    late.refresh_from_db(), slightly_late.refresh_from_db()
    assert late.status == CreditLine.Status.FROZEN and "10 days overdue" in late.frozen_reason
    assert slightly_late.status == CreditLine.Status.ACTIVE


def test_ageing_buckets_statement_and_trust():
    line = credit_line(limit="5000.00", terms_days=30)
    today = date(2026, 11, 25)
    credit_draw(line=line, amount=Decimal("100.00"), issued_on=today)                       # current
    credit_draw(line=line, amount=Decimal("200.00"), issued_on=today - timedelta(days=45))  # 15 days late
    credit_draw(line=line, amount=Decimal("300.00"), issued_on=today - timedelta(days=150))  # 120 days late
    report = aging(organization=line.supplier, side="receivables", today=today)
    (row,) = report["counterparties"]
    assert row["organization"]["id"] == line.buyer_id
    assert row["buckets"] == {"current": Decimal("100.00"), "1-30": Decimal("200.00"), "31-60": Decimal("0.00"),
                              "61-90": Decimal("0.00"), "90+": Decimal("300.00")}
    assert aging(organization=line.buyer, side="payables", today=today)["totals"][0]["total"] == Decimal("600.00")
    rows = statement_rows(line=line)
    assert [r["balance"] for r in rows] == [Decimal("300.00"), Decimal("500.00"), Decimal("600.00")]
    trust = trust_for_line(line=line, today=today)
    assert any("120 days overdue" in reason for reason in trust.reasons)
    assert trust.score < 50
