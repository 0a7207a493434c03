from decimal import Decimal

import pytest

from marketplace.kits.services import kit_update
from marketplace.sourcing.quotes import quote_create
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def test_needed_qty_uses_attrition_and_sub_kits_and_costs_add_up(buyer):
    mcu, cap, led = PartFactory(mpn="NRF52810"), PartFactory(mpn="CL05A104KA5NNNC"), PartFactory(mpn="LED0603")
    ListingFactory(part=mcu, stock=10_000, breaks=[(1, "8.00"), (100, "7.50")])
    ListingFactory(part=cap, stock=1_000_000, breaks=[(1, "0.01")])
    ListingFactory(part=led, stock=10_000, breaks=[(1, "0.10")])
    factory = OrganizationFactory(factory_kind=True)
    module = make_kit(bom=[(led, 2, "0.05")], name="LED module")
    kit = make_kit(owner=module.owner, bom=[(mcu, 1), (cap, "4", "0.1")], subkits=[(module, 2)], design_fee="1.50", nre="500",
                   assembly={"factory": factory, "setup_cost": Decimal("300"), "unit_cost_breaks": [(1, Decimal("3.00")), (100, Decimal("2.00"))]})
    quote = quote_create(organization=buyer.org, kit=kit, quantity=100)
    needed = {line.part.mpn: line.needed_qty for line in quote.lines.select_related("part")}
    assert needed == {"NRF52810": 100, "CL05A104KA5NNNC": 440, "LED0603": 420}  # ceil(2×2×100×1.05)
    assert quote.components_cost == Decimal("750.00") + Decimal("4.40") + Decimal("42.00")
    assert quote.assembly_cost == Decimal("300") + 100 * Decimal("2.00")
    assert quote.design_fees == Decimal("150.00")
    assert quote.nre == Decimal("500.00")
    assert quote.total == quote.components_cost + quote.assembly_cost + quote.design_fees + quote.nre
    assert quote.unit_cost == (quote.total / 100).quantize(Decimal("0.01"))


def test_split_across_vendors_when_one_cannot_fill_and_shortfall_recorded(buyer):
    part = PartFactory()
    a = ListingFactory(part=part, stock=60, breaks=[(1, "1.00")])
    b = ListingFactory(part=part, stock=30, breaks=[(1, "1.20")])
    kit = make_kit(bom=[(part, 1)])
    quote = quote_create(organization=buyer.org, kit=kit, quantity=80)
    line = quote.lines.get()
    assert sorted((x.listing_id, x.quantity) for x in line.allocations.all()) == [(a.pk, 60), (b.pk, 20)]
    assert line.shortfall == 0
    short = quote_create(organization=buyer.org, kit=kit, quantity=100).lines.get()
    assert short.shortfall == 10 and sum(x.quantity for x in short.allocations.all()) == 90


def test_substitute_used_when_cheaper(buyer):
    part, sub = PartFactory(), PartFactory()
    ListingFactory(part=part, breaks=[(1, "2.00")])
    cheap = ListingFactory(part=sub, breaks=[(1, "1.00")])
    kit = make_kit(bom=[(part, 1, "0", [sub])])
    line = quote_create(organization=buyer.org, kit=kit, quantity=10).lines.get()
    assert [(a.listing_id, a.part_id) for a in line.allocations.all()] == [(cheap.pk, sub.pk)]


def test_buying_up_to_a_price_break_when_that_is_cheaper(buyer):
    part = PartFactory()
    listing = ListingFactory(part=part, breaks=[(1, "1.00"), (100, "0.50")])
    kit = make_kit(bom=[(part, 1)])
    line = quote_create(organization=buyer.org, kit=kit, quantity=90).lines.get()
    assert [(a.listing_id, a.quantity, a.unit_price) for a in line.allocations.all()] == [(listing.pk, 100, Decimal("0.5"))]
    assert line.cost == Decimal("50.00")


def test_ties_break_on_lead_time_then_listing_id(buyer):
    part = PartFactory()
    ListingFactory(part=part, lead_time_days=5)
    fast = ListingFactory(part=part, lead_time_days=0)
    later_same = ListingFactory(part=part, lead_time_days=0)
    kit = make_kit(bom=[(part, 1)])
    line = quote_create(organization=buyer.org, kit=kit, quantity=10).lines.get()
    assert [a.listing_id for a in line.allocations.all()] == [fast.pk]
    assert fast.pk < later_same.pk


def test_unverified_vendors_and_other_currencies_are_not_sourced(buyer):
    part = PartFactory()
    ListingFactory(part=part, vendor=OrganizationFactory(trader=True, verified=False), breaks=[(1, "0.01")])
    ListingFactory(part=part, currency="USD", breaks=[(1, "0.01")])
    fair = ListingFactory(part=part, breaks=[(1, "1.00")])
    line = quote_create(organization=buyer.org, kit=make_kit(bom=[(part, 1)]), quantity=5).lines.get()
    assert [a.listing_id for a in line.allocations.all()] == [fair.pk]


def test_quoted_kit_is_frozen_and_edits_make_a_new_revision(buyer):
    part = PartFactory()
    ListingFactory(part=part)
    kit = make_kit(bom=[(part, 1)])
    quote_create(organization=buyer.org, kit=kit, quantity=1)
    revised = kit_update(kit=kit, nre=Decimal("99"))
    kit.refresh_from_db()
    assert revised.pk != kit.pk and revised.revision == 2 and revised.family_id == kit.pk
    assert kit.nre == Decimal("0") and not kit.is_current and revised.is_current
    # An unquoted revision is edited in place.
    assert kit_update(kit=revised, name="Tracker v2").pk == revised.pk


def test_rows_inserted_in_bulk_come_back_with_their_ids_in_order(buyer):
    """`insert_rows` (one INSERT … unnest on PostgreSQL, bulk_create elsewhere): each id returned
    is the row given at that position, values exact to the field's places."""
    from marketplace.sourcing.models import QuoteLine
    from marketplace.sourcing.quotes import insert_rows

    part = PartFactory()
    ListingFactory(part=part, stock=100, breaks=[(1, "1.00")])
    quote = quote_create(organization=buyer.org, kit=make_kit(bom=[(part, 1)]), quantity=1)
    parts = [PartFactory() for _ in range(5)]
    rows = [(quote.pk, p.pk, 10 * i + 1, i, 100 - i, Decimal(f"{i}.25")) for i, p in enumerate(parts)]
    ids = insert_rows(QuoteLine, ("quote", "part", "needed_qty", "shortfall", "position", "cost"), rows)
    saved = {line.pk: line for line in QuoteLine.objects.filter(pk__in=ids)}
    assert [(saved[i].part_id, saved[i].needed_qty, saved[i].shortfall, saved[i].position, saved[i].cost) for i in ids] == \
        [row[1:] for row in rows]
    assert insert_rows(QuoteLine, ("quote", "part", "needed_qty", "shortfall", "position", "cost"), []) == []


def test_an_array_filter_matches_exactly_the_values_given():
    """`marketplace.sql.InArray`: `= ANY(array)` on PostgreSQL, `IN (…)` elsewhere; nothing for no values."""
    from marketplace.catalogue.models import Part
    from marketplace.sql import InArray

    parts = [PartFactory() for _ in range(4)]
    chosen = {parts[0].pk, parts[2].pk}
    assert set(Part.objects.filter(InArray("id", chosen)).values_list("id", flat=True)) == chosen
    assert not Part.objects.filter(InArray("id", [])).exists()
    # Inside a subquery it names the subquery's own table (relabelled), not the outer query's.
    outer = Part.objects.filter(pk__in=Part.objects.filter(InArray("id", chosen)).values("id"))
    assert set(outer.values_list("id", flat=True)) == chosen
    assert '"U0"."id" = ANY' in str(outer.query) or '"U0"."id" IN (' in str(outer.query)
