"""Reading uploaded XLSX workbooks safely: every XLSX input (BOMs, stock lists) goes through
`xlsx_rows`.

An XLSX file is a zip of XML. A 1 MB upload can declare members that inflate to gigabytes (a "zip
bomb"); openpyxl would inflate and parse them, holding a web worker until it is killed. So:

1. **Before parsing**, the zip's central directory is read (nothing is inflated) and the file is
   refused when it has too many members, when the members would inflate past
   `XLSX_MAX_UNCOMPRESSED_BYTES` in all, or when a large member is compressed more than
   `XLSX_MAX_RATIO` times (real sheets compress 5-20x; bombs 1000x). The sizes checked are
   the ones Python's zipfile then enforces while inflating: it stops at a member's declared size
   and fails its CRC when the data says otherwise, so a lying directory gains nothing.
2. openpyxl reads with `read_only=True` (streamed, not a whole DOM) and stops at a row cap and a column cap, so a sheet whose dimension
   claims `A1:XFD1048576` is not padded to 16,384 columns per row.

Expat (Python >= 3.12 ships 2.5+) refuses entity-expansion "billion laughs" XML on its own.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from django.conf import settings

XLSX_MAGIC = b"PK\x03\x04"
MAX_MEMBERS = 2_000
RATIO_CHECKED_ABOVE = 2 * 1024 * 1024  # small members may compress well (a sheet of one repeated value)


class WorkbookRefused(ValueError):
    """The workbook is refused before or while reading it; the message says why, for the user."""


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def xlsx_check_archive(content: bytes) -> None:
    """Refuse a zip whose directory promises absurd inflation (nothing is inflated here)."""
    max_total = _limit("XLSX_MAX_UNCOMPRESSED_BYTES", 100 * 1024 * 1024)
    max_ratio = _limit("XLSX_MAX_RATIO", 100)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise WorkbookRefused(f"The XLSX file could not be opened: it is not a readable zip archive "
                              f"({type(exc).__name__}). Save it again from your spreadsheet or export CSV.") from None
    if len(members) > MAX_MEMBERS:
        raise WorkbookRefused(f"The XLSX file has {len(members):,} parts inside; a workbook has far fewer.")
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > RATIO_CHECKED_ABOVE and member.file_size > max_ratio * max(member.compress_size, 1):
            raise WorkbookRefused(
                f"The XLSX file is refused: {member.filename} would inflate {member.file_size // max(member.compress_size, 1):,} "
                f"times (at most {max_ratio:,}). Save it again from your spreadsheet or export CSV.")
    if total > max_total:
        raise WorkbookRefused(
            f"The XLSX file is refused: it would inflate to {total / 2**20:,.0f} MB (at most {max_total / 2**20:,.0f} MB). "
            "Remove images and unused sheets, or export CSV.")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\x00", "")


def xlsx_rows(content: bytes, *, max_rows: int, max_cols: int = 64) -> Iterator[list[str]]:
    """The first sheet's rows as text, at most `max_rows + 1` of them (so a caller can say "too
    many") and `max_cols` cells each. Raises WorkbookRefused for a bomb or an unreadable file."""
    import openpyxl  # imported here: most uploads are CSV

    xlsx_check_archive(content)
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # an upload is untrusted: any way openpyxl fails on it is "unreadable", not a 500
        raise WorkbookRefused(f"The XLSX file could not be opened ({type(exc).__name__}). Save it again from your "
                              "spreadsheet or export CSV.") from None
    try:
        if not book.worksheets:
            raise WorkbookRefused("The XLSX file has no worksheet.")
        sheet = book.worksheets[0]
        try:
            for values in sheet.iter_rows(max_row=max_rows + 1, max_col=max_cols, values_only=True):
                yield [_cell_text(v) for v in values]
        except WorkbookRefused:
            raise
        except Exception as exc:
            raise WorkbookRefused(f"The XLSX file could not be read ({type(exc).__name__}). Save it again or "
                                  "export CSV.") from None
    finally:
        book.close()
