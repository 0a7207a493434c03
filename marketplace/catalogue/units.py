"""Parameter values with units: `10uF`, `10 uF`, `10µF` and `0.00001F` are one capacitance, `1k` on a
resistor is 1000 Ω. Parts keep what the supplier wrote (`parameters`) next to a normalised copy
(`parameter_values`: base-unit numbers under the quantity's name) that range filters and facets use.

Arithmetic is in Decimal and converted to float once, at the end: 10 × 10⁻⁶ in floats is
9.999999999999999e-06, while float(Decimal("0.000010")) is exactly float("0.00001"), so equal
values written differently compare equal."""

import re
from decimal import Decimal, InvalidOperation

PREFIXES = {
    "p": Decimal("1e-12"), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "µ": Decimal("1e-6"), "μ": Decimal("1e-6"),
    "m": Decimal("1e-3"), "k": Decimal("1e3"), "K": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"),
}
# unit symbol -> (quantity name, symbol shown)
UNITS = {
    "F": ("capacitance", "F"), "H": ("inductance", "H"), "Ω": ("resistance", "Ω"), "ohm": ("resistance", "Ω"),
    "ohms": ("resistance", "Ω"), "R": ("resistance", "Ω"), "V": ("voltage", "V"), "A": ("current", "A"),
    "Hz": ("frequency", "Hz"), "W": ("power", "W"), "Ah": ("capacity", "Ah"), "dB": ("gain", "dB"), "m": ("length", "m"),
}
SYMBOL = {quantity: symbol for quantity, symbol in UNITS.values()}
# Keys that name a quantity: a bare number under them is in that quantity's base unit ("resistance": "1000").
QUANTITY_KEYS = {
    "capacitance": "capacitance", "inductance": "inductance", "resistance": "resistance", "impedance": "resistance",
    "voltage": "voltage", "vds": "voltage", "vr": "voltage", "current": "current", "frequency": "frequency",
    "power": "power", "capacity": "capacity",
}
# A generic key takes the name of the quantity its unit implies ("value": "100nF" is a capacitance).
GENERIC_KEYS = {"value", "val", "rating"}

NUMBER = r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?"
VALUE = re.compile(rf"^\s*(?P<num>{NUMBER})\s*(?P<prefix>[pnuµμmkKMG]?)\s*(?P<unit>ohms?|Ω|Hz|Ah|dB|[FHRVAWm]?)\s*$")
# Resistor codes: 4K7 = 4.7 kΩ, 2R2 = 2.2 Ω, 5K1 = 5.1 kΩ.
RKM = re.compile(r"^\s*(?P<a>\d+)(?P<mult>[RrKkM])(?P<b>\d+)\s*$")


class Measure(tuple):
    """(quantity, Decimal value in base units); quantity may be "" for a bare number."""

    __slots__ = ()

    def __new__(cls, quantity: str, value: Decimal):
        return super().__new__(cls, (quantity, value))

    quantity = property(lambda self: self[0])
    value = property(lambda self: self[1])


def parse_measure(text: str, *, quantity_hint: str = "") -> Measure | None:
    """`10uF` → (capacitance, 0.00001); `1k` with hint resistance → (resistance, 1000); `4K7` → 4700 Ω.
    None when the text is not a number with an optional unit (e.g. "QFN32", "X7R", "0402" without a hint)."""
    text = str(text).strip()
    if not text or len(text) > 40:
        return None
    if m := RKM.match(text):
        scale = {"R": 1, "K": Decimal(1000), "M": Decimal(10**6)}[m["mult"].upper()]
        return Measure("resistance", Decimal(f"{m['a']}.{m['b']}") * scale)
    m = VALUE.match(text)
    if m is None:
        return None
    prefix, unit = m["prefix"], m["unit"]
    if unit == "m" and not prefix and quantity_hint and quantity_hint != "length":
        prefix, unit = "m", ""  # "10m" on a current is 10 mA, not ten metres
    try:
        number = Decimal(m["num"].replace(",", "."))
    except InvalidOperation:
        return None
    if unit:
        quantity = UNITS[unit][0]
        if quantity_hint and quantity != quantity_hint:
            return None  # "10uF" typed as a voltage: not comparable
    elif quantity_hint:
        quantity = quantity_hint
    elif prefix:
        return None  # "10k" with neither unit nor hint: a number, but of what?
    else:
        quantity = ""
    return Measure(quantity, number * PREFIXES[prefix] if prefix else number)


def as_number(value: Decimal) -> float | int:
    """The JSON number stored for a value: an int when whole, else a float of the exact decimal."""
    value = value.normalize()
    return int(value) if value == value.to_integral_value() and abs(value) < 10**15 else float(value)


def normalise_parameters(parameters: dict, *, category: str = "") -> dict:
    """{"value": "100nF", "voltage": "16V", "package": "0402"} →
    {"capacitance": 1e-07, "voltage": 16, "package": "0402"}: numbers in base units under the quantity's
    name, text lower-cased and trimmed (so facets group `QFN32` and `qfn32`)."""
    out: dict = {}
    for raw_key, raw_value in (parameters or {}).items():
        key = str(raw_key).strip().lower()
        if not key or raw_value in (None, ""):
            continue
        hint = QUANTITY_KEYS.get(key, "")
        if not hint and key in GENERIC_KEYS and "resist" in category.lower():
            hint = "resistance"
        measure = parse_measure(str(raw_value), quantity_hint=hint)
        if measure is not None and (measure.quantity or hint):
            quantity = measure.quantity or hint
            name = quantity if key in GENERIC_KEYS or key in QUANTITY_KEYS else key
            out[name] = as_number(measure.value)
        else:
            out[key] = " ".join(str(raw_value).split()).lower()[:60]
    return out


def parse_filter_value(key: str, text: str) -> float | int | str | None:
    """What a buyer types in a filter, in the stored form: `capacitance`, `10 µF` → 1e-05."""
    hint = QUANTITY_KEYS.get(key.lower(), "")
    measure = parse_measure(text, quantity_hint=hint)
    if measure is not None and measure.quantity and (not hint or measure.quantity == hint):
        return as_number(measure.value)
    return None if hint else " ".join(text.split()).lower()


def format_measure(quantity: str, value) -> str:
    """1e-05, capacitance → "10 µF"; 4700, resistance → "4.7 kΩ"."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    symbol = SYMBOL.get(quantity, "")
    number = Decimal(str(value))
    if number == 0 or not symbol:
        return f"{number.normalize():f}" + (f" {symbol}" if symbol else "")
    for prefix, scale in (("G", Decimal("1e9")), ("M", Decimal("1e6")), ("k", Decimal("1e3")), ("", Decimal(1)),
                          ("m", Decimal("1e-3")), ("µ", Decimal("1e-6")), ("n", Decimal("1e-9")), ("p", Decimal("1e-12"))):
        if abs(number) >= scale:
            shown = (number / scale).quantize(Decimal("0.001")).normalize()
            return f"{shown:f} {prefix}{symbol}"
    return f"{number.normalize():f} {symbol}"


# --- Values with units in keyword search -----------------------------------------------------------
# A keyword search for `10uF`, `10 uF`, `10µF` or `0.01mF` must find the same parts. Each value with
# a unit, in a part's parameters or description and in what a buyer types, becomes one canonical
# word (`10uf`, `4.7kohm`, `1megohm`, `16v`, `600ma`) in the part's search text and in the query.

TOKEN_PREFIX = {"G": "g", "M": "meg", "k": "k", "": "", "m": "m", "µ": "u", "n": "n", "p": "p"}
TOKEN_SYMBOL = {"Ω": "ohm"}
_SPLIT = re.compile(r"[\s,;/()\[\]]+")
_NUMBER_PREFIX = re.compile(rf"^{NUMBER}[pnuµμmkKMG]?$")  # `10`, `4.7k`: a unit may follow as the next word


def measure_token(quantity: str, value) -> str:
    """(capacitance, 1e-05) → "10uf"; (resistance, 1e6) → "1megohm" (M and m stay apart)."""
    number = Decimal(str(value))
    symbol = SYMBOL[quantity]
    for prefix, scale in (("G", Decimal("1e9")), ("M", Decimal("1e6")), ("k", Decimal("1e3")), ("", Decimal(1)),
                          ("m", Decimal("1e-3")), ("µ", Decimal("1e-6")), ("n", Decimal("1e-9")), ("p", Decimal("1e-12"))):
        if abs(number) >= scale or prefix == "p":
            shown = (number / scale).normalize()
            return f"{shown:f}{TOKEN_PREFIX[prefix]}{TOKEN_SYMBOL.get(symbol, symbol)}".lower()
    raise AssertionError("unreachable")


def _unit_measure(word: str) -> Measure | None:
    """A word that is a number with a unit (not a bare number): as written, or with its last letter
    upper-cased (`10uf`, `16v` as typed in a search box)."""
    for text in (word, word[:-1] + word[-1:].upper()):
        measure = parse_measure(text)
        if measure is not None and measure.quantity and measure.quantity in SYMBOL:
            return measure
    return None


def measure_terms(text: str) -> list[tuple[str, str | None]]:
    """The words of `text`, each with its canonical measure token or None: `10 uF` (a number, then a
    unit) is one word, `10uF`, `10µF` and `4K7` one each."""
    words = [w for w in _SPLIT.split(text or "") if w]
    out, i = [], 0
    while i < len(words):
        word, measure = words[i], _unit_measure(words[i]) if len(words[i]) <= 20 else None
        # A unit may follow as the next word (`10 uF`), but a number never joins one (`10k 0402`
        # is a value and a package, not 10.0402 kΩ read as `4k7` is).
        if (measure is None and i + 1 < len(words) and _NUMBER_PREFIX.match(word) and len(words[i + 1]) <= 6
                and not words[i + 1][0].isdigit() and words[i + 1][0] not in ".-+"):
            joined = _unit_measure(word + words[i + 1])
            if joined is not None:
                word, measure = f"{word} {words[i + 1]}", joined
                i += 1
        out.append((word, measure_token(*measure) if measure is not None else None))
        i += 1
    return out


def measure_tokens(text: str, normalised: dict | None = None) -> list[str]:
    """Canonical tokens of the values with units in `text` and in normalised parameter values."""
    tokens = [token for _, token in measure_terms(text) if token]
    for key, value in (normalised or {}).items():
        if key in SYMBOL and isinstance(value, (int, float)) and not isinstance(value, bool):
            tokens.append(measure_token(key, value))
    return list(dict.fromkeys(tokens))
