"""Reading a BOM exported from an EDA tool: bytes -> rows -> a column mapping -> merged lines.

Pure functions, no database: `bom_read(content, filename, columns, known_manufacturers)` returns a
`ReadBom` or raises `BomInvalid` with every problem found, each naming its row and column. The
service (boms/services.py) matches the lines to parts and saves them.

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
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from marketplace.boms.columns import (FIELDS, POSITIVE_DNP_HEADERS, USELESS_HEADER, field_for_header, header_key,
                                      map_columns)
from marketplace.boms.matching import manufacturer_key, mpn_key  # the same keys as matching
from marketplace.exceptions import BomInvalid

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 256  # EDA exports have a few dozen; an XLSX sheet may claim 16,384
MAX_RANGE = 1_000  # `R1-R1000` is a real BOM; `R1-R99999999` is an attack on memory
MAX_QUANTITY = Decimal("1000000")  # per board, per line (the column holds 12 digits, 4 after the point)
QUANTUM = Decimal("0.0001")

DNP_MARKS = {
    "dnp", "dnf", "dni", "dnm", "dns", "np", "nf", "nc", "n/c", "n/p", "n/f", "n.c.", "n.p.", "nostuff", "no stuff",
    "nopop", "no pop", "not populated", "not fitted", "not placed", "not mounted", "not installed", "not assembled",
    "unfitted", "unpopulated", "do not place", "do not populate", "do not fit", "do not mount", "do not stuff",
    "do not install", "do not assemble", "nicht bestückt", "nicht bestücken", "n.b.", "ne pas monter", "non monté",
    "no montar", "no montado", "non montato", "不贴", "不焊", "不贴片", "空贴", "не устанавливать",
}
DNP_WORD = re.compile(r"(^|[\s/(\[-])(dnp|dnf|dni)([\s)\]]|$)")
DNP_TRUE = {"1", "x", "yes", "y", "true", "excluded", "exclude", "ja", "oui", "是"}
DNP_FALSE_FOR_POSITIVE = {"0", "no", "n", "false", "nein", "non", "否", "not fitted", "unfitted"}

DESIGNATOR = re.compile(r"^[A-Za-z][A-Za-z_]{0,5}\d{1,5}[A-Za-z]?$")
# Unnumbered and odd references as tools export them: FAN, LED_PWR, G***, SW-1, SW/1, _A.
LOOSE_DESIGNATOR = re.compile(r"^(?=.*[A-Za-z*_])[\w#*][\w+\-/=*.#]{0,23}$")
RANGE = re.compile(r"^([A-Za-z_]{1,8})(\d{1,7})(?:-|\.\.|–|~)(?:\1)?(\d{1,7})$")
NON_PART_WORDS = re.compile(r"fiducial|mounting[\s_-]?hole|test[\s_-]?point|solder[\s_-]?jumper|solder[\s_-]?bridge|"
                            r"net[\s_-]?tie|kibuzzard|\blogo\b|^logo|_logo", re.I)
NON_PART_REASONS = {"fiduc": "a fiducial", "mount": "a mounting hole", "testp": "a test point",
                    "solde": "a solder jumper", "netti": "a net tie", "kibuz": "a logo", "logo": "a logo"}


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
    dnp: bool = False
    not_a_part: str = ""  # why the line is no part to buy (a fiducial, a test point…), else ""
    warnings: list[str] = field(default_factory=list)


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
    dnp_lines: list[ReadLine] = field(default_factory=list)  # marked do-not-populate
    other_lines: list[ReadLine] = field(default_factory=list)  # not parts: fiducials, logos, holes, test points
    warnings: list[dict] = field(default_factory=list)  # {row, column, message}: read, but worth a look
    mapping: dict[str, dict] = field(default_factory=dict)  # field -> {column, confidence, source, reason}

    @property
    def placements(self) -> Decimal:
        """Parts to place on one board (DNP and not-a-part lines left out)."""
        return sum((line.quantity for line in self.lines), Decimal(0))

    @property
    def dnp_placements(self) -> Decimal:
        return sum((line.quantity for line in self.dnp_lines), Decimal(0))

    @property
    def all_lines(self) -> list[ReadLine]:
        return [*self.lines, *self.dnp_lines, *self.other_lines]


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
    from config.spreadsheets import WorkbookRefused, xlsx_rows

    try:  # zip directory checked before parsing; read-only, capped rows and columns (config/spreadsheets.py)
        return list(xlsx_rows(content, max_rows=MAX_ROWS + 100, max_cols=MAX_COLUMNS))
    except WorkbookRefused as exc:
        raise fail(str(exc)) from None


# --- Header row ---------------------------------------------------------------------------------


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
        known = {field_for_header(c) for c in row if c.strip()} - {None}
        if len(known) >= 2:
            return i, True
    first = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if first is not None:
        cells = [c.strip() for c in rows[first] if c.strip()]
        if cells and all(USELESS_HEADER.match(c) for c in cells):
            return first, False
    return None, False


# --- Designators and cells ----------------------------------------------------------------------


def _expand(token: str) -> list[str] | None:
    if m := RANGE.match(token):
        prefix, start, end = m.group(1), int(m.group(2)), int(m.group(3))
        if end < start:
            start, end = end, start
        if end - start >= MAX_RANGE:
            raise ValueError(f"the range {token} has more than {MAX_RANGE:,} designators")
        return [f"{prefix}{n}" for n in range(start, end + 1)]
    return None


_RANGE_SPACES = re.compile(r"\s*(-|–|\.\.|~)\s*(?=[A-Za-z_]*\d)")
_SEPARATORS = re.compile(r"[,;|\s]+")


def _split_designators(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(_RANGE_SPACES.sub(r"\1", text.strip())) if t]


def parse_designators(text: str) -> list[str]:
    """`R1-R8`, `R1-8`, `C1, C2 C3`, `U1;U2` -> names in order (strict: every name numbered).
    ValueError names the bad token."""
    names: list[str] = []
    for token in _split_designators(text):
        if m := RANGE.match(token):
            if int(m.group(3)) < int(m.group(2)):
                raise ValueError(f"the range {token} runs backwards")
        expanded = _expand(token)
        if expanded is not None:
            names.extend(expanded)
        elif DESIGNATOR.match(token):
            names.append(token)
        else:
            raise ValueError(f"{token!r} is not a designator")
    return names


def read_designators(text: str) -> tuple[list[str], list[str], list[str]]:
    """As exported: (names, tokens that are no designator, notes). Unnumbered references (`FAN`,
    `BOOT`, `LED_PWR`, `G***`), odd ones (`SW-1`, `SW/1`) and backwards ranges are read; words
    (`External components`) are not. ValueError only for a range past MAX_RANGE."""
    names, bad, notes = [], [], []
    for token in _split_designators(text):
        expanded = _expand(token)
        if expanded is not None:
            if (m := RANGE.match(token)) and int(m.group(3)) < int(m.group(2)):
                notes.append(f"the range {token} runs backwards; read as {expanded[0]}–{expanded[-1]}")
            names.extend(expanded)
        elif DESIGNATOR.match(token) or (LOOSE_DESIGNATOR.match(token) and (
                any(ch.isdigit() for ch in token) or token == token.upper() or "_" in token or "*" in token)):
            names.append(token)
        else:
            bad.append(token)
    return names, bad, notes


def not_a_part(designators: list[str], value: str, footprint: str, description: str, mpn: str) -> str:
    """Why this line is no part to buy ("" when it is one): fiducials, logos, mounting holes, test
    points, net ties and solder jumpers. A line with a real MPN (a test point loop) is a part."""
    if mpn and not NON_PART_WORDS.search(mpn):
        return ""
    words = " ".join((value, footprint, description))
    if m := NON_PART_WORDS.search(words):
        return NON_PART_REASONS[re.sub(r"[\s_-]", "", m.group(0).lower())[:5]]
    if designators:
        kinds = {_prefix_kind(d, words) for d in designators}
        if len(kinds) == 1 and (kind := kinds.pop()):
            return kind
    return ""


def _prefix_kind(designator: str, words: str) -> str:
    upper = designator.upper()
    if upper.startswith(("G***", "REF**")) or upper.startswith("LOGO"):
        return "a logo"
    prefix = re.match(r"[A-Z*]+", upper)
    prefix = prefix.group(0) if prefix else ""
    if prefix in ("FID", "FD", "FIDUCIAL"):
        return "a fiducial"
    if prefix in ("MH", "HOLE"):
        return "a mounting hole"
    if prefix == "H" and (not words.strip() or re.search(r"\bM[2-6]\b|hole|mount", words, re.I)):
        return "a mounting hole"
    if prefix == "TP":
        return "a test point"
    if prefix == "NT":
        return "a net tie"
    return ""


def is_dnp_mark(cell: str) -> bool:
    """`DNP`, `DNF`, `DNI`, `NF`, `NC`, `Not fitted`, `Do not populate`, `no stuff`, … alone in a
    cell, or `DNP` as a word in one (`10k DNP`, `(DNF)`)."""
    text = cell.strip().casefold()
    if len(text) > 40:
        return "dn" in text and bool(DNP_WORD.search(text))
    text = " ".join(text.replace("_", " ").split())
    return text in DNP_MARKS or ("dn" in text and bool(DNP_WORD.search(text)))


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
    text = re.sub(r"\s*(pcs|pc|x|stk|st|шт|个|只)\.?$", "", text.strip(), flags=re.I)
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
    `known_mpns` (cells -> share the catalogue knows) are the catalogue's evidence for the mapping.
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
            if wanted and all(str(w).strip().lower() in present for w in wanted):
                columns, reused = earlier, True
                break
    if columns:
        mapping = resolve_columns(columns, names)
        report = {f: {"column": _names(names, ix), "confidence": "1.00", "source": "remembered" if reused else "chosen",
                      "reason": "the mapping you chose" + (" for an earlier file" if reused else "")}
                  for f, ix in mapping.items()}
    else:
        choices = map_columns(names, header_meaningful, [r for _, r in data], width,
                              known_manufacturers=known_manufacturers, known_mpns=known_mpns,
                              manufacturer_key=manufacturer_key)
        mapping = {f: c.columns for f, c in choices.items()}
        report = {f: {"column": _names(names, c.columns), "confidence": f"{c.confidence:.2f}", "source": c.source,
                      "reason": c.reason} for f, c in choices.items()}
    if not {"mpn", "designators", "value"} & set(mapping):
        raise fail("No column holds designators, part numbers or values (looked for MPN, Manufacturer Part Number, "
                   f"Reference, Designator, Value…; the columns are {', '.join(names)}). Name the columns in `columns`.",
                   column="columns")
    used = {f: _names(names, ix) for f, ix in mapping.items()}
    bom = _lines(data, mapping, names, used, header_index, rows[header_index] if header_index is not None else None)
    bom.names, bom.preview, bom.remembered, bom.mapping = names, [r for _, r in data[:8]], reused, report
    return bom


def _names(names: list[str], ix: list[int]) -> str | list[str]:
    return names[ix[0]] if len(ix) == 1 else [names[i] for i in ix]


@dataclass
class _Row:
    row_no: int
    section: int
    designators: list[str]
    quantity: Decimal
    dnp: bool
    pairs: list[tuple[str, str]]
    maker: str
    value: str
    footprint: str
    description: str
    warnings: list[tuple[str, str]]


def _lines(data, mapping, names, used, header_index, header_row) -> ReadBom:
    errors = _Errors()
    warnings: list[dict] = []

    def warn(row_no: int, column: str, message: str) -> None:
        if len(warnings) < 200:
            warnings.append({"row": row_no, "column": column, "message": message})

    def cell(row: list[str], f: str, k: int = 0) -> str:
        ix = mapping.get(f, [])
        return row[ix[k]].strip() if k < len(ix) and ix[k] < len(row) else ""

    header_cells = [c.strip().casefold() for c in header_row] if header_row else None
    dnp_col = mapping.get("dnp", [None])[0]
    dnp_positive = dnp_col is not None and header_key(names[dnp_col]) in POSITIVE_DNP_HEADERS
    skip_for_marks = {i for f in ("designators", "quantity", "manufacturer") for i in mapping.get(f, [])}
    des_col = names[mapping["designators"][0]] if "designators" in mapping else "file"
    qty_col = names[mapping["quantity"][0]] if "quantity" in mapping else "file"
    mapped_cols = {i for ix in mapping.values() for i in ix}
    parsed: list[_Row] = []
    section = 0
    for row_no, row in data:
        stripped = [c.strip() for c in row]
        for i, text in enumerate(stripped):
            if is_formula(text):
                errors.add(row_no, names[i] if i < len(names) else column_letter(i),
                           f"the cell holds a formula ({text[:40]}); export values only.")
        if header_cells and [c.casefold() for c in stripped[:len(header_cells)]] == header_cells:
            section += 1  # the header again: a second listing follows (KiCad's "Collated Components:")
            continue
        if not any(stripped[i] for i in mapped_cols if i < len(stripped)):
            text = next((c for c in stripped if c), "")
            warn(row_no, "file", f"skipped “{text[:60]}”: a heading or note, not a BOM line.")
            continue
        row_warnings: list[tuple[str, str]] = []  # (column, message)
        try:
            designators, bad, notes = read_designators(cell(row, "designators"))
        except ValueError as exc:
            errors.add(row_no, des_col, f"{exc}.")
            continue
        row_warnings += [(des_col, n) for n in notes]
        others = [f for f in ("mpn", "value", "quantity", "footprint", "description", "manufacturer") if cell(row, f)]
        if bad and not designators and not others:
            warn(row_no, des_col, f"skipped “{cell(row, 'designators')[:60]}”: a heading, not a BOM line.")
            continue
        if bad:
            row_warnings.append((des_col, f"{', '.join(bad[:5])} {'is' if len(bad) == 1 else 'are'} not read as "
                                          f"designator{'' if len(bad) == 1 else 's'}"))
        dnp = False
        if dnp_col is not None and dnp_col < len(row):
            mark = stripped[dnp_col].casefold()
            dnp = (mark in DNP_FALSE_FOR_POSITIVE or is_dnp_mark(mark) and mark not in ("fitted", "populated")) \
                if dnp_positive else (mark in DNP_TRUE or is_dnp_mark(mark))
        if not dnp:
            dnp = any(is_dnp_mark(c) for i, c in enumerate(stripped) if i not in skip_for_marks and i != dnp_col and c)
        qty_text = cell(row, "quantity")
        if qty_text:
            qty = _quantity(qty_text)
            if qty is None or qty < 0:
                row_warnings.append((qty_col, f"{qty_text!r} is not a quantity; "
                                              f"{'counted the designators' if designators else 'read as 1'}"))
                qty = Decimal(len(designators) or 1)
            elif qty > MAX_QUANTITY:
                errors.add(row_no, qty_col, f"{qty_text!r} is not a quantity (0 to {MAX_QUANTITY:,} per board).")
                continue
            elif Decimal(0) < qty < QUANTUM:
                errors.add(row_no, qty_col, f"{qty_text!r} is smaller than {QUANTUM} per board.")
                continue
            qty = qty.quantize(QUANTUM)
            if qty == 0:  # Altium variants export not-fitted parts with quantity 0
                dnp, qty = True, Decimal(len(designators) or 1)
            elif designators and qty != len(designators) and not dnp:
                row_warnings.append((qty_col, f"the quantity is {qty_text} but {len(designators)} designator"
                                              f"{'s are' if len(designators) != 1 else ' is'} listed "
                                              f"({_short(designators)})"))
        else:
            qty = Decimal(len(designators) or 1)
        # (manufacturer, MPN) pairs: numbered columns pair up (MPN 2 with Manufacturer 2); several
        # MPNs in one cell share the row's manufacturer.
        pairs = []
        for k in range(len(mapping.get("mpn", []))):
            maker_k = cell(row, "manufacturer", k) or cell(row, "manufacturer")
            pairs += [(maker_k, m) for m in split_mpns(cell(row, "mpn", k)) if not is_dnp_mark(m)]
        for _, m in pairs:
            if len(m) > 100:
                errors.add(row_no, names[mapping["mpn"][0]], "an MPN is longer than 100 characters.")
        parsed.append(_Row(row_no, section, designators, qty, dnp, pairs, cell(row, "manufacturer"), cell(row, "value"),
                           cell(row, "footprint"), cell(row, "description"), row_warnings))
    errors.raise_if_any()
    parsed = _one_listing(parsed, warn)

    seen: dict[str, int] = {}
    merged: dict[tuple, ReadLine] = {}
    dnp_rows = 0
    for r in parsed:
        for d in r.designators:
            if d.upper() in seen and not d.startswith(("G***", "REF**")):
                r.warnings.append((des_col, f"{d} is also on row {seen[d.upper()]}"))
            seen.setdefault(d.upper(), r.row_no)
        maker, mpn = r.pairs[0] if r.pairs else (r.maker, "")
        reason = not_a_part(r.designators, r.value, r.footprint, r.description, mpn)
        dnp_rows += r.dnp
        kind = "other" if reason else ("dnp" if r.dnp else "part")
        key = (kind, manufacturer_key(maker), mpn_key(mpn)) if mpn else (
            kind, "", "", r.value.lower(), r.footprint.lower(), r.description.lower())
        line = merged.get(key)
        if line is None:
            line = merged[key] = ReadLine(designators=[], quantity=Decimal(0), manufacturer=maker[:100], mpn=mpn[:100],
                                          alternates=[(a[:100], b[:100]) for a, b in r.pairs[1:]],
                                          description=r.description[:300], value=r.value[:100],
                                          footprint=r.footprint[:200], dnp=r.dnp and not reason, not_a_part=reason)
        line.designators += r.designators
        line.quantity += r.quantity
        line.rows.append(r.row_no)
        line.warnings += [f"row {r.row_no}: {w}" for _, w in r.warnings]
        for column, w in r.warnings:
            warn(r.row_no, column, w + ".")
        if line.quantity > MAX_QUANTITY:
            errors.add(r.row_no, qty_col, f"this part adds up to more than {MAX_QUANTITY:,} per board.")
    errors.raise_if_any()
    lines = list(merged.values())
    return ReadBom(columns=used, header_row=None if header_index is None else header_index + 1,
                   rows_read=len(data), dnp_rows=dnp_rows, lines=[l for l in lines if not l.dnp and not l.not_a_part],
                   dnp_lines=[l for l in lines if l.dnp], other_lines=[l for l in lines if l.not_a_part],
                   warnings=warnings)


def _one_listing(parsed: list[_Row], warn) -> list[_Row]:
    """A file that lists its parts twice (KiCad's legacy script: "Individual Components" one row
    per designator, then "Collated Components" grouped) is read once: the shorter listing."""
    sections: dict[int, list[_Row]] = defaultdict(list)
    for r in parsed:
        sections[r.section].append(r)
    if len(sections) < 2:
        return parsed
    sets = {s: frozenset(d.upper() for r in rows for d in r.designators) for s, rows in sections.items()}
    keep = set(sections)
    for s in sorted(sections):
        for t in sorted(sections):
            if s < t and s in keep and t in keep and sets[s] and sets[s] == sets[t]:
                drop, kept = (s, t) if len(sections[s]) > len(sections[t]) else (t, s)
                keep.discard(drop)
                warn(sections[drop][0].row_no, "file", f"rows {sections[drop][0].row_no}–{sections[drop][-1].row_no} "
                     f"list the same parts as rows {sections[kept][0].row_no}–{sections[kept][-1].row_no}; "
                     "the shorter listing is read, once.")
    return [r for r in parsed if r.section in keep]


def _short(names: list[str]) -> str:
    return ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
