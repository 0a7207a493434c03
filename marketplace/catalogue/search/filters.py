"""What a search asks for: keywords with synonyms, MPN suggestions, parameter filters with units and
ranges, parsed into `SearchFilters` and turned into part-level Q objects."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from marketplace.catalogue.models import CategoryVocabulary, Part, normalize_mpn
from marketplace.catalogue.search.synonyms import SYNONYMS, phrase_groups
from marketplace.catalogue.units import (
    QUANTITY_KEYS,
    format_measure,
    measure_terms,
    parse_filter_value,
)
from organizations.models import Organization


def search_filters(*, q: str | None = None, mpn: str | None = None, category: str | None = None,
                   vendor_id: int | None = None, currency: str | None = None, in_stock: bool = False,
                   parameters: dict[str, str] | str | None = None, manufacturer: str | None = None,
                   max_lead_time_days: int | None = None):
    """The search's filters from loose inputs (API query parameters, the browser form). Parameter
    filters that cannot be read are kept in `unread` with the reason, for the page and the API to say."""
    if isinstance(parameters, dict):
        parameters = ",".join(f"{k}:{v}" for k, v in parameters.items())
    parsed, unread = read_parameter_filters(parameters or "")
    return SearchFilters(q=(q or "").strip(), mpn=mpn or "", category=(category or "").strip(),
                         manufacturer=(manufacturer or "").strip(), vendor_id=vendor_id, currency=currency,
                         in_stock=bool(in_stock), max_lead_time_days=max_lead_time_days,
                         parameters=parsed, unread=unread)

# --- Keywords -------------------------------------------------------------------------------------

# Words buyers use for the same thing live in synonyms.txt (English and Chinese, one group a line):
# a word or phrase of a group matches any member; ASCII members of 3 letters or fewer match whole
# words only (so "cap" does not find "capacity").


def _clean(text: str) -> str:
    return " ".join("".join(ch if ch.isalnum() or ch in ".µ" else " " for ch in text.lower()).split())


def _patterns(group: frozenset[str]) -> list[str]:
    return sorted(f" {alt} " if len(alt) <= 3 and alt.isascii() else alt for alt in group)


def keyword_alternatives(word: str) -> list[str]:
    """The patterns one typed word (or phrase) matches in a part's search text (space-padded, lower
    case): a synonym's group, else the word and its MPN form (ESP32-C3 → esp32c3)."""
    word = _clean(word)
    if word in SYNONYMS:
        return _patterns(SYNONYMS[word])
    return sorted({word, normalize_mpn(word).lower()} - {""})


def keyword_terms(q: str) -> list[list[str]]:
    """The typed text as terms, each a list of patterns of which one must appear: synonym phrases
    first ("tactile switch"; Chinese members also inside a longer word, "5mm轻触开关"), then each
    remaining word as typed (ESP32-C3 stays one term)."""
    return [list(term) for term in _keyword_terms(q)]


@lru_cache(maxsize=1024)  # a search asks several times; the synonym phrases are tried one by one
def _keyword_terms(q: str) -> tuple[tuple[str, ...], ...]:
    tokens, terms = q.split()[:12], []
    for phrase, group in phrase_groups():
        if phrase.isascii():
            words = phrase.split()
            for i in range(len(tokens) - len(words) + 1):
                if [_clean(t) for t in tokens[i:i + len(words)]] == words:
                    terms.append(_patterns(group))
                    del tokens[i:i + len(words)]
                    break
        else:
            for i, token in enumerate(tokens):
                if phrase in token.lower():
                    terms.append(_patterns(group))
                    tokens[i:i + 1] = token.lower().replace(phrase, " ").split()
                    break
    # The rest word by word; a value with a unit (one word or two: `10 uF`) as its canonical token.
    terms += [[f" {token} "] if token else keyword_alternatives(word)
              for word, token in measure_terms(" ".join(tokens)) if normalize_mpn(word)]
    return tuple(tuple(term) for term in terms[:6])


def keyword_q(q: str, *, prefix: str = "part__") -> Q:
    """Each typed word or synonym phrase (or one of its synonyms) must appear in the part's search
    text. A value with a unit (`10uF`, `10 uF`, `10µF`) is looked for as its canonical word (`10uf`,
    whole), so every way of writing it finds the same parts."""
    cond = Q()
    for patterns in keyword_terms(q):
        word_q = Q()
        for pattern in patterns:
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


SYMBOLS = {"gte": "≥", "lte": "≤", "gt": ">", "lt": "<", "": "="}
EXAMPLES = {"capacitance": "10uF", "inductance": "4.7uH", "resistance": "4.7k", "voltage": "3.3V", "current": "500mA",
            "frequency": "16MHz", "power": "0.25W", "capacity": "2000mAh"}


@dataclass(frozen=True)
class UnreadFilter:
    """A parameter filter the search could not read, and why, in words."""

    text: str
    reason: str


def read_parameter_filters(text: str) -> tuple[list[tuple[str, str, object]], list[UnreadFilter]]:
    """`capacitance>=10uF, package:0402` → [("capacitance", "gte", 1e-05), ("package", "", "0402")],
    and the filters it could not read (`capacitance>=banana`), each with its reason. Values are
    normalised as the parts' values are."""
    out, unread = [], []
    for chunk in (text or "")[:400].split(","):
        shown = " ".join(chunk.split())
        if not shown:
            continue
        m = RANGE.match(chunk)
        if not m:
            unread.append(UnreadFilter(shown, f"“{shown}” is not a filter: write name:value, or a range such as capacitance>=10uF."))
            continue
        key, op, raw = m[1].lower(), OPS[m[2]], m[3]
        value = parse_filter_value(key, raw)
        if value is None:
            quantity = QUANTITY_KEYS.get(key, key)
            unread.append(UnreadFilter(shown, f"“{raw}” is not a {quantity}: write a number with its unit, e.g. "
                                              f"{key}{m[2]}{EXAMPLES.get(quantity, '10')}."))
        elif op and isinstance(value, str):
            unread.append(UnreadFilter(shown, f"{key} is compared as text, not as a number: write {key}:{raw}."))
        else:
            out.append((key, op, value))
    return out, unread


def parse_parameter_filters(text: str) -> list[tuple[str, str, object]]:
    """The filters of `read_parameter_filters` that could be read."""
    return read_parameter_filters(text)[0]


def describe_parameter(key: str, op: str, value) -> str:
    """("capacitance", "gte", 1e-05) → "capacitance ≥ 10 µF": a filter as the page says it applied it."""
    shown = format_measure(QUANTITY_KEYS.get(key, ""), value) if isinstance(value, (int, float)) else value
    return f"{key} {SYMBOLS[op]} {shown}"


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
    unread: list[UnreadFilter] = field(default_factory=list)  # parameter filters not understood (not applied)

    @property
    def applied_parameters(self) -> list[str]:
        return [describe_parameter(*p) for p in self.parameters]

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


def inferred_categories(f: SearchFilters) -> set[str] | None:
    """The categories (UPPER) whose parts can pass the search's part filters, from the categories'
    vocabulary (a superset, `CategoryVocabulary`), or None when the filters do not narrow them."""
    if f.category:
        return {f.category.upper()}
    return CategoryVocabulary.objects.categories_for(q_terms=keyword_terms(f.q) if f.q else [],
                                               parameter_keys=[key for key, _, _ in f.parameters],
                                               manufacturer=f.manufacturer, mpn_key=normalize_mpn(f.mpn) if f.mpn else "")


def listing_visible_q(viewer: Organization | None) -> Q:
    """Listings from verified vendors (the listing's copy of the flag: no join), plus the
    viewer's own."""
    visible = Q(vendor_verified=True)
    return visible | Q(vendor=viewer) if viewer is not None else visible
