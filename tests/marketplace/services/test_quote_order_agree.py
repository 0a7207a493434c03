"""One rounding rule: each line's extended price is rounded once, and vendor subtotals, minimum
orders, purchase orders, quotes and orders are sums of rounded lines — so an order placed from a
quote costs what the quote said, in total and vendor by vendor, to the cent. And a kit
revision's NRE is charged once per buyer."""

import itertools
from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit.models import PurchaseOrderPayment
from credit.services import fee_schedule_set, fx_rate_set, wallet_topup
from marketplace.exceptions import OrderInvalid
from marketplace.models import KitNrePaid, VendorOrderTerms
from marketplace.orders.services import order_place, purchase_order_cancel
from marketplace.sourcing.quotes import quote_create
from marketplace.sourcing.selectors import quote_list, quote_vendor_subtotals
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, UserFactory, make_kit

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")
SEQ = itertools.count()

# Unit prices with up to six places, so extended prices land on half cents and beyond.
prices = st.integers(min_value=1, max_value=3_000_000).map(lambda micro: Decimal(micro) / Decimal(1_000_000))
listing_specs = st.lists(st.tuples(st.integers(0, 3), prices, st.integers(1, 400), st.sampled_from(["CNY", "USD"])),
                         min_size=1, max_size=4)  # (vendor index, price, stock, currency)
line_specs = st.lists(st.tuples(listing_specs, st.integers(1, 7)), min_size=1, max_size=5)  # (offers, qty per kit)
terms_specs = st.lists(st.tuples(st.sampled_from(["0", "1.12", "7.75"]), st.sampled_from(["0", "2.50", "12.01"])),
                       min_size=4, max_size=4)  # per vendor: (min order value, shipping fee)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=line_specs, terms=terms_specs, quantity=st.integers(1, 40), currency=st.sampled_from(["CNY", "USD"]),
       design_fee=st.sampled_from(["0", "0.333333", "1.125"]), nre=st.sampled_from(["0", "99.99"]))
def test_an_order_from_a_quote_equals_it_to_the_cent_vendor_by_vendor(lines, terms, quantity, currency, design_fee, nre):
    with transaction.atomic():  # each example on its own, rolled back (a failure leaves the next one clean)
        _quote_then_order(lines, terms, quantity, currency, design_fee, nre)
        transaction.set_rollback(True)


def _quote_then_order(lines, terms, quantity, currency, design_fee, nre):
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.1234"), valid_from=timezone.now() - timedelta(days=1))
    buyer = OrganizationFactory(name=f"Buyer {next(SEQ)}")
    vendors = [OrganizationFactory(trader=True) for _ in range(4)]
    for vendor, (minimum, shipping) in zip(vendors, terms):
        VendorOrderTerms.objects.create(vendor=vendor, currency="CNY", shipping_fee=Decimal(shipping),
                                        min_order_value=Decimal(minimum))
    bom = []
    for offers, per_kit in lines:
        part = PartFactory(category=f"cat-{per_kit % 3}")
        by_vendor = {}  # one listing per vendor and part
        for vendor_index, price, stock, listing_currency in offers:
            by_vendor.setdefault(vendor_index, (price, stock, listing_currency))
        for vendor_index, (price, stock, listing_currency) in by_vendor.items():
            ListingFactory(part=part, vendor=vendors[vendor_index], stock=stock, currency=listing_currency,
                           breaks=[(1, str(price))])
        bom.append((part, per_kit))
    kit = make_kit(bom=bom, design_fee=design_fee, nre=nre)
    quote = quote_create(organization=buyer, kit=kit, quantity=quantity, options={"currency": currency})
    if quote.lines.filter(shortfall__gt=0).exists():
        return  # a short quote is not ordered as a whole kit

    quoted = {row["vendor_id"]: row["total"] for row in quote_vendor_subtotals(quote=quote_list(organization=buyer).get(pk=quote.pk))}
    assert sum(quoted.values(), Decimal(0)) == quote.total
    allocations = [a for line in quote.lines.prefetch_related("allocations") for a in line.allocations.all()]
    assert all(a.extended_price == (a.quantity * a.unit_price).quantize(CENT, ROUND_HALF_EVEN) for a in allocations)
    for line in quote.lines.prefetch_related("allocations"):
        assert line.cost == sum((a.extended_price for a in line.allocations.all()), Decimal(0))
    parts_by_vendor = defaultdict(Decimal)
    for a in allocations:
        parts_by_vendor[a.vendor_id] += a.extended_price
    for qv in quote.vendors.all():
        assert qv.subtotal == parts_by_vendor[qv.vendor_id]  # a vendor subtotal is its rounded lines, summed
        if quote.currency == "CNY":  # the terms' currency: the minimum is judged on what the purchase order charges
            assert qv.subtotal >= VendorOrderTerms.objects.get(vendor_id=qv.vendor_id).min_order_value

    wallet_topup(organization=buyer, amount=quote.total + 1, currency=quote.currency, reference=f"fund-{next(SEQ)}")
    order = order_place(buyer=buyer, placed_by=UserFactory(), payment="deposit", quote=quote)
    assert order.total == quote.total
    assert {po.vendor_id: po.total for po in order.purchase_orders.all()} == quoted
    for po in order.purchase_orders.prefetch_related("lines"):
        assert po.total == sum((line.extended_price for line in po.lines.all()), Decimal(0))


def test_the_cent_that_used_to_differ_rounds_per_line_in_quote_and_order(buyer, fund):
    """Two lines of 3 × 1.2915 = 3.8745 each: 3.87 + 3.87 = 7.74 on the quote and the purchase order
    alike (rounding the vendor's unrounded 7.749 once gave 7.75 on the quote)."""
    vendor = OrganizationFactory(trader=True)
    a, b = PartFactory(), PartFactory()
    ListingFactory(part=a, vendor=vendor, breaks=[(1, "1.2915")])
    ListingFactory(part=b, vendor=vendor, breaks=[(1, "1.2915")])
    kit = make_kit(bom=[(a, 3), (b, 3)])
    quote = quote_create(organization=buyer.org, kit=kit, quantity=1)
    assert quote.vendors.get().subtotal == Decimal("7.74") == quote.components_cost
    fund(buyer.org)
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", quote=quote)
    assert order.purchase_orders.get().total == Decimal("7.74") == order.total


def test_a_minimum_order_is_judged_on_the_rounded_lines(buyer):
    """Min order 7.75: the rounded lines make 7.74, so this vendor is below it (and must not be
    the one chosen when another can supply without the minimum)."""
    vendor, other = OrganizationFactory(trader=True), OrganizationFactory(trader=True)
    VendorOrderTerms.objects.create(vendor=vendor, currency="CNY", min_order_value=Decimal("7.75"))
    a, b = PartFactory(), PartFactory()
    for part in (a, b):
        ListingFactory(part=part, vendor=vendor, breaks=[(1, "1.2915")])
        ListingFactory(part=part, vendor=other, breaks=[(1, "1.30")])
    quote = quote_create(organization=buyer.org, kit=make_kit(bom=[(a, 3), (b, 3)]), quantity=1)
    assert [v.vendor_id for v in quote.vendors.all()] == [other.pk]
    assert quote.components_cost == Decimal("7.80")


def test_the_platform_fee_is_recorded_on_each_purchase_order(buyer, fund):
    fee_schedule_set(default_percent=Decimal("2"), by_category={"Passives": "1"})
    fund(buyer.org)
    soc, cap = PartFactory(category="Wireless SoC"), PartFactory(category="Passives")
    one, two = ListingFactory(part=soc, breaks=[(1, "150.00")]), ListingFactory(part=cap, breaks=[(1, "100.00")])
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", lines=[(one, 2), (two, 1)])
    fees = {po.vendor_id: po.platform_fee for po in order.purchase_orders.all()}
    assert fees == {one.vendor_id: Decimal("6.00"), two.vendor_id: Decimal("1.00")}
    assert PurchaseOrderPayment.objects.get(purchase_order_id=order.purchase_orders.get(vendor=one.vendor).pk
                                            ).platform_fee == Decimal("6.00")


def test_nre_is_charged_once_per_kit_revision_per_buyer_and_a_reorder_shows_it_paid(buyer, fund):
    fund(buyer.org)
    part = PartFactory()
    ListingFactory(part=part, stock=1000, breaks=[(1, "1.00")])
    kit = make_kit(bom=[(part, 1)], nre="500", design_fee="0.50")
    first = quote_create(organization=buyer.org, kit=kit, quantity=10)
    assert (first.nre, first.nre_paid) == (Decimal("500.00"), [])
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", quote=first)
    assert order.total == Decimal("10.00") + Decimal("5.00") + Decimal("500.00")

    again = quote_create(organization=buyer.org, kit=kit, quantity=10)  # the reorder
    assert again.nre == Decimal("0.00") and again.design_fees == Decimal("5.00")
    assert [(p["kit"], p["order"]) for p in again.nre_paid] == [(kit.pk, order.pk)]
    reorder = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", quote=again)
    assert reorder.total == again.total == Decimal("15.00")

    other = OrganizationFactory()  # another buyer pays its own NRE
    assert quote_create(organization=other, kit=kit, quantity=10).nre == Decimal("500.00")


def test_a_stale_quote_that_still_charges_paid_nre_is_refused_and_a_cancelled_order_frees_it(buyer, fund):
    fund(buyer.org)
    part = PartFactory()
    ListingFactory(part=part, stock=1000, breaks=[(1, "1.00")])
    kit = make_kit(bom=[(part, 1)], nre="500")
    one, two = (quote_create(organization=buyer.org, kit=kit, quantity=5) for _ in range(2))
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", quote=one)
    with pytest.raises(OrderInvalid, match="already paid the NRE"):
        order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", quote=two)
    nre_po = order.purchase_orders.get(vendor=kit.owner)
    purchase_order_cancel(purchase_order=nre_po, actor=buyer.org)
    assert not KitNrePaid.objects.exists()
    assert order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", quote=two).total == Decimal("505.00")
