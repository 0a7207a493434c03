"""The listing's copied search columns (category, vendor verified, cheapest and dearest break,
first break) stay in step with their sources (the search's price bounds rely on them; the pages
themselves are compared with pricing every match in test_search_property.py)."""

from decimal import Decimal

import pytest

from marketplace.models import Listing
from marketplace.catalogue.search.results import listing_search
from organizations.services import organization_verify
from marketplace.catalogue.listings import listing_create, listing_update, stock_list_import
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory

pytestmark = pytest.mark.django_db

COLUMNS = ("category_key", "vendor_verified", "min_unit_price", "max_unit_price", "first_break_qty", "min_spend")


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
    assert columns(listing) == ("FLASH", True, Decimal("1.5"), Decimal("2"), 1, Decimal("15"))  # MOQ 10 × 1.50
    listing_update(listing=listing, price_breaks=[(5, "3.00"), (1000, "0.90")])
    assert columns(listing) == ("FLASH", True, Decimal("0.9"), Decimal("3"), 5, Decimal("9"))
    listing_update(listing=listing, stock=7)  # no break change: columns unchanged
    assert_in_step(listing)
    listing_update(listing=listing, moq=100)  # the least order follows the MOQ
    assert columns(listing)[5] == Decimal("90")
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
    assert columns(listing) == ("FLASH", True, Decimal("1.8"), Decimal("2"), 1, Decimal("1.8"))
    stock_list_import(vendor=vendor, content=csv.replace("1:2.00;100:1.80", "1:2.50;100:1.20"))
    assert columns(listing)[2:4] == (Decimal("1.2"), Decimal("2.5"))
    assert_in_step(listing)
    moq_only = csv.replace("1:2.00;100:1.80", "1:2.50;100:1.20").replace(",500,1,1,", ",500,50,1,")
    stock_list_import(vendor=vendor, content=moq_only)  # only the MOQ changes
    assert columns(listing)[5] == Decimal("60")  # 50 × 1.20
    assert_in_step(listing)


def test_verifying_a_vendor_makes_its_listings_searchable():
    vendor = OrganizationFactory(trader=True, verified=False)
    listing = ListingFactory(vendor=vendor, part=PartFactory(category="LDO"))
    assert not listing_search(viewer=None, category="ldo", qty=10).filter(pk=listing.pk).exists()
    organization_verify(organization=vendor)
    assert columns(listing)[1] is True
    assert list(listing_search(viewer=None, category="ldo", qty=10)) == [listing]
