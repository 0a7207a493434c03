"""A vendor that ships late owes the buyer its late credit: recorded when it ships, posted in the
ledger when the order settles (a refund to the wallet, or a credit note on the invoice)."""

from decimal import Decimal

import pytest

from credit.models import AccountKind, EntryKind, Invoice, JournalEntry, PurchaseOrderPayment
from credit.selectors import ledger_verify
from credit.services import account_for, dispute_resolve, purchase_order_payment_late, supplier_terms_set
from config.events.models import Event
from marketplace.orders.services import (
    order_place,
    purchase_order_confirm,
    purchase_order_deliver,
    purchase_order_dispute,
    purchase_order_ship,
)
from tests.credit.factories import credit_line, funded_wallet
from tests.marketplace.factories import ListingFactory

pytestmark = pytest.mark.django_db


def _balance(org, kind=AccountKind.WALLET):
    return account_for(organization=org, kind=kind, currency="CNY").balance


def _shipped(buyer, listing, payment):
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment=payment, lines=[(listing, 100)])
    po = order.purchase_orders.get()
    purchase_order_confirm(purchase_order=po, actor=listing.vendor)
    purchase_order_ship(purchase_order=po, actor=listing.vendor)
    return po


def test_a_deposit_orders_late_credit_comes_back_to_the_buyer_when_it_settles(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "2.00")])  # 200.00, deposit 60.00 released on confirmation
    po = _shipped(buyer, listing, "deposit")
    purchase_order_payment_late(purchase_order_id=po.pk, amount=Decimal("12.345"), days=3)
    record = PurchaseOrderPayment.objects.get(purchase_order_id=po.pk)
    assert (record.late_credit, record.late_days, record.late_credit_posted) == (Decimal("12.34"), 3, Decimal("0.00"))
    assert _balance(buyer.org) == Decimal("940.00")  # nothing moves before settlement

    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    record.refresh_from_db()
    assert (_balance(buyer.org), _balance(listing.vendor)) == (Decimal("812.34"), Decimal("187.66"))
    assert record.late_credit_posted == Decimal("12.34")
    assert record.late_credit_entry.kind == EntryKind.LATE_CREDIT
    assert JournalEntry.objects.filter(kind=EntryKind.LATE_CREDIT).count() == 1
    assert Event.objects.filter(organization=buyer.org, type="payment.late_credit").get().data["amount"] == "12.34"
    assert ledger_verify().ok


def test_a_credit_orders_late_credit_reduces_its_invoice(buyer):
    listing = ListingFactory(breaks=[(1, "2.00")])
    credit_line(supplier=listing.vendor, buyer=buyer.org, limit="500.00")
    po = _shipped(buyer, listing, "credit")
    purchase_order_payment_late(purchase_order_id=po.pk, amount=Decimal("20.00"), days=4)
    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    invoice = Invoice.objects.get(purchase_order_id=po.pk)
    assert (invoice.amount, invoice.outstanding) == (Decimal("200.00"), Decimal("180.00"))
    assert PurchaseOrderPayment.objects.get(purchase_order_id=po.pk).late_credit_entry.kind == EntryKind.LATE_CREDIT
    assert ledger_verify().ok


def test_a_late_credit_is_never_more_than_the_order_nor_what_settlement_pays_the_vendor(buyer):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "1.00")])
    po = _shipped(buyer, listing, "deposit")
    purchase_order_payment_late(purchase_order_id=po.pk, amount=Decimal("5000"), days=99)
    assert PurchaseOrderPayment.objects.get(purchase_order_id=po.pk).late_credit == Decimal("100.00")
    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    purchase_order_payment_late(purchase_order_id=po.pk, amount=Decimal("1.00"), days=1)  # settled: ignored
    # The 30.00 deposit was released at confirmation (the vendor may have spent it): settlement
    # pays the vendor the 70.00 balance, and that is what the credit can take back.
    record = PurchaseOrderPayment.objects.get(purchase_order_id=po.pk)
    assert (record.late_credit, record.late_credit_posted) == (Decimal("100.00"), Decimal("70.00"))
    assert _balance(listing.vendor) == Decimal("30.00")
    assert ledger_verify().ok


def test_a_dispute_after_a_late_credit_splits_only_what_the_buyer_still_paid(buyer, operator):
    funded_wallet(buyer.org, "1000.00")
    listing = ListingFactory(breaks=[(1, "2.00")])
    supplier_terms_set(supplier=listing.vendor, deposit_percent=Decimal("30"), release_on="confirm",
                       forfeit_percent=Decimal("100"))
    po = _shipped(buyer, listing, "deposit")
    purchase_order_payment_late(purchase_order_id=po.pk, amount=Decimal("50.00"), days=5)
    purchase_order_deliver(purchase_order=po, actor=buyer.org)
    dispute = purchase_order_dispute(purchase_order=po, actor=buyer.org, reason="Half the reels were wrong")
    dispute = dispute_resolve(dispute=dispute, refund_percent=Decimal("100"), note="All back")
    assert dispute.refund_amount == Decimal("150.00")
    assert (_balance(buyer.org), _balance(listing.vendor)) == (Decimal("1000.00"), Decimal("0.00"))
    assert ledger_verify().ok
