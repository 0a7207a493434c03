"""The four payment hooks, end to end through the marketplace's order services."""

from decimal import Decimal

import pytest

from credit.exceptions import CreditLimitExceeded, InsufficientFunds, NoCreditLine
from credit.models import AccountKind, Invoice, PurchaseOrderPayment
from credit.selectors import credit_line_list, ledger_verify
from credit.services import account_for, purchase_order_payment_cancel, supplier_terms_set
from marketplace.models import Order
from marketplace.orders.services import order_place, purchase_order_cancel, purchase_order_confirm, purchase_order_deliver, purchase_order_ship
from tests.credit.factories import credit_line, funded_wallet
from tests.marketplace.factories import ListingFactory

pytestmark = pytest.mark.django_db


def _balance(org, kind=AccountKind.WALLET, currency="CNY"):
    return account_for(organization=org, kind=kind, currency=currency).balance


def _order(buyer, listing, qty, payment):
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment=payment, lines=[(listing, qty)])
    return order, order.purchase_orders.get()


def test_deposit_goes_to_escrow_is_released_on_confirmation_and_the_balance_is_paid_on_delivery(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "2.00")])
    vendor = listing.vendor
    order, po = _order(buyer, listing, 100, "deposit")  # 200.00, 30 % deposit = 60.00
    assert (_balance(buyer.org), _balance(buyer.org, AccountKind.ESCROW)) == (Decimal("940.00"), Decimal("60.00"))

    purchase_order_confirm(purchase_order=po, actor=vendor)
    assert (_balance(buyer.org, AccountKind.ESCROW), _balance(vendor)) == (Decimal("0.00"), Decimal("60.00"))

    purchase_order_ship(purchase_order=po, actor=vendor)
    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    assert (_balance(buyer.org), _balance(vendor)) == (Decimal("800.00"), Decimal("200.00"))
    assert PurchaseOrderPayment.objects.get(purchase_order_id=po.pk).status == "settled"
    assert ledger_verify().ok


def test_release_on_delivery_terms_keep_the_deposit_in_escrow_until_delivery(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "1.00")])
    supplier_terms_set(supplier=listing.vendor, deposit_percent=Decimal("50"), release_on="deliver", forfeit_percent=Decimal("100"))
    order, po = _order(buyer, listing, 100, "deposit")
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    assert _balance(buyer.org, AccountKind.ESCROW) == Decimal("50.00")
    purchase_order_ship(purchase_order=po, actor=listing.vendor)
    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    assert (_balance(buyer.org, AccountKind.ESCROW), _balance(listing.vendor)) == (Decimal("0.00"), Decimal("100.00"))


def test_not_enough_for_the_deposit_is_a_clear_400_and_no_order(buyer):
    funded_wallet(buyer.org, "10.00")
    listing = ListingFactory(stock=500, breaks=[(1, "1.00")])
    with pytest.raises(InsufficientFunds) as err:
        _order(buyer, listing, 100, "deposit")  # needs 30.00
    assert "payment" in err.value.message_dict
    assert Order.objects.count() == 0
    listing.refresh_from_db()
    assert listing.stock == 500 and _balance(buyer.org) == Decimal("10.00")


def test_not_enough_for_the_deposit_through_the_api_is_a_400_naming_payment(buyer):
    funded_wallet(buyer.org, "10.00")
    listing = ListingFactory(breaks=[(1, "1.00")])
    response = buyer.client.post("/api/v1/orders/", {"lines": [{"listing": listing.pk, "quantity": 100}], "payment": "deposit"})
    assert response.status_code == 400
    assert "Not enough money" in str(response.json())


def test_supplier_cancellation_refunds_the_whole_deposit_even_after_release(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "1.00")])
    order, po = _order(buyer, listing, 100, "deposit")
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)  # 30.00 released to the vendor
    purchase_order_cancel(purchase_order=po, actor=listing.vendor)
    assert (_balance(buyer.org), _balance(listing.vendor)) == (Decimal("1000.00"), Decimal("0.00"))
    assert PurchaseOrderPayment.objects.get(purchase_order_id=po.pk).deposit_status == "refunded"


def test_buyer_cancellation_before_confirmation_refunds_everything(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "1.00")])
    order, po = _order(buyer, listing, 100, "deposit")
    purchase_order_cancel(purchase_order=po, actor=buyer.org)
    assert (_balance(buyer.org), _balance(buyer.org, AccountKind.ESCROW)) == (Decimal("1000.00"), Decimal("0.00"))


def test_buyer_cancellation_after_confirmation_forfeits_the_terms_share(buyer):
    # The marketplace lets buyers cancel only before confirmation; the hook still honours the
    # terms if a later cancellation reaches it (e.g. an operator cancelling for the buyer).
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "1.00")])
    supplier_terms_set(supplier=listing.vendor, deposit_percent=Decimal("40"), release_on="deliver", forfeit_percent=Decimal("25"))
    order, po = _order(buyer, listing, 100, "deposit")  # deposit 40.00
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    po.refresh_from_db()
    purchase_order_payment_cancel(purchase_order_id=po.pk, by_supplier=False, after_confirmation=po.confirmed_at is not None)
    assert (_balance(buyer.org), _balance(listing.vendor)) == (Decimal("990.00"), Decimal("10.00"))
    assert PurchaseOrderPayment.objects.get(purchase_order_id=po.pk).deposit_status == "forfeited"
    assert ledger_verify().ok


def test_credit_order_reserves_on_the_line_and_is_invoiced_on_delivery(buyer):
    listing = ListingFactory(breaks=[(1, "3.00")])
    line = credit_line(supplier=listing.vendor, buyer=buyer.org, limit="1000.00", terms_days=60)
    order, po = _order(buyer, listing, 100, "credit")
    state = credit_line_list(organization=buyer.org).get(pk=line.pk)
    assert (state.reserved, state.outstanding, state.available) == (Decimal("300.00"), Decimal("0.00"), Decimal("700.00"))
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    purchase_order_ship(purchase_order=po, actor=listing.vendor)
    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    invoice = Invoice.objects.get(credit_line=line)
    assert (invoice.amount, invoice.purchase_order_id, (invoice.due_date - invoice.issued_on).days) == (Decimal("300.00"), po.pk, 60)
    state = credit_line_list(organization=buyer.org).get(pk=line.pk)
    assert (state.reserved, state.outstanding) == (Decimal("0.00"), Decimal("300.00"))
    assert ledger_verify().ok


def test_credit_order_cancelled_voids_the_reservation(buyer):
    listing = ListingFactory(breaks=[(1, "3.00")])
    line = credit_line(supplier=listing.vendor, buyer=buyer.org, limit="1000.00")
    order, po = _order(buyer, listing, 100, "credit")
    purchase_order_cancel(purchase_order=po, actor=listing.vendor)
    assert credit_line_list(organization=buyer.org).get(pk=line.pk).available == Decimal("1000.00")


def test_credit_order_without_a_line_or_over_the_limit_is_refused(buyer):
    listing = ListingFactory(breaks=[(1, "3.00")])
    with pytest.raises(NoCreditLine):
        _order(buyer, listing, 10, "credit")
    credit_line(supplier=listing.vendor, buyer=buyer.org, limit="100.00")
    with pytest.raises(CreditLimitExceeded):
        _order(buyer, listing, 34, "credit")  # 102.00
    assert Order.objects.count() == 0


def test_delivery_without_money_for_the_balance_is_refused_until_the_buyer_tops_up(buyer):
    funded_wallet(buyer.org, "30.00")
    listing = ListingFactory(breaks=[(1, "1.00")])
    order, po = _order(buyer, listing, 100, "deposit")  # deposit 30.00 takes the whole wallet
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    purchase_order_ship(purchase_order=po, actor=listing.vendor)
    with pytest.raises(InsufficientFunds):
        purchase_order_deliver(purchase_order=po, actor=buyer.org)
    po.refresh_from_db()
    assert po.status == "shipped" and _balance(listing.vendor) == Decimal("30.00")
    funded_wallet(buyer.org, "70.00")
    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    assert (_balance(buyer.org), _balance(listing.vendor)) == (Decimal("0.00"), Decimal("100.00"))
