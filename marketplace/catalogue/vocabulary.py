"""Which categories a part filter can match, from the categories' vocabulary (`CategoryVocabulary`:
per category, every word of its parts' search text, every parameter key and every maker, each as
one space-padded text), so that a search without a category walks the price summaries of those few
categories instead of the market's.

The vocabulary only grows (a part's old words stay when its text changes): it answers a SUPERSET
of the categories whose parts match, which is all the search needs — a category without a match
just yields nothing. Pure functions here; the table and its upkeep are in models.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

WORD, PARAMETER, MAKER = "w", "p", "m"

# Every category's texts in one statement (PostgreSQL; the rebuild and migration 0022 run it).
REBUILD_SQL = f"""
    INSERT INTO marketplace_categoryvocabulary (category_key, kind, terms)
    SELECT category_key, kind, ' ' || string_agg(term, ' ' ORDER BY term) || ' '
      FROM (SELECT DISTINCT UPPER(category) AS category_key, '{WORD}' AS kind, word AS term
              FROM marketplace_part, unnest(string_to_array(btrim(search_text), ' ')) AS word WHERE word <> ''
            UNION SELECT DISTINCT UPPER(category), '{PARAMETER}', name
              FROM marketplace_part, jsonb_object_keys(CASE jsonb_typeof(parameter_values) WHEN 'object'
                                                      THEN parameter_values ELSE '{{}}'::jsonb END) AS name
            UNION SELECT DISTINCT UPPER(category), '{MAKER}', LOWER(manufacturer)
              FROM marketplace_part WHERE manufacturer <> '') AS terms
     GROUP BY category_key, kind"""


def vocabulary_terms(parts: Iterable[tuple]) -> dict[tuple[str, str], set[str]]:
    """(category_key, kind) → terms, from parts' (category, search_text, parameter_values, manufacturer)."""
    out: dict[tuple[str, str], set[str]] = {}
    for category, search_text, parameter_values, manufacturer in parts:
        key = category.upper()
        out.setdefault((key, WORD), set()).update(search_text.split())
        if isinstance(parameter_values, dict) and parameter_values:
            out.setdefault((key, PARAMETER), set()).update(parameter_values)
        if manufacturer:
            out.setdefault((key, MAKER), set()).add(manufacturer.lower())
    return out


def vocabulary_text(terms: Iterable[str]) -> str:
    return f" {' '.join(sorted(terms))} "


@dataclass
class Narrowing:
    """A search's part filters as needles to look for in the categories' texts, and how their hits
    combine: a keyword term (any of its patterns, `filters.keyword_q`) matches where one of its
    patterns does; a pattern `" cap "` is the whole word `cap`, `capacitor` any word containing it,
    a phrase each of its words (a superset of where the phrase is); every term, parameter key,
    maker and MPN prefix must be there."""

    q_terms: list[list[str]]
    parameter_keys: list[str]
    manufacturer: str
    mpn_key: str
    needles: list[tuple[str, str]] = field(default_factory=list)  # (kind, text to find)

    def __post_init__(self):
        self._q = [[[self._needle(WORD, w) for w in self._words(p)] for p in patterns if p.split()]
                   for patterns in self.q_terms]
        self._all = [self._needle(PARAMETER, f" {key} ") for key in self.parameter_keys]
        if self.manufacturer:
            self._all.append(self._needle(MAKER, f" {self.manufacturer.lower()} "))
        if self.mpn_key:
            self._all.append(self._needle(WORD, f" {self.mpn_key.lower()}"))

    @staticmethod
    def _words(pattern: str) -> list[str]:
        words = pattern.split()
        if len(words) == 1 and pattern.startswith(" ") and pattern.endswith(" "):
            return [pattern]  # the whole word, as padded in the text
        return words

    def _needle(self, kind: str, text: str) -> int:
        if (kind, text) not in self.needles:
            self.needles.append((kind, text))
        return self.needles.index((kind, text))

    def categories(self, hits: dict[int, set[str]]) -> set[str]:
        """The categories every filter can match in, from each needle's categories."""
        found: set[str] | None = None
        for patterns in self._q:
            union = set()
            for needles in patterns:
                union |= set.intersection(*(hits.get(n, set()) for n in needles))
            found = union if found is None else found & union
        for n in self._all:
            found = hits.get(n, set()) if found is None else found & hits.get(n, set())
        return found or set()
