"""The synonym list, maintained as data (synonyms.txt beside this module): one group a line."""

from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("synonyms.txt")


def clean(text: str) -> str:
    """As a part's search text is written: lower case, punctuation as spaces (models.search_text_of)."""
    return " ".join("".join(ch if ch.isalnum() or ch in ".µ" else " " for ch in text.lower()).split())


@cache
def synonym_groups() -> tuple[frozenset[str], ...]:
    groups = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            groups.append(frozenset(term for term in (clean(t) for t in line.split(",")) if term))
    return tuple(groups)


def _index() -> dict[str, frozenset[str]]:
    index: dict[str, frozenset[str]] = {}
    for group in synonym_groups():
        for term in group:
            index[term] = index.get(term, frozenset()) | group  # a term in two groups matches both
    return index


SYNONYMS = _index()


@cache
def phrase_groups() -> tuple[tuple[str, frozenset[str]], ...]:
    """Members a query may hold as one term: several words ("tactile switch") or non-ASCII text,
    which is typed without spaces ("轻触开关"). Longest first, so "tactile switch" wins over "switch"."""
    return tuple(sorted(((t, g) for t, g in SYNONYMS.items() if " " in t or not t.isascii()), key=lambda tg: (-len(tg[0]), tg[0])))
