"""Highlighted snippets: the passages of a text around the words a query matched (no Whoosh here).

A snippet is at most ``top`` passages of about ``maxchars`` characters, each starting
``surround`` characters before a matched word and cut at word boundaries, best first by how many
distinct query terms they hold, shown in text order and never overlapping (two passages that
would overlap become one, so no word is shown twice). Matched words are wrapped in ``<mark>``;
everything else is HTML-escaped.

Words are found and reduced to terms by the index's own analysis (``kb.analysis.Analysis``), so
"massages" is marked for a query that searched "massage": one regex pass and a cached lookup per
word, where Whoosh's highlighter built a token object per word.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from html import escape
from re import Pattern

ELLIPSIS = " … "


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Move a passage's edges outwards to the nearest spaces (whole words only)."""
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = 0 if space < 0 else space + 1
    if end < len(text):
        space = text.find(" ", end)
        end = len(text) if space < 0 else space
    return start, end


def snippet(
    text: str,
    terms: Collection[str],
    regex: Pattern[str],
    term_of: Callable[[str], str | None],
    *,
    maxchars: int = 220,
    surround: int = 60,
    top: int = 2,
) -> str:
    """Return the highlighted passages of ``text`` holding ``terms``, or "" when none does."""
    hits = [
        (m.start(), m.end(), term)
        for m in regex.finditer(text)
        if (term := term_of(m.group())) is not None and term in terms
    ]
    if not hits:
        return ""
    # Passages: from ``surround`` before a hit, taking later hits while within ``maxchars``.
    passages: list[tuple[int, int, list[tuple[int, int, str]]]] = []
    i = 0
    while i < len(hits):
        start = max(0, hits[i][0] - surround)
        inside = [hits[i]]
        j = i + 1
        while j < len(hits) and hits[j][1] - start <= maxchars - surround:
            inside.append(hits[j])
            j += 1
        end = min(len(text), max(inside[-1][1] + surround, start + maxchars))
        passages.append((start, end, inside))
        i = j
    ranked = sorted(
        range(len(passages)),
        key=lambda k: (-len({t for *_, t in passages[k][2]}), -len(passages[k][2]), k),
    )
    merged: list[tuple[int, int]] = []
    for start, end, _ in sorted(passages[k] for k in ranked[:top]):
        start, end = _widen(text, start, end)
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    out = []
    for start, end in merged:
        parts, at = [], start
        for s, e, _ in hits:
            if s >= start and e <= end:
                parts.append(escape(text[at:s], quote=False))
                parts.append(f"<mark>{escape(text[s:e], quote=False)}</mark>")
                at = e
        parts.append(escape(text[at:end], quote=False))
        out.append(" ".join("".join(parts).split()))
    lead = "… " if merged[0][0] > 0 else ""
    tail = " …" if merged[-1][1] < len(text) else ""
    return lead + ELLIPSIS.join(out) + tail


__all__ = ["snippet"]
