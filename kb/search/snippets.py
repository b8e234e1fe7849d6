"""Snippets: the passages of a hit's texts around the words a query matched, as plain text and spans.

A snippet is at most ``top`` passages of about ``maxchars`` characters, each starting
``surround`` characters before a matched word and cut at word boundaries, best first by how many
distinct query terms they hold, shown in text order and never overlapping (two passages that
would overlap become one, so no word is shown twice). A passage never runs from one text into
the next (an abstract, then each evidence summary and outcome): passages of different texts are
separated by " … ", as are passages of one text that are apart.

The result is plain text and the (start, end) offsets of the matched words in it: no markup.
The web page marks them up (escaping the rest) once; the JSON API carries them as they are.

Words are found and reduced to terms by the index's own analysis (``kb.search.analysis``), so
"massages" is marked for a query that searched "massage".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from re import Pattern
from typing import Any

ELLIPSIS = " … "
OPENING = 220  # characters of a text shown when no word of the query is in it


@dataclass(frozen=True)
class Snippet:
    """A snippet's plain text and the spans of its matched words, in order."""

    text: str
    marks: tuple[tuple[int, int], ...] = ()

    def pieces(self) -> list[tuple[str, bool]]:
        """Return the text cut at the marks: (piece, marked) in order."""
        out: list[tuple[str, bool]] = []
        at = 0
        for start, end in self.marks:
            if start > at:
                out.append((self.text[at:start], False))
            out.append((self.text[start:end], True))
            at = end
        if at < len(self.text):
            out.append((self.text[at:], False))
        return out

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "marks": [list(m) for m in self.marks]}


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
    texts: Sequence[str],
    terms: Collection[str],
    regex: Pattern[str],
    term_of: Callable[[str], str | None],
    *,
    maxchars: int = 220,
    surround: int = 60,
    top: int = 2,
) -> Snippet | None:
    """Return the passages of ``texts`` holding ``terms`` with their marks, or None when none does."""
    # Runs of white space become one space, so offsets in a text are offsets in the snippet.
    parts = [" ".join(t.split()) for t in texts]
    hits = [
        (p, m.start(), m.end(), term)
        for p, part in enumerate(parts)
        for m in regex.finditer(part)
        if (term := term_of(m.group())) is not None and term in terms
    ]
    if not hits:
        return None
    # Passages: from ``surround`` before a hit, taking later hits of the same text within reach.
    passages: list[tuple[int, int, int, list[tuple[int, int, int, str]]]] = []
    i = 0
    while i < len(hits):
        p = hits[i][0]
        start = max(0, hits[i][1] - surround)
        inside = [hits[i]]
        j = i + 1
        while j < len(hits) and hits[j][0] == p and hits[j][2] - start <= maxchars - surround:
            inside.append(hits[j])
            j += 1
        end = min(len(parts[p]), max(inside[-1][2] + surround, start + maxchars))
        passages.append((p, start, end, inside))
        i = j
    ranked = sorted(
        range(len(passages)),
        key=lambda k: (-len({t for *_, t in passages[k][3]}), -len(passages[k][3]), k),
    )
    merged: list[tuple[int, int, int]] = []
    for p, start, end, _ in sorted(passages[k] for k in ranked[:top]):
        start, end = _widen(parts[p], start, end)
        if merged and merged[-1][0] == p and start <= merged[-1][2]:
            merged[-1] = (p, merged[-1][1], max(merged[-1][2], end))
        else:
            merged.append((p, start, end))
    out: list[str] = []
    marks: list[tuple[int, int]] = []
    length = 0
    first_p, first_start, _ = merged[0]
    if first_p > 0 or first_start > 0:
        out.append("… ")
        length += 2
    for n, (p, start, end) in enumerate(merged):
        if n:
            out.append(ELLIPSIS)
            length += len(ELLIPSIS)
        for hp, s, e, _ in hits:
            if hp == p and s >= start and e <= end:
                marks.append((length + s - start, length + e - start))
        out.append(parts[p][start:end])
        length += end - start
    last_p, _, last_end = merged[-1]
    if last_end < len(parts[last_p]) or any(parts[last_p + 1 :]):
        out.append(" …")
    return Snippet("".join(out), tuple(marks))


def opening(texts: Sequence[str], maxchars: int = OPENING) -> Snippet:
    """Return the start of the first non-empty text, cut at a word (no marks)."""
    text = next((" ".join(t.split()) for t in texts if t.strip()), "")
    if len(text) > maxchars:
        text = text[:maxchars].rsplit(" ", 1)[0] + " …"
    return Snippet(text)


__all__ = ["ELLIPSIS", "Snippet", "opening", "snippet"]
