"""The listing's copied search columns (category, vendor verified, cheapest and dearest break,
first break) stay in step with their sources, and the price-bounded search pages exactly like
pricing every match."""

from decimal import Decimal

import pytest
from django.db.models import QuerySet

from marketplace.models import Listing
from marketplace.selectors import listing_search
from marketplace.selectors.catalogue import PriceBoundedSearch
from organizations.services import organization_verify
from marketplace.services import listing_create, listing_update, stock_list_import
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory

pytestmark = pytest.mark.django_db

COLUMNS = ("category_key", "vendor_verified", "min_unit_price", "max_unit_price", "first_break_qty")


def columns(listing: Listing) -> tuple:
    return tuple(Listing.objects.filter(pk=listing.pk).values_list(*COLUMNS).get())


def assert_in_step(listing: Listing) -> None:
    """What the services left equals a recomputation from the sources."""
    before = columns(listing)
    Listing.objects.filter(pk=listing.pk).refresh_search_columns()
    assert before == columns(listing)


def test_create_and_edit_keep_prices_and_category():
    vendor = OrganizationFactory(trader=True)
    part = PartFactory(category="Flash")
    listing = listing_create(vendor=vendor, part=part, moq=10, price_breaks=[(1, "2.00"), (100, "1.50")])
    assert columns(listing) == ("FLASH", True, Decimal("1.5"), Decimal("2"), 1)
    listing_update(listing=listing, price_breaks=[(5, "3.00"), (1000, "0.90")])
    assert columns(listing) == ("FLASH", True, Decimal("0.9"), Decimal("3"), 5)
    listing_update(listing=listing, stock=7)  # no break change: columns unchanged
    assert_in_step(listing)
    part.category = "NOR flash"
    part.save()
    assert columns(listing)[0] == "NOR FLASH"
    assert_in_step(listing)


def test_import_creates_and_updates_columns():
    vendor = OrganizationFactory(trader=True)
    csv = ("manufacturer,mpn,stock,moq,multiple,lead_time_days,currency,price_breaks,category\n"
           "Winbond,W25Q128JV,500,1,1,0,CNY,1:2.00;100:1.80,Flash\n")
    stock_list_import(vendor=vendor, content=csv)
    listing = Listing.objects.get(vendor=vendor)
    assert columns(listing) == ("FLASH", True, Decimal("1.8"), Decimal("2"), 1)
    stock_list_import(vendor=vendor, content=csv.replace("1:2.00;100:1.80", "1:2.50;100:1.20"))
    assert columns(listing)[2:4] == (Decimal("1.2"), Decimal("2.5"))
    assert_in_step(listing)


def test_verifying_a_vendor_makes_its_listings_searchable():
    vendor = OrganizationFactory(trader=True, verified=False)
    listing = ListingFactory(vendor=vendor, part=PartFactory(category="LDO"))
    assert not listing_search(viewer=None, category="ldo", qty=10).filter(pk=listing.pk).exists()
    organization_verify(organization=vendor)
    assert columns(listing)[1] is True
    assert list(listing_search(viewer=None, category="ldo", qty=10)) == [listing]


def _prices(rng_seed: int, n: int) -> list[list[tuple[int, str]]]:
    import random

    rng = random.Random(rng_seed)
    specs = []
    for _ in range(n):
        price = Decimal(rng.randint(50, 500)) / 100
        breaks = [(1, price), (100, price * Decimal("0.8")), (1000, price * Decimal("0.5"))][: rng.randint(1, 3)]
        if rng.random() < 0.1:
            breaks = [(500, price)]  # no price below 500 units: sorts last at small quantities
        specs.append([(q, str(p.quantize(Decimal("0.000001")))) for q, p in breaks])
    return specs


@pytest.mark.parametrize("ordering", ["unit_price_at_qty", "-unit_price_at_qty"])
@pytest.mark.parametrize("qty", [1, 100, 2000])
def test_price_bounded_pages_equal_pricing_every_match(ordering, qty, monkeypatch):
    monkeypatch.setattr(PriceBoundedSearch, "SAMPLES", (1, 3, 80))  # small samples first: exercise the retries
    part_a, part_b = PartFactory(category="MOSFET", description="small signal"), PartFactory(category="MOSFET")
    other = PartFactory(category="Flash")
    for i, breaks in enumerate(_prices(7, 90)):
        ListingFactory(part=[part_a, part_b, other][i % 3], breaks=breaks, lead_time_days=i % 4,
                       vendor=OrganizationFactory(trader=True))
    qs = listing_search(viewer=None, category="mosfet", q="small", qty=qty, ordering=ordering)
    assert isinstance(qs, PriceBoundedSearch)
    plain = [l.pk for l in QuerySet.__getitem__(qs, slice(None))]
    assert len(plain) == qs.count() == 30
    for start, stop in ((0, 5), (5, 10), (0, 10), (25, 30)):
        assert [l.pk for l in qs[start:stop]] == plain[start:stop]
