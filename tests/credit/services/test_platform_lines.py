"""One line across a split order: a platform line, or a solution house fronting its kit's
sub-vendors; each vendor is paid on delivery, the buyer repays the lender; write-offs move the
voucher's share to the voucher."""

from decimal import Decimal

import pytest

from credit.exceptions import CreditLimitExceeded, InsufficientFunds, NoCreditLine
from credit.models import AccountKind, EntryKind, Invoice, JournalEntry
from credit.selectors import credit_line_list, ledger_verify, statement_rows
from credit.services import account_for, credit_line_grant, credit_repay, credit_write_off, platform_account
from marketplace.orders.services import order_place, purchase_order_cancel, purchase_order_confirm, purchase_order_deliver, purchase_order_ship
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import ListingFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _wallet(org):
    return account_for(organization=org, kind=AccountKind.WALLET, currency="CNY").balance


def _split_order(buyer, prices=("1.00", "2.00", "3.00")):
    listings = [ListingFactory(breaks=[(1, p)]) for p in prices]
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="credit", lines=[(l, 100) for l in listings])
    return listings, order


def _deliver(po, vendor, buyer):
    purchase_order_confirm(purchase_order=po, actor=vendor)
    purchase_order_ship(purchase_order=po, actor=vendor)
    purchase_order_deliver(purchase_order=po, actor=buyer)


def test_a_platform_line_pays_every_vendor_of_a_split_order_on_delivery(buyer):
    line = credit_line_grant(supplier=None, buyer=buyer.org, limit=Decimal("1000.00"), currency="CNY", terms_days=45)
    listings, order = _split_order(buyer)
    state = credit_line_list(organization=buyer.org).get(pk=line.pk)
    assert (state.reserved, state.available) == (Decimal("600.00"), Decimal("400.00"))

    pos = list(order.purchase_orders.order_by("pk"))
    for po, listing in zip(pos[:2], listings[:2]):
        _deliver(po, listing.vendor, buyer.org)
    purchase_order_cancel(purchase_order=pos[2], actor=listings[2].vendor)
    assert [_wallet(l.vendor) for l in listings] == [Decimal("100.00"), Decimal("200.00"), Decimal("0.00")]
    assert platform_account(kind=AccountKind.CREDIT_FUND, currency="CNY").balance == Decimal("-300.00")
    state = credit_line_list(organization=buyer.org).get(pk=line.pk)
    assert (state.outstanding, state.reserved) == (Decimal("300.00"), Decimal("0.00"))
    assert JournalEntry.objects.filter(kind=EntryKind.CREDIT_DISBURSEMENT).count() == 2

    funded_wallet(buyer.org, "300.00")
    credit_repay(line=line, amount=Decimal("300.00"))
    assert platform_account(kind=AccountKind.CREDIT_FUND, currency="CNY").balance == Decimal("0.00")
    assert [row["type"] for row in statement_rows(line=line)] == ["invoice", "invoice", "repayment"]
    assert ledger_verify().ok


def test_a_platform_line_refuses_past_its_limit_and_nothing_is_kept(buyer):
    credit_line_grant(supplier=None, buyer=buyer.org, limit=Decimal("500.00"), currency="CNY")
    with pytest.raises(CreditLimitExceeded):
        _split_order(buyer)
    assert not Invoice.objects.exists()


def test_a_vendor_own_line_wins_and_without_any_line_the_order_is_refused(buyer):
    listing = ListingFactory(breaks=[(1, "1.00")])
    with pytest.raises(NoCreditLine, match="platform line"):
        order_place(buyer=buyer.org, placed_by=buyer.user, payment="credit", lines=[(listing, 10)])
    own = credit_line_grant(supplier=listing.vendor, buyer=buyer.org, limit=Decimal("100.00"), currency="CNY")
    credit_line_grant(supplier=None, buyer=buyer.org, limit=Decimal("100.00"), currency="CNY")
    order_place(buyer=buyer.org, placed_by=buyer.user, payment="credit", lines=[(listing, 10)])
    assert credit_line_list(organization=buyer.org).get(pk=own.pk).reserved == Decimal("10.00")


def test_a_solution_house_fronts_its_kit_sub_vendors_from_its_wallet(buyer, solution_house):
    from marketplace.sourcing.quotes import quote_create
    from tests.marketplace.factories import make_kit

    a, b = ListingFactory(breaks=[(1, "1.00")]), ListingFactory(breaks=[(1, "2.00")])
    kit = make_kit(solution_house.org, bom=[(a.part, 1), (b.part, 1)], design_fee="0.50")
    line = credit_line_grant(supplier=solution_house.org, buyer=buyer.org, limit=Decimal("1000.00"), currency="CNY",
                             pays_other_vendors=True)
    quote = quote_create(organization=buyer.org, kit=kit, quantity=100)
    funded_wallet(solution_house.org, "250.00")
    with pytest.raises(InsufficientFunds, match="cannot front"):  # needs 300.00 for the two traders
        order_place(buyer=buyer.org, placed_by=buyer.user, payment="credit", quote=quote)
    funded_wallet(solution_house.org, "50.00")
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="credit", quote=quote)
    assert credit_line_list(organization=buyer.org).get(pk=line.pk).reserved == Decimal("350.00")
    for po in order.purchase_orders.select_related("vendor"):
        _deliver(po, po.vendor, buyer.org)
    assert (_wallet(a.vendor), _wallet(b.vendor), _wallet(solution_house.org)) == (
        Decimal("100.00"), Decimal("200.00"), Decimal("0.00"))
    assert credit_line_list(organization=buyer.org).get(pk=line.pk).outstanding == Decimal("350.00")
    assert ledger_verify().ok


def test_a_write_off_moves_the_voucher_share_to_the_voucher(buyer):
    voucher = OrganizationFactory(solution_house=True)
    line = credit_line_grant(supplier=None, buyer=buyer.org, limit=Decimal("1000.00"), currency="CNY",
                             vouched_by=voucher, voucher_share_percent=Decimal("40"))
    listings, order = _split_order(buyer, prices=("1.00", "1.50"))
    for po, listing in zip(order.purchase_orders.order_by("pk"), listings):
        _deliver(po, listing.vendor, buyer.org)
    with pytest.raises(InsufficientFunds):  # the voucher must really pay its 100.00
        credit_write_off(line=line, reason="Buyer vanished")
    funded_wallet(voucher, "120.00")
    entry = credit_write_off(line=line, reason="Buyer vanished")
    assert entry.kind == EntryKind.WRITE_OFF and entry.reason == "Buyer vanished"
    assert _wallet(voucher) == Decimal("20.00")
    assert platform_account(kind=AccountKind.CREDIT_FUND, currency="CNY").balance == Decimal("-150.00")
    state = credit_line_list(organization=buyer.org).get(pk=line.pk)
    assert (state.outstanding, state.status) == (Decimal("0.00"), "frozen")
    assert set(Invoice.objects.filter(credit_line=line).values_list("status", flat=True)) == {"written_off"}
    assert ledger_verify().ok
