"""Matching BOM lines to catalogue parts (docs/boms.md explains the rules and their confidences).

1. exact: the normalised MPN (upper case, letters and digits only: case, spaces, dashes, slashes
   and commas do not matter) is a catalogue part's, and the manufacturer agrees or was not given.
2. probable: the same after removing a packaging or ordering suffix (`#TRPBF`, `/NOPB`, `-REEL`,
   `,115`, a distributor's `-ND`/`595-`), or after adding one the BOM left off; or the maker is an
   alias (`TI` for Texas Instruments); or the same MPN from another maker. Each with a confidence
   and the reason.
3. ambiguous: several parts fit equally well; the candidates are listed for the buyer to pick.
4. none: nothing fits; the line stays in the BOM and shows in quotes as unsourced.

Three queries at most, whatever the BOM's size: exact keys plus suffix-stripped keys in one IN
list, prefix lookups for what is still unmatched (an index range scan each, OR-ed), and that is it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from marketplace.catalogue.models import Part, normalize_mpn

MANUFACTURER_GROUPS = [
    ["Texas Instruments", "TI", "Texas Instr", "National Semiconductor", "Burr-Brown"],
    ["STMicroelectronics", "ST", "STM", "ST Micro", "STMicro", "ST Microelectronics"],
    ["NXP", "NXP Semiconductors", "Freescale", "Freescale Semiconductor", "Philips", "Philips Semiconductors"],
    ["Analog Devices", "ADI", "Linear Technology", "Linear Tech", "LTC", "Maxim", "Maxim Integrated"],
    ["Microchip", "Microchip Technology", "Atmel", "Micrel", "Microsemi", "SST"],
    ["Infineon", "Infineon Technologies", "International Rectifier", "IR", "Cypress", "Cypress Semiconductor"],
    ["onsemi", "ON Semiconductor", "ON Semi", "ON", "Fairchild", "Fairchild Semiconductor"],
    ["Murata", "Murata Manufacturing", "Murata Electronics"],
    ["Samsung", "Samsung Electro-Mechanics", "SEMCO", "Samsung EM"],
    ["Yageo", "Phycomp"],
    ["Vishay", "Vishay Dale", "Vishay Siliconix", "Vishay Intertechnology", "Vishay Semiconductors", "Vishay BC"],
    ["Diodes Inc", "Diodes Incorporated", "Diodes", "Zetex"],
    ["Espressif", "Espressif Systems"],
    ["Würth Elektronik", "Wurth", "Wurth Elektronik", "Wurth Electronics", "WE", "Würth"],
    ["TE Connectivity", "TE", "Tyco", "Tyco Electronics", "AMP"],
    ["Alpha & Omega", "AOS", "Alpha and Omega", "Alpha & Omega Semiconductor"],
    ["Nordic Semiconductor", "Nordic"],
    ["Renesas", "Intersil", "IDT"],
    ["Kyocera AVX", "AVX"],
    ["GigaDevice", "GD"],
    ["WCH", "Nanjing Qinheng"],
    ["UNI-ROYAL", "Uniroyal", "Royal Ohm"],
    ["Bosch", "Bosch Sensortec"],
    ["Sensirion", "Sensirion AG"],
    ["Kingbright", "Kingbright Electronic"],
]
_CORPORATE = {"inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "gmbh", "ag",
              "sa", "bv", "plc", "kk", "semiconductor", "semiconductors", "electronics", "electronic", "technology",
              "technologies", "international", "group", "the", "industries", "components", "intl", "systems",
              "manufacturing"}


def manufacturer_key(name: str) -> str:
    """`Texas Instruments Inc.` and `texas instruments` are one key; corporate words drop out."""
    words = re.sub(r"[^a-z0-9&]+", " ", name.lower().replace("ü", "u")).split()
    kept = [w for w in words if w not in _CORPORATE] or words
    return " ".join(kept)


ALIASES: dict[str, str] = {}
for _group in MANUFACTURER_GROUPS:
    for _name in _group:
        ALIASES[manufacturer_key(_name)] = manufacturer_key(_group[0])


def canonical_maker(name: str) -> str:
    key = manufacturer_key(name)
    return ALIASES.get(key, key)


def mpn_key(mpn: str) -> str:
    return normalize_mpn(mpn)


# Packaging and ordering suffixes on the normalised key, longest first: reels and tape (TR, REEL,
# REEL7, T1), lead-free marks (PBF, NOPB, G4, E3, LF), NXP/Nexperia 12NC packaging codes (115…).
SUFFIXES = sorted({
    "TR", "TRPBF", "PBF", "NOPB", "REEL", "REEL7", "REEL13", "TRG", "T1", "T1E3", "T1GE3", "GE3", "E3", "G4", "LF",
    "CT", "TB", "BULK", "TUBE", "TRAY", "T5", "T13", "TA", "TRL", "RL", "RL7", "PBFREE", "TRLF", "TRE", "TR7", "TR13",
    "115", "118", "135", "165", "215", "235", "315", "518", "551", "557", "598", "112",
}, key=len, reverse=True)
# Cut on the raw MPN (before normalising loses the punctuation that marks them).
RAW_TAILS = [
    (re.compile(r"#[A-Z0-9]+$"), "a Linear/ADI ordering option (#…)"),
    (re.compile(r"/(NOPB|TR|T&R|REEL|PBF)$"), "a packaging suffix"),
    (re.compile(r"-?(CT|TR|DKR)?-ND$"), "a Digi-Key ordering suffix (-ND)"),
    (re.compile(r",\d{3}$"), "an NXP/Nexperia packaging code"),
    (re.compile(r"-(TR|T&R|REEL7?|REEL13|TB|BULK)$"), "a packaging suffix"),
]
MOUSER_PREFIX = re.compile(r"^\d{2,3}-(?=[A-Z0-9]{4})")


@dataclass
class Candidate:
    part_id: int
    manufacturer: str
    mpn: str
    confidence: Decimal
    reason: str

    def as_dict(self) -> dict:
        return {"part": self.part_id, "manufacturer": self.manufacturer, "mpn": self.mpn,
                "confidence": str(self.confidence), "reason": self.reason}


@dataclass
class Match:
    status: str  # exact | probable | ambiguous | none
    part_id: int | None = None
    confidence: Decimal = Decimal("0")
    reason: str = ""
    candidates: list[Candidate] = field(default_factory=list)
    substitute_ids: list[int] = field(default_factory=list)


def stripped_variants(mpn: str) -> list[tuple[str, str]]:
    """(key, reason) for the MPN without its packaging/ordering suffixes, most specific first."""
    raw = mpn.strip().upper()
    out: list[tuple[str, str]] = []
    if MOUSER_PREFIX.match(raw):
        raw = MOUSER_PREFIX.sub("", raw)
        out.append((mpn_key(raw), "a Mouser number prefix removed"))
    for pattern, reason in RAW_TAILS:
        if pattern.search(raw):
            cut = pattern.sub("", raw)
            out.append((mpn_key(cut), f"{reason} removed"))
            raw = cut
    key = mpn_key(raw)
    for _ in range(2):  # e.g. …TRPBF = TR + PBF
        for suffix in SUFFIXES:
            if key.endswith(suffix) and len(key) - len(suffix) >= 4:
                key = key[: -len(suffix)]
                out.append((key, f"the packaging suffix {suffix} removed"))
                break
        else:
            break
    seen, unique = set(), []
    for k, r in out:
        if k and k not in seen and k != mpn_key(mpn):
            seen.add(k)
            unique.append((k, r))
    return unique


def _parts_by_key(keys: set[str]) -> dict[str, list[tuple[int, str, str]]]:
    found: dict[str, list[tuple[int, str, str]]] = {}
    keys = sorted(k for k in keys if k)
    for i in range(0, len(keys), 2000):
        for pk, maker, mpn, key in Part.objects.filter(mpn_normalized__in=keys[i:i + 2000]).values_list(
                "pk", "manufacturer", "mpn", "mpn_normalized"):
            found.setdefault(key, []).append((pk, maker, mpn))
    return found


def _parts_by_prefix(stems: set[str]) -> dict[str, list[tuple[int, str, str, str]]]:
    """Catalogue parts whose key is a stem plus a known suffix (the BOM left the suffix off)."""
    found: dict[str, list[tuple[int, str, str, str]]] = {}
    stems = sorted(s for s in stems if len(s) >= 5)
    for i in range(0, len(stems), 200):
        chunk = stems[i:i + 200]
        query = Q()
        for stem in chunk:
            query |= Q(mpn_normalized__startswith=stem)
        for pk, maker, mpn, key in Part.objects.filter(query).values_list("pk", "manufacturer", "mpn", "mpn_normalized")[:20000]:
            for stem in _stems_of(key, mpn, chunk):
                found.setdefault(stem, []).append((pk, maker, mpn, key[len(stem):]))
    return found


def _stems_of(key: str, raw: str, stems: list[str]) -> list[str]:
    """Stems of `key` whose remainder is a packaging suffix; a one-letter reel mark (`-R`, `-T`)
    only when the catalogue's MPN sets it apart with a dash or slash."""
    out = []
    for n in range(5, len(key)):
        rest = key[n:]
        if key[:n] in stems and (rest in SUFFIXES_SET
                                 or (rest in ("R", "T") and re.search(rf"[-/]{rest}$", raw.upper()))):
            out.append(key[:n])
    return out


SUFFIXES_SET = set(SUFFIXES)


def _maker_verdict(given: str, catalogue: str) -> tuple[str, str]:
    """'same' | 'alias' | 'other' | 'unknown' (no maker in the BOM), with the reason text."""
    if not given.strip():
        return "unknown", ""
    if manufacturer_key(given) == manufacturer_key(catalogue):
        return "same", ""
    if canonical_maker(given) == canonical_maker(catalogue):
        return "alias", f"manufacturer alias: {given} = {catalogue}"
    return "other", f"same MPN from another maker: {catalogue} (the BOM says {given})"


def _pick(hits: list[tuple[int, str, str]], maker: str, *, base: Decimal, how: str) -> Match:
    """Decide among parts with an equally good MPN by their maker."""
    scored = []
    for pk, cat_maker, mpn in hits:
        verdict, why = _maker_verdict(maker, cat_maker)
        conf = {"same": base, "unknown": base, "alias": base * Decimal("0.95"), "other": base * Decimal("0.7")}[verdict]
        reason = "; ".join(r for r in (how, why) if r) or "exact MPN"
        scored.append((verdict, Candidate(pk, cat_maker, mpn, conf.quantize(Decimal("0.01")), reason)))
    for wanted in ("same", "alias"):
        fits = [c for v, c in scored if v == wanted]
        if len(fits) == 1:
            status = "exact" if wanted == "same" and base == 1 else "probable"
            return Match(status, fits[0].part_id, fits[0].confidence, fits[0].reason, [c for _, c in scored])
        if len(fits) > 1:
            return _ambiguous([c for _, c in scored])
    if len(scored) == 1:
        verdict, c = scored[0]
        status = "exact" if verdict == "unknown" and base == 1 else "probable"
        return Match(status, c.part_id, c.confidence, c.reason, [c])
    return _ambiguous([c for _, c in scored])


def _ambiguous(candidates: list[Candidate]) -> Match:
    for c in candidates:
        c.confidence = min(c.confidence, Decimal("0.5"))
    return Match("ambiguous", None, Decimal("0"), f"{len(candidates)} catalogue parts fit; pick one", candidates)


def match_lines(lines: list[tuple[str, str, list[tuple[str, str]]]]) -> list[Match]:
    """`lines`: (manufacturer, mpn, alternates [(manufacturer, mpn)]) -> one Match each."""
    wanted: set[str] = set()
    for maker, mpn, alternates in lines:
        for m in [mpn, *(a for _, a in alternates)]:
            if m:
                wanted.add(mpn_key(m))
                wanted.update(k for k, _ in stripped_variants(m))
    by_key = _parts_by_key(wanted)

    def first_pass(maker: str, mpn: str) -> Match | None:
        key = mpn_key(mpn)
        if not key:
            return None
        if key in by_key:
            return _pick(by_key[key], maker, base=Decimal("1"), how="")
        for variant, reason in stripped_variants(mpn):
            if variant in by_key:
                return _pick(by_key[variant], maker, base=Decimal("0.85"), how=reason)
        return None

    results: list[Match | None] = [first_pass(maker, mpn) for maker, mpn, _ in lines]
    # Lines still unmatched: maybe the catalogue has the MPN with a suffix the BOM left off.
    stems = {}
    for i, (maker, mpn, _) in enumerate(lines):
        if results[i] is None and mpn:
            stems[i] = [mpn_key(mpn), *(k for k, _ in stripped_variants(mpn))]
    by_stem = _parts_by_prefix({s for ss in stems.values() for s in ss}) if stems else {}
    for i, ss in stems.items():
        for stem in ss:
            hits = by_stem.get(stem)
            if hits:
                hits = sorted(hits, key=lambda h: (len(h[3]), h[2]))
                shortest = [h for h in hits if len(h[3]) == len(hits[0][3])]
                match = _pick([h[:3] for h in shortest], lines[i][0], base=Decimal("0.8"),
                              how=f"the catalogue's MPN adds the packaging suffix {shortest[0][3]}")
                if match.status != "ambiguous" and len(hits) > len(shortest):
                    extra = [Candidate(h[0], h[1], h[2], Decimal("0.6"), f"packaging suffix {h[3]}") for h in hits
                             if h not in shortest][:5]
                    match.candidates += extra
                results[i] = match
                break
    out: list[Match] = []
    for (maker, mpn, alternates), result in zip(lines, results):
        match = result or Match("none", reason="no MPN on this line" if not mpn else "no catalogue part has this MPN")
        alternate_ids = []
        for alt_maker, alt_mpn in alternates:
            alt = first_pass(alt_maker or maker, alt_mpn)
            if alt and alt.part_id and alt.status in ("exact", "probable"):
                alternate_ids.append((alt.part_id, alt_mpn))
        if match.part_id is None and match.status == "none" and alternate_ids:
            part_id, alt_mpn = alternate_ids.pop(0)
            match = Match("probable", part_id, Decimal("0.8"), f"{mpn or 'the first MPN'} is not in the catalogue; "
                          f"the alternate {alt_mpn} is", [])
        match.substitute_ids = [pk for pk, _ in alternate_ids if pk != match.part_id]
        match.candidates = match.candidates[:8]
        out.append(match)
    return out


def known_manufacturer_keys() -> set[str]:
    """Manufacturer keys the catalogue knows (for recognising a manufacturer column by content)."""
    return {manufacturer_key(m) for m in Part.objects.values_list("manufacturer", flat=True).distinct()} | set(ALIASES)


def catalogue_hit_ratio(cells: list[str]) -> float:
    """Share of these cells that are catalogue MPNs (one query over a sample)."""
    sample = [c for c in cells if c][:50]
    if not sample:
        return 0.0
    keys = {mpn_key(c) for c in sample}
    hits = set(Part.objects.filter(mpn_normalized__in=keys).values_list("mpn_normalized", flat=True))
    return sum(1 for c in sample if mpn_key(c) in hits) / len(sample)
