"""The parts' price summaries (`PartPriceBand`): their bounds hold at every quantity of a band, every
write that changes what they summarise keeps them equal to a rebuild from scratch, and a
price-sorted search over many parts finds its page through them with the same rows as pricing
every match."""

from decimal import Decimal

import pytest

from marketplace.catalogue.listings import listing_create, listing_update
from marketplace.catalogue.models import CategoryVocabulary, Listing, PartPackBand, PartPriceBand
from marketplace.catalogue.price_bands import PACK_COLUMNS, SUMMARY_COLUMNS, TIERS, band_of, listing_bands, order_qty, pack_bands, pack_lows
from marketplace.catalogue.search.engine import Engine
from marketplace.catalogue.search.filters import search_filters
from marketplace.catalogue.search.results import offer_search
from marketplace.catalogue.search.threshold import ThresholdSearch
from organizations.services import organization_verify
from tests.marketplace.factories import ListingFactory, PartFactory
from tests.marketplace.selectors.test_search_property import reference
from tests.organizations.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def price_at(qty, moq, multiple, breaks):
    oq = order_qty(qty, moq, multiple)
    applicable = [p for q, p in breaks if q <= oq]
    return (applicable[-1] if applicable else None), oq


@pytest.mark.parametrize("moq,multiple,breaks", [
    (1, 1, [(1, Decimal("1.00")), (10, Decimal("0.80")), (1000, Decimal("0.50"))]),
    (100, 100, [(100, Decimal("0.30")), (5000, Decimal("0.10"))]),
    (1, 5, [(10, Decimal("2.00")), (30, Decimal("2.50"))]),  # a dearer break at more, and none below 10
    (7, 3, [(1, Decimal("0.05")), (26, Decimal("0.04")), (60000, Decimal("0.01"))]),
    (3000, 1000, [(1, Decimal("0.013")), (4000, Decimal("0.011"))]),  # a reel: MOQ and multiple above the band
    (100, 100, [(1, Decimal("0.50")), (500, Decimal("0.40")), (1000, Decimal("0.30")), (2600, Decimal("0.90"))]),  # rises at 2,600
    (1, 250, [(250, Decimal("0.20")), (750, Decimal("0.10"))]),
])
def test_band_bounds_hold_at_every_quantity(moq, multiple, breaks):
    bands = listing_bands(moq, multiple, breaks)
    packs = {row["band"]: row["unit_lo"] for row in pack_bands([(moq, multiple, breaks)])}
    for qty in [*range(1, 3000), 4999, 5000, 9999, 10000, 60000, 99999, 100000, 250000]:
        price, oq = price_at(qty, moq, multiple, breaks)
        band = bands[band_of(qty)]
        if price is None:
            assert band is None or not band[2], qty  # not "priced throughout"
            continue
        lo, hi, throughout, ext_lo, ext_hi, order_lo = band
        assert lo <= price <= hi, qty
        assert ext_lo * qty <= oq * price and (ext_hi is None or oq * price <= ext_hi * qty), qty
        assert order_lo <= oq * price, qty
        least_order = -(-qty // multiple) * multiple  # the pack list's bound, from the band of that order
        assert packs[band_of(least_order)] * least_order <= oq * price, qty


def test_pack_bounds_are_banded_by_the_order_quantity():
    """At 777 pieces in multiples of 100 the order is 800: the break at 1,000 is out of reach, so
    the pack bound of 800's band is the break at 500 (the asked band, 500–999, reaches 1,000 by 999)."""
    lows = pack_lows(100, 100, [(1, Decimal("0.50")), (500, Decimal("0.40")), (1000, Decimal("0.30"))])
    assert lows[band_of(800)] == Decimal("0.40") and listing_bands(100, 100, [(1, Decimal("0.50")), (500, Decimal("0.40")),
                                                                            (1000, Decimal("0.30"))])[band_of(777)][0] == Decimal("0.30")
    assert pack_lows(1, 5000, [(5000, Decimal("0.01"))])[band_of(777)] is None  # no order of 5,000 falls in 500–999


def test_band_of_quantities():
    assert [band_of(q) for q in (0, 1, 2, 4, 5, 9, 10, 24, 25, 100, 99999, 100000, 10**7)] == \
        [0, 0, 1, 1, 2, 2, 3, 3, 4, 6, 14, 15, 15]
    assert len(TIERS) == 16


def rebuilt() -> tuple[list[tuple], list[tuple]]:
    """The summaries (per band, then per pack multiple) as they are, and as a rebuild from scratch makes them."""
    def rows():
        return sorted(PartPriceBand.objects.values_list(*SUMMARY_COLUMNS)), sorted(PartPackBand.objects.values_list(*PACK_COLUMNS))

    current = rows()
    PartPriceBand.objects.refresh()
    return current, rows()


def test_every_listing_write_keeps_the_summaries_current():
    vendor = OrganizationFactory(trader=True)
    part = PartFactory(category="Capacitor")
    listing = listing_create(vendor=vendor, part=part, price_breaks=[(1, Decimal("0.10")), (100, Decimal("0.05"))], stock=500)
    now, fresh = rebuilt()
    assert now == fresh and len(now[0]) == len(now[1]) == len(TIERS)
    for change in ({"price_breaks": [(1, Decimal("0.20"))]}, {"moq": 50}, {"multiple": 10}, {"currency": "USD"},
                   {"is_active": False}, {"is_active": True}):
        listing_update(listing=listing, **change)
        now, fresh = rebuilt()
        assert now == fresh, change
    assert not PartPriceBand.objects.filter(currency="CNY").exists()  # the one offer is now in USD
    assert set(PartPackBand.objects.values_list("currency", "multiple")) == {("USD", 10)}
    part.category = "Resistor"
    part.save()
    assert set(PartPriceBand.objects.values_list("category_key", flat=True)) == {"RESISTOR"}


def test_an_unverified_vendors_offers_count_once_it_is_verified():
    vendor = OrganizationFactory(trader=True, verified=False)
    part = PartFactory()
    listing_create(vendor=vendor, part=part, price_breaks=[(1, Decimal("1.00"))])
    assert not PartPriceBand.objects.filter(part=part).exists()  # the public market does not see it
    organization_verify(organization=vendor)
    assert PartPriceBand.objects.filter(part=part, band=0).get().best_hi == Decimal("1.00")


@pytest.fixture
def market():
    """40 parts in two categories, each with offers from three of five vendors at varied breaks."""
    vendors = [OrganizationFactory(trader=True) for _ in range(5)]
    parts = [PartFactory(category="Capacitor" if i % 2 else "Resistor", description=f"{'MLCC' if i % 2 else 'thick film'} {i}")
             for i in range(40)]
    for i, part in enumerate(parts):
        for j in range(3):
            base = Decimal(100 + (i * 37 + j * 11) % 90) / 1000
            ListingFactory(vendor=vendors[(i + j) % 5], part=part, moq=[1, 10, 100][j], multiple=[1, 5, 10][(i + j) % 3],
                           currency="USD" if (i + j) % 7 == 0 else "CNY",
                           breaks=[(1, base), (100, base * Decimal("0.8")), (2500, base * Decimal("0.6"))])
    return parts


@pytest.mark.parametrize("filters", [{}, {"category": "Capacitor"}, {"q": "mlcc"}, {"q": "thick", "category": "resistor"}])
def test_a_search_over_many_parts_pages_through_the_summaries(market, monkeypatch, filters):
    from credit.services.fx import fx_rate_set

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 5)
    for ordering in ("unit_price_at_qty", "-unit_price_at_qty", "extended_price"):
        for group in (False, True):
            for qty in (1, 37, 100, 3000):
                page = offer_search(viewer=None, filters=search_filters(**filters), qty=qty, ordering=ordering,
                                    group=group, limit=6)
                # (extended price: the threshold walk over the same summaries, tried first)
                assert page.path == ("threshold" if ordering == "extended_price" else "banded"), (ordering, group, qty)
                expected = reference(filters=filters, qty=qty, ordering=ordering, group=group, vendor_ids=[])[:6]
                got = [(g.cheaper or g.best).pk for g in page.rows] if group else [l.pk for l in page.rows]
                assert got == expected, (ordering, group, qty)


def test_a_vendor_with_unlisted_offers_of_its_own_is_not_served_from_the_summaries(market, monkeypatch):
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 5)
    own = OrganizationFactory(trader=True, verified=False)
    listing_create(vendor=own, part=market[0], price_breaks=[(1, Decimal("0.0001"))])
    page = offer_search(viewer=own, filters=search_filters(), qty=10, limit=3)
    assert page.path != "banded"
    assert page.rows[0].vendor_id == own.pk  # its own offer, cheapest, is on its page
    assert Listing.objects.filter(vendor=own).count() == 1


def test_the_rebuild_command_restores_summaries_lost_behind_the_services_back():
    from django.core.management import call_command
    from io import StringIO

    listing = ListingFactory(breaks=[(1, "0.50"), (100, "0.40")])
    before = sorted(PartPriceBand.objects.values_list("part_id", "band", "best_lo", "best_hi"))
    vocabulary = sorted(CategoryVocabulary.objects.values_list("category_key", "kind", "terms"))
    PartPriceBand.objects.all().delete()  # as a restore without the tables would leave them
    CategoryVocabulary.objects.all().delete()
    out = StringIO()
    call_command("price_summaries_rebuild", stdout=out)
    assert sorted(PartPriceBand.objects.values_list("part_id", "band", "best_lo", "best_hi")) == before
    assert sorted(CategoryVocabulary.objects.values_list("category_key", "kind", "terms")) == vocabulary
    assert f"{len(TIERS)} price summary rows" in out.getvalue() and listing.part_id == before[0][0]


@pytest.mark.parametrize("filters", [{"in_stock": True}, {"currency": "CNY"}, {}, {"q": "mlcc"}])
def test_the_threshold_walk_a_few_parts_at_a_time_pages_like_pricing_every_match(market, monkeypatch, filters):
    """Filters on the offers, and extended price: the walk reads a few parts per step and prices
    only those that can still reach the page (close prices: most parts' bounds are near the page's
    k-th value) — the same rows as pricing every match."""
    from credit.services.fx import fx_rate_set

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 5)
    monkeypatch.setattr(ThresholdSearch, "BATCHES", (1, 2, 3, 5, 8, 13, 21, 34, 55, 89))
    monkeypatch.setattr(ThresholdSearch, "RANGE_HEAD", 1)  # grouped dearest: most of the range priced after the head
    for i, pk in enumerate(Listing.objects.order_by("pk").values_list("pk", flat=True)):
        Listing.objects.filter(pk=pk).update(stock=[0, 50, 5000][i % 3])  # stock is not summarised
    for ordering in ("unit_price_at_qty", "-unit_price_at_qty", "extended_price"):
        for group in (False, True):
            for qty in (1, 37, 100, 3000):
                page = offer_search(viewer=None, filters=search_filters(**filters), qty=qty, ordering=ordering,
                                    group=group, limit=6)
                if {"in_stock", "currency"} & filters.keys() or ordering == "extended_price":
                    assert page.path == "threshold", (ordering, group, qty)
                expected = reference(filters=filters, qty=qty, ordering=ordering, group=group, vendor_ids=[])[:6]
                got = [(g.cheaper or g.best).pk for g in page.rows] if group else [l.pk for l in page.rows]
                assert got == expected, (ordering, group, qty)


def test_an_mpn_prefix_over_many_parts_is_joined_to_the_summaries(market, monkeypatch):
    """A broad MPN prefix (more parts than a family) is joined to the summaries' lists at once,
    every row read a match: the same rows as pricing every match, in every price order."""
    from credit.services.fx import fx_rate_set

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    for i, part in enumerate(market[::3]):
        part.mpn = f"GRM155R6{i:03d}"
        part.save()
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 5)
    monkeypatch.setattr(Engine, "DIRECT_PARTS", 2)  # not a family: the summaries answer
    monkeypatch.setattr(ThresholdSearch, "BATCHES", (1, 2, 3, 5, 8, 13, 21, 34))
    filters = {"mpn": "grm-155"}
    for ordering in ("unit_price_at_qty", "-unit_price_at_qty", "extended_price"):
        for group in (False, True):
            for qty in (1, 37, 100, 3000):
                page = offer_search(viewer=None, filters=search_filters(**filters), qty=qty, ordering=ordering,
                                    group=group, limit=6)
                assert page.path in ("banded", "threshold"), (ordering, group, qty)
                expected = reference(filters=filters, qty=qty, ordering=ordering, group=group, vendor_ids=[])[:6]
                got = [(g.cheaper or g.best).pk for g in page.rows] if group else [l.pk for l in page.rows]
                assert got == expected, (ordering, group, qty)
                assert {row.part.mpn[:6] for row in page.rows} == {"GRM155"}


def test_grouped_dearest_in_stock_skips_only_parts_that_cannot_reach_the_page(monkeypatch):
    """The walk skips a part whose priced offers' dearest breaks are all below the page's k-th
    value, without pricing it. An offer without a price at the quantity (its first break is above
    it) does not count, however cheap: here it would hide the part whose in-stock offer tops the page."""
    from credit.services.fx import fx_rate_set

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 1)
    monkeypatch.setattr(ThresholdSearch, "BATCHES", (1, 1, 1))
    monkeypatch.setattr(ThresholdSearch, "LOOSE_BATCHES", (1, 1, 1))
    first, second, third = PartFactory(), PartFactory(), PartFactory()
    for part, place, dearest in ((first, "5.00", "20.00"), (second, "6.00", "19.00")):  # read first: dearest offers
        ListingFactory(part=part, breaks=[(1, place)])  # in stock: the part's place
        ListingFactory(part=part, stock=0, breaks=[(1, dearest)])
    ListingFactory(part=third, breaks=[(100, "0.10")])  # in stock, no price at 10 pieces
    top = ListingFactory(part=third, breaks=[(1, "8.00")])  # the third part's place: 8.00, tops the page
    page = offer_search(viewer=None, filters=search_filters(in_stock=True), qty=10, ordering="-unit_price_at_qty",
                        group=True, limit=1)
    assert page.path == "threshold"
    assert [g.best.pk for g in page.rows] == [top.pk]
    assert page.rows[0].best.converted["unit_price_at_qty"] == Decimal("8.000000")


def test_grouped_dearest_rules_out_a_part_only_by_a_currency_that_surely_prices_it_lower(monkeypatch):
    """Grouped dearest first from the summaries: a candidate is dropped when one currency's offers
    surely cost less than the page's bound (`best_hi`, priced at every quantity of the band) —
    not when they merely may (`best_lo`: here a break at 20 pieces, below the 11 asked)."""
    from credit.services.fx import fx_rate_set

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 1)
    dear, middle, cheap = PartFactory(), PartFactory(), PartFactory()
    top = ListingFactory(part=dear, breaks=[(1, "9.00"), (20, "1.00")])  # 9.00 at 11 pieces
    ListingFactory(part=dear, currency="USD", breaks=[(1, "2.00")])  # 14.40 CNY
    ListingFactory(part=middle, breaks=[(1, "5.00")])
    ListingFactory(part=cheap, breaks=[(1, "4.00")])
    page = offer_search(viewer=None, filters=search_filters(), qty=11, ordering="-unit_price_at_qty", group=True, limit=1)
    assert page.path == "banded"
    assert [g.best.pk for g in page.rows] == [top.pk]


@pytest.mark.parametrize("range_limit", [20_000, 1])  # 1: the range is too wide to read at once, the batches go on
def test_grouped_dearest_in_stock_reads_the_rest_of_the_range_and_prices_the_tail_that_can_place(monkeypatch, range_limit):
    """Once the page has a k-th value, the walk reads every part whose bound reaches it, prices the
    most promising first (by their dearest priced break) and then the rest that can still place:
    a part with a modest dearest break (3.00) but a flat price beats parts whose dear first break
    (20.00) hides a price of 2.00 at the quantity."""
    from credit.services.fx import fx_rate_set

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 1)
    monkeypatch.setattr(ThresholdSearch, "RANGE_LIMIT", range_limit)
    monkeypatch.setattr(ThresholdSearch, "BATCHES", (1, 1, 1))
    monkeypatch.setattr(ThresholdSearch, "LOOSE_BATCHES", (1, 1, 1, 1, 1, 1))
    monkeypatch.setattr(ThresholdSearch, "RANGE_HEAD", 1)
    first, second = PartFactory(), PartFactory()
    top = ListingFactory(part=first, breaks=[(1, "9.00")])
    ListingFactory(part=second, breaks=[(1, "1.00")])  # its place, 1.00; read second (dearest offer 8.90)
    ListingFactory(part=second, stock=0, breaks=[(1, "8.90")])
    for _ in range(5):  # read before the flat part (an offer out of stock at 4.00), each placed at 2.00
        part = PartFactory()
        ListingFactory(part=part, breaks=[(1, "20.00"), (100, "2.00")])
        ListingFactory(part=part, stock=0, breaks=[(1, "4.00")])
    flat = ListingFactory(part=PartFactory(), breaks=[(1, "3.00")])
    page = offer_search(viewer=None, filters=search_filters(in_stock=True), qty=100, ordering="-unit_price_at_qty",
                        group=True, limit=2)
    assert page.path == "threshold"
    assert [g.best.pk for g in page.rows] == [top.pk, flat.pk]


@pytest.mark.parametrize("group", [False, True])
def test_extended_price_between_pack_sizes_is_walked_per_pack_multiple(monkeypatch, group):
    """At 101 pieces an offer sold in multiples of 100 orders 200: its cheap unit price (0.010) is
    a dear order (2.00). The walk reads each pack multiple's list with its exact order quantity, so
    the parts sold by the piece (1.515, 1.616, …) are found in one step; `ext_lo` × 101 (1.01) put
    the reels first and the step ended without a page."""
    from credit.services.fx import fx_rate_set

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))  # every listing currency rated: the summaries answer
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 1)
    monkeypatch.setattr(ThresholdSearch, "BATCHES", (2,))
    for _ in range(6):
        ListingFactory(part=PartFactory(), moq=100, multiple=100, breaks=[(1, "0.010")])
    by_the_piece = [ListingFactory(part=PartFactory(), breaks=[(1, f"{Decimal('0.015') + i * Decimal('0.001')}")])
                    for i in range(6)]
    page = offer_search(viewer=None, filters=search_filters(), qty=101, ordering="extended_price", group=group, limit=1)
    assert page.path == "threshold"
    assert ([(g.cheaper or g.best).pk for g in page.rows] if group else [l.pk for l in page.rows]) == [by_the_piece[0].pk]
    row = page.rows[0].best if group else page.rows[0]
    assert row.converted["extended_price"] == Decimal("1.52")
