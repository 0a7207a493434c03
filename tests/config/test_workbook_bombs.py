"""Workbook uploads are checked before parsing (issue 23): a small XLSX that inflates to hundreds of
megabytes is a JSON 400 at once, and reading is read-only with row and column caps."""

import io
import zipfile
from unittest import mock

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.spreadsheets import WorkbookRefused, xlsx_check_archive, xlsx_rows
from marketplace.models import Listing

SHEET = "xl/worksheets/sheet1.xml"


def _workbook(rows=(("manufacturer", "mpn"),)) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _bomb(inflated_bytes: int) -> bytes:
    """A real workbook whose first sheet is padded with whitespace to `inflated_bytes` (valid XML,
    compressed about 1000 times)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_workbook())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename != SHEET:
                dst.writestr(item, data)
                continue
            head, tail = data.split(b"</sheetData>")
            info = zipfile.ZipInfo(SHEET)
            info.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(info, "w", force_zip64=True) as sheet:
                sheet.write(head)
                chunk = b" " * (1 << 20)
                for _ in range(inflated_bytes // len(chunk)):
                    sheet.write(chunk)
                sheet.write(b"</sheetData>" + tail)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb_300mb() -> bytes:
    return _bomb(300 << 20)


def test_the_bomb_is_small_on_the_wire_and_refused_from_its_directory(bomb_300mb):
    assert len(bomb_300mb) < 1 << 20
    with mock.patch("openpyxl.load_workbook", side_effect=AssertionError("parsed")):
        with pytest.raises(WorkbookRefused, match="inflate"):
            list(xlsx_rows(bomb_300mb, max_rows=10))


@pytest.mark.django_db
def test_the_bomb_is_a_json_400_on_the_stock_list_and_bom_uploads(trader, buyer, bomb_300mb):
    response = trader.client.post("/api/v1/listings/import/", {"file": SimpleUploadedFile("stock.xlsx", bomb_300mb)},
                                  format="multipart")
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")
    assert "inflate" in response.json()["errors"][0]["message"]
    assert not Listing.objects.exists()
    bom = buyer.client.post("/api/v1/boms/", {"file": SimpleUploadedFile("bom.xlsx", bomb_300mb)}, format="multipart")
    assert bom.status_code == 400 and "inflate" in str(bom.json())


def test_total_size_and_ratio_limits_follow_settings(settings):
    moderate = _bomb(8 << 20)  # 8 MB of whitespace, compressed ~1000 times
    with pytest.raises(WorkbookRefused, match="at most 100\\)"):
        xlsx_check_archive(moderate)  # the default ratio limit
    settings.XLSX_MAX_RATIO = 2000
    xlsx_check_archive(moderate)
    settings.XLSX_MAX_UNCOMPRESSED_BYTES = 4 << 20
    with pytest.raises(WorkbookRefused, match="at most 4 MB"):
        xlsx_check_archive(moderate)


def test_an_ordinary_workbook_passes_the_checks():
    content = _workbook([("manufacturer", "mpn", "stock")] + [("Yageo", f"RC{i:05d}", i) for i in range(20_000)])
    xlsx_check_archive(content)
    assert len(list(xlsx_rows(content, max_rows=30_000))) == 20_001


def test_not_a_zip_and_too_many_members_are_refused():
    with pytest.raises(WorkbookRefused, match="not a readable zip"):
        xlsx_check_archive(b"PK\x03\x04garbage")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(2001):
            archive.writestr(f"x/{i}", b"")
    with pytest.raises(WorkbookRefused, match="parts inside"):
        xlsx_check_archive(out.getvalue())


def test_rows_and_columns_are_capped():
    book = openpyxl.Workbook()
    sheet = book.active
    for i in range(50):
        sheet.append([f"r{i}", "x"])
    sheet["XFD1"] = "far right"  # the sheet now claims 16,384 columns
    buffer = io.BytesIO()
    book.save(buffer)
    rows = list(xlsx_rows(buffer.getvalue(), max_rows=9, max_cols=5))
    assert len(rows) == 10 and all(len(row) <= 5 for row in rows)
    assert rows[0][:2] == ["r0", "x"]
