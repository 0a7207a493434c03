"""Quotes across currencies: offers in another currency take part at the rate in force, the quote
keeps the snapshot, and an order from it buys exactly what the quote priced, in its currency."""

from decimal import Decimal

import pytest

from credit.selectors import ledger_verify
from credit.services.fx import fx_rate_set
from marketplace.exceptions import QuoteInvalid
from marketplace.models import Quote, VendorOrderTerms
from marketplace.orders.services import order_place
from marketplace.sourcing.quotes import quote_create
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def _usd_rate(rate="7.20"):
    return fx_rate_set(base="USD", quote="CNY", rate=Decimal(rate))


def test_a_cheaper_usd_offer_sources_a_cny_kit_at_the_converted_price_and_the_quote_keeps_the_rate(buyer):
    rate = _usd_rate()
    part = PartFactory()
    ListingFactory(part=part, currency="CNY", stock=1000, breaks=[(1, "0.75")])
    usd = ListingFactory(part=part, currency="USD", stock=1000, breaks=[(1, "0.10")])  # 0.72 CNY
    kit = make_kit(bom=[(part, 1)])
    quote = quote_create(organization=buyer.org, kit=kit, quantity=100)
    allocation = quote.lines.get().allocations.get()
    assert (allocation.listing_id, allocation.unit_price, allocation.extended_price) == (usd.pk, Decimal("0.72"), Decimal("72.00"))
    assert quote.currency == "CNY" and quote.components_cost == Decimal("72.00")
    assert quote.fx["rates"] == {"USD": "7.20000000"} and quote.fx["rate_ids"] == {"USD": rate.pk}
    assert quote.fx["left_out"] == [] and quote.fx_as_of is not None
    assert quote.fx["valid_from"] == {"USD": rate.valid_from.isoformat()}


def test_without_a_rate_the_usd_offer_is_left_out_and_the_quote_says_so(buyer):
    part = PartFactory()
    ListingFactory(part=part, currency="USD", stock=1000, breaks=[(1, "0.10")])
    kit = make_kit(bom=[(part, 1)])
    quote = quote_create(organization=buyer.org, kit=kit, quantity=100)
    assert quote.lines.get().shortfall == 100
    assert quote.fx["left_out"] == ["USD"] and quote.fx["rates"] == {}


def test_a_usd_quote_of_a_cny_kit_converts_parts_assembly_fees_and_nre_and_adds_up(buyer):
    _usd_rate("7.20")  # the inverse, 1 CNY = 0.13888889 USD, is what this quote uses
    part = PartFactory()
    ListingFactory(part=part, currency="CNY", stock=1000, breaks=[(1, "7.20")])
    factory = OrganizationFactory(factory_kind=True)
    kit = make_kit(bom=[(part, 1)], design_fee="1.44", nre="720",
                   assembly={"factory": factory, "setup_cost": Decimal("72"), "unit_cost_breaks": [(1, Decimal("3.60"))]})
    quote = quote_create(organization=buyer.org, kit=kit, quantity=10, options={"currency": "usd"})
    assert quote.currency == "USD" and quote.fx["rates"] == {"CNY": "0.13888889"}
    assert quote.components_cost == Decimal("10.00")  # 10 × 7.20 CNY × 0.13888889 = 10 × 1.000000
    assert quote.assembly_cost == Decimal("10.00") + Decimal("5.00")  # setup 72 CNY, 10 × 3.60 CNY
    assert quote.design_fees == Decimal("2.00") and quote.nre == Decimal("100.00")
    assert quote.total == quote.components_cost + quote.assembly_cost + quote.design_fees + quote.nre + quote.shipping_cost


def test_order_terms_in_usd_apply_to_a_cny_quote_converted(buyer):
    _usd_rate("7.00")
    part = PartFactory()
    listing = ListingFactory(part=part, currency="CNY", stock=1000, breaks=[(1, "1.00")])
    VendorOrderTerms.objects.create(vendor=listing.vendor, currency="USD", shipping_fee=Decimal("2.00"),
                                    min_order_value=Decimal("0"))
    quote = quote_create(organization=buyer.org, kit=make_kit(bom=[(part, 1)]), quantity=10)
    assert quote.shipping_cost == Decimal("14.00")
    assert quote.vendors.get().shipping == Decimal("14.00")


@pytest.mark.parametrize("currency", ["EUR", "", 7, "usd; drop table"])
def test_a_bad_or_unconvertible_currency_is_a_400_and_saves_nothing(buyer, currency):
    part = PartFactory()
    ListingFactory(part=part, stock=1000, breaks=[(1, "1.00")])
    kit = make_kit(bom=[(part, 1)])
    with pytest.raises(QuoteInvalid) as raised:
        quote_create(organization=buyer.org, kit=kit, quantity=10, options={"currency": currency})
    assert "currency" in raised.value.message_dict
    with pytest.raises(QuoteInvalid) as raised:  # a real currency, but no USD rate yet
        quote_create(organization=buyer.org, kit=kit, quantity=10, options={"currency": "USD"})
    assert "No exchange rate" in raised.value.message_dict["currency"][0]
    assert Quote.objects.count() == 0


def test_an_order_from_a_converted_quote_buys_at_the_quoted_prices_in_the_quote_currency(buyer, fund):
    _usd_rate("7.20")
    fund(buyer.org)
    part, other = PartFactory(), PartFactory()
    usd = ListingFactory(part=part, currency="USD", stock=1000, breaks=[(1, "0.10")])
    cny = ListingFactory(part=other, currency="CNY", stock=1000, breaks=[(1, "0.50")])
    factory = OrganizationFactory(factory_kind=True)
    kit = make_kit(bom=[(part, 1), (other, 2)], design_fee="0.333333",
                   assembly={"factory": factory, "setup_cost": Decimal("0"), "unit_cost_breaks": [(1, Decimal("1.00"))]})
    quote = quote_create(organization=buyer.org, kit=kit, quantity=7)
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", quote=quote)
    assert order.currency == "CNY" and order.fx == quote.fx
    assert order.total == quote.total
    by_vendor = {po.vendor_id: po for po in order.purchase_orders.all()}
    assert {po.currency for po in by_vendor.values()} == {"CNY"}
    usd_line = by_vendor[usd.vendor_id].lines.get()
    assert (usd_line.quantity, usd_line.unit_price, usd_line.extended_price) == (7, Decimal("0.72"), Decimal("5.04"))
    assert by_vendor[cny.vendor_id].total == Decimal("7.00")
    usd.refresh_from_db()
    assert usd.stock == 993
    assert ledger_verify().ok


def test_a_one_currency_quote_records_no_rates_even_when_rates_exist(buyer):
    _usd_rate()
    part = PartFactory()
    ListingFactory(part=part, currency="CNY", stock=1000, breaks=[(1, "0.50")])
    quote = quote_create(organization=buyer.org, kit=make_kit(bom=[(part, 1)]), quantity=10)
    assert quote.fx["rates"] == {} and quote.fx["left_out"] == []
    assert quote.components_cost == Decimal("5.00")


def test_what_each_option_costs_is_priced_at_the_quotes_own_rates_not_todays(buyer):
    from datetime import timedelta

    from django.utils import timezone

    from marketplace.sourcing.quotes import quote_constraint_costs

    _usd_rate("7.00")
    mcu, res = PartFactory(), PartFactory()
    usd_stall = ListingFactory(part=mcu, currency="USD", stock=1000, breaks=[(1, "1.00")]).vendor  # 7.00 CNY
    cny = OrganizationFactory(trader=True)
    ListingFactory(vendor=cny, part=mcu, currency="CNY", stock=1000, breaks=[(1, "8.00")])
    ListingFactory(vendor=cny, part=res, currency="CNY", stock=1000, breaks=[(1, "0.10")])
    quote = quote_create(organization=buyer.org, kit=make_kit(bom=[(mcu, 1), (res, 1)]), quantity=10)
    assert {v.vendor_id for v in quote.vendors.all()} == {usd_stall.pk, cny.pk}
    assert quote.components_cost == Decimal("71.00")
    # The dollar doubles afterwards: the quote's options are still costed at its own 7.00.
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("14.00"), valid_from=timezone.now() - timedelta(seconds=1))
    costs = {c["label"]: c for c in quote_constraint_costs(quote=quote)}
    assert costs["one vendor fewer (1)"]["delta"] == Decimal("10.00")  # 10 MCUs at 8.00 instead of 7.00


def test_a_usd_quote_is_ordered_and_paid_from_the_usd_wallet_and_the_ledger_verifies(buyer, fund):
    from credit.models import Account

    _usd_rate("7.20")
    fund(buyer.org, "100.00", currency="USD")
    part = PartFactory()
    cny = ListingFactory(part=part, currency="CNY", stock=1000, breaks=[(1, "7.20")])  # 1.00 USD
    factory = OrganizationFactory(factory_kind=True)
    kit = make_kit(bom=[(part, 2)], nre="72",
                   assembly={"factory": factory, "setup_cost": Decimal("0"), "unit_cost_breaks": [(1, Decimal("0.72"))]})
    quote = quote_create(organization=buyer.org, kit=kit, quantity=5, options={"currency": "USD"})
    assert (quote.components_cost, quote.assembly_cost, quote.nre, quote.total) == (
        Decimal("10.00"), Decimal("0.50"), Decimal("10.00"), Decimal("20.50"))
    order = order_place(buyer=buyer.org, placed_by=buyer.user, payment="deposit", quote=quote)
    assert order.currency == "USD" and order.total == quote.total and order.fx["rates"] == {"CNY": "0.13888889"}
    pos = {po.vendor_id: po for po in order.purchase_orders.all()}
    assert {po.currency for po in pos.values()} == {"USD"}
    assert pos[cny.vendor_id].total == Decimal("10.00") and pos[factory.pk].total == Decimal("0.50")
    assert pos[kit.owner_id].total == Decimal("10.00")
    wallet = Account.objects.get(organization=buyer.org, kind="wallet", currency="USD")
    assert wallet.balance == Decimal("100.00") - Decimal("6.15")  # 30 % deposits (default terms) held in dollars
    assert not Account.objects.filter(organization=buyer.org, currency="CNY", postings__isnull=False).exists()
    assert ledger_verify().ok
