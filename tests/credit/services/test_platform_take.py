"""The platform's fee, rolling reserves and paying from another currency's wallet, through
credit's payment interface (plain values, as the marketplace calls it)."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from credit import payments
from credit.exceptions import FeeScheduleInvalid, InsufficientFunds, ReserveInvalid
from credit.models import AccountKind, EntryKind, JournalEntry, PurchaseOrderPayment, ReserveTranche
from credit.selectors import ledger_verify, platform_revenue
from credit.services import (
    account_for,
    credit_line_grant,
    fee_schedule_set,
    fx_rate_set,
    platform_account,
    platform_fee_for,
    reserve_release_due,
    reserve_set,
    supplier_terms_set,
)
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
PO_IDS = itertools.count(9_000_000)


def _balance(org, kind=AccountKind.WALLET, currency="CNY"):
    return account_for(organization=org, kind=kind, currency=currency).balance


def _revenue(currency="CNY"):
    return platform_account(kind=AccountKind.REVENUE, currency=currency).balance


def _open(buyer, vendor, total, method="deposit", **kwargs):
    po_id = next(PO_IDS)
    kwargs.setdefault("currency", "CNY")
    payments.purchase_order_payment_open(purchase_order_id=po_id, order_id=None, buyer=buyer, vendor=vendor,
                                         total=Decimal(total), method=method, **kwargs)
    return po_id


@pytest.fixture
def parties():
    buyer, vendor = OrganizationFactory(), OrganizationFactory(trader=True)
    funded_wallet(buyer, "1000.00")
    return buyer, vendor


def test_a_400_order_at_2_percent_pays_the_stall_392_and_the_platform_8(parties):
    buyer, vendor = parties
    fee_schedule_set(default_percent=Decimal("2"))
    po = _open(buyer, vendor, "400.00")  # 30 % deposit (120.00) into escrow
    record = PurchaseOrderPayment.objects.get(purchase_order_id=po)
    assert record.platform_fee == Decimal("8.00")
    payments.purchase_order_payment_confirm(purchase_order_id=po)  # the deposit is released: the fee is taken from it
    assert (_balance(vendor), _revenue()) == (Decimal("112.00"), Decimal("8.00"))
    release = JournalEntry.objects.filter(kind=EntryKind.DEPOSIT_RELEASE).get()
    assert sorted(release.postings.values_list("amount", flat=True)) == [Decimal("-120.00"), Decimal("8.00"), Decimal("112.00")]
    payments.purchase_order_payment_deliver(purchase_order_id=po)
    assert (_balance(vendor), _revenue(), _balance(buyer)) == (Decimal("392.00"), Decimal("8.00"), Decimal("600.00"))
    assert PurchaseOrderPayment.objects.get(purchase_order_id=po).fee_collected == Decimal("8.00")
    assert [a.balance for a in platform_revenue()] == [Decimal("8.00")]
    assert ledger_verify().ok


def test_the_fee_is_fixed_when_the_order_is_placed(parties):
    buyer, vendor = parties
    fee_schedule_set(default_percent=Decimal("5"))
    po = _open(buyer, vendor, "100.00")
    fee_schedule_set(default_percent=Decimal("0"))
    payments.purchase_order_payment_confirm(purchase_order_id=po)
    payments.purchase_order_payment_deliver(purchase_order_id=po)
    assert (_balance(vendor), _revenue()) == (Decimal("95.00"), Decimal("5.00"))


def test_fees_by_category_are_summed_then_rounded_once():
    schedule = fee_schedule_set(default_percent=Decimal("2"), by_category={"Connectors": "3.5", " passives ": "1"})
    basis = {"connectors": Decimal("10.01"), "Passives": Decimal("0.33"), "": Decimal("0.17")}
    # 10.01 × 3.5 % + 0.33 × 1 % + 0.17 × 2 % = 0.35035 + 0.0033 + 0.0034 = 0.35705 -> 0.36
    assert platform_fee_for(basis=basis, schedule=schedule) == Decimal("0.36")


@pytest.mark.parametrize("default, by_category, field", [
    ("101", None, "default_percent"), ("-1", None, "default_percent"), ("1.234", None, "default_percent"),
    ("x", None, "default_percent"), ("2", {"a": "200"}, "by_category"), ("2", {"": "1"}, "by_category"),
    ("2", {"A": "1", "a": "2"}, "by_category"), ("2", ["a"], "by_category"),
])
def test_bad_fee_schedules_are_refused(default, by_category, field):
    with pytest.raises(FeeScheduleInvalid) as error:
        fee_schedule_set(default_percent=default, by_category=by_category)
    assert field in error.value.message_dict


def test_a_lender_disbursement_pays_the_fee_and_the_reserve_in_the_same_entry():
    buyer, vendor = OrganizationFactory(), OrganizationFactory(trader=True)
    credit_line_grant(supplier=None, buyer=buyer, limit=Decimal("1000.00"), currency="CNY")
    fee_schedule_set(default_percent=Decimal("10"))
    reserve_set(organization=vendor, percent=Decimal("20"), days=30)
    po = _open(buyer, vendor, "200.00", method="credit")
    payments.purchase_order_payment_deliver(purchase_order_id=po)
    # 200.00: fee 20.00, reserve 20 % of 180.00 = 36.00, wallet 144.00 — one disbursement entry
    assert (_balance(vendor), _balance(vendor, AccountKind.RESERVE), _revenue()) == (
        Decimal("144.00"), Decimal("36.00"), Decimal("20.00"))
    disbursement = JournalEntry.objects.get(kind=EntryKind.CREDIT_DISBURSEMENT)
    assert disbursement.postings.count() == 4
    assert ledger_verify().ok


def test_the_rolling_reserve_is_held_from_releases_and_freed_by_the_beat_when_due(parties):
    buyer, vendor = parties
    supplier_terms_set(supplier=vendor, deposit_percent=Decimal("0"), release_on="confirm", forfeit_percent=Decimal("0"))
    reserve_set(organization=vendor, percent=Decimal("10"), days=7)
    po = _open(buyer, vendor, "300.00")
    payments.purchase_order_payment_deliver(purchase_order_id=po)
    assert (_balance(vendor), _balance(vendor, AccountKind.RESERVE)) == (Decimal("270.00"), Decimal("30.00"))
    tranche = ReserveTranche.objects.get()
    assert tranche.due_at > timezone.now() + timedelta(days=6)

    assert reserve_release_due() == 0  # not due yet
    assert reserve_release_due(now=timezone.now() + timedelta(days=8)) == 1
    assert reserve_release_due(now=timezone.now() + timedelta(days=8)) == 0  # a doubled beat frees nothing twice
    assert (_balance(vendor), _balance(vendor, AccountKind.RESERVE)) == (Decimal("300.00"), Decimal("0.00"))
    assert ledger_verify().ok


def test_a_reserve_can_be_removed_and_is_only_for_suppliers(parties):
    buyer, vendor = parties
    reserve_set(organization=vendor, percent=Decimal("10"), days=7)
    assert reserve_set(organization=vendor, percent=Decimal("0"), days=7) is None
    with pytest.raises(ReserveInvalid):
        reserve_set(organization=buyer, percent=Decimal("10"), days=7)
    with pytest.raises(ReserveInvalid):
        reserve_set(organization=vendor, percent=Decimal("10"), days=-1)


def test_a_usd_order_is_paid_from_the_cny_wallet_through_an_fx_entry():
    buyer, vendor = OrganizationFactory(), OrganizationFactory(trader=True)
    funded_wallet(buyer, "1000.00", currency="CNY")
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.20"), valid_from=timezone.now() - timedelta(days=1))
    po = _open(buyer, vendor, "100.00", currency="USD", fund_currency="CNY")  # deposit 30.00 USD = 216.00 CNY
    assert _balance(buyer, currency="CNY") == Decimal("784.00")
    assert _balance(buyer, AccountKind.ESCROW, currency="USD") == Decimal("30.00")
    assert _balance(buyer, currency="USD") == Decimal("0.00")
    conversion = JournalEntry.objects.get(kind=EntryKind.FX_CONVERSION)
    assert {p.currency for p in conversion.postings.all()} == {"CNY", "USD"}
    payments.purchase_order_payment_confirm(purchase_order_id=po)
    payments.purchase_order_payment_deliver(purchase_order_id=po)  # balance 70.00 USD = 504.00 CNY
    assert _balance(buyer, currency="CNY") == Decimal("280.00")
    assert _balance(vendor, currency="USD") == Decimal("100.00")
    assert ledger_verify().ok


def test_paying_from_another_wallet_without_enough_names_both_currencies():
    buyer, vendor = OrganizationFactory(), OrganizationFactory(trader=True)
    funded_wallet(buyer, "100.00", currency="CNY")
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.20"), valid_from=timezone.now() - timedelta(days=1))
    with pytest.raises(InsufficientFunds) as error:
        _open(buyer, vendor, "100.00", currency="USD", fund_currency="CNY")
    message = " ".join(error.value.messages)
    assert "30.00 USD" in message and "216.00 CNY" in message and "100.00 CNY is available" in message
    assert _balance(buyer, currency="CNY") == Decimal("100.00")


def test_insufficient_funds_names_the_payment_and_what_is_reserved(parties):
    buyer, vendor = parties  # 1,000.00 in the wallet
    supplier_terms_set(supplier=vendor, deposit_percent=Decimal("90"), release_on="confirm", forfeit_percent=Decimal("0"))
    _open(buyer, vendor, "1000.00")  # 900.00 into escrow: 100.00 left
    from credit.services import payout_request

    payout_request(organization=buyer, amount=Decimal("60.00"), currency="CNY")  # 60.00 reserved
    with pytest.raises(InsufficientFunds) as error:
        payout_request(organization=buyer, amount=Decimal("83.18"), currency="CNY")
    message = error.value.messages[0]
    assert "this needs 83.18 CNY" in message
    assert "holds 100.00 CNY, of which 60.00 is reserved" in message and "40.00 CNY is available" in message


def test_the_payment_preview_shows_the_deposit_from_another_currency_before_ordering():
    from credit.selectors import payment_preview

    buyer, vendor = OrganizationFactory(), OrganizationFactory(trader=True)
    funded_wallet(buyer, "100.00", currency="CNY")
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.20"), valid_from=timezone.now() - timedelta(days=1))
    preview = payment_preview(buyer=buyer, currency="USD", vendor_totals={vendor.pk: Decimal("100.00")})
    assert preview["deposit"] == Decimal("30.00")
    assert preview["conversions"] == [{"currency": "CNY", "amount": Decimal("216.00"), "rate": Decimal("7.20"),
                                       "available": Decimal("100.00"), "ok": False}]
