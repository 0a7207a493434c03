"""Spreadsheet-safe exports: one helper every CSV/XLSX export calls.

A cell whose text starts with `=`, `+`, `-` or `@` (or a tab/carriage return, which some
spreadsheets skip before reading the formula) is run as a formula when the file is opened:
`=cmd|' /C calc'!A0` or `=HYPERLINK(...)` in a part description would run on the buyer's machine.
Such text cells get a leading `'`, which spreadsheets show as plain text (OWASP "CSV injection").
Numbers (int, Decimal, float) are written unchanged, so `-12.50` stays a number.

    writer = export_csv_writer(response)        # a csv.writer whose writerow() escapes cells
    writer.writerow(["Name", "=1+1"])           # -> Name,'=1+1
    sheet.append(export_row(values))            # openpyxl: escape a row before appending it
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def export_cell(value: Any) -> Any:
    """The value to write: text that a spreadsheet would run as a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def export_row(values: Iterable[Any]) -> list[Any]:
    return [export_cell(value) for value in values]


class _SafeWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(export_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]):
        for row in rows:
            self._writer.writerow(export_row(row))


def export_csv_writer(file, **kwargs) -> _SafeWriter:
    """`csv.writer(file, **kwargs)` whose rows are escaped with `export_cell`."""
    return _SafeWriter(csv.writer(file, **kwargs))
