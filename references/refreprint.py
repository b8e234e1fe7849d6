"""Reprint a checked reference list in a style: matched entries from the library, the rest as pasted.

Only a matched entry is replaced, and it keeps every fact the writer gave that the library lacks
(an issue, pages, a middle initial, a web page's URL and access date). A possible or unknown entry
is left exactly as pasted, with a mark in front, so nothing the writer typed is lost or swapped
for another paper.
"""

from __future__ import annotations

import copy
import html
import re
from typing import Any

from rapidfuzz import fuzz

from references.identifiers import fold
from references.record import Record
from references.refcompare import name_key, text_key
from references.refparse import PastedEntry

MATCHED, POSSIBLE, NOT_FOUND = "matched", "possible", "not-found"
MARKS = {POSSIBLE: "[check] ", NOT_FOUND: "[not in library] "}

_NUMBER_RE = re.compile(r"^(\s*(?:<[^>]+>\s*)*)(\[?)(\d+)([.\]]?)(\s*)")
_TAGS_RE = re.compile(r"<[^>]+>")
# Facts the writer may give that the library lacks: CSL variable, PastedEntry attribute.
_KEPT = (("issue", "issue"), ("volume", "volume"), ("page", "pages"), ("DOI", "doi"))

Checked = tuple[str, PastedEntry, Record | None]  # status, the pasted entry, its record if matched


def _initials(given: str) -> str:
    return "".join(w[0].upper() for w in re.findall(r"[^\W\d_][\w'’]*", given))


def _with_initials(name: dict[str, Any], pasted: str) -> dict[str, Any]:
    """Return the name with the middle initials the writer gave and the library lacks."""
    given = str(name.get("given") or "")
    known = _initials(given)
    if not given or len(pasted) <= len(known) or not pasted.startswith(known):
        return name
    extra = " ".join(f"{c}." for c in pasted[len(known) :])
    return {**name, "given": f"{given} {extra}"}


def completed(record: Record, entry: PastedEntry) -> Record:
    """Return the record with the facts the pasted entry gives and the library lacks."""
    merged = copy.deepcopy(record)
    for variable, attribute in _KEPT:
        value = getattr(entry, attribute)
        if value and not merged.get(variable):
            merged[variable] = value
    url_from_paste = bool(entry.url and not merged.get("URL"))
    if url_from_paste:
        merged["URL"] = entry.url
    # An access date belongs with a URL the writer gave, or with a web page.
    web = url_from_paste or merged.get("type") == "webpage"
    if entry.accessed and not merged.get("accessed") and merged.get("URL") and web:
        merged["accessed"] = {"date-parts": [list(entry.accessed)]}
    names = merged.get("author") or []
    for i, (family, initials) in enumerate(zip(entry.authors or [], entry.initials or [])):
        if i < len(names) and initials and name_key(family) == name_key(names[i].get("family", "")):
            names[i] = _with_initials(names[i], initials)
    return merged


def _formatted_by_key(records: list[Record], style: str, fmt: str) -> dict[str, str]:
    """Format the matched records in one pass and return each one's entry by record id."""
    from references.cite import format_bibliography

    if not records:
        return {}
    entries = format_bibliography(records, style=style, fmt=fmt)
    by_key: dict[str, str] = {}
    free = list(records)
    for position, entry in enumerate(entries):
        text = fold(html.unescape(_TAGS_RE.sub(" ", entry)))
        # Styles sort their bibliography; find each entry's record by its title.
        best = max(
            free,
            key=lambda r: fuzz.partial_ratio(text_key(str(r.get("title") or "")), text),
            default=None,
        )
        if best is None:
            break
        if not best.get("title") and position < len(records):
            best = records[position]
        by_key[str(best["id"])] = entry
        free = [r for r in free if r is not best]
    return by_key


def _as_pasted(status: str, entry: PastedEntry, fmt: str) -> str:
    mark = MARKS.get(status, MARKS[NOT_FOUND])
    if fmt != "html":
        return mark + entry.text
    css = "check" if status == POSSIBLE else "not-in-library"
    return (
        f'<span class="csl-entry pasted {css}">'
        f'<span class="mark">{html.escape(mark.strip())}</span> '
        f"{html.escape(entry.text)}</span>"
    )


def reprint(checked: list[Checked], style: str = "apa", fmt: str = "text") -> str:
    """Return the whole list in a style: matched entries from the library, the rest marked."""
    from references.styles import resolve_style

    numeric = bool(getattr(resolve_style(style), "numeric", False))
    merged: dict[str, Record] = {}
    for status, entry, record in checked:
        if status == MATCHED and record is not None:
            # An entry pasted twice is one work: both copies keep every fact either gave.
            key = str(record["id"])
            merged[key] = completed(merged.get(key, record), entry)
    ids = [str(r["id"]) if s == MATCHED and r is not None else None for s, _, r in checked]
    records = list(merged.values())
    formatted = _formatted_by_key(records, style, fmt)
    items: list[tuple[str, str]] = []  # (sort key, entry)
    for (status, entry, _), record_id in zip(checked, ids):
        text = formatted.get(record_id) if record_id else None
        if text is None:
            items.append((fold(entry.clean), _as_pasted(status, entry, fmt)))
        else:
            items.append((fold(html.unescape(_TAGS_RE.sub("", text))), text))
    if numeric:
        return "\n".join(_renumber(entry, n) for n, (_, entry) in enumerate(items, 1))
    return "\n".join(entry for _, entry in sorted(items, key=lambda item: item[0]))


def _renumber(entry: str, number: int) -> str:
    m = _NUMBER_RE.match(entry)
    if m and m.group(3):
        return f"{m.group(1)}{m.group(2)}{number}{m.group(4)}{m.group(5)}{entry[m.end() :]}"
    return f"{number}. {entry}"
