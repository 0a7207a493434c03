"""Many buyers racing for the last units: PostgreSQL only (row locks, real threads)."""

import threading

import pytest
from django.db import connection

from marketplace.exceptions import OutOfStock
from marketplace.models import Listing, Order, PurchaseOrderLine
from marketplace.orders.services import order_place
from tests.marketplace.factories import ListingFactory, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(jobs):
    """Run each job in its own thread and connection, started together; collect outcomes."""
    barrier, outcomes = threading.Barrier(len(jobs)), []

    def run(job):
        try:
            barrier.wait()
            outcomes.append(("ok", job()))
        except Exception as exc:  # noqa: BLE001 - the test inspects what happened
            outcomes.append(("error", exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _buyers(n, fund):
    out = []
    for i in range(n):
        membership = MembershipFactory(organization=OrganizationFactory(name=f"Racer {i}"))
        fund(membership.organization)
        out.append(membership)
    return out


def test_last_units_are_never_oversold(fund):
    listing = ListingFactory(stock=3)
    buyers = _buyers(8, fund)
    outcomes = _race([
        (lambda m=m: order_place(buyer=m.organization, placed_by=m.user, payment="deposit", lines=[(listing, 1)]))
        for m in buyers
    ])
    assert sorted(kind for kind, _ in outcomes) == ["error"] * 5 + ["ok"] * 3
    assert all(isinstance(exc, OutOfStock) for kind, exc in outcomes if kind == "error")
    assert Listing.objects.get(pk=listing.pk).stock == 0
    assert sum(PurchaseOrderLine.objects.filter(listing=listing).values_list("quantity", flat=True)) == 3


def test_orders_locking_the_same_listings_in_any_order_do_not_deadlock(fund):
    a, b = ListingFactory(stock=100), ListingFactory(stock=100)
    buyers = _buyers(6, fund)
    outcomes = _race([
        (lambda m=m, i=i: order_place(buyer=m.organization, placed_by=m.user, payment="deposit",
                                      lines=[(a, 5), (b, 5)] if i % 2 else [(b, 5), (a, 5)]))
        for i, m in enumerate(buyers)
    ])
    assert [kind for kind, _ in outcomes] == ["ok"] * 6, outcomes
    assert Listing.objects.get(pk=a.pk).stock == Listing.objects.get(pk=b.pk).stock == 70
    assert Order.objects.count() == 6


def test_one_platform_line_drawn_by_concurrent_multi_vendor_orders_accepts_floor_of_limit_over_amount():
    """12 buyers' worth of orders from one buyer, each split across three vendors (60.00 a
    order), race for one platform line of 500.00: exactly 8 are accepted, none half-placed."""
    from decimal import Decimal

    from credit.exceptions import CreditLimitExceeded
    from credit.selectors import credit_line_list, ledger_verify
    from credit.services import credit_line_grant

    member = MembershipFactory(organization=OrganizationFactory(name="Line buyer"))
    listings = [ListingFactory(stock=1000, breaks=[(1, price)]) for price in ("1.00", "2.00", "3.00")]
    line = credit_line_grant(supplier=None, buyer=member.organization, limit=Decimal("500.00"), currency="CNY")
    outcomes = _race([
        (lambda: order_place(buyer=member.organization, placed_by=member.user, payment="credit",
                             lines=[(listing, 10) for listing in listings]))
        for _ in range(12)
    ])
    accepted = [value for kind, value in outcomes if kind == "ok"]
    refused = [value for kind, value in outcomes if kind == "error"]
    assert len(accepted) == 500 // 60 == 8
    assert len(refused) == 4 and all(isinstance(exc, CreditLimitExceeded) for exc in refused)
    state = credit_line_list(organization=member.organization).get(pk=line.pk)
    assert (state.reserved, state.available) == (Decimal("480.00"), Decimal("20.00"))
    assert Order.objects.filter(buyer=member.organization).count() == 8
    assert [Listing.objects.get(pk=listing.pk).stock for listing in listings] == [920, 920, 920]
    assert ledger_verify().ok
