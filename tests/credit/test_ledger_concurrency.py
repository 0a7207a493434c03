"""Races on PostgreSQL with real threads (each with its own connection): the row locks keep
limits exact, and the idempotency row makes a doubled request run once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from credit.exceptions import CreditLimitExceeded, InsufficientFunds
from credit.models import Invoice, JournalEntry
from credit.selectors import credit_line_list, ledger_verify
from credit.services import credit_draw, hold_place, idempotency_run, ledger_transfer, wallet_topup
from tests.credit.factories import credit_line, funded_wallet
from tests.marketplace.factories import OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 12


def race(fn, n=THREADS):
    """Run fn(i) in n threads started together; return (results, errors)."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait()
            results.append(fn(i))
        except Exception as exc:  # noqa: BLE001 - collected and asserted on by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_concurrent_credit_draws_accept_exactly_floor_of_limit_over_amount():
    line = credit_line(limit="1000.00")
    results, errors = race(lambda i: credit_draw(line=line, amount=Decimal("70.00")), n=20)
    assert len(results) == 1000 // 70 == 14
    assert len(errors) == 6 and all(isinstance(e, CreditLimitExceeded) for e in errors)
    state = credit_line_list(organization=line.supplier).get(pk=line.pk)
    assert state.outstanding == Decimal("980.00") and state.available == Decimal("20.00")
    assert Invoice.objects.filter(credit_line=line).count() == 14
    assert ledger_verify().ok


def test_concurrent_holds_never_overdraw_a_wallet():
    wallet = funded_wallet(OrganizationFactory(), "100.00")
    target = funded_wallet(OrganizationFactory(), "0")
    results, errors = race(lambda i: hold_place(account=wallet, counter_account=target, amount=Decimal("15.00")))
    assert len(results) == 6 and all(isinstance(e, InsufficientFunds) for e in errors)
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("90.00"))


def test_transfers_in_both_directions_do_not_deadlock_or_lose_money():
    a = funded_wallet(OrganizationFactory(), "50.00")
    b = funded_wallet(OrganizationFactory(), "50.00")

    def move(i):
        src, dst = (a, b) if i % 2 else (b, a)
        for _ in range(25):
            try:
                ledger_transfer(debit=src, credit=dst, amount=Decimal("7.00"))
            except InsufficientFunds:
                pass

    _, errors = race(move)
    assert errors == []
    a.refresh_from_db(), b.refresh_from_db()
    assert a.balance + b.balance == Decimal("100.00") and a.balance >= 0 and b.balance >= 0
    assert ledger_verify().ok


def test_the_same_idempotency_key_sent_concurrently_executes_once():
    org = OrganizationFactory()
    before = JournalEntry.objects.count()

    def request(i):
        return idempotency_run(
            scope=f"org:{org.pk}", key="same-key", fingerprint="body-hash",
            execute=lambda: (201, {"entry": wallet_topup(organization=org, amount=Decimal("10.00"), currency="CNY",
                                                          reference="race").pk}),
        )

    results, errors = race(request)
    assert errors == []
    assert len({body["entry"] for _, body, _ in results}) == 1
    assert sum(1 for _, _, replayed in results if not replayed) == 1
    assert JournalEntry.objects.count() == before + 1


def test_concurrent_credit_orders_through_the_marketplace_never_pass_the_limit():
    from marketplace.models import Order
    from marketplace.orders.services import order_place
    from tests.marketplace.factories import ListingFactory, MembershipFactory

    member = MembershipFactory()
    listing = ListingFactory(stock=100_000, breaks=[(1, "1.00")])
    line = credit_line(supplier=listing.vendor, buyer=member.organization, limit="1000.00")
    results, errors = race(lambda i: order_place(buyer=member.organization, placed_by=member.user, payment="credit",
                                                 lines=[(listing, 70)]), n=20)
    assert len(results) == 14 and all(isinstance(e, CreditLimitExceeded) for e in errors)
    state = credit_line_list(organization=line.supplier).get(pk=line.pk)
    assert (state.reserved, state.available) == (Decimal("980.00"), Decimal("20.00"))
    assert Order.objects.filter(buyer=member.organization).count() == 14
    listing.refresh_from_db()
    assert listing.stock == 100_000 - 14 * 70  # refused orders kept no stock either
    assert ledger_verify().ok


def test_payouts_and_deposit_orders_racing_for_one_wallet_never_overdraw_it():
    """Half the threads request payouts, half open deposit orders, all for 70.00 from a wallet of
    1,000.00: exactly 14 get through, whichever kind, and the wallet is never overdrawn."""
    from credit import payments
    from credit.models import Payout, PurchaseOrderPayment
    from credit.services import payout_request, supplier_terms_set

    org = OrganizationFactory(trader=True)
    vendor = OrganizationFactory(trader=True)
    supplier_terms_set(supplier=vendor, deposit_percent=Decimal("100"), release_on="deliver", forfeit_percent=Decimal("100"))
    wallet = funded_wallet(org, "1000.00")

    def spend(i):
        if i % 2:
            return payout_request(organization=org, amount=Decimal("70.00"), currency="CNY")
        return payments.purchase_order_payment_open(purchase_order_id=10_000 + i, order_id=None, buyer=org, vendor=vendor,
                                                    currency="CNY", total=Decimal("70.00"), method="deposit")

    results, errors = race(spend, n=20)
    assert len(results) == 1000 // 70 == 14
    assert len(errors) == 6 and all(isinstance(e, InsufficientFunds) for e in errors)
    assert Payout.objects.count() + PurchaseOrderPayment.objects.count() == 14
    wallet.refresh_from_db()
    assert wallet.balance - wallet.held == Decimal("20.00") and wallet.balance >= wallet.held
    assert ledger_verify().ok
