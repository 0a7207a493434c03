"""A quote as a spreadsheet (CSV or XLSX): one row per purchase (designators, MPN, vendor,
quantity, unit and extended price), unsourced and short lines, then per-vendor subtotals and the
exchange rates the quote converted at.

Every text cell that a spreadsheet would run as a formula (starting with = + - @, or a tab or a
carriage return) is prefixed with ' so it shows as text (config/exports.py, shared by every
export): MPNs, vendor names and designators come from other people."""

import csv
import io
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from config.exports import export_row
from marketplace.kits.models import BomLine
from marketplace.sourcing.models import Quote

HEADER = ["Designators", "Manufacturer", "MPN", "Bought part", "Vendor", "Quantity", "Unit price", "Extended price",
          "Currency", "Note"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def quote_rows(quote: Quote) -> tuple[list[list], list[list]]:
    """(line rows, subtotal rows); money as Decimal, text neutralised."""
    designators = dict(BomLine.objects.filter(kit_id=quote.kit_id).values_list("part_id", "designators"))
    rows, subtotals = [], defaultdict(Decimal)
    for line in quote.lines.all():
        refs = designators.get(line.part_id, "")
        for a in line.allocations.all():
            rows.append([refs, line.part.manufacturer, line.part.mpn, a.part.mpn if a.part_id != line.part_id else "",
                         a.vendor.name, a.quantity, a.unit_price, a.extended_price, quote.currency,
                         "substitute" if a.part_id != line.part_id else ""])
            subtotals[a.vendor.name] += a.extended_price
        if line.shortfall:
            rows.append([refs, line.part.manufacturer, line.part.mpn, "", "", line.shortfall, None, None, quote.currency,
                         "short: nobody has this many"])
    for u in quote.unsourced:
        rows.append([f"BOM line {u['line']}", "", u["mpn"], "", "", u["quantity"], None, None, quote.currency,
                     "unsourced: no catalogue part matched"])
    totals = [["", "", "", "", vendor, None, None, amount.quantize(Decimal("0.01")), quote.currency, "subtotal"]
              for vendor, amount in sorted(subtotals.items())]
    totals.append(["", "", "", "", "Components", None, None, quote.components_cost, quote.currency, "total"])
    totals.append(["", "", "", "", "Quote total", None, None, quote.total, quote.currency,
                   "with assembly, design fees and NRE"])
    for r in quote.fx_rate_rows:  # the snapshot the converted prices above were made at
        since = f" of {timezone.localtime(r['valid_from']):%Y-%m-%d}" if r["valid_from"] else ""
        totals.append(["", "", "", "", f"1 {r['currency']} = {r['rate']} {quote.currency}", None, r["rate"], None,
                       quote.currency, f"exchange rate{since}"])
    for currency in (quote.fx or {}).get("left_out") or []:
        totals.append(["", "", "", "", f"Offers in {currency}", None, None, None, quote.currency,
                       f"left out: no exchange rate from {currency} to {quote.currency}"])
    return [export_row(r) for r in rows], [export_row(r) for r in totals]


def quote_csv(quote: Quote) -> bytes:
    rows, totals = quote_rows(quote)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for r in [*rows, [], *totals]:
        writer.writerow(["" if v is None else v for v in r])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read it as UTF-8


def quote_xlsx(quote: Quote) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    rows, totals = quote_rows(quote)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = f"Quote {quote.pk}"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in [*rows, [], *totals]:
        # Decimals stay numbers (a spreadsheet sums them); text was neutralised and is stored as text.
        sheet.append(r)
    for r in range(2, sheet.max_row + 1):
        sheet.cell(r, 7).number_format = "0.000000"
        sheet.cell(r, 8).number_format = "0.00"
    for column, width in zip("ABCDEFGHIJ", (24, 18, 24, 18, 24, 10, 12, 14, 8, 30)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
