from decimal import Decimal

import pytest

from credit.exceptions import InsufficientFunds

from marketplace.exceptions import OrderInvalid, OutOfStock
from marketplace.models import Listing, Order
from marketplace.orders.services import order_place
from tests.marketplace.factories import ListingFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_lines_split_into_one_purchase_order_per_vendor_and_reserve_stock(buyer, fund):
    fund(buyer.org)
    a = ListingFactory(stock=100, breaks=[(1, "2.00"), (50, "1.50")])
    b = ListingFactory(stock=10, breaks=[(1, "0.10")])
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(a, 60), (b, 10)])
    assert order.total == Decimal("91.00")
    assert sorted((po.vendor_id, po.total) for po in order.purchase_orders.all()) == sorted(
        [(a.vendor_id, Decimal("90.00")), (b.vendor_id, Decimal("1.00"))])
    assert Listing.objects.get(pk=a.pk).stock == 40
    assert Listing.objects.get(pk=b.pk).stock == 0
    assert order.status == Order.Status.PLACED


def test_no_oversell_and_nothing_reserved_when_one_line_is_short(buyer, fund):
    fund(buyer.org)
    a = ListingFactory(stock=100)
    b = ListingFactory(stock=5)
    with pytest.raises(OutOfStock):
        order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(a, 10), (b, 6)])
    assert Listing.objects.get(pk=a.pk).stock == 100
    assert Order.objects.count() == 0


def test_moq_and_multiple_are_enforced(buyer):
    listing = ListingFactory(moq=100, multiple=50, breaks=[(1, "1.00")])
    with pytest.raises(OrderInvalid) as exc:
        order_place(buyer=buyer.org, placed_by=buyer.user, payment="credit", lines=[(listing, 120)])
    assert "150" in str(exc.value)


def test_a_refused_payment_rolls_the_whole_order_back(buyer):
    # A real refusal, not a mock: the buyer's wallet is empty, so credit refuses the deposit.
    listing = ListingFactory(stock=10, breaks=[(1, "5.00")])
    with pytest.raises(InsufficientFunds) as exc:
        order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 3)])
    assert "payment" in exc.value.message_dict
    assert Listing.objects.get(pk=listing.pk).stock == 10
    assert Order.objects.count() == 0


def test_unverified_vendor_listing_cannot_be_ordered(buyer):
    listing = ListingFactory(vendor=OrganizationFactory(trader=True, verified=False))
    with pytest.raises(OrderInvalid):
        order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 1)])


def test_mixed_currencies_are_refused(buyer):
    with pytest.raises(OrderInvalid):
        order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit",
                    lines=[(ListingFactory(currency="USD"), 1), (ListingFactory(), 1)])


def test_deposit_without_money_is_refused_and_nothing_is_reserved(buyer):
    listing = ListingFactory(stock=10)
    with pytest.raises(Exception) as exc:
        order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 3)])
    assert "payment" in exc.value.message_dict
    assert Listing.objects.get(pk=listing.pk).stock == 10
    assert Order.objects.count() == 0
