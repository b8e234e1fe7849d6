"""Citation keys: made once, from the first author, the year and the first word of the title."""

from __future__ import annotations

import re

from references.identifiers import fold
from references.record import Record, family_of, year_of

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.\-+/]{0,99}$")

# Words a key skips, as Google Scholar and Better BibTeX do.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "at",
        "to",
        "for",
        "and",
        "or",
        "with",
        "by",
        "from",
        "as",
        "is",
        "are",
        "do",
        "does",
        "effect",
        "effects",
        "into",
        "its",
        "their",
        "be",
    ]
)


def is_valid_key(key: object) -> bool:
    """Tell whether a key from a file can stand as a citation key."""
    return isinstance(key, str) and bool(KEY_RE.match(key))


def make_key(record: Record) -> str:
    """Return a key like ``sherman2009randomized`` for a record (not checked for collisions)."""
    names = record.get("author") or record.get("editor") or []
    family = fold(family_of(names[0])) if names else ""
    family = re.sub(r"[^a-z0-9]", "", family)
    year = year_of(record) or ""
    words = [w for w in fold(str(record.get("title") or "")).split() if w not in _STOPWORDS]
    first = re.sub(r"[^a-z0-9]", "", words[0]) if words else ""
    key = f"{family or 'anon'}{year}{first}"
    return key or "ref"


def unique_key(wanted: str, taken: set[str]) -> str:
    """Return ``wanted``, or it with the first free suffix a, b, ... z, aa, ..."""
    if wanted not in taken:
        return wanted
    n = 0
    while True:
        n += 1
        suffix, m = "", n
        while m:
            m, r = divmod(m - 1, 26)
            suffix = chr(97 + r) + suffix
        if wanted + suffix not in taken:
            return wanted + suffix
