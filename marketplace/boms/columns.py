"""Which column of a BOM holds which field: the header first, then the cells as evidence.

Field by field: a header name the synonym lists know (in English, German, French, Spanish,
Italian, Chinese and Russian, as tools and people write them) maps a column; then, for every field
the header left unmapped *or mapped against the evidence*, the cells decide: designator lists,
MPN shapes and MPNs the catalogue knows, manufacturer names the catalogue knows, values,
footprints. When header and cells disagree (MPN-shaped cells under "Manufacturer name"), the cells
win and the report says why. Every mapped field carries a confidence and its reason.

Pure functions: the catalogue is asked through the two callables the service passes in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

FIELDS = ("designators", "quantity", "manufacturer", "mpn", "description", "value", "footprint", "dnp")


def header_key(text: str) -> str:
    """`Mfr. Part #` -> `mfrpartnumber`, `Référence` -> `reference`, `位号` stays `位号`."""
    text = unicodedata.normalize("NFKD", text.replace("#", "number").replace("№", "number"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "", text.casefold())


def _keys(*names: str) -> set[str]:
    return {header_key(n) for n in names}


# Header names, compared after `header_key`.
SYNONYMS: dict[str, set[str]] = {
    "designators": _keys(
        "reference", "references", "reference(s)", "ref", "refs", "refdes", "ref des", "designator", "designators",
        "parts", "part", "part reference", "reference designator", "reference designators", "ref designator",
        "components", "component ref", "identifier", "position", "positions", "location", "locations",
        "placement", "referenz", "bauteilreferenz", "kennzeichen", "bezeichner", "repère", "repères", "référence",
        "designador", "designadores", "riferimento", "riferimenti", "sigla", "位号", "标号", "元件标号", "位置号",
        "器件位号", "元件位号", "позиционное обозначение", "поз обозначение", "поз. обозначение", "обозначение"),
    "quantity": _keys(
        "qty", "qnty", "qty.", "quantity", "qty per board", "qty/board", "qty per pcb", "quantity per pcb",
        "quantity per board", "qty pcb", "count", "amount", "units", "pcs", "pieces", "bom qty", "qty needed",
        "menge", "anzahl", "stück", "stückzahl", "quantité", "qté", "cantidad", "cant", "quantità", "qtà",
        "数量", "用量", "单板用量", "количество", "кол", "кол-во"),
    "mpn": _keys(
        "mpn", "mpn1", "manufacturer part number", "manufacturer part", "manufacturer part no", "manufacturer pn",
        "manufacturer ref", "mfr part number", "mfr part", "mfr part no", "mfr pn", "mfr no", "mfr ref",
        "mfg part number", "mfg part", "mfg pn", "mfg ref", "mf pn", "part number", "part no", "part no.", "part num",
        "pn", "p/n", "manufacturer part number 1", "mpn number", "order code", "herstellerteilenummer",
        "hersteller teilenummer", "herstellerartikelnummer", "hersteller-artikelnummer", "teilenummer",
        "référence fabricant", "ref fabricant", "numéro de pièce", "número de parte", "numero de parte",
        "codice costruttore", "codice produttore", "型号", "规格型号", "物料编码", "料号", "物料编号", "厂家型号",
        "制造商型号", "制造商料号", "器件型号", "元件型号", "артикул", "партномер"),
    "manufacturer": _keys(
        "manufacturer", "manufacturer name", "manufacturer 1", "mfr name", "mfg name", "mf", "mfg", "mfr", "mfr1",
        "maker", "brand", "make", "hersteller", "fabricant", "fabricante", "produttore", "costruttore", "厂家",
        "制造商", "品牌", "生产厂家", "厂商", "производитель"),
    "description": _keys(
        "description", "desc", "comments", "part description", "characteristics", "name", "part name",
        "component name", "item name", "plain name", "title", "beschreibung", "bezeichnung", "désignation produit",
        "descripción", "descrizione", "名称", "描述", "物料名称", "品名", "物料描述", "описание", "наименование"),
    "value": _keys(
        "value", "val", "values", "specification", "spec", "wert", "valeur", "valor", "valore", "值", "参数",
        "标称值", "规格", "номинал", "designation", "désignation"),
    "footprint": _keys(
        "footprint", "package", "pcb footprint", "case", "case/package", "package/case", "package case",
        "footprint name", "封装", "gehäuse", "bauform", "boîtier", "encapsulado", "package type", "корпус"),
    "dnp": _keys(
        "dnp", "do not place", "do not populate", "dnp/dnf", "dnf", "dni", "populate", "populated", "fitted",
        "not fitted", "mount", "mounted", "place", "placed", "fit", "no pop", "nopop", "exclude",
        "exclude from board", "variant", "assemble", "assembled", "install", "installed", "bestückt",
        "bestückung", "bestueckt", "不贴", "贴片", "是否贴片"),
}
# `comment` is Altium's and JLC's value column; it is the description only beside a real value column.
COMMENT_KEYS = _keys("comment", "kommentar", "commentaire", "comentario", "commento", "备注", "注释", "комментарий")
MPN_NUMBER_KEYS = _keys("mfr #", "mfg #", "mfr. #", "mfr no.", "mfrnumber", "mfgnumber")
# `MPN 2`, `Manufacturer Part Number 2`, … are alternates (Altium exports up to 4 pairs).
ALTERNATE_MPN = re.compile(r"^(mpn|manufacturerpartnumber|mfrpartnumber|mfrpn|manufacturerpart)([2-9])$")
ALTERNATE_MFR = re.compile(r"^(manufacturer|mfr|manufacturername|mf)([2-9])$")
POSITIVE_DNP_HEADERS = _keys("populate", "populated", "fitted", "mount", "mounted", "place", "placed", "fit",
                             "assemble", "assembled", "install", "installed", "bestückt", "bestückung", "bestueckt",
                             "贴片", "是否贴片")
USELESS_HEADER = re.compile(r"^(field|column|col|f|c|spalte|列)\s*_?\d+$", re.I)

# --- What cells look like ------------------------------------------------------------------------

STRICT_DESIGNATOR = re.compile(r"^[A-Za-z][A-Za-z_]{0,5}\d{1,5}[A-Za-z]?$")
MPN_SHAPE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9\-_/.,#+()]{3,}$")
VALUE_SHAPE = re.compile(r"^\d+([.,]\d+)?\s*([pnuµμmkKMGR]\d*)?\s*(F|H|Ω|ohms?|R|V|A|Hz)?(\s.*)?$", re.I)
FOOTPRINT_SHAPE = re.compile(
    r"(^[\w.-]+:[\w.-]+$)|(^|[_\s-])(0201|0402|0603|0805|1206|1210|1812|2010|2512)(\D|$)|"
    r"^(SOT|SOD|SOIC|SOP|SSOP|TSSOP|MSOP|QFN|DFN|QFP|LQFP|TQFP|BGA|LGA|TO-?\d|DIP|PDIP|SIP|SMA|SMB|SMC|DO-?\d|"
    r"[CRL]_|LED_|D_|HDR|PinHeader|USON|WSON|VSON|VQFN|UQFN|ESOP|SC-?70|DPAK|D2PAK|PowerPAK)", re.I)
DESIGNATOR_RANGE = re.compile(r"^[A-Za-z]{1,6}\d{1,6}\s*(-|\.\.|–|~)\s*[A-Za-z]{0,6}\d{1,6}$")


def looks_like_designators(cell: str) -> bool:
    tokens = [t for t in re.split(r"[,;\s]+", cell.strip()) if t]
    if not tokens:
        return False
    if DESIGNATOR_RANGE.match(cell.strip()):
        return True
    return all(STRICT_DESIGNATOR.match(t) or DESIGNATOR_RANGE.match(t) for t in tokens)


def looks_like_mpn(cell: str) -> bool:
    return bool(MPN_SHAPE.match(cell)) and not VALUE_SHAPE.match(cell) and not looks_like_designators(cell) \
        and not FOOTPRINT_SHAPE.search(cell)


def _is_quantity(cell: str) -> bool:
    try:
        return 0 < float(cell.replace(",", ".")) <= 100_000 and len(cell) <= 9
    except ValueError:
        return False


@dataclass
class FieldChoice:
    columns: list[int]
    confidence: float
    source: str  # header | content | chosen | remembered
    reason: str


def evidence(rows: list[list[str]], width: int, known_manufacturers: set[str], known_mpns=None,
             manufacturer_key=lambda s: s.lower()) -> dict[int, dict[str, float]]:
    """Per column, the share of its filled cells that look like each field (0..1). Columns with
    fewer than two filled cells (or under a fifth of the rows) say nothing."""
    sample = rows[:200]
    out: dict[int, dict[str, float]] = {}
    for i in range(width):
        filled = [c for c in ((r[i].strip() if i < len(r) else "") for r in sample) if c]
        if len(filled) < max(2, len(sample) // 5):
            continue
        n = len(filled)
        mpn = sum(1 for c in filled if looks_like_mpn(c)) / n
        if known_mpns is not None and 0.2 <= mpn < 0.9:  # the catalogue settles only the doubtful columns
            mpn = min(1.0, mpn + known_mpns(filled))
        out[i] = {
            "designators": sum(1 for c in filled if looks_like_designators(c)) / n,
            "quantity": sum(1 for c in filled if _is_quantity(c)) / n,
            "mpn": mpn,
            "manufacturer": sum(1 for c in filled if manufacturer_key(c) in known_manufacturers) / n,
            "value": sum(1 for c in filled if VALUE_SHAPE.match(c)) / n,
            "footprint": sum(1 for c in filled if FOOTPRINT_SHAPE.search(c)) / n,
            "description": sum(1 for c in filled if " " in c and len(c) > 12) / n,
        }
        out[i]["value"] = max(0.0, out[i]["value"] - out[i]["designators"] - out[i]["quantity"] / 2)
    return out


def field_for_header(text: str) -> str | None:
    key = header_key(text)
    if key in MPN_NUMBER_KEYS:
        return "mpn"
    for name, words in SYNONYMS.items():
        if key in words:
            return name
    if key in COMMENT_KEYS:
        return "comment"
    return None


def map_header(names: list[str], extra: dict[str, list[int]] | None = None) -> dict[str, list[int]]:
    """Field -> column indexes from the header names alone (first column wins; numbered
    MPN/manufacturer columns become the alternates, paired by number)."""
    mapping: dict[str, list[int]] = {}
    alternates: list[tuple[int, int, str]] = []
    comment = None
    seconds = extra if extra is not None else {}
    for i, name in enumerate(names):
        key = header_key(name)
        if m := ALTERNATE_MPN.match(key):
            alternates.append((int(m.group(2)), i, "mpn"))
            continue
        if m := ALTERNATE_MFR.match(key):
            alternates.append((int(m.group(2)), i, "manufacturer"))
            continue
        f = field_for_header(name)
        if f == "comment":
            comment = i if comment is None else comment
        elif f and f not in mapping:
            mapping[f] = [i]
        elif f == "description" and key == "description":
            seconds.setdefault(f, []).append(mapping["description"][0])
            mapping["description"] = [i]  # Altium: `Description` over `Name`/`Comments`
        elif f:
            seconds.setdefault(f, []).append(i)  # `brand` after `Manufacturer name`: used if the first is wrong
    if comment is not None:
        if "value" not in mapping:
            mapping["value"] = [comment]
        elif "description" not in mapping:
            mapping["description"] = [comment]
    for _, i, f in sorted(alternates):
        if f in mapping:
            mapping[f].append(i)
    return mapping


# Fields the cells can claim from a header that says otherwise, and how sure they must be.
OVERRIDABLE = ("mpn", "manufacturer", "designators")
THRESHOLDS = {"designators": 0.8, "manufacturer": 0.5, "mpn": 0.5, "quantity": 0.9, "value": 0.6, "footprint": 0.6,
              "description": 0.5}
PERCENT = "{:.0%}".format


def map_columns(names: list[str], header_meaningful: bool, rows: list[list[str]], width: int, *,
                known_manufacturers, known_mpns=None, manufacturer_key=lambda s: s.lower()) -> dict[str, FieldChoice]:
    """The whole mapping with a confidence and a reason per field."""
    seconds: dict[str, list[int]] = {}
    header = map_header(names, seconds) if header_meaningful else {}
    makers = known_manufacturers() if callable(known_manufacturers) else known_manufacturers
    scores = evidence(rows, width, makers, known_mpns, manufacturer_key)
    choices: dict[str, FieldChoice] = {}
    taken: set[int] = set()
    claimed: dict[int, str] = {}  # column -> field the cells moved it to
    # 1. Header names, checked against the cells.
    for f, cols in header.items():
        first = cols[0]
        s = scores.get(first)
        label = names[first]
        if s is not None and f in ("mpn", "manufacturer", "designators", "value", "footprint", "description"):
            best = max(OVERRIDABLE, key=lambda g: s[g])
            if best != f and s[best] >= 0.6 and s[f] <= 0.25 and s[best] - s[f] >= 0.4:
                claimed[first] = best
                continue
        if s is None:
            conf, why = 0.7, f"the header “{label}”; too few filled cells to confirm it"
        elif f in THRESHOLDS and s[f] >= THRESHOLDS[f] * 0.75:
            conf, why = 0.95, f"the header “{label}”, and {PERCENT(s[f])} of its cells look like it"
        else:
            conf, why = 0.8, f"the header “{label}”"
        choices[f] = FieldChoice(list(cols), conf, "header", why)
        taken.update(cols)
    for col, f in claimed.items():
        s = scores[col]
        if f in choices:  # another column is named for what these cells look like: keep the header's word
            was = field_for_header(names[col])
            was = "value" if was == "comment" else was
            if was and was not in choices:
                choices[was] = FieldChoice([col], 0.6, "header", f"the header “{names[col]}”, though "
                                           f"{PERCENT(s[f])} of its cells look like {'MPNs' if f == 'mpn' else f}")
                taken.add(col)
            continue
        was = field_for_header(names[col]) or "?"
        choices[f] = FieldChoice([col], round(s[f], 2), "content",
                                 f"the header “{names[col]}” says {was}, but {PERCENT(s[f])} of its cells look like "
                                 f"{'MPNs' if f == 'mpn' else f}: the cells win")
        taken.add(col)
    # A second column the header names for a field whose first one the cells took away.
    for f, cols in seconds.items():
        free = [i for i in cols if i not in taken and i not in claimed]
        if f not in choices and free and f in {field for field in claimed.values()} | set(header):
            choices[f] = FieldChoice([free[0]], 0.75, "header", f"the header “{names[free[0]]}” (the first "
                                     f"{f} column holds something else)")
            taken.add(free[0])
    # 2. The cells, for every field still unmapped.
    for f in ("designators", "manufacturer", "mpn", "quantity", "value", "footprint", "description"):
        if f in choices:
            continue
        ranked = sorted(((s[f], i) for i, s in scores.items() if i not in taken), reverse=True)
        if ranked and ranked[0][0] >= THRESHOLDS[f]:
            score, i = ranked[0]
            label = names[i]
            choices[f] = FieldChoice([i], round(min(score, 0.99) * 0.9, 2), "content",
                                     f"{PERCENT(score)} of the cells in “{label}” look like {'MPNs' if f == 'mpn' else f}")
            taken.add(i)
    return choices
