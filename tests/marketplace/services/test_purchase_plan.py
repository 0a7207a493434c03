"""Purchase plans (marketplace/plans/services.py): several kits and BOMs bought at once, net of
the buyer's stock, in one joint sourcing — and what that saves against quoting each alone."""

from decimal import Decimal

import pytest

from marketplace.exceptions import OrderInvalid, PurchasePlanInvalid, QuoteInvalid
from marketplace.models import BuyerStock, Order, VendorOrderTerms
from marketplace.orders.services import order_place
from marketplace.plans.services import PlanSource, purchase_plan_create
from marketplace.sourcing.quotes import quote_create
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, UserFactory, make_kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    """A reel part with a minimum buy of 100 at 0.10 and a 5.00 shipping fee per purchase order;
    two kits each need fewer than 100 of it."""
    vendor = OrganizationFactory(trader=True, name="Reel Co")
    VendorOrderTerms.objects.create(vendor=vendor, currency="CNY", shipping_fee=Decimal("5.00"))
    reel = PartFactory(mpn="RC0402-10K")
    mcu = PartFactory(mpn="STM32G031")
    ListingFactory(vendor=vendor, part=reel, moq=100, stock=10_000, breaks=[(100, "0.10")])
    ListingFactory(vendor=vendor, part=mcu, stock=1_000, breaks=[(1, "2.00")])
    house = OrganizationFactory(solution_house=True)
    sensor = make_kit(house, bom=[(reel, 3), (mcu, 1)], name="Sensor")
    relay = make_kit(house, bom=[(reel, 4)], name="Relay")
    return {"vendor": vendor, "reel": reel, "mcu": mcu, "sensor": sensor, "relay": relay}


def test_a_shared_minimum_buy_and_shipping_are_paid_once(market):
    buyer = OrganizationFactory()
    plan = purchase_plan_create(organization=buyer, sources=[PlanSource(kit=market["sensor"], quantity=10),
                                                             PlanSource(kit=market["relay"], quantity=10)])
    # Alone: the sensor buys 100 reels (needs 30) + 10 MCUs + shipping; the relay 100 reels (needs 40) + shipping.
    alone = [quote_create(organization=buyer, kit=market["sensor"], quantity=10).total,
             quote_create(organization=buyer, kit=market["relay"], quantity=10).total]
    assert alone == [Decimal("10.00") + Decimal("20.00") + Decimal("5.00"), Decimal("10.00") + Decimal("5.00")]
    assert plan.separate_total == sum(alone) == Decimal("50.00")
    # Together: one reel of 100 covers 70, one purchase order, one shipping fee.
    assert plan.quote.total == plan.together_total == Decimal("10.00") + Decimal("20.00") + Decimal("5.00")
    assert plan.separate_total - plan.quote.total == Decimal("15.00")
    need = plan.needs.get(part=market["reel"])
    assert (need.needed, need.from_stock, need.to_buy) == (70, 0, 70)
    assert sorted((s["source"], s["quantity"]) for s in need.by_source) == [(0, 30), (1, 40)]
    assert [(s.name, s.total) for s in plan.sources.all()] == [
        ("Sensor rev 1", Decimal("35.00")), ("Relay rev 1", Decimal("15.00"))]


def test_the_buyers_stock_is_taken_off_before_buying(market):
    buyer = OrganizationFactory()
    BuyerStock.objects.create(organization=buyer, part=market["mcu"], quantity=6)
    BuyerStock.objects.create(organization=buyer, part=market["reel"], quantity=500)  # covers every reel
    plan = purchase_plan_create(organization=buyer, sources=[PlanSource(kit=market["sensor"], quantity=10),
                                                             PlanSource(kit=market["relay"], quantity=10)])
    lines = {line.part_id: line for line in plan.quote.lines.all()}
    assert market["reel"].pk not in lines  # nothing bought: the stock covers the 70
    assert lines[market["mcu"].pk].needed_qty == 4  # 10 needed, 6 held
    assert plan.quote.total == Decimal("8.00") + Decimal("5.00")
    assert plan.quote.held_units == {market["reel"].pk: 70, market["mcu"].pk: 6}
    mcu = plan.needs.get(part=market["mcu"])
    assert (mcu.needed, mcu.from_stock, mcu.to_buy) == (10, 6, 4)
    assert mcu.stock == [{"part": market["mcu"].pk, "mpn": "STM32G031", "quantity": 6}]
    assert plan.together_total == Decimal("35.00")  # planned together but without the stock
    # Without the stock the same sources buy it all.
    plain = purchase_plan_create(organization=buyer, use_stock=False,
                                 sources=[PlanSource(kit=market["sensor"], quantity=10),
                                          PlanSource(kit=market["relay"], quantity=10)])
    assert plain.quote.total == Decimal("35.00") and plain.needs.get(part=market["mcu"]).from_stock == 0


def test_the_stock_of_a_substitute_covers_a_need_left_over(market):
    buyer = OrganizationFactory()
    alt = PartFactory(mpn="STM32G031-ALT")
    kit = make_kit(OrganizationFactory(solution_house=True), bom=[(market["mcu"], 1, "0", [alt])], name="Sub")
    BuyerStock.objects.create(organization=buyer, part=alt, quantity=3)
    plan = purchase_plan_create(organization=buyer, sources=[PlanSource(kit=kit, quantity=5)])
    need = plan.needs.get()
    assert (need.from_stock, need.to_buy) == (3, 2)
    assert need.stock == [{"part": alt.pk, "mpn": "STM32G031-ALT", "quantity": 3}]
    no_subs = purchase_plan_create(organization=buyer, sources=[PlanSource(kit=kit, quantity=5)],
                                   options={"allow_substitutes": False})
    assert no_subs.needs.get().from_stock == 0


def test_the_plan_is_ordered_in_one_step_like_any_quote(market, fund):
    buyer = OrganizationFactory()
    fund(buyer)
    plan = purchase_plan_create(organization=buyer, sources=[PlanSource(kit=market["sensor"], quantity=10),
                                                             PlanSource(kit=market["relay"], quantity=10)])
    order = order_place(buyer=buyer, placed_by=UserFactory(), quote=plan.quote, payment=Order.Payment.DEPOSIT)
    assert order.total == plan.quote.total == Decimal("35.00")
    assert order.purchase_orders.count() == 1


def test_a_shortage_is_kept_like_a_kit_quote_and_the_order_refused(market, fund):
    buyer = OrganizationFactory()
    fund(buyer)
    scarce = PartFactory(mpn="SCARCE-1")
    ListingFactory(part=scarce, stock=5)
    kit = make_kit(OrganizationFactory(solution_house=True), bom=[(scarce, 1)], name="Scarce")
    plan = purchase_plan_create(organization=buyer, sources=[PlanSource(kit=kit, quantity=8)])
    assert plan.quote.has_shortages and plan.quote.lines.get().shortfall == 3
    with pytest.raises(Exception) as refused:
        order_place(buyer=buyer, placed_by=UserFactory(), quote=plan.quote, payment=Order.Payment.DEPOSIT)
    assert "short" in str(refused.value).lower()


@pytest.mark.parametrize("sources, message", [
    ([], "at least one"),
    ("twice", "already in the plan"),
    ("zero", "from 1 to"),
])
def test_bad_requests_are_refused_and_save_nothing(market, sources, message):
    buyer = OrganizationFactory()
    if sources == "twice":
        sources = [PlanSource(kit=market["sensor"], quantity=1), PlanSource(kit=market["sensor"], quantity=2)]
    elif sources == "zero":
        sources = [PlanSource(kit=market["sensor"], quantity=0)]
    with pytest.raises(PurchasePlanInvalid) as refused:
        purchase_plan_create(organization=buyer, sources=sources)
    assert message in str(refused.value)
    assert not buyer.purchase_plans.exists() and not buyer.quotes.exists()


def test_assembly_options_are_not_plan_options(market):
    with pytest.raises(QuoteInvalid, match="Unknown option"):
        purchase_plan_create(organization=OrganizationFactory(), sources=[PlanSource(kit=market["relay"], quantity=1)],
                             options={"assembly": "auto"})


def test_stock_that_covers_everything_leaves_nothing_to_buy_or_order(market, fund):
    buyer = OrganizationFactory()
    fund(buyer)
    BuyerStock.objects.create(organization=buyer, part=market["reel"], quantity=40)
    plan = purchase_plan_create(organization=buyer, sources=[PlanSource(kit=market["relay"], quantity=10)])
    assert plan.quote.total == Decimal("0.00") and not plan.quote.lines.exists()
    assert plan.separate_total == Decimal("15.00") and plan.saving == Decimal("15.00")
    with pytest.raises(OrderInvalid, match="buys nothing"):
        order_place(buyer=buyer, placed_by=UserFactory(), quote=plan.quote, payment=Order.Payment.DEPOSIT)
    assert not Order.objects.exists()


def test_a_shared_module_is_counted_once_and_its_attrition_rounded_once(market):
    """A kit and one of its modules planned together: the module's parts are one need, rounded up
    once on the whole, and its assembly is one batch."""
    house = OrganizationFactory(solution_house=True)
    module = make_kit(house, bom=[(market["reel"], "1", "0.05")], name="Module")
    board = make_kit(house, bom=[(market["mcu"], 1)], subkits=[(module, 1)], name="Board")
    plan = purchase_plan_create(organization=OrganizationFactory(),
                                sources=[PlanSource(kit=board, quantity=10), PlanSource(kit=module, quantity=10)])
    reel = plan.needs.get(part=market["reel"])
    assert sorted((s["source"], s["quantity"]) for s in reel.by_source) == [(0, 11), (1, 11)]  # ceil(10.5) each alone
    assert reel.needed == 21  # ceil(20 × 1.05) together


@pytest.mark.parametrize("seed", range(8))
def test_planned_together_never_costs_more_than_quoted_alone(seed):
    """Random small markets (MOQs, multiples, price breaks, shipping fees, free-shipping amounts,
    minimum orders) and two or three kits sharing parts: without a vendor cap and with stock for
    every separate quote at once, the separate quotes together are one feasible plan of the summed
    need, so the proven joint plan never costs more (and is usually cheaper)."""
    import random

    rng = random.Random(seed)
    vendors = [OrganizationFactory(trader=True) for _ in range(3)]
    for v in vendors:
        fee = Decimal(rng.choice(["0", "3.00", "8.00"]))
        VendorOrderTerms.objects.create(
            vendor=v, currency="CNY", shipping_fee=fee,
            free_shipping_over=Decimal(rng.choice(["20.00", "60.00"])) if fee and rng.random() < 0.5 else None,
            min_order_value=Decimal(rng.choice(["0", "0", "5.00"])))
    parts = [PartFactory() for _ in range(5)]
    for part in parts:
        for v in rng.sample(vendors, rng.randint(1, 3)):
            price = Decimal(rng.choice(["0.05", "0.20", "1.00", "3.50"]))
            ListingFactory(vendor=v, part=part, stock=100_000, moq=rng.choice([1, 10, 50, 100]),
                           multiple=rng.choice([1, 1, 5, 10]),
                           breaks=[(1, str(price)), (100, str((price * Decimal("0.8")).quantize(Decimal("0.01")) or price))])
    house = OrganizationFactory(solution_house=True)
    kits = [make_kit(house, name=f"K{i}", bom=[(p, rng.choice([1, 2, 3]), rng.choice(["0", "0.05"]))
                                             for p in rng.sample(parts, rng.randint(2, 4))]) for i in range(rng.randint(2, 3))]
    buyer = OrganizationFactory()
    plan = purchase_plan_create(organization=buyer, sources=[PlanSource(kit=k, quantity=rng.randint(1, 40)) for k in kits])
    assert plan.separate_shortfall == 0 and plan.together_shortfall == 0
    assert plan.quote.optimality_gap == 0  # proven
    assert plan.together_total == plan.quote.total <= plan.separate_total


def test_kits_priced_in_another_currency_are_planned_at_the_rate_or_refused_without_one(market, fund):
    from credit.services.fx import fx_rate_set

    buyer = OrganizationFactory()
    usd_kit = make_kit(OrganizationFactory(solution_house=True), bom=[(market["reel"], 1)], name="US board",
                       currency="USD", design_fee="0.50")
    with pytest.raises(QuoteInvalid, match="No exchange rate from USD to CNY"):
        purchase_plan_create(organization=buyer, sources=[PlanSource(kit=usd_kit, quantity=10),
                                                          PlanSource(kit=market["relay"], quantity=10)])
    assert not buyer.quotes.exists()
    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.00"))
    plan = purchase_plan_create(organization=buyer, sources=[PlanSource(kit=usd_kit, quantity=10),
                                                             PlanSource(kit=market["relay"], quantity=10)])
    assert plan.currency == "CNY" and plan.quote.design_fees == Decimal("35.00")  # 10 × 0.50 USD at 7
    # One reel for both (50 needed), one fee; alone: a reel and a fee each, and the design fee.
    assert plan.quote.total == Decimal("10.00") + Decimal("5.00") + Decimal("35.00")
    assert plan.separate_total == Decimal("15.00") + Decimal("15.00") + Decimal("35.00")
    fund(buyer)
    order = order_place(buyer=buyer, placed_by=UserFactory(), quote=plan.quote, payment=Order.Payment.DEPOSIT)
    assert order.total == plan.quote.total
