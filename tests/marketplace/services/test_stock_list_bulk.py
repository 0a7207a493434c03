"""Bulk stock-list import (issue 23): set-based writes in short chunks, the same outcome as row by
row (search columns, price history), CSV and XLSX alike."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection

from marketplace.catalogue.price_bands import TIERS

from marketplace.exceptions import StockListInvalid
from marketplace.models import Listing, ListingPriceChange, Part, PriceBreak
from marketplace.catalogue import listings as listings_service
from marketplace.catalogue.listings import stock_list_import
from tests.marketplace.factories import ListingFactory, PartFactory

HEADER = ["manufacturer", "mpn", "stock", "moq", "multiple", "lead_time_days", "currency", "price_breaks", "category"]


def _rows(n: int, *, stock: int = 100, price: str = "0.50") -> list[list[str]]:
    return [["Yageo", f"RC0402-{i:06d}", str(stock), "10", "10", "0", "CNY", f"10:{price};1000:0.40", "Resistor"]
            for i in range(n)]


def _csv(rows) -> bytes:
    return ("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n").encode()


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.django_db
def test_a_large_list_is_written_in_a_bounded_number_of_statements(trader, django_assert_max_num_queries):
    """No per-row round trips: 5,000 rows (three chunks) in a few dozen statements, plus the parts'
    price summaries (per chunk six reads and writes, and the rows of both tables — per band, and per
    band and pack multiple — inserted 2,000 at a time; one COPY per table and 5,000 parts on
    PostgreSQL) and the categories' vocabulary (per chunk a read, an insert and a locked read, and
    an update for each of the category's three texts that gains words)."""
    summaries = 3 * 6 + 2 * -(-5000 * len(TIERS) // 2000)
    vocabulary = 3 * (3 + 3)
    with django_assert_max_num_queries(60 + summaries + vocabulary):
        result = stock_list_import(vendor=trader.org, content=_csv(_rows(5000)))
    assert (result.created, result.updated, result.unchanged) == (5000, 0, 0)
    assert Listing.objects.filter(vendor=trader.org).count() == 5000 and Part.objects.count() == 5000
    assert PriceBreak.objects.count() == 10_000
    listing = Listing.objects.get(part__mpn="RC0402-004321")
    assert (listing.min_unit_price, listing.max_unit_price, listing.min_spend) == (Decimal("0.40"), Decimal("0.50"), Decimal("4.00"))
    assert listing.category_key == "RESISTOR" and listing.location == trader.org.location[:100]
    assert ListingPriceChange.objects.count() == 5000
    with django_assert_max_num_queries(30):  # the same file again: reads only, nothing changes
        again = stock_list_import(vendor=trader.org, content=_csv(_rows(5000)))
    assert again.unchanged == 5000 and ListingPriceChange.objects.count() == 5000


@pytest.mark.django_db
def test_updates_keep_search_columns_and_history_in_step(trader):
    stock_list_import(vendor=trader.org, content=_csv(_rows(3)))
    rows = _rows(3)
    rows[0][2] = "7"                                # stock only
    rows[1][3], rows[1][4] = "20", "20"             # MOQ → min_spend
    rows[2][7] = "10:0.30;1000:0.20"                # breaks → prices and history
    result = stock_list_import(vendor=trader.org, content=_csv(rows))
    assert (result.created, result.updated, result.unchanged) == (0, 3, 0)
    by_mpn = {l.part.mpn: l for l in Listing.objects.select_related("part")}
    assert by_mpn["RC0402-000000"].stock == 7
    assert by_mpn["RC0402-000001"].min_spend == Decimal("8.00")
    assert (by_mpn["RC0402-000002"].min_unit_price, by_mpn["RC0402-000002"].max_unit_price) == (Decimal("0.20"), Decimal("0.30"))
    assert list(by_mpn["RC0402-000002"].price_breaks.values_list("min_qty", "unit_price")) == [(10, Decimal("0.30")), (1000, Decimal("0.20"))]
    assert ListingPriceChange.objects.filter(listing=by_mpn["RC0402-000002"]).count() == 2
    assert ListingPriceChange.objects.filter(listing=by_mpn["RC0402-000000"]).count() == 1


@pytest.mark.django_db
def test_an_inactive_listing_of_an_existing_part_is_reactivated_not_duplicated(trader):
    part = PartFactory(manufacturer="Yageo", mpn="RC0402-000000")
    old = ListingFactory(vendor=trader.org, part=part, is_active=False)
    result = stock_list_import(vendor=trader.org, content=_csv(_rows(1)))
    assert result.updated == 1
    old.refresh_from_db()
    assert old.is_active and old.stock == 100 and Listing.objects.count() == 1 and Part.objects.count() == 1


@pytest.mark.django_db
def test_a_dry_run_reads_and_writes_nothing(trader, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        result = stock_list_import(vendor=trader.org, content=_csv(_rows(2500)), dry_run=True)
    assert result.created == 2500 and result.dry_run
    assert not Listing.objects.exists() and not Part.objects.exists()


@pytest.mark.django_db
def test_an_xlsx_stock_list_imports_like_its_csv(trader):
    result = stock_list_import(vendor=trader.org, content=_xlsx(_rows(50)))
    assert (result.created, result.updated) == (50, 0)
    assert stock_list_import(vendor=trader.org, content=_csv(_rows(50))).unchanged == 50


@pytest.mark.django_db
def test_a_bad_row_anywhere_means_nothing_is_written(trader):
    rows = _rows(4500)
    rows[4400][2] = "lots"
    with pytest.raises(StockListInvalid) as caught:
        stock_list_import(vendor=trader.org, content=_csv(rows))
    assert caught.value.errors == [{"row": 4401, "field": "stock", "message": "'lots' is not a whole number."}]
    assert not Listing.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_each_chunk_commits_on_its_own_and_reports_progress(trader, monkeypatch):
    monkeypatch.setattr(listings_service, "IMPORT_CHUNK_ROWS", 200)
    seen = []

    def progress(done: int, total: int) -> None:
        # Between chunks no transaction is open: the supplier's other writes are not held up.
        assert not connection.in_atomic_block
        seen.append((done, total, Listing.objects.filter(vendor=trader.org).count()))

    stock_list_import(vendor=trader.org, content=_csv(_rows(450)), progress=progress)
    assert seen == [(200, 450, 200), (400, 450, 400), (450, 450, 450)]
