"""Deposit orders end well: default after the grace period, the buyer's cancellation after
confirmation where terms allow, disputes that freeze what is held and an operator's split."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from credit.exceptions import DisputeConflict, PaymentStepRefused
from credit.models import AccountKind, EntryKind, Invoice, PurchaseOrderPayment
from credit.selectors import disputes_to_resolve, ledger_verify
from credit.services import account_for, dispute_resolve, supplier_terms_set
from marketplace.exceptions import PurchaseOrderStepNotAllowed, StepNotYours
from marketplace.models import Listing, PurchaseOrder
from marketplace.orders.services import order_place, purchase_order_cancel, purchase_order_confirm, purchase_order_default, purchase_order_deliver, purchase_order_dispute, purchase_order_ship
from tests.credit.factories import credit_line, funded_wallet
from tests.marketplace.factories import ListingFactory

pytestmark = pytest.mark.django_db


def _balance(org, kind=AccountKind.WALLET):
    return account_for(organization=org, kind=kind, currency="CNY").balance


def _shipped(buyer, *, payment="deposit", release_on="confirm", forfeit="50", grace=7, price="2.00"):
    listing = ListingFactory(breaks=[(1, price)], stock=500)
    supplier_terms_set(supplier=listing.vendor, deposit_percent=Decimal("30"), release_on=release_on,
                       forfeit_percent=Decimal(forfeit), default_grace_days=grace)
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment=payment, lines=[(listing, 100)])
    po = order.purchase_orders.get()
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    purchase_order_ship(purchase_order=po, actor=listing.vendor)
    return listing, po


def _age(po, days):
    PurchaseOrder.objects.filter(pk=po.pk).update(shipped_at=timezone.now() - timedelta(days=days))


def test_a_default_after_the_grace_period_forfeits_per_terms_and_puts_the_goods_back(buyer):
    funded_wallet(buyer.org, "100.00")  # enough for the 60.00 deposit, not for the 140.00 balance
    listing, po = _shipped(buyer, release_on="deliver", forfeit="50")
    assert Listing.objects.get(pk=listing.pk).stock == 400
    with pytest.raises(Exception, match="top up|Not enough"):
        purchase_order_deliver(purchase_order=po, actor=buyer.org)
    with pytest.raises(PaymentStepRefused, match="has until"):
        purchase_order_default(purchase_order=po, actor=listing.vendor)
    with pytest.raises(StepNotYours):
        purchase_order_default(purchase_order=po, actor=buyer.org)

    _age(po, 8)
    purchase_order_default(purchase_order=po, actor=listing.vendor)
    po.refresh_from_db()
    record = PurchaseOrderPayment.objects.get(purchase_order_id=po.pk)
    assert (po.status, record.deposit_status, record.defaulted_at is not None) == ("cancelled", "forfeited", True)
    assert (_balance(buyer.org), _balance(buyer.org, AccountKind.ESCROW), _balance(listing.vendor)) == (
        Decimal("70.00"), Decimal("0.00"), Decimal("30.00"))
    assert Listing.objects.get(pk=listing.pk).stock == 500
    assert ledger_verify().ok


def test_a_default_on_a_released_deposit_makes_the_supplier_refund_the_unforfeited_part(buyer):
    funded_wallet(buyer.org, "60.00")
    listing, po = _shipped(buyer, release_on="confirm", forfeit="50")
    assert _balance(listing.vendor) == Decimal("60.00")
    _age(po, 30)
    purchase_order_default(purchase_order=po, actor=listing.vendor)
    assert (_balance(buyer.org), _balance(listing.vendor)) == (Decimal("30.00"), Decimal("30.00"))


def test_the_buyer_cancels_after_confirmation_only_where_terms_allow_and_forfeits_per_terms(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "1.00")])
    supplier_terms_set(supplier=listing.vendor, deposit_percent=Decimal("40"), release_on="deliver",
                       forfeit_percent=Decimal("25"), buyer_may_cancel=False)
    po = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 100)]).purchase_orders.get()
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    with pytest.raises(PurchaseOrderStepNotAllowed):
        purchase_order_cancel(purchase_order=po, actor=buyer.org)

    supplier_terms_set(supplier=listing.vendor, deposit_percent=Decimal("40"), release_on="deliver",
                       forfeit_percent=Decimal("25"), buyer_may_cancel=True)
    po2 = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 100)]).purchase_orders.get()
    purchase_order_confirm(purchase_order=po2, actor=listing.vendor)
    purchase_order_cancel(purchase_order=po2, actor=buyer.org)
    # two deposits of 40.00; the second: 10.00 forfeited, 30.00 back
    assert (_balance(buyer.org), _balance(listing.vendor)) == (Decimal("950.00"), Decimal("10.00"))
    assert ledger_verify().ok


def test_full_escrow_for_buyers_without_history(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "1.00")])
    supplier_terms_set(supplier=listing.vendor, deposit_percent=Decimal("30"), release_on="deliver",
                       forfeit_percent=Decimal("100"), full_escrow_for_new_buyers=True)
    po = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 100)]).purchase_orders.get()
    assert _balance(buyer.org, AccountKind.ESCROW) == Decimal("100.00")
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    purchase_order_ship(purchase_order=po, actor=listing.vendor)
    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(listing, 100)])
    assert _balance(buyer.org, AccountKind.ESCROW) == Decimal("30.00")  # history now: the usual 30 %


def test_a_dispute_freezes_what_is_held_until_an_operator_splits_it(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing, po = _shipped(buyer, release_on="deliver")
    dispute = purchase_order_dispute(purchase_order=po, actor=buyer.org, reason="Half the reels are the wrong part")
    assert list(disputes_to_resolve()) == [dispute]
    with pytest.raises(DisputeConflict):
        purchase_order_deliver(purchase_order=po, actor=buyer.org)
    _age(po, 30)
    with pytest.raises(DisputeConflict):
        purchase_order_default(purchase_order=po, actor=listing.vendor)
    with pytest.raises(DisputeConflict):
        purchase_order_dispute(purchase_order=po, actor=listing.vendor, reason="again")
    assert _balance(buyer.org, AccountKind.ESCROW) == Decimal("60.00")

    dispute = dispute_resolve(dispute=dispute, refund_percent=Decimal("50"), note="Photos show 50 of 100 wrong")
    assert (dispute.status, dispute.refund_amount, dispute.entry.kind, dispute.entry.reason) == (
        "resolved", Decimal("30.00"), EntryKind.DISPUTE_SPLIT, "Photos show 50 of 100 wrong")
    assert dispute.entry.memo.startswith(f"Dispute {dispute.pk}")
    assert (_balance(buyer.org), _balance(buyer.org, AccountKind.ESCROW), _balance(listing.vendor)) == (
        Decimal("970.00"), Decimal("0.00"), Decimal("30.00"))
    with pytest.raises(DisputeConflict):
        dispute_resolve(dispute=dispute, refund_percent=Decimal("0"), note="twice")
    assert ledger_verify().ok


def test_a_dispute_on_a_delivered_deposit_order_refunds_from_the_supplier(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing, po = _shipped(buyer)
    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    dispute = purchase_order_dispute(purchase_order=po, actor=listing.vendor, reason="Buyer says it is broken; we disagree")
    dispute_resolve(dispute=dispute, refund_percent=Decimal("25"), note="One board in four failed test")
    assert (_balance(buyer.org), _balance(listing.vendor)) == (Decimal("850.00"), Decimal("150.00"))
    assert ledger_verify().ok


def test_a_dispute_on_a_shipped_credit_order_invoices_only_the_kept_share(buyer):
    listing = ListingFactory(breaks=[(1, "2.00")])
    line = credit_line(supplier=listing.vendor, buyer=buyer.org, limit="1000.00")
    po = order_place(buyer=buyer.org, placed_by=buyer.user, payment="credit", lines=[(listing, 100)]).purchase_orders.get()
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    purchase_order_ship(purchase_order=po, actor=listing.vendor)
    dispute = purchase_order_dispute(purchase_order=po, actor=buyer.org, reason="Late and short")
    dispute_resolve(dispute=dispute, refund_percent=Decimal("40"), note="60 % delivered")
    invoice = Invoice.objects.get(credit_line=line)
    assert invoice.amount == Decimal("120.00")
    from credit.selectors import credit_line_list

    state = credit_line_list(organization=buyer.org).get(pk=line.pk)
    assert (state.outstanding, state.reserved) == (Decimal("120.00"), Decimal("0.00"))
    assert ledger_verify().ok


def test_a_dispute_on_a_delivered_credit_order_credits_the_invoice_then_refunds_cash(buyer):
    listing = ListingFactory(breaks=[(1, "2.00")])
    line = credit_line(supplier=listing.vendor, buyer=buyer.org, limit="1000.00")
    po = order_place(buyer=buyer.org, placed_by=buyer.user, payment="credit", lines=[(listing, 100)]).purchase_orders.get()
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    purchase_order_ship(purchase_order=po, actor=listing.vendor)
    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    funded_wallet(buyer.org, "150.00")
    from credit.services import credit_repay

    credit_repay(line=line, amount=Decimal("150.00"))  # 50.00 still owed
    dispute = purchase_order_dispute(purchase_order=po, actor=buyer.org, reason="Wrong firmware")
    dispute_resolve(dispute=dispute, refund_percent=Decimal("50"), note="Half the batch reflashed by the buyer")
    invoice = Invoice.objects.get(credit_line=line)
    assert (invoice.credited, invoice.outstanding, invoice.status) == (Decimal("50.00"), Decimal("0.00"), "paid")
    assert (_balance(buyer.org), _balance(listing.vendor)) == (Decimal("50.00"), Decimal("100.00"))
    assert ledger_verify().ok
