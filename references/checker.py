"""Check a pasted reference list against the library: match each entry, list what differs, reprint.

The caller supplies ``find_candidates(entry)``, which returns the library records worth comparing
(the knowledge base looks identifiers up first, then searches its index); this module scores them
and never scans the library itself. An entry is *matched* only when an identifier agrees, or its
title is very close and the first author or the year agrees, and no other record is as close;
otherwise it is *possible* (candidates shown) or *not-found*. A difference is a fact that disagrees
(a misspelt author, a wrong year or first page, a missing subtitle), never a difference of form
(an abbreviated journal, an abbreviated page range, "et al.", initials, case and punctuation).
Pasted text is neither stored nor logged.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from references.identifiers import doi_key, first_author_key, fold, normalise_pmid
from references.record import Record, year_of
from references.refcompare import (
    Difference,
    differences,
    expand_pages,
    journal_equivalent,
    main_title,
    name_key,
    text_key,
)
from references.refparse import (
    MAX_PASTE,
    PastedEntry,
    PasteTooLarge,
    parse_entry,
    split_entries,
)

__all__ = [
    "MAX_PASTE",
    "Candidate",
    "CheckReport",
    "CheckedEntry",
    "Difference",
    "PasteTooLarge",
    "PastedEntry",
    "check_references",
    "expand_pages",
    "journal_equivalent",
]

MATCHED, POSSIBLE, NOT_FOUND = "matched", "possible", "not-found"
TITLE_SURE = 90  # a title this close, with the first author or the year agreeing, is a match
TITLE_LIKELY = 80  # a title this close, with the first author and the year agreeing, is a match
POSSIBLE_SCORE = 70  # candidates scoring less are not worth a writer's time
POSSIBLE_TITLE = 60
RIVAL_MARGIN = 3  # a second record this close to the best makes a match ambiguous
MARKS = {POSSIBLE: "[check] ", NOT_FOUND: "[not in library] "}

FindCandidates = Callable[[PastedEntry], list[Record]]


@dataclass(frozen=True)
class Candidate:
    """A library record an entry may be, with how well it agrees (0-100)."""

    key: str
    score: float

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "score": self.score}


@dataclass
class CheckedEntry:
    """One pasted entry, what it matched and how it differs."""

    entry: PastedEntry
    status: str = NOT_FOUND
    key: str | None = None
    score: float = 0.0
    differences: list[Difference] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    record: Record | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.entry.text,
            "number": self.entry.number,
            "status": self.status,
            "key": self.key,
            "score": self.score,
            "differences": [d.as_json() for d in self.differences],
            "candidates": [c.as_json() for c in self.candidates],
            "parsed": self.entry.as_json(),
        }


@dataclass
class CheckReport:
    """The checked list: every entry in pasted order, and the list reprinted in a style."""

    entries: list[CheckedEntry]
    formatted: str = ""
    style: str = "apa"
    fmt: str = "text"
    message: str | None = None

    def summary(self) -> dict[str, int]:
        """Return how many entries were matched, possible and not found."""
        counts = {MATCHED: 0, POSSIBLE: 0, NOT_FOUND: 0}
        for checked in self.entries:
            counts[checked.status] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {
            "entries": [e.as_json() for e in self.entries],
            "formatted": self.formatted,
            "style": self.style,
            "format": self.fmt,
            "summary": self.summary(),
            "message": self.message,
        }


# --- scoring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Score:
    record: Record
    total: float
    title: float  # 0-100
    author: bool | None  # None: nothing to compare
    year: bool | None
    identifier: bool


def _same_identifier(entry: PastedEntry, record: Record) -> bool:
    if entry.doi and doi_key(entry.doi) == doi_key(record.get("DOI")):
        return True
    if entry.pmid and entry.pmid == normalise_pmid(record.get("PMID")):
        return True
    return bool(entry.pmcid and entry.pmcid == str(record.get("PMCID") or "").upper())


def _title_score(entry: PastedEntry, record: Record, text: str) -> float:
    library = text_key(str(record.get("title") or ""))
    if not library:
        return 0.0
    main = text_key(main_title(str(record.get("title") or "")))
    scores = [0.0]
    if entry.title:
        pasted = text_key(entry.title)
        scores += [fuzz.ratio(pasted, library), fuzz.token_sort_ratio(pasted, library)]
        if main != library and len(main) >= 12:
            scores.append(0.97 * fuzz.ratio(pasted, main))  # the subtitle left out
        pasted_main = text_key(main_title(entry.title))
        if pasted_main != pasted and len(pasted_main) >= 12:
            scores.append(0.97 * fuzz.ratio(pasted_main, library))  # a subtitle added
    # When the title could not be cut out cleanly (glued to the journal, say), a long library
    # title found whole in the entry is still good evidence.
    if len(library) >= 30:
        scores.append(0.98 * fuzz.partial_ratio(library, text))
    if main != library and len(main) >= 30:
        scores.append(0.95 * fuzz.partial_ratio(main, text))
    return max(scores)


def _author_agrees(entry: PastedEntry, record: Record, text: str) -> bool | None:
    library = first_author_key(record)
    if not library:
        return None
    if entry.authors:
        pasted = fold(entry.authors[0])
        return (
            fuzz.ratio(name_key(pasted), name_key(library)) >= 80
            or fuzz.token_set_ratio(pasted, library) >= 90
        )
    title_at = text.find(text_key(entry.title)) if entry.title else -1
    head = text[:title_at] if title_at > 0 else text[:60]
    if len(library) < 4 or not head:
        return None
    return fuzz.partial_ratio(library, head) >= 90


def _score(entry: PastedEntry, record: Record, text: str) -> _Score:
    if _same_identifier(entry, record):
        return _Score(record, 100.0, 100.0, True, True, True)
    title = _title_score(entry, record, text)
    author = _author_agrees(entry, record, text)
    library_year = year_of(record)
    year = None if entry.year is None or library_year is None else entry.year == library_year
    library_journal = str(record.get("container-title") or "")
    journal = (
        None
        if not entry.journal or not library_journal
        else journal_equivalent(entry.journal, library_journal)
    )
    weights = ((author, 15.0), (year, 7.0), (journal, 3.0))
    total = 0.75 * title + sum(w if ok else (w / 2 if ok is None else 0.0) for ok, w in weights)
    return _Score(record, round(total, 1), round(title, 1), author, year, False)


def _is_sure(score: _Score) -> bool:
    if score.identifier:
        return True
    if score.title >= TITLE_SURE:
        return bool(score.author or score.year)
    # A title cut short or reworded is still this work when the first author and year both agree.
    return score.title >= TITLE_LIKELY and bool(score.author and score.year)


def _judge(entry: PastedEntry, records: list[Record]) -> CheckedEntry:
    """Score the candidates and decide whether the entry is matched, possible or not found."""
    checked = CheckedEntry(entry)
    text = text_key(entry.clean)
    seen: set[str] = set()
    scores: list[_Score] = []
    for record in records:
        key = str(record.get("id") or "")
        if key and key not in seen:
            seen.add(key)
            scores.append(_score(entry, record, text))
    scores.sort(key=lambda s: (s.identifier, s.total), reverse=True)
    shown = [
        s
        for s in scores
        if s.identifier or (s.total >= POSSIBLE_SCORE and s.title >= POSSIBLE_TITLE)
    ]
    checked.candidates = [Candidate(str(s.record["id"]), s.total) for s in shown[:5]]
    if not shown:
        return checked
    best = shown[0]
    rivals = [
        s
        for s in shown[1:]
        if not best.identifier and _is_sure(s) and s.total >= best.total - RIVAL_MARGIN
    ]
    checked.score = best.total
    if _is_sure(best) and not rivals:
        checked.status, checked.key, checked.record = MATCHED, str(best.record["id"]), best.record
        checked.differences = differences(entry, best.record, by_identifier=best.identifier)
    else:
        checked.status = POSSIBLE
    return checked


# --- the reprint -------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"^(\s*(?:<[^>]+>\s*)*)(\[?)(\d+)([.\]]?)(\s*)")
_TAGS_RE = re.compile(r"<[^>]+>")


def _formatted_by_key(records: list[Record], style: str, fmt: str) -> dict[str, str]:
    """Format the matched records in one pass and return each one's entry by citation key."""
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


def reprint(checked: list[CheckedEntry], style: str = "apa", fmt: str = "text") -> str:
    """Return the whole list in a style: matched entries from the library, the rest marked."""
    from references.styles import resolve_style

    numeric = bool(getattr(resolve_style(style), "numeric", False))
    records: dict[str, Record] = {}
    for c in checked:
        if c.status == MATCHED and c.record is not None:
            records.setdefault(str(c.record["id"]), c.record)
    formatted = _formatted_by_key(list(records.values()), style, fmt)
    items: list[tuple[str, str]] = []  # (sort key, entry)
    for c in checked:
        entry = formatted.get(c.key or "") if c.status == MATCHED else None
        if entry is None:
            mark = MARKS.get(c.status, MARKS[NOT_FOUND])
            if fmt == "html":
                css = "not-in-library" if c.status != POSSIBLE else "check"
                entry = (
                    f'<span class="csl-entry pasted {css}">'
                    f'<span class="mark">{html.escape(mark.strip())}</span> '
                    f"{html.escape(c.entry.text)}</span>"
                )
            else:
                entry = mark + c.entry.text
            key = c.entry.clean
        else:
            key = html.unescape(_TAGS_RE.sub("", entry))
        items.append((fold(key), entry))
    if numeric:
        return "\n".join(_renumber(entry, n) for n, (_, entry) in enumerate(items, 1))
    return "\n".join(entry for _, entry in sorted(items, key=lambda item: item[0]))


def _renumber(entry: str, number: int) -> str:
    m = _NUMBER_RE.match(entry)
    if m and m.group(3):
        return f"{m.group(1)}{m.group(2)}{number}{m.group(4)}{m.group(5)}{entry[m.end() :]}"
    return f"{number}. {entry}"


# --- the whole check ---------------------------------------------------------------------------


def check_references(
    text: str, find_candidates: FindCandidates, style: str = "apa", fmt: str = "text"
) -> CheckReport:
    """Check a pasted reference list against the library and reprint it in a style."""
    if len(text) > MAX_PASTE:
        raise PasteTooLarge(len(text))
    if fmt not in ("text", "html"):
        raise ValueError(f"unknown format {fmt!r}; use 'text' or 'html'")
    raw = split_entries(text)
    if not raw:
        return CheckReport([], "", style, fmt, message="The paste holds no references to check.")
    checked = [_judge(entry, find_candidates(entry)) for entry in map(_parse, raw)]
    report = CheckReport(checked, reprint(checked, style, fmt), style, fmt)
    counts = report.summary()
    report.message = (
        f"{len(checked)} {'entry' if len(checked) == 1 else 'entries'}: "
        f"{counts[MATCHED]} matched, {counts[POSSIBLE]} to check, "
        f"{counts[NOT_FOUND]} not in the library."
    )
    return report


def _parse(raw: Any) -> PastedEntry:
    try:
        return parse_entry(raw.text, raw.number)
    except Exception:  # noqa: BLE001 - an entry that defeats the parser is still shown, unmatched
        return PastedEntry(text=raw.text, number=raw.number, clean=raw.text)
