"""Instant assembly (issue 24): factories publish rate cards; `"assembly": "auto"` picks the factory
with the parts at the lowest landed cost, priced exactly from the chosen card; exclusions hold;
an order routes the consigned parts to the factory."""

from decimal import Decimal

import pytest

from marketplace.kits.services import kit_create
from marketplace.models import PurchaseOrder, Quote, RateCard
from marketplace.sourcing.assembly import count_designators
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory

pytestmark = pytest.mark.django_db

CARD = {"currency": "CNY", "setup_fee": "100.00", "per_placement": "0.010000", "per_unique_part": "15.00",
        "processes": ["smt"]}


def _kit(owner, lines):
    """lines: [(part, quantity per board, designators)]."""
    return kit_create(owner=owner, name="Sensor board", currency="CNY", assembly=None,
                      design_fee_per_unit=Decimal(0), nre=Decimal(0), subkits=[],
                      bom=[{"part": p, "quantity": Decimal(q), "attrition": Decimal(0), "substitutes": [],
                            "designators": d} for p, q, d in lines])


@pytest.fixture
def board(solution_house):
    """A board of 2 unique parts, 5 placements (C1–C4 and U1), both parts stocked by a trader."""
    trader = OrganizationFactory(trader=True, name="Stall")
    cap, mcu = PartFactory(mpn="GRM155R71C104"), PartFactory(mpn="STM32G030F6")
    ListingFactory(vendor=trader, part=cap, stock=1_000_000, breaks=[(1, "0.0100")])
    ListingFactory(vendor=trader, part=mcu, stock=100_000, breaks=[(1, "3.00")])
    return {"kit": _kit(solution_house.org, [(cap, 4, "C1-C4"), (mcu, 1, "U1")]), "trader": trader, "cap": cap,
            "mcu": mcu}


def _publish(member, **over):
    response = member.client.put(f"/api/v1/organizations/{member.org.pk}/rate-card/", {**CARD, **over}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _quote(buyer, kit, quantity, **options):
    response = buyer.client.post(f"/api/v1/kits/{kit.pk}/quote/",
                                 {"quantity": quantity, "options": {"assembly": "auto", **options}}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _card_price(card, boards, placements, loaded):
    """The formula, on its own: setup + boards × placements × per placement + loaded × loading fee."""
    cent = Decimal("0.01")
    return (Decimal(card["setup_fee"]) + (boards * placements * Decimal(card["per_placement"])).quantize(cent)
            + loaded * Decimal(card["per_unique_part"]))


def test_designators_count_placements():
    assert count_designators("C1,C2,C7") == 3
    assert count_designators("R1-R4, R9") == 5
    assert count_designators("U1 U2;U3") == 3
    assert count_designators("") == 0


def test_a_factory_publishes_versions_and_anyone_reads_the_current_card(make_member, buyer):
    fab = make_member(factory_kind=True, name="Fab")
    first = _publish(fab)
    second = _publish(fab, setup_fee="80.00", processes=["smt", "tht"])
    assert (first["version"], second["version"]) == (1, 2)
    got = buyer.client.get(f"/api/v1/organizations/{fab.org.pk}/rate-card/").json()
    assert got["version"] == 2 and got["setup_fee"] == "80.00" and got["processes"] == ["smt", "through_hole"]
    assert RateCard.objects.filter(organization=fab.org).count() == 2  # the old version stays for its quotes


@pytest.mark.parametrize("body, field", [
    ({"setup_fee": "-1"}, "setup_fee"),
    ({"per_placement": "1e9"}, "per_placement"),
    ({"per_unique_part": "abc"}, "per_unique_part"),
    ({"processes": []}, "processes"),
    ({"processes": ["welding"]}, "processes"),
    ({"currency": "EUR"}, "currency"),
    ({"min_batch": 100, "max_batch": 10}, "max_batch"),
])
def test_bad_cards_are_refused_and_nothing_is_saved(make_member, body, field):
    fab = make_member(factory_kind=True)
    response = fab.client.put(f"/api/v1/organizations/{fab.org.pk}/rate-card/", {**CARD, **body}, format="json")
    assert response.status_code == 400 and field in str(response.json())
    assert not RateCard.objects.exists()


def test_only_a_factory_publishes_a_card_and_only_its_own(trader, make_member):
    response = trader.client.put(f"/api/v1/organizations/{trader.org.pk}/rate-card/", CARD, format="json")
    assert response.status_code == 400 and "not a factory" in str(response.json())
    fab = make_member(factory_kind=True)
    assert fab.client.put(f"/api/v1/organizations/{trader.org.pk}/rate-card/", CARD, format="json").status_code == 404
    assert not RateCard.objects.exists()


@pytest.mark.parametrize("boards", [10, 1000])
def test_auto_assembly_takes_the_cheaper_card_priced_exactly_from_it(board, buyer, make_member, boards):
    cheap_setup = make_member(factory_kind=True, name="Cheap setup")
    cheap_joints = make_member(factory_kind=True, name="Cheap joints")
    a = _publish(cheap_setup, setup_fee="50.00", per_placement="0.020000")
    b = _publish(cheap_joints, setup_fee="300.00", per_placement="0.002000")
    prices = {cheap_setup.org.pk: _card_price(a, boards, 5, 2), cheap_joints.org.pk: _card_price(b, boards, 5, 2)}
    quote = _quote(buyer, board["kit"], boards)
    chosen = quote["assembly"]["factory"]["id"]
    assert prices[chosen] == min(prices.values())  # 10 boards: low setup wins; 1,000: cheap joints win
    assert Decimal(quote["assembly_cost"]) == prices[chosen]
    assert quote["assembly"]["placements_per_board"] == 5 and quote["assembly"]["loaded_parts"] == 2
    other = (set(prices) - {chosen}).pop()
    assert quote["assembly"]["runner_up"]["factory"]["id"] == other
    assert Decimal(quote["assembly"]["runner_up"]["landed_difference"]) == prices[other] - prices[chosen]
    assert Decimal(quote["total"]) == Decimal(quote["components_cost"]) + Decimal(quote["shipping_cost"]) + prices[chosen]


def test_an_excluded_factory_is_never_chosen(board, buyer, make_member):
    best = make_member(factory_kind=True, name="Best")
    worse = make_member(factory_kind=True, name="Worse")
    _publish(best, setup_fee="1.00")
    _publish(worse, setup_fee="900.00")
    assert _quote(buyer, board["kit"], 10)["assembly"]["factory"]["id"] == best.org.pk
    quote = _quote(buyer, board["kit"], 10, exclude_vendors=[best.org.pk])
    assert quote["assembly"]["factory"]["id"] == worse.org.pk


def test_a_factory_that_stocks_the_parts_saves_their_loading_fee(board, buyer, make_member):
    plain = make_member(factory_kind=True, name="Plain fab")
    stocking = make_member(factory_kind=True, name="Stocking fab")
    _publish(plain, setup_fee="100.00")
    _publish(stocking, setup_fee="110.00")  # dearer setup, but it stocks both parts: no 2 × 15.00 loading
    ListingFactory(vendor=stocking.org, part=board["cap"], stock=1_000_000, breaks=[(1, "0.0100")])
    ListingFactory(vendor=stocking.org, part=board["mcu"], stock=100_000, breaks=[(1, "3.00")])
    quote = _quote(buyer, board["kit"], 10)
    assert quote["assembly"]["factory"]["id"] == stocking.org.pk
    assert quote["assembly"]["loaded_parts"] == 0 and quote["assembly"]["parts_from_factory"] == 2
    assert {v["vendor"] for v in quote["vendors"]} == {stocking.org.pk}
    assert Decimal(quote["assembly_cost"]) == Decimal("110.00") + Decimal("0.50")  # setup + 10 × 5 × 0.01


def test_no_factory_for_the_process_is_said_not_failed(board, buyer, make_member):
    _publish(make_member(factory_kind=True), processes=["smt"])
    quote = _quote(buyer, board["kit"], 10, processes=["smt", "tht"])
    assert quote["assembly"]["factory"] is None and "Through-hole" in quote["assembly"]["problem"]
    assert Decimal(quote["assembly_cost"]) == 0


def test_a_batch_outside_every_card_is_explained(board, buyer, make_member):
    _publish(make_member(factory_kind=True, name="Big runs"), min_batch=500)
    quote = _quote(buyer, board["kit"], 10)
    assert quote["assembly"]["factory"] is None and "Big runs takes batches of 500" in quote["assembly"]["problem"]


def test_bad_assembly_options_are_400(board, buyer):
    for options in ({"assembly": "cheapest-ever"}, {"assembly": "auto", "processes": ["laser"]},
                    {"assembly": "auto", "processes": []}):
        response = buyer.client.post(f"/api/v1/kits/{board['kit'].pk}/quote/", {"quantity": 10, "options": options},
                                     format="json")
        assert response.status_code == 400, response.json()
    assert not Quote.objects.exists()


def test_ordering_routes_the_parts_to_the_factory_and_keeps_the_cards_version(board, buyer, make_member, fund):
    fab = make_member(factory_kind=True, name="Fab")
    _publish(fab)
    quote = _quote(buyer, board["kit"], 100)
    _publish(fab, setup_fee="999.00")  # a new version after the quote: the quote keeps v1
    fund(buyer.org)
    response = buyer.client.post("/api/v1/orders/", {"quote": quote["id"], "payment": "deposit"}, format="json")
    assert response.status_code == 201, response.json()
    order = response.json()
    factory_po = PurchaseOrder.objects.get(order_id=order["id"], vendor=fab.org)
    parts_po = PurchaseOrder.objects.get(order_id=order["id"], vendor=board["trader"])
    assert parts_po.ship_to_id == fab.org.pk
    assert factory_po.assembly_brief["placements"] == 500 and factory_po.assembly_brief["boards"] == 100
    assert {c["part"] for c in factory_po.assembly_brief["consigned"]} == {str(board["cap"]), str(board["mcu"])}
    assert factory_po.total == Decimal(quote["assembly_cost"])  # setup + placements + loading, as quoted (v1)
    assert Quote.objects.get(pk=quote["id"]).rate_card.version == 1
