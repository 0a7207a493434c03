"""Property: for every search shape, ordering and quantity, a page of `offer_search` (which skips
pricing most matches) holds the same rows in the same order as pricing every match and sorting —
flat, and grouped by part (each part's best offer, parts ordered by it) — with listings in two
currencies, compared in either (or with no rate: those last)."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.models import Listing, Part, PriceBreak
from organizations.models import Organization
from marketplace.catalogue.search.results import listing_search
from marketplace.catalogue.search.filters import search_filters
from credit.services.fx import fx_rate_set
from marketplace.catalogue.search.pricing import DisplayCurrency
from marketplace.catalogue.search.banded import BandedSearch
from marketplace.catalogue.search.engine import Engine
from marketplace.catalogue.search.threshold import ThresholdSearch
from marketplace.catalogue.search.results import offer_search

pytestmark = pytest.mark.django_db

PARTS = [  # (manufacturer, mpn, category, description, parameters)
    ("Samsung", "CL05A106KA5NNNC", "Capacitor", "10uF 25V X5R MLCC, 0402", {"value": "10uF", "package": "0402"}),
    ("Samsung", "CL05A104KA5NNNC", "Capacitor", "100nF 25V X5R MLCC, 0402", {"value": "100nF", "package": "0402"}),
    ("Murata", "GRM155R61A475KE15D", "Capacitor", "4.7 µF 10 V X5R MLCC", {"value": "4.7 µF", "package": "0402"}),
    ("Yageo", "RC0402FR-0710KL", "Resistor", "10k thick-film resistor, 0402", {"resistance": "10k", "package": "0402"}),
    ("Yageo", "RC0402FR-071KL", "Resistor", "1k thick-film resistor, 0402", {"resistance": "1000", "package": "0402"}),
    ("Winbond", "W25Q128JVSIQ", "Flash", "SPI NOR flash 128 Mbit", {"package": "SOIC8"}),
]
SHAPES = {
    "none": {},
    "category": {"category": "capacitor"},
    "keyword": {"q": "cap"},  # a synonym: finds the MLCCs by "capacitor"
    "mpn prefix": {"mpn": "cl05a"},
    "parameters": {"parameters": "capacitance>=4.7uF"},
    "vendor": {"vendor": 1},
    "in stock": {"in_stock": True},
    "category + keyword": {"category": "resistor", "q": "thick"},
    "category + parameters": {"category": "capacitor", "parameters": "capacitance>=4.7uF"},
}
ORDERINGS = ["unit_price_at_qty", "-unit_price_at_qty", "extended_price"]

prices = st.integers(min_value=1, max_value=400)
listing_spec = st.tuples(
    st.integers(0, len(PARTS) - 1),  # part
    st.integers(0, 3),  # vendor
    st.sampled_from([0, 5, 100, 1000, 20000]),  # stock
    st.sampled_from([1, 1, 10, 100, 5000]),  # moq
    st.sampled_from([1, 1, 5, 100, 250]),  # multiple
    st.integers(0, 3),  # lead time
    st.tuples(st.tuples(st.sampled_from([1, 1, 1, 10, 500]), prices),  # usually priced from 1 pc
              st.lists(st.tuples(st.sampled_from([10, 100, 500, 1000, 5000]), prices), max_size=3)),
    st.sampled_from([True, True, True, False]),  # active
)


def build(specs, vendors, parts, currencies=()) -> None:
    for i, (part_i, vendor_i, stock, moq, multiple, lead, raw_breaks, active) in enumerate(specs):
        listing = Listing.objects.create(vendor=vendors[vendor_i], part=parts[part_i], stock=stock, moq=moq,
                                         multiple=multiple, lead_time_days=lead, is_active=active,
                                         currency=currencies[i % len(currencies)] if currencies else "CNY")
        breaks = sorted(dict([raw_breaks[0], *raw_breaks[1]]).items())
        # Any prices (not only falling ones) and sometimes no break below the MOQ: the bounds must hold anyway.
        PriceBreak.objects.bulk_create([PriceBreak(listing=listing, min_qty=q, unit_price=Decimal(p) / 100) for q, p in breaks])
    Listing.objects.refresh_search_columns()


def search_params(filters, vendor_ids) -> dict:
    params = dict(filters)
    if "vendor" in params:
        params["vendor_id"] = vendor_ids[params.pop("vendor")]
    return params


def reference_parts(*, filters, qty, ordering, vendor_ids, display) -> dict[int, tuple]:
    """Per part, what a grouped row shows of it, from every matching offer priced: (offers, stock,
    shortest lead, offers that cover their order quantity, the first in the search's order that
    fills it with a price)."""
    ascending = "unit_price_at_qty" if ordering.startswith("-") else ordering
    out: dict[int, list] = {}
    for l in listing_search(viewer=None, qty=qty, ordering=ascending, display=display, **search_params(filters, vendor_ids)):
        row = out.setdefault(l.part_id, [0, 0, l.lead_time_days, 0, None])
        row[0] += 1
        row[1] += l.stock
        row[2] = min(row[2], l.lead_time_days)
        row[3] += l.stock >= l.order_qty
        if row[4] is None and l.stock >= l.order_qty and l.unit_price_at_qty is not None:
            row[4] = l.pk
    return {part: tuple(row) for part, row in out.items()}


def reference(*, filters, qty, ordering, group, vendor_ids, display=None) -> list[int]:
    params = search_params(filters, vendor_ids)
    rows = list(listing_search(viewer=None, qty=qty, ordering=ordering, display=display, **params))
    if not group:
        return [l.pk for l in rows]
    ascending = list(listing_search(viewer=None, qty=qty, ordering="unit_price_at_qty" if ordering.startswith("-") else ordering,
                                    display=display, **params))
    best = {}
    for l in ascending:
        best.setdefault(l.part_id, l)
    groups = list(best.values())
    if ordering.startswith("-"):  # by the best price in the display currency
        groups.sort(key=lambda l: (l.sort_rank, l.sort_unit_price is None, -(l.sort_unit_price or 0), l.pk))
    return [l.pk for l in groups]


@pytest.fixture
def small_engine(monkeypatch):
    """Tiny thresholds, so that random data of a few dozen listings takes the bounded path."""
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 2)
    monkeypatch.setattr(Engine, "SAMPLES", (1, 2, 4, 16))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(listing_spec, min_size=10, max_size=24, unique_by=lambda s: (s[0], s[1])), shape=st.sampled_from(list(SHAPES)),
       ordering=st.sampled_from(ORDERINGS), qty=st.sampled_from([1, 7, 100, 108, 600, 777, 5000]), group=st.booleans(),
       page=st.sampled_from([(0, 1), (0, 2), (0, 3), (2, 2), (3, 10)]), max_candidates=st.sampled_from([3, 20000]),
       walk=st.sampled_from([1, 3, 4000]), batches=st.sampled_from([(1, 1, 1), (1, 2, 4, 8, 16, 32), (100, 400, 1500)]),
       currencies=st.sampled_from([(), ("CNY", "USD", "CNY"), ("USD",)]),
       display=st.sampled_from([("CNY", "7.2"), ("USD", "7.2"), ("CNY", None), ("USD", "6.9"), ("CNY", "0.125")]),
       max_packs=st.sampled_from([8, 1]))
def test_every_shape_pages_like_pricing_every_match(small_engine, monkeypatch, specs, shape, ordering, qty, group, page,
                                                    max_candidates, walk, batches, currencies, display, max_packs):
    monkeypatch.setattr(Engine, "MAX_CANDIDATES", max_candidates)
    # The threshold walk over the summaries (offer filters, extended price): a part or more at a step,
    # extended price per pack multiple or (more multiples than MAX_PACKS) by `ext_lo`.
    monkeypatch.setattr(ThresholdSearch, "BATCHES", batches)
    monkeypatch.setattr(ThresholdSearch, "MAX_PACKS", max_packs)
    # The price summaries' index walk: a row at a time (the part filter then runs on every part) or whole.
    monkeypatch.setattr(BandedSearch, "WALK", walk)
    monkeypatch.setattr(BandedSearch, "MAX_PARTS", max_candidates)
    with transaction.atomic():
        vendors = [Organization.objects.create(name=f"V{i}", slug=f"v{i}", is_supplier=True, is_trader=True, verified=i < 3)
                   for i in range(4)]  # the fourth vendor is unverified: its listings are hidden
        parts = [Part.objects.create(manufacturer=m, mpn=mpn, category=c, description=d, parameters=p)
                 for m, mpn, c, d, p in PARTS]
        build(specs, vendors, parts, currencies)
        code, rate = display
        if rate:  # 1 USD = rate CNY; CNY → USD is its inverse
            fx_rate_set(base="USD", quote="CNY", rate=Decimal(rate))
        vendor_ids = [v.pk for v in vendors]
        expected = reference(filters=SHAPES[shape], qty=qty, ordering=ordering, group=group, vendor_ids=vendor_ids,
                             display=DisplayCurrency(code))
        raw = dict(SHAPES[shape])
        vendor = vendor_ids[raw.pop("vendor")] if "vendor" in raw else None
        filters = search_filters(vendor_id=vendor, **raw)
        offset, limit = page
        result = offer_search(viewer=None, filters=filters, qty=qty, ordering=ordering, group=group,
                              offset=offset, limit=limit, exact_count=True, display=DisplayCurrency(code))
        # Grouped: a part's first offer in the search order is `cheaper` when that one cannot fill the
        # quantity from stock (then `best` is the first that can), else `best`.
        got = [(g.cheaper or g.best).pk for g in result.rows] if group else [l.pk for l in result.rows]
        parts = reference_parts(filters=SHAPES[shape], qty=qty, ordering=ordering, vendor_ids=vendor_ids,
                                display=DisplayCurrency(code)) if group else {}
        for g in result.rows if group and qty else ():
            offers, stock, lead, fillable, filler = parts[g.part.pk]
            assert (g.offers, g.total_stock, g.shortest_lead_time_days, g.fillable_offers) == (offers, stock, lead, fillable)
            if g.cheaper is not None:
                assert g.cheaper.stock < g.cheaper.order_qty and g.best.stock >= g.best.order_qty
                assert g.best.pk == filler
            else:  # the first offer fills the quantity, or no offer of the part does
                assert g.best.stock >= g.best.order_qty or filler is None
        assert got == expected[offset:offset + limit], (result.path, shape, ordering, qty, group, currencies, display)
        assert result.count == len(expected) and not result.count_is_estimate
        assert result.has_next == (len(expected) > offset + limit)
        transaction.set_rollback(True)


def test_grouped_rows_carry_offer_count_stock_and_lead():
    vendors = [Organization.objects.create(name=f"V{i}", slug=f"v{i}", is_supplier=True, is_trader=True, verified=i < 2)
               for i in range(3)]
    part = Part.objects.create(manufacturer="Yageo", mpn="RC0402FR-0710KL", category="Resistor", description="10k resistor")
    build([(0, 0, 100, 1, 1, 3, ((1, 50), []), True), (0, 1, 5, 1, 1, 1, ((1, 40), []), True), (0, 2, 7, 1, 1, 0, ((1, 30), []), True)],
          vendors, [part])
    page = offer_search(viewer=None, filters=search_filters(q="res"), qty=10, group=True)
    (group,) = page.rows
    # The cheapest visible offer (0.40; 0.30 is an unverified vendor's) has 5 of the 10: the best offer
    # is the cheapest that can fill 10, the cheaper one follows it.
    assert group.best.unit_price_at_qty == Decimal("0.50") and group.cheaper.unit_price_at_qty == Decimal("0.40")
    assert (group.offers, group.total_stock, group.shortest_lead_time_days, group.fillable_offers) == (2, 105, 1, 1)
