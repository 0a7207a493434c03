"""Bank references in one form, so the same receipt is recognised however it was typed.

`BOC-RCPT-778812`, `boc-rcpt-778812`, `BOC RCPT 778812` and `ＢＯＣ－ＲＣＰＴ－７７８８１２` (full-width,
as Chinese input methods type it) are all `BOCRCPT778812`: Unicode compatibility forms folded
(NFKC), letters upper-cased, and spaces, dashes and underscores dropped."""

import re
import unicodedata

_IGNORED = re.compile(r"[\s\-_\u2010-\u2015\u2212\u30fc\uff0d]+")


def reference_key(reference: str) -> str:
    """The normalised form of a bank reference (empty for an empty one)."""
    folded = unicodedata.normalize("NFKC", reference or "").upper()
    return _IGNORED.sub("", folded)[:200]
