"""Reading a BOM exported from an EDA tool: bytes -> rows -> a column mapping -> merged lines.

Pure functions, no database: `bom_read(content, filename, columns, known_manufacturers)` returns a
`ReadBom` or raises `BomInvalid` with every problem found, each naming its row and column. The
service (services/boms.py) matches the lines to parts and saves them.

What real exports look like (tests/marketplace/fixtures/boms/ has one of each):
- KiCad: comma CSV, grouped rows `"C1,C2,C3","100nF",…,"3"`; older scripts put a preamble
  (`Source:`, `Date:`…) above the header.
- Altium: comma CSV or XLSX, `Designator` as `C1, C2`, `Manufacturer Part Number 1`/`2` columns.
- Eagle / Fusion: semicolon CSV, one row per part (`Part`, `MPN`, `MF`) or grouped (`Parts`, `Qty`).
- EasyEDA / JLC: UTF-16 tab-separated or comma CSV, `Manufacturer Part`, `Designator`, `Quantity`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from marketplace.boms.matching import manufacturer_key, mpn_key
from marketplace.exceptions import BomInvalid

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_RANGE = 1_000  # `R1-R1000` is a real BOM; `R1-R99999999` is an attack on memory
MAX_QUANTITY = Decimal("1000000")  # per board, per line (the column holds 12 digits, 4 after the point)
QUANTUM = Decimal("0.0001")
FIELDS = ("designators", "quantity", "manufacturer", "mpn", "description", "value", "footprint", "dnp")

# Header names tools use, compared after `_header_key` (lower case, letters and digits only).
SYNONYMS: dict[str, set[str]] = {
    "designators": {"reference", "references", "ref", "refs", "refdes", "designator", "designators", "parts", "part",
                    "partreference", "referencedesignator", "referencedesignators", "components", "component"},
    "quantity": {"qty", "qnty", "quantity", "qtyperboard", "quantityperpcb", "count", "amount", "units", "qtypcb"},
    "mpn": {"mpn", "manufacturerpartnumber", "manufacturerpart", "mfrpartnumber", "mfrpart", "mfrpn", "mfgpartnumber",
            "mfgpn", "mfgpart", "mfrno", "partnumber", "pn", "manufacturerpn", "mfpn", "mpn1",
            "manufacturerpartnumber1", "manufacturerpartno", "partno", "mpnnumber", "ordercode"},
    "manufacturer": {"manufacturer", "manufacturername", "mfrname", "mfgname", "mf", "mfg", "mfr", "maker",
                     "brand", "manufacturer1", "mfr1"},
    "description": {"description", "desc", "comment", "comments", "partdescription", "characteristics"},
    "value": {"value", "val"},
    "footprint": {"footprint", "package", "pcbfootprint", "case", "casepackage", "packagecase", "libref"},
    "dnp": {"dnp", "donotplace", "donotpopulate", "dnpdnf", "dnf", "populate", "fitted", "notfitted", "mount",
            "place", "placed", "fit", "nopop", "exclude", "excludefromboard", "variant"},
}
# `Mfr. #`/`Mfr #` is Mouser's MPN column, `Mfr` alone a manufacturer; `MPN 2`, `Manufacturer Part
# Number 2`, … are alternates (Altium exports up to 4 pairs).
ALTERNATE_MPN = re.compile(r"^(mpn|manufacturerpartnumber|mfrpartnumber|mfrpn|manufacturerpart)([2-9])$")
ALTERNATE_MFR = re.compile(r"^(manufacturer|mfr|manufacturername|mf)([2-9])$")
POSITIVE_DNP_HEADERS = {"populate", "fitted", "mount", "place", "placed", "fit"}  # "no" in these means DNP
USELESS_HEADER = re.compile(r"^(field|column|col|f|c)\s*_?\d+$", re.I)

DNP_CELL = re.compile(
    r"^(dnp|dnf|dni|np|nf|nostuff|no stuff|do not (place|populate|fit|mount|stuff)|not (fitted|placed|populated|mounted)"
    r"|n/?p|n/?f)$|(^|[\s/_(\[-])(dnp|dnf|dni)([\s)\]]|$)", re.I)
DNP_TRUE = {"1", "x", "yes", "y", "true", "dnp", "dnf", "np", "nf", "excluded", "exclude"}
DNP_FALSE_FOR_POSITIVE = {"0", "no", "n", "false", "dnp", "dnf", "np", "nf", "not fitted", "unfitted"}

DESIGNATOR = re.compile(r"^[A-Za-z][A-Za-z_]{0,5}\d{1,5}[A-Za-z]?$")
RANGE = re.compile(r"^([A-Za-z][A-Za-z_]{0,5})(\d{1,7})(?:-|\.\.|–)(?:\1)?(\d{1,7})$")
MPN_SHAPE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9\-_/.,#+()]{3,}$")
VALUE_SHAPE = re.compile(r"^\d+([.,]\d+)?\s*([pnuµμmkKMGR]\d*)?\s*(F|H|Ω|ohms?|R|V|A|Hz)?(\s.*)?$", re.I)


@dataclass
class ReadLine:
    designators: list[str]
    quantity: Decimal
    manufacturer: str
    mpn: str
    alternates: list[tuple[str, str]] = field(default_factory=list)  # (manufacturer, mpn)
    description: str = ""
    value: str = ""
    footprint: str = ""
    rows: list[int] = field(default_factory=list)


@dataclass
class ReadBom:
    columns: dict[str, str | list[str]]
    header_row: int | None
    rows_read: int
    dnp_rows: int
    lines: list[ReadLine]
    names: list[str] = field(default_factory=list)  # the file's column names (letters without a header)
    preview: list[list[str]] = field(default_factory=list)  # the first data rows, for the upload page
    remembered: bool = False  # the mapping came from an earlier upload with the same columns

    @property
    def placements(self) -> Decimal:
        return sum((line.quantity for line in self.lines), Decimal(0))


class _Errors:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, row: int, column: str, message: str) -> None:
        if len(self.items) < 50:  # enough to fix a file; a broken 20k-row file should not answer with 20k
            self.items.append({"row": row, "column": column, "message": message})

    def raise_if_any(self) -> None:
        if self.items:
            raise BomInvalid(self.items)


def fail(message: str, *, row: int = 0, column: str = "file") -> BomInvalid:
    return BomInvalid([{"row": row, "column": column, "message": message}])


# --- Bytes to rows ------------------------------------------------------------------------------


def decode_text(content: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text", EasyEDA), else the legacy
    encodings EDA tools on Windows write: Windows-1252, or GB18030 for Chinese text."""
    if content.startswith(codecs.BOM_UTF8):
        return _strict(content[3:], "utf-8")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(content, "utf-16")
    sample = content[:4000]
    if sample.count(b"\x00") > len(sample) // 4:  # UTF-16 without a BOM: every other byte is NUL
        return _strict(content, "utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be")
    if b"\x00" in sample:
        raise fail("This is not a text file (it contains binary data). Upload a CSV, TSV or XLSX BOM.")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _looks_chinese(content):
        try:
            return content.decode("gb18030")
        except UnicodeDecodeError:
            pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise fail("The file's text encoding could not be read (not UTF-8, UTF-16, Windows-1252 or GB18030). "
                   "Save it as \"CSV UTF-8\" and upload again.") from None


def _strict(content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError:
        raise fail(f"The file starts like {encoding.upper()} text but is not valid {encoding.upper()}. "
                   "Save it as \"CSV UTF-8\" and upload again.") from None


def _looks_chinese(content: bytes) -> bool:
    """GB2312 text is pairs of high bytes (lead 0xB0-0xF7, trail 0xA1-0xFE); Windows-1252 text
    has lone high bytes (µ, °, ±) between ASCII. Chinese when most high bytes sit in such pairs."""
    pairs = lone = 0
    i, n = 0, len(content)
    while i < n:
        b = content[i]
        if b < 0x80:
            i += 1
        elif 0xB0 <= b <= 0xF7 and i + 1 < n and 0xA1 <= content[i + 1] <= 0xFE:
            pairs += 1
            i += 2
        else:
            lone += 1
            i += 1
    return pairs >= 2 and pairs > 2 * lone


def sniff_delimiter(text: str) -> str:
    """The delimiter whose first rows split most consistently into the most columns."""
    lines = [l for l in text.splitlines()[:40] if l.strip()]
    best, best_score = ",", (-1.0, 0)
    for delim in (",", ";", "\t", "|"):
        counts = [len(r) for r in csv.reader(lines, delimiter=delim)]
        if not counts:
            continue
        modal = max(set(counts), key=lambda c: (counts.count(c), c))
        if modal < 2:
            continue
        # The header and data rows agree on the count; a preamble (KiCad's `Source:` lines) does not.
        tail = counts[len(counts) // 3:]
        score = (tail.count(modal) / len(tail), modal)
        if score > best_score:
            best, best_score = delim, score
    return best


def rows_from_bytes(content: bytes, filename: str = "") -> list[list[str]]:
    if not content or not content.strip():
        raise fail("The file is empty.")
    if len(content) > MAX_BYTES:
        raise fail("The file is larger than 10 MB; split the BOM or remove embedded images.")
    if content.startswith(b"PK\x03\x04"):
        return _xlsx_rows(content)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise fail("This is an old binary Excel (.xls) file. Save it as .xlsx or CSV and upload again.")
    if content.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        raise fail("This is not a BOM (a PDF or an image). Upload the CSV, TSV or XLSX your EDA tool exports.")
    text = decode_text(content)
    if "\x00" in text:  # PostgreSQL text cannot hold NUL; no BOM needs one
        raise fail("The file contains binary data (NUL characters). Upload the CSV, TSV or XLSX your EDA tool exports.")
    delim = sniff_delimiter(text)
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim)]
    except csv.Error as exc:
        raise fail(f"The CSV could not be parsed: {exc}.") from None


def _xlsx_rows(content: bytes) -> list[list[str]]:
    import openpyxl  # imported here: most uploads are CSV

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # an upload is untrusted: any way openpyxl fails on it is "unreadable", not a 500
        raise fail(f"The XLSX file could not be opened ({type(exc).__name__}). Save it again from your spreadsheet "
                   "or export CSV.") from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(["" if v is None else _cell_text(v).replace("\x00", "") for v in values])
            if len(rows) > MAX_ROWS + 100:
                break
        return rows
    except Exception as exc:
        raise fail(f"The XLSX file could not be read ({type(exc).__name__}). Save it again or export CSV.") from None
    finally:
        book.close()


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- Columns ------------------------------------------------------------------------------------


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower().replace("#", "number"))


def _field_for_header(text: str) -> str | None:
    key = _header_key(text)
    raw = text.strip().lower()
    if raw in ("mfr. #", "mfr #", "mfr.#", "mfr#", "mfg #", "mfr. no"):
        return "mpn"
    if key in ("mfrnumber", "mfgnumber", "mfrpartnumber"):
        return "mpn"
    for name, words in SYNONYMS.items():
        if key in words:
            return name
    return None


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def find_header(rows: list[list[str]]) -> tuple[int | None, bool]:
    """(index of the header row, whether its names mean anything). A row with two or more known
    column names is the header (rows above it are a preamble); a first row of `Field1`, `Field2`…
    is a header that says nothing; otherwise there is no header."""
    for i, row in enumerate(rows[:30]):
        known = {_field_for_header(c) for c in row if c.strip()} - {None}
        if len(known) >= 2:
            return i, True
    first = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if first is not None:
        cells = [c.strip() for c in rows[first] if c.strip()]
        if cells and all(USELESS_HEADER.match(c) for c in cells):
            return first, False
    return None, False


def map_from_header(names: list[str]) -> dict[str, list[int]]:
    mapping: dict[str, list[int]] = {}
    alternates: list[tuple[int, int, str]] = []  # (rank, index, field)
    for i, name in enumerate(names):
        key = _header_key(name)
        if m := ALTERNATE_MPN.match(key):
            alternates.append((int(m.group(2)), i, "mpn"))
            continue
        if m := ALTERNATE_MFR.match(key):
            alternates.append((int(m.group(2)), i, "manufacturer"))
            continue
        f = _field_for_header(name)
        if f and f not in mapping:
            mapping[f] = [i]
        elif f == "description" and _header_key(name) == "description" and "description" in mapping:
            mapping["description"] = [i]  # Altium: prefer `Description` over `Comment`
    for _, i, f in sorted(alternates):
        if f in mapping:
            mapping[f].append(i)
    return mapping


def map_from_content(rows: list[list[str]], width: int, known_manufacturers: set[str],
                     known_mpns=None) -> dict[str, list[int]]:
    """Guess the columns from what the cells look like: designator lists, small integers, MPN
    shapes (those the catalogue knows count double), manufacturer names the catalogue knows."""
    sample = rows[:200]
    cols = [[(r[i].strip() if i < len(r) else "") for r in sample] for i in range(width)]
    scores: dict[str, list[tuple[float, int]]] = {f: [] for f in FIELDS}
    for i, cells in enumerate(cols):
        filled = [c for c in cells if c]
        if not filled:
            continue
        n = len(filled)
        designator_like = sum(1 for c in filled if _looks_like_designators(c)) / n
        integer_like = sum(1 for c in filled if c.isdigit() and 0 < int(c) <= 100_000) / n
        mpn_like = sum(1 for c in filled if MPN_SHAPE.match(c) and not VALUE_SHAPE.match(c)
                       and not _looks_like_designators(c)) / n
        if known_mpns is not None:
            mpn_like += known_mpns(filled)
        maker_like = sum(1 for c in filled if manufacturer_key(c) in known_manufacturers) / n
        value_like = sum(1 for c in filled if VALUE_SHAPE.match(c)) / n
        text_like = sum(1 for c in filled if " " in c and len(c) > 12) / n
        dnp_like = sum(1 for c in filled if DNP_CELL.search(c)) / n
        scores["designators"].append((designator_like, i))
        scores["quantity"].append((integer_like, i))
        scores["mpn"].append((mpn_like, i))
        scores["manufacturer"].append((maker_like, i))
        scores["value"].append((value_like - designator_like, i))
        scores["description"].append((text_like, i))
        scores["dnp"].append((dnp_like, i))
    mapping: dict[str, list[int]] = {}
    taken: set[int] = set()
    for f, threshold in (("designators", 0.8), ("manufacturer", 0.5), ("mpn", 0.5), ("quantity", 0.9),
                         ("value", 0.6), ("description", 0.5)):
        for score, i in sorted(scores[f], reverse=True):
            if i in taken:
                continue
            if score >= threshold:
                mapping[f] = [i]
                taken.add(i)
            break
    return mapping


def _looks_like_designators(cell: str) -> bool:
    try:
        names = parse_designators(cell)
    except ValueError:
        return False
    return bool(names)


# --- Designators and cells ----------------------------------------------------------------------


def parse_designators(text: str) -> list[str]:
    """`R1-R8`, `R1-8`, `C1, C2 C3`, `U1;U2` -> names in order. ValueError names the bad token."""
    text = re.sub(r"\s*(-|–|\.\.)\s*(?=[A-Za-z]*\d)", r"\1", text.strip())
    names: list[str] = []
    for token in re.split(r"[,;\s]+", text):
        if not token:
            continue
        if m := RANGE.match(token):
            prefix, start, end = m.group(1), int(m.group(2)), int(m.group(3))
            if end < start:
                raise ValueError(f"the range {token} runs backwards")
            if end - start >= MAX_RANGE:
                raise ValueError(f"the range {token} has more than {MAX_RANGE:,} designators")
            names.extend(f"{prefix}{n}" for n in range(start, end + 1))
        elif DESIGNATOR.match(token):
            names.append(token)
        else:
            raise ValueError(f"{token!r} is not a designator")
    return names


def split_mpns(cell: str) -> list[str]:
    """Several MPNs in one cell (`A / B`, `A; B`, `A, B`, one per line). A comma or slash inside
    an MPN (`LPC1768FBD100,551`, `MCP73831T-2ACI/OT`) has no space around it and stays."""
    parts = re.split(r"\s*[;|\n]\s*|,\s+|\s+/\s+|\s+or\s+", cell.strip())
    return [p.strip() for p in parts if p.strip()]


def is_formula(cell: str) -> bool:
    """What a spreadsheet would run: `=…`, or `+`/`-`/`@` followed by a function call or a DDE
    link. Plain values such as `-40°C` or `+5V` are not formulas."""
    if not cell or cell[0] not in "=+-@":
        return False
    if cell[0] == "=":
        return len(cell) > 1
    rest = cell[1:].lstrip("+-")
    return bool(re.match(r"^[A-Za-z_][\w.]*\s*\(", rest)) or "|" in cell or ("!" in cell and "'" in cell)


def _quantity(text: str) -> Decimal | None:
    text = text.strip()
    if text.count(",") == 1 and "." not in text:  # a decimal comma (European Excel)
        text = text.replace(",", ".")
    try:
        qty = Decimal(text)
    except InvalidOperation:
        return None
    return qty if qty.is_finite() else None


# --- The whole read -----------------------------------------------------------------------------


def resolve_columns(requested: dict, names: list[str]) -> dict[str, list[int]]:
    """The buyer's `columns` ({field: column name, letter or 1-based number, or a list}) -> indexes."""
    errors = _Errors()
    mapping: dict[str, list[int]] = {}
    lowered = {n.strip().lower(): i for i, n in enumerate(names) if n.strip()}
    for f, wanted in requested.items():
        if f not in FIELDS:
            errors.add(0, "columns", f"Unknown field {f!r}; use {', '.join(FIELDS)}.")
            continue
        if wanted in (None, "", []):
            continue
        indexes = []
        for w in wanted if isinstance(wanted, list) else [wanted]:
            w = str(w).strip()
            if w.lower() in lowered:
                indexes.append(lowered[w.lower()])
            elif w.isdigit() and 1 <= int(w) <= len(names):
                indexes.append(int(w) - 1)
            elif re.fullmatch(r"[A-Za-z]{1,2}", w) and (idx := _letter_index(w)) < len(names):
                indexes.append(idx)
            else:
                errors.add(0, "columns", f"{f}: the file has no column {w!r}.")
        if indexes:
            mapping[f] = indexes
    errors.raise_if_any()
    return mapping


def _letter_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def bom_read(content: bytes, *, filename: str = "", columns: dict | None = None,
             known_manufacturers=frozenset(), known_mpns=None, remembered: list[dict] = ()) -> ReadBom:
    """`known_manufacturers` (a set of manufacturer keys, or a function returning one) and
    `known_mpns` (cells -> share the catalogue knows) are only asked when the header is useless.
    `remembered`: mappings the buyer chose before; the first whose columns all exist here is used."""
    rows = rows_from_bytes(content, filename)
    if len(rows) > MAX_ROWS:
        raise fail(f"The BOM has more than {MAX_ROWS:,} rows; split it.")
    header_index, header_meaningful = find_header(rows)
    width = max((len(r) for r in rows), default=0)
    if header_index is not None:
        names = [c.strip() or column_letter(i) for i, c in enumerate(rows[header_index])]
        names += [column_letter(i) for i in range(len(names), width)]
        data_start = header_index + 1
    else:
        names = [column_letter(i) for i in range(width)]
        data_start = 0
    data = [(i + 1, r) for i, r in enumerate(rows) if i >= data_start and any(c.strip() for c in r)]
    if not data:
        raise fail("The BOM has a header but no rows." if header_index is not None else "The file is empty.")

    reused = False
    if not columns and header_index is not None:
        present = {n.strip().lower() for n in names}
        for earlier in remembered:
            wanted = [w for v in earlier.values() for w in (v if isinstance(v, list) else [v]) if w]
            if "mpn" in earlier and all(str(w).strip().lower() in present for w in wanted):
                columns, reused = earlier, True
                break
    if columns:
        mapping = resolve_columns(columns, names)
    elif header_meaningful:
        mapping = map_from_header(names)
    else:
        makers = known_manufacturers() if callable(known_manufacturers) else known_manufacturers
        mapping = map_from_content([r for _, r in data], width, makers, known_mpns)
    if "mpn" not in mapping:
        raise fail("No column holds manufacturer part numbers (looked for MPN, Manufacturer Part Number, Mfr. #, "
                   f"Part Number…; the columns are {', '.join(names)}). Name the MPN column in `columns`.",
                   column="columns")
    used = {f: (names[ix[0]] if len(ix) == 1 else [names[i] for i in ix]) for f, ix in mapping.items()}
    bom = _lines(data, mapping, names, used, header_index)
    bom.names, bom.preview, bom.remembered = names, [r for _, r in data[:8]], reused
    return bom


def _lines(data, mapping, names, used, header_index) -> ReadBom:
    errors = _Errors()

    def cell(row: list[str], f: str, k: int = 0) -> str:
        ix = mapping.get(f, [])
        return row[ix[k]].strip() if k < len(ix) and ix[k] < len(row) else ""

    seen_designators: dict[str, int] = {}
    merged: dict[tuple, ReadLine] = {}
    dnp_rows = 0
    dnp_col = mapping.get("dnp", [None])[0]
    dnp_positive = dnp_col is not None and _header_key(names[dnp_col]) in POSITIVE_DNP_HEADERS
    designator_col = mapping.get("designators", [None])[0]
    for row_no, row in data:
        for i, text in enumerate(row):
            if is_formula(text.strip()):
                errors.add(row_no, names[i] if i < len(names) else column_letter(i),
                           f"the cell holds a formula ({text.strip()[:40]}); export values only.")
        dnp = False
        if dnp_col is not None and dnp_col < len(row):
            mark = row[dnp_col].strip().lower()
            dnp = (mark in DNP_FALSE_FOR_POSITIVE) if dnp_positive else (mark in DNP_TRUE or bool(DNP_CELL.search(mark)))
        if not dnp:
            dnp = any(DNP_CELL.search(c.strip()) for i, c in enumerate(row) if i != designator_col and c.strip())
        designator_text = cell(row, "designators")
        try:
            designators = parse_designators(designator_text)
        except ValueError as exc:
            errors.add(row_no, names[designator_col], f"{exc}.")
            continue
        for d in designators:
            if d.upper() in seen_designators:
                errors.add(row_no, names[designator_col],
                           f"{d} is also on row {seen_designators[d.upper()]}; each designator belongs to one row.")
            seen_designators[d.upper()] = row_no
        qty_text = cell(row, "quantity")
        if dnp:
            dnp_rows += 1
            continue
        if qty_text:
            qty = _quantity(qty_text)
            qty_col = names[mapping["quantity"][0]]
            if qty is None or qty < 0 or qty > MAX_QUANTITY:
                errors.add(row_no, qty_col, f"{qty_text!r} is not a quantity (0 to {MAX_QUANTITY:,} per board).")
                continue
            if Decimal(0) < qty < QUANTUM:
                errors.add(row_no, qty_col, f"{qty_text!r} is smaller than {QUANTUM} per board.")
                continue
            qty = qty.quantize(QUANTUM)
            if qty == 0:  # Altium variants export not-fitted parts with quantity 0
                dnp_rows += 1
                continue
            if designators and qty != len(designators):
                errors.add(row_no, qty_col, f"the quantity is {qty_text} but {len(designators)} designator"
                           f"{'s are' if len(designators) != 1 else ' is'} listed ({_short(designators)}).")
                continue
        else:
            qty = Decimal(len(designators) or 1)
        # (manufacturer, MPN) pairs: numbered columns pair up (MPN 2 with Manufacturer 2); several
        # MPNs in one cell share the row's manufacturer.
        pairs = []
        for k in range(len(mapping["mpn"])):
            maker_k = cell(row, "manufacturer", k) or cell(row, "manufacturer")
            pairs += [(maker_k, m) for m in split_mpns(cell(row, "mpn", k))]
        for _, m in pairs:
            if len(m) > 100:
                errors.add(row_no, names[mapping["mpn"][0]], "an MPN is longer than 100 characters.")
        value, footprint = cell(row, "value"), cell(row, "footprint")
        maker, mpn = pairs[0] if pairs else (cell(row, "manufacturer"), "")
        key = (manufacturer_key(maker), mpn_key(mpn)) if mpn else ("", "", value.lower(), footprint.lower(),
                                                                  cell(row, "description").lower())
        line = merged.get(key)
        if line is None:
            line = merged[key] = ReadLine(designators=[], quantity=Decimal(0), manufacturer=maker[:100], mpn=mpn[:100],
                                          alternates=[(a[:100], b[:100]) for a, b in pairs[1:]],
                                          description=cell(row, "description")[:300], value=value[:100],
                                          footprint=footprint[:200])
        line.designators += designators
        line.quantity += qty
        line.rows.append(row_no)
        if line.quantity > MAX_QUANTITY:
            errors.add(row_no, names[mapping["quantity"][0]] if "quantity" in mapping else "file",
                       f"this part adds up to more than {MAX_QUANTITY:,} per board.")
    errors.raise_if_any()
    return ReadBom(columns=used, header_row=None if header_index is None else header_index + 1,
                   rows_read=len(data), dnp_rows=dnp_rows, lines=list(merged.values()))


def _short(names: list[str]) -> str:
    return ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
