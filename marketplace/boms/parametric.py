"""Parametric matching: a BOM line that names no part (or an unknown one) but gives a value and a
package — `100nF` + `C_0402_1005Metric`, `4K7` + `R_0603`, `10uF 10V X5R` + `0805` — is matched to
catalogue parts whose parameters meet it: the same value and package, voltage at least the one
asked, tolerance at most, dielectric as good or better. The cheapest candidate in stock for the
line is proposed ("parametric", with the reason); the buyer accepts or changes it.

The line's text is read with the units parser the search uses (`catalogue units`), so `0.1u`,
`100n` and `100nF` are one capacitance and `4K7`, `4.7k`, `4700` one resistance.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.db.models.fields.json import KT

from credit.fx import rate_table
from marketplace.catalogue.models import Listing, Part, PriceBreak
from marketplace.catalogue.units import as_number, format_measure, parse_measure

# Imperial chip codes, and the metric code KiCad writes beside them (`C_0402_1005Metric`).
IMPERIAL = ("01005", "0201", "0402", "0603", "0805", "1206", "1210", "1812", "2010", "2512")
METRIC_TO_IMPERIAL = {"0402": "01005", "0603": "0201", "1005": "0402", "1608": "0603", "2012": "0805",
                      "3216": "1206", "3225": "1210", "4532": "1812", "5025": "2010", "6332": "2512"}
IMPERIAL_RE = re.compile(r"(?<![\d.])(01005|0201|0402|0603|0805|1206|1210|1812|2010|2512)(?![\d.])")
METRIC_RE = re.compile(r"(?<!\d)(0402|0603|1005|1608|2012|3216|3225|4532|5025|6332)\s*metric", re.I)
# Dielectrics from best to worst (temperature stability); "as good or better" = at or before.
DIELECTRICS = ["c0g", "np0", "u2j", "x8r", "x7r", "x7s", "x6s", "x5r", "x7t", "y5v", "z5u"]
DIELECTRIC_RANK = {"c0g": 0, "np0": 0, "u2j": 1, "x8r": 2, "x7r": 3, "x7s": 4, "x6s": 5, "x5r": 6, "x7t": 7,
                   "y5v": 8, "z5u": 9}
DIELECTRIC_RE = re.compile(r"\b(C0G|NP0|COG|NPO|U2J|X8R|X7R|X7S|X6S|X5R|X7T|Y5V|Z5U)\b", re.I)
TOLERANCE_RE = re.compile(r"(?<![\d.])±?\s*(\d+(?:[.,]\d+)?)\s*%")
VOLTAGE_RE = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)?)\s*(k?)V\b", re.I)
# `3u3` = 3.3 µ, `4n7` = 4.7 n, `2p2` = 2.2 p (resistor codes `4K7`, `2R2` are the units module's).
INFIX = re.compile(r"^\s*(\d+)([pnuµμm])(\d+)\s*([FH]?)\s*$")
KIND_BY_PREFIX = {"C": "capacitance", "R": "resistance", "L": "inductance"}


@dataclass
class Wanted:
    """What a line asks for, read from its value, footprint and description."""

    quantity: str  # capacitance | resistance | inductance
    value: float | int
    package: str
    voltage: float | None = None
    tolerance: Decimal | None = None
    dielectric: str = ""

    def key(self) -> tuple:
        return (self.quantity, self.value, self.package)

    def describe(self) -> str:
        bits = [format_measure(self.quantity, self.value), self.package]
        if self.voltage:
            bits.append(f"≥ {format_measure('voltage', self.voltage)}")
        if self.tolerance is not None:
            bits.append(f"≤ {self.tolerance.normalize():f}%")
        if self.dielectric:
            bits.append(f"{self.dielectric.upper()} or better")
        return " ".join(bits)


def _kind(designators: list[str], value: str, footprint: str) -> str:
    prefixes = {re.match(r"[A-Za-z]*", d).group(0).upper() for d in designators}
    kinds = {KIND_BY_PREFIX.get(p) for p in prefixes}
    if len(kinds) == 1 and (kind := kinds.pop()):
        return kind
    lib = footprint.split(":")[-1].upper()
    for prefix, kind in (("C_", "capacitance"), ("CP_", "capacitance"), ("R_", "resistance"), ("L_", "inductance")):
        if lib.startswith(prefix):
            return kind
    return ""


def _measure(text: str, hint: str):
    text = text.strip()
    if m := INFIX.match(text):
        text = f"{m[1]}.{m[3]}{m[2]}{m[4]}"
    text = re.sub(r"(?i)\s*ohms?$|Ω$", "Ω", text)
    measure = parse_measure(text, quantity_hint=hint)
    if measure is None and hint == "resistance" and re.fullmatch(r"\d+(?:[.,]\d+)?\s*[kKmM]?\s*[rR]", text):
        measure = parse_measure(text[:-1], quantity_hint=hint)  # `10r`, `0.1r`, `4.7kR`
    if measure is not None and measure.quantity == hint:
        return measure
    return None


def package_of(*texts: str) -> str:
    for text in texts:
        if m := IMPERIAL_RE.search(text):
            return m.group(1)
        if m := METRIC_RE.search(text):
            return METRIC_TO_IMPERIAL[m.group(1)]
    return ""


def wanted_from(*, designators: list[str], value: str, footprint: str, description: str) -> Wanted | None:
    """The parameters a line asks for, or None when it is no passive with a value and a package."""
    kind = _kind(designators, value, footprint)
    text = " ".join((value, description))
    if not kind:
        for word in text.split():
            m = _measure(word, "")
            if m is not None and m.quantity in ("capacitance", "inductance"):
                kind = m.quantity
                break
    if not kind:
        return None
    measure = _measure(value, kind) if value else None
    if measure is None:  # `22K 1206` or `CAP CER 0402 100nF 16V` in the description
        for word in text.replace(",", " ").split():
            if IMPERIAL_RE.fullmatch(word):
                continue
            if (measure := _measure(word, kind)) is not None:
                break
    package = package_of(footprint, value, description)
    if measure is None or not package:
        return None
    wanted = Wanted(kind, as_number(measure.value), package)
    if kind == "capacitance":
        if m := VOLTAGE_RE.search(text):
            wanted.voltage = as_number(Decimal(m[1].replace(",", ".")) * (1000 if m[2] else 1))
        if m := DIELECTRIC_RE.search(text):
            wanted.dielectric = m[1].lower().replace("cog", "c0g").replace("npo", "np0")
    if m := TOLERANCE_RE.search(text):
        wanted.tolerance = Decimal(m[1].replace(",", "."))
    return wanted


def _meets(wanted: Wanted, params: dict) -> tuple[bool, list[str]]:
    """Whether a part's normalised parameters meet the line, and what it offers beyond."""
    notes = []
    if wanted.voltage is not None:
        voltage = params.get("voltage")
        if not isinstance(voltage, (int, float)) or voltage < wanted.voltage:
            return False, []
        if voltage > wanted.voltage:
            notes.append(f"{format_measure('voltage', voltage)}")
    if wanted.tolerance is not None:
        tol = params.get("tolerance")
        m = TOLERANCE_RE.search(str(tol)) if tol is not None else None
        if m is None or Decimal(m[1].replace(",", ".")) > wanted.tolerance:
            return False, []
    if wanted.dielectric:
        have = str(params.get("dielectric", "")).lower()
        if have not in DIELECTRIC_RANK or DIELECTRIC_RANK[have] > DIELECTRIC_RANK.get(wanted.dielectric, 99):
            return False, []
        if have != wanted.dielectric:
            notes.append(have.upper())
    return True, notes


@dataclass
class Proposal:
    part_id: int
    manufacturer: str
    mpn: str
    unit_price: Decimal | None
    currency: str
    stock: int
    reason: str
    candidates: list[dict] = field(default_factory=list)


def parts_meeting(wanted: list[Wanted]) -> dict[tuple, list[tuple[int, str, str, dict, str]]]:
    """Catalogue parts for each distinct (quantity, value, package): one query for all of them."""
    keys = {w.key() for w in wanted}
    found: dict[tuple, list] = {k: [] for k in keys}
    if not keys:
        return found
    pools: dict[tuple, list[int]] = {k: [] for k in keys}
    if connection.vendor == "postgresql":
        # One statement, a capped index lookup per key (`@>` through the GIN index on parameter_values).
        ordered = sorted(keys, key=str)
        sql = " UNION ALL ".join(
            f"(SELECT id, {i} FROM {Part._meta.db_table} WHERE parameter_values @> %s::jsonb ORDER BY id LIMIT {POOL})"
            for i in range(len(ordered)))
        with connection.cursor() as cursor:
            cursor.execute(sql, [json.dumps({q: v, "package": p}) for q, v, p in ordered])
            for pk, i in cursor.fetchall():
                pools[ordered[i]].append(pk)
        for ids in pools.values():
            ids.sort()
    else:
        query = Q()
        for quantity, value, package in keys:
            query |= Q(**{f"parameter_values__{quantity}": value, "parameter_values__package": package})
        for pk, *values in Part.objects.filter(query).order_by("pk").values_list(
                "pk", KT("parameter_values__capacitance"), KT("parameter_values__resistance"),
                KT("parameter_values__inductance"), KT("parameter_values__package"))[:20000]:
            for quantity, text in zip(("capacitance", "resistance", "inductance"), values[:3]):
                if text is None:
                    continue
                try:
                    number = as_number(Decimal(text))
                except InvalidOperation:
                    continue
                key = (quantity, number, values[3] or "")
                if key in pools and len(pools[key]) < POOL:
                    pools[key].append(pk)
    rows = {pk: row for pk, *row in Part.objects.filter(pk__in={pk for ids in pools.values() for pk in ids})
            .values_list("pk", "manufacturer", "mpn", "parameter_values", "lifecycle")}
    for key, ids in pools.items():
        found[key] = [(pk, *rows[pk]) for pk in ids]
    return found


# Parts considered per (value, package): a long tail of identical 100 nF 0402 capacitors would
# otherwise mean pricing tens of thousands of listings for one BOM (docs/boms.md says so).
POOL = 40


def _listing_heads(part_ids: set[int]) -> list[tuple]:
    """(listing, part, stock, currency, lowest unit price) of the public, active listings in stock."""
    return list(Listing.objects.filter(part_id__in=part_ids, is_active=True, reserved_for__isnull=True, stock__gt=0,
                                       min_unit_price__isnull=False)
                .values_list("id", "part_id", "stock", "currency", "min_unit_price"))


def cheapest_in_stock(heads: list[tuple], need: dict[int, int], currency: str):
    """part id -> (unit price in `currency` at the line's quantity, stock, currency) of its
    cheapest listing among `heads` holding at least `need[part]` (price breaks read for those only)."""
    rates = rate_table(currency)
    usable = {lid: (part, stock, cur) for lid, part, stock, cur, _ in heads
              if cur in rates and stock >= max(1, need.get(part, 1))}
    prices: dict[int, list] = {}
    for lid, min_qty, price in PriceBreak.objects.filter(listing_id__in=list(usable)).order_by(
            "listing_id", "min_qty").values_list("listing_id", "min_qty", "unit_price"):
        prices.setdefault(lid, []).append((min_qty, price))
    best: dict[int, tuple[Decimal, int, str]] = {}
    for lid, breaks in prices.items():
        part, stock, cur = usable[lid]
        qty = max(1, need.get(part, 1))
        fitting = [p for q, p in breaks if q <= qty] or [breaks[0][1]]
        unit = (fitting[-1] * rates[cur]).quantize(Decimal("0.000001"))
        if part not in best or unit < best[part][0]:
            best[part] = (unit, stock, currency)
    return best


SHORTLIST = 8  # candidates per line priced exactly at its quantity (the rest ranked by their lowest break)


def propose(lines: list[tuple[Wanted | None, int]], currency: str | None = None) -> list[Proposal | None]:
    """For each (wanted, pieces per board) the cheapest in-stock part meeting it, or None. Two
    queries for the parts, two for their listings and breaks, whatever the number of lines."""
    wanted = [w for w, _ in lines if w is not None]
    by_key = parts_meeting(wanted)
    fits: list[list] = []
    for w, _ in lines:
        fits.append([] if w is None else [(pk, maker, mpn, notes) for pk, maker, mpn, params, life in by_key[w.key()]
                                          if life not in ("eol", "obsolete")
                                          for ok, notes in [_meets(w, params)] if ok])
    currency = currency or settings.KITSTREET_DEFAULT_CURRENCY
    rates = rate_table(currency)
    heads = _listing_heads({pk for candidates in fits for pk, *_ in candidates})
    floor: dict[int, list[tuple[int, Decimal]]] = {}  # part -> [(stock, lowest unit price in currency)]
    for _, part, stock, cur, low in heads:
        if cur in rates:
            floor.setdefault(part, []).append((stock, low * rates[cur]))
    need: dict[int, int] = {}
    for i, ((w, pieces), candidates) in enumerate(zip(lines, fits)):
        def lowest(c, pieces=pieces):
            return min((p for stock, p in floor.get(c[0], []) if stock >= pieces), default=None)
        stocked = sorted((c for c in candidates if lowest(c) is not None), key=lambda c: (lowest(c), c[2]))
        fits[i] = stocked + [c for c in candidates if lowest(c) is None]
        for pk, *_ in stocked[:SHORTLIST]:
            need[pk] = max(need.get(pk, 0), pieces)
    priced = cheapest_in_stock([h for h in heads if h[1] in need], need, currency)
    out: list[Proposal | None] = []
    for (w, pieces), candidates in zip(lines, fits):
        if w is None or not candidates:
            out.append(None)
            continue
        ranked = sorted(candidates[:SHORTLIST], key=lambda c: (c[0] not in priced, priced.get(c[0], (Decimal(0),))[0],
                                                              c[2])) + candidates[SHORTLIST:]
        pk, maker, mpn, notes = ranked[0]
        price, stock, cur = priced.get(pk, (None, 0, currency))
        beyond = f" ({', '.join(notes)})" if notes else ""
        stocked = f"cheapest in stock at {price.normalize():f} {cur}" if price is not None else "none in stock"
        reason = f"parametric: {w.describe()}; {len(candidates)} part{'s' if len(candidates) != 1 else ''} fit, " \
                 f"{stocked}{beyond}"
        out.append(Proposal(pk, maker, mpn, price, cur, stock, reason[:300], [
            {"part": c[0], "manufacturer": c[1], "mpn": c[2], "confidence": "0.70",
             "reason": "parametric" + (f": {', '.join(c[3])}" if c[3] else "")} for c in ranked[:8]]))
    return out
