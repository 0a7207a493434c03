"""What a search asks for: keywords with synonyms, MPN suggestions, parameter filters with units and
ranges, parsed into `SearchFilters` and turned into part-level Q objects."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from marketplace.catalogue.models import Part, normalize_mpn
from marketplace.catalogue.units import parse_filter_value
from organizations.models import Organization


def search_filters(*, q: str | None = None, mpn: str | None = None, category: str | None = None,
                   vendor_id: int | None = None, currency: str | None = None, in_stock: bool = False,
                   parameters: dict[str, str] | str | None = None, manufacturer: str | None = None,
                   max_lead_time_days: int | None = None):
    """The search's filters from loose inputs (API query parameters, the browser form)."""
    pass

    if isinstance(parameters, dict):
        parameters = ",".join(f"{k}:{v}" for k, v in parameters.items())
    return SearchFilters(q=(q or "").strip(), mpn=mpn or "", category=(category or "").strip(),
                         manufacturer=(manufacturer or "").strip(), vendor_id=vendor_id, currency=currency,
                         in_stock=bool(in_stock), max_lead_time_days=max_lead_time_days,
                         parameters=parse_parameter_filters(parameters or ""))

# --- Keywords -------------------------------------------------------------------------------------

# Words buyers use for the same thing. A word in a group matches any member; members of 3 letters or
# fewer match whole words only (so "cap" does not find "capacity").
SYNONYM_GROUPS = [
    {"capacitor", "capacitors", "cap", "caps", "mlcc", "condenser"},
    {"resistor", "resistors", "res", "resistance"},
    {"inductor", "inductors", "coil", "choke"},
    {"mosfet", "mosfets", "fet"},
    {"crystal", "crystals", "xtal"},
    {"mcu", "microcontroller", "microcontrollers"},
    {"connector", "connectors", "conn", "receptacle"},
    {"led", "leds"},
    {"ldo", "regulator", "regulators"},
    {"tvs", "esd"},
]
SYNONYMS = {word: group for group in SYNONYM_GROUPS for word in group}


def keyword_alternatives(word: str) -> list[str]:
    """The patterns one typed word matches in a part's search text (space-padded, lower case): a
    synonym's group (short members as whole words), else the word and its MPN form (ESP32-C3 → esp32c3)."""
    word = " ".join("".join(ch if ch.isalnum() or ch in ".µ" else " " for ch in word.lower()).split())
    if word in SYNONYMS:
        return sorted(f" {alt} " if len(alt) <= 3 else alt for alt in SYNONYMS[word])
    return sorted({word, normalize_mpn(word).lower()} - {""})


def keyword_q(q: str, *, prefix: str = "part__") -> Q:
    """Each typed word (or one of its synonyms) must appear in the part's search text."""
    cond = Q()
    for word in q.split()[:6]:
        if not normalize_mpn(word):
            continue
        word_q = Q()
        for pattern in keyword_alternatives(word):
            word_q |= Q(**{f"{prefix}search_text__contains": pattern})
        cond &= word_q
    return cond


def mpn_suggestions(word: str, *, limit: int = 8) -> list[Part]:
    """Parts whose MPN is close to a mistyped one. PostgreSQL: trigram similarity through the GIN
    index (any position of the typo). Elsewhere: difflib over the MPNs that share the first three
    characters (cheap, misses a typo in those three)."""
    key = normalize_mpn(word)
    if len(key) < 4:
        return []
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramSimilarity

        return list(Part.objects.filter(RawSQL("marketplace_part.mpn_normalized %% %s", [key], output_field=BooleanField()))
                    .annotate(similarity=TrigramSimilarity("mpn_normalized", key))
                    .filter(similarity__gte=0.4).order_by("-similarity", "mpn_normalized", "id")[:limit])
    names = list(Part.objects.filter(mpn_normalized__startswith=key[:3]).values_list("mpn_normalized", flat=True)[:5000])
    close = difflib.get_close_matches(key, names, n=limit, cutoff=0.75)
    by_name = {p.mpn_normalized: p for p in Part.objects.filter(mpn_normalized__in=close)}
    return [by_name[name] for name in close if name in by_name]


# --- Filters ----------------------------------------------------------------------------------------

RANGE = re.compile(r"^\s*([A-Za-z0-9_]{1,40})\s*(>=|<=|=|:|>|<)\s*(.+?)\s*$")
OPS = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt", "=": "", ":": ""}


def parse_parameter_filters(text: str) -> list[tuple[str, str, object]]:
    """`capacitance>=10uF, package:0402` → [("capacitance", "gte", 1e-05), ("package", "", "0402")].
    Values are normalised as the parts' values are; a value that does not parse is dropped."""
    out = []
    for chunk in (text or "")[:400].split(","):
        if m := RANGE.match(chunk):
            key, op, raw = m[1].lower(), OPS[m[2]], m[3]
            value = parse_filter_value(key, raw)
            if value is None or (op and isinstance(value, str)):
                continue
            out.append((key, op, value))
    return out


@dataclass
class SearchFilters:
    q: str = ""
    mpn: str = ""
    category: str = ""
    manufacturer: str = ""
    vendor_id: int | None = None
    currency: str | None = None
    in_stock: bool = False
    max_lead_time_days: int | None = None
    parameters: list[tuple[str, str, object]] = field(default_factory=list)

    @property
    def part_level(self) -> bool:
        """Only filters on the part (plus visibility): a part's listings all match or none does."""
        return not (self.vendor_id or self.currency or self.in_stock or self.max_lead_time_days is not None)


def part_filter_q(f: SearchFilters, *, prefix: str = "") -> Q:
    """The filters that concern the part alone, as a condition on Part (or, with `prefix`, on a relation)."""
    cond = Q()
    if f.category:
        cond &= Q(**{f"{prefix}category__iexact": f.category})
    if f.mpn and (key := normalize_mpn(f.mpn)):
        cond &= Q(**{f"{prefix}mpn_normalized__startswith": key})
    if f.q:
        cond &= keyword_q(f.q, prefix=prefix)
    if f.manufacturer:
        cond &= Q(**{f"{prefix}manufacturer__iexact": f.manufacturer})
    for key, op, value in f.parameters:
        cond &= Q(**{f"{prefix}parameter_values__{key}" + (f"__{op}" if op else ""): value})
    return cond


def listing_visible_q(viewer: Organization | None) -> Q:
    """Listings from verified vendors (the listing's copy of the flag: no join), plus the
    viewer's own."""
    visible = Q(vendor_verified=True)
    return visible | Q(vendor=viewer) if viewer is not None else visible
