"""The buyer's stock list: what it holds itself, part by part, netted out of its purchase plans.

A file (CSV in any delimiter and the encodings EDA tools write, or XLSX) is read by the BOM
workbench's reader (`boms.reader.rows_from_bytes`: size, encoding, delimiter, zip-bomb checks)
and its header synonyms (`boms.columns`), and its MPNs are matched to parts by the BOM matching
(`boms.matching.match_lines`), so a stock list and a BOM name parts the same way. A row may
also give the part's id. Any bad row (a quantity that is no whole number, a formula, a part id
that does not exist): `StockInvalid` naming row and column, and nothing changes. Rows whose MPN
matches no part (or several equally) are not errors but are reported as skipped, with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from marketplace.boms.columns import field_for_header, header_key
from marketplace.boms.matching import match_lines
from marketplace.boms.reader import MAX_ROWS, column_letter, is_formula, rows_from_bytes
from marketplace.catalogue.models import Part
from marketplace.exceptions import BomInvalid, StockInvalid
from marketplace.plans.models import MAX_STOCK, BuyerStock
from organizations.models import Organization

# A match this sure is the part (exact; an alias of the maker; a packaging suffix). Less sure
# matches (another maker's part with the same MPN, a guessed suffix) are skipped: stock counted
# against the wrong part would silently buy too little.
MIN_CONFIDENCE = Decimal("0.85")
MAX_ERRORS = 50

_STOCK_HEADERS = {
    "quantity": {header_key(n) for n in (
        "on hand", "qty on hand", "quantity on hand", "in stock", "stock", "stock qty", "available", "qty available",
        "inventory", "count", "bestand", "lagerbestand", "库存", "库存数量", "现有库存", "en stock", "existencias")},
    "part": {header_key(n) for n in ("part id", "part_id", "kitstreet part", "kitstreet part id", "kitstreet id")},
    "note": {header_key(n) for n in ("note", "notes", "location", "bin", "storage", "shelf", "place", "remark",
                                     "lagerort", "库位", "备注")},
}


@dataclass
class StockRow:
    row: int  # 1-based row of the file
    mpn: str = ""
    manufacturer: str = ""
    part_id: int | None = None
    quantity: int = 0
    note: str = ""


@dataclass
class StockImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rows: int = 0
    skipped: list[dict] = field(default_factory=list)  # [{row, mpn, manufacturer, reason}]


def _columns(header: list[str]) -> dict[str, int]:
    """Field -> column index: the stock words first (`On hand`, `Part ID`, `Location`), then the
    BOM synonyms for MPN, manufacturer and quantity; a bare `Part` column is the MPN."""
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        key = header_key(name)
        if not key:
            continue
        kind = next((k for k, words in _STOCK_HEADERS.items() if key in words), None)
        if kind is None:
            kind = field_for_header(name)
            if kind not in ("mpn", "manufacturer", "quantity"):
                kind = "mpn" if key in ("part", "parts") else None
        if kind and kind not in found:
            found[kind] = i
    return found


def stock_read(content: bytes, *, filename: str = "") -> list[StockRow]:
    """Every row of a stock file, checked; StockInvalid with every problem (up to 50)."""
    try:
        table = rows_from_bytes(content, filename)
    except BomInvalid as exc:  # empty, binary, too large, undecodable: the reader says which
        raise StockInvalid(exc.errors) from None
    header_index = next((i for i, row in enumerate(table[:30]) if {"quantity"} <= set(_columns(row))
                         and {"mpn", "part"} & set(_columns(row))), None)
    if header_index is None:
        raise StockInvalid([{"row": 0, "column": "file", "message": (
            "No header row with a quantity column (Quantity, Qty, On hand, Stock) and an MPN or part id column "
            "(MPN, Manufacturer Part Number, Part ID) in the first 30 rows.")}])
    header = table[header_index]
    columns = _columns(header)
    names = {kind: (header[i].strip() or column_letter(i)) for kind, i in columns.items()}
    rows: list[StockRow] = []
    errors: list[dict] = []

    def bad(number: int, kind: str, message: str) -> None:
        if len(errors) < MAX_ERRORS:
            errors.append({"row": number, "column": names.get(kind, kind), "message": message})

    data = table[header_index + 1:]
    if len(data) > MAX_ROWS:
        raise StockInvalid([{"row": 0, "column": "file", "message": f"At most {MAX_ROWS:,} rows per file."}])
    for offset, cells in enumerate(data):
        number = header_index + 2 + offset  # the file's own row number (1-based, header included)
        if not any(c.strip() for c in cells):
            continue

        def cell(kind: str) -> str:
            i = columns.get(kind)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        for kind in columns:
            if is_formula(cell(kind)):
                bad(number, kind, "A formula: export the values, not the formulas.")
        row = StockRow(row=number, mpn=cell("mpn")[:100], manufacturer=" ".join(cell("manufacturer").split())[:100],
                       note=cell("note")[:200])
        text = cell("quantity").replace(",", "").replace(" ", "")
        try:
            quantity = Decimal(text)
        except InvalidOperation:
            quantity = None
        if not text:
            bad(number, "quantity", "No quantity: give the units on hand (0 for none).")
        elif quantity is None or not quantity.is_finite() or quantity != quantity.to_integral_value():
            bad(number, "quantity", f"“{text[:20]}” is not a whole number of units.")
        elif not 0 <= quantity <= MAX_STOCK:
            bad(number, "quantity", f"Give from 0 to {MAX_STOCK:,} units.")
        else:
            row.quantity = int(quantity)
        if part_text := cell("part"):
            if not part_text.isdigit() or not 1 <= int(part_text) <= 2**63 - 1:
                bad(number, "part", f"“{part_text[:20]}” is not a part id (a whole number).")
            else:
                row.part_id = int(part_text)
        if row.part_id is None and not row.mpn and not any(e["row"] == number for e in errors):
            bad(number, "mpn", "No MPN and no part id: say which part this is.")
        rows.append(row)
    if not rows and not errors:
        errors.append({"row": 0, "column": "file", "message": "The file has a header but no rows."})
    if ids := {r.part_id for r in rows if r.part_id is not None}:
        known = set(Part.objects.filter(pk__in=ids).values_list("pk", flat=True))
        for r in rows:
            if r.part_id is not None and r.part_id not in known:
                bad(r.row, "part", f"No part has the id {r.part_id}.")
    if errors:
        raise StockInvalid(sorted(errors, key=lambda e: e["row"]))
    return rows


def stock_match(rows: list[StockRow]) -> tuple[dict[int, tuple[int, list[str]]], list[dict]]:
    """Rows -> ({part id: (units, notes)}, skipped rows). Rows of the same part are added up (two
    bins of one part); a row naming a part by id is that part, an MPN is matched like a BOM line."""
    by_mpn = [r for r in rows if r.part_id is None]
    matches = match_lines([(r.manufacturer, r.mpn, []) for r in by_mpn]) if by_mpn else []
    parts: dict[int, tuple[int, list[str]]] = {}
    skipped = []

    def add(part_id: int, row: StockRow) -> None:
        units, notes = parts.get(part_id, (0, []))
        parts[part_id] = (units + row.quantity, notes + ([row.note] if row.note and row.note not in notes else []))

    for row in rows:
        if row.part_id is not None:
            add(row.part_id, row)
    for row, match in zip(by_mpn, matches):
        if match.part_id is not None and match.status in ("exact", "probable") and match.confidence >= MIN_CONFIDENCE:
            add(match.part_id, row)
        else:
            why = match.reason if match.status == "none" else (
                f"several parts fit ({', '.join(c.manufacturer for c in match.candidates[:4])}): give the manufacturer "
                "or the part id" if match.status == "ambiguous" else f"not sure enough ({match.reason}): give the part id")
            skipped.append({"row": row.row, "mpn": row.mpn, "manufacturer": row.manufacturer, "reason": why})
    return parts, skipped


def _lock_stock(organization: Organization) -> None:
    """One writer of an organisation's stock at a time: its row locked first, always."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()


@transaction.atomic
def stock_import(*, organization: Organization, content: bytes, filename: str = "", replace: bool = False,
                 dry_run: bool = False) -> StockImportResult:
    """Set the stock of every part the file names (rows of one part added up); with `replace`,
    the parts the file does not name are removed from the list. A bad file changes nothing; a
    dry run reports what would change and changes nothing."""
    rows = stock_read(content, filename=filename)
    parts, skipped = stock_match(rows)
    _lock_stock(organization)
    existing = {s.part_id: s for s in BuyerStock.objects.filter(organization=organization).order_by("pk")}
    result = StockImportResult(rows=len(rows), skipped=skipped)
    now = timezone.now()
    creates, updates = [], []
    for part_id, (units, notes) in sorted(parts.items()):
        note = "; ".join(notes)[:200]
        if units > MAX_STOCK:
            raise StockInvalid([{"row": 0, "column": "quantity", "message": (
                f"The rows of part {part_id} add up to more than {MAX_STOCK:,} units.")}])
        have = existing.get(part_id)
        if have is None:
            creates.append(BuyerStock(organization=organization, part_id=part_id, quantity=units, note=note))
        elif (have.quantity, have.note) != (units, note or have.note):
            have.quantity, have.note, have.updated_at = units, note or have.note, now
            updates.append(have)
        else:
            result.unchanged += 1
    result.created, result.updated = len(creates), len(updates)
    gone = [row.pk for part_id, row in existing.items() if part_id not in parts] if replace else []
    result.removed = len(gone)
    if dry_run:
        return result
    BuyerStock.objects.bulk_create(creates)
    if updates:
        BuyerStock.objects.bulk_update(updates, ["quantity", "note", "updated_at"])
    BuyerStock.objects.filter(pk__in=gone).delete()
    return result


def _check_row(quantity: int | None, note: str | None) -> None:
    errors = []
    if quantity is not None and not 0 <= quantity <= MAX_STOCK:
        errors.append({"row": 0, "column": "quantity", "message": f"Give from 0 to {MAX_STOCK:,} units."})
    if note is not None and len(note) > 200:
        errors.append({"row": 0, "column": "note", "message": "At most 200 characters."})
    if errors:
        raise StockInvalid(errors)


@transaction.atomic
def stock_row_set(*, organization: Organization, part: Part, quantity: int, note: str | None = None) -> BuyerStock:
    """The units of one part the organisation holds (a new row, or the row replaced)."""
    _check_row(quantity, note)
    _lock_stock(organization)
    row, created = BuyerStock.objects.get_or_create(organization=organization, part=part,
                                                    defaults={"quantity": quantity, "note": note or ""})
    if not created:
        row.quantity = quantity
        if note is not None:
            row.note = note
        row.save(update_fields=["quantity", "note", "updated_at"])
    return row


@transaction.atomic
def stock_row_update(*, row: BuyerStock, quantity: int | None = None, note: str | None = None) -> BuyerStock | None:
    """Change a row's units or note (what is not given stays). None when the row was taken off the
    list meanwhile (a concurrent delete got the organisation's lock first)."""
    _check_row(quantity, note)
    _lock_stock(row.organization)
    row = BuyerStock.objects.select_related("part").filter(pk=row.pk).first()
    if row is None:
        return None
    fields = ["updated_at"]
    if quantity is not None:
        row.quantity = quantity
        fields.append("quantity")
    if note is not None:
        row.note = note
        fields.append("note")
    row.save(update_fields=fields)
    return row


@transaction.atomic
def stock_row_delete(*, row: BuyerStock) -> None:
    _lock_stock(row.organization)
    BuyerStock.objects.filter(pk=row.pk).delete()


def stock_row_add(*, organization: Organization, mpn: str, manufacturer: str = "", quantity: int, note: str = ""
                  ) -> BuyerStock:
    """A part typed by MPN (the stock page's form), matched as a file's row would be."""
    if not mpn.strip():
        raise StockInvalid([{"row": 0, "column": "mpn", "message": "Enter the part's MPN."}])
    parts, skipped = stock_match([StockRow(row=0, mpn=mpn.strip()[:100], manufacturer=manufacturer.strip()[:100],
                                           quantity=0)])
    if skipped:
        raise StockInvalid([{"row": 0, "column": "mpn", "message": f"{mpn.strip()[:100]}: {skipped[0]['reason']}."}])
    (part_id,) = parts
    return stock_row_set(organization=organization, part=Part.objects.get(pk=part_id), quantity=quantity, note=note)
