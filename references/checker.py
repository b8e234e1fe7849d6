"""Check a pasted reference list against the library: match each entry, list what differs, reprint.

The caller supplies ``find_candidates(entry)``, which returns the library records worth comparing
(the knowledge base looks identifiers up first, then searches its index); this module scores them
and never scans the library itself.

The matching rule (ARCHITECTURE, "when is it the same work?"): an entry is *matched* only when a
DOI or PMID agrees, or when the title agrees (folded, fuzzy, a missing subtitle allowed) and the
first author agrees and at least two of journal, year, volume and first page agree. A different
DOI or PMID is never a match. Anything else that resembles a record is *possible*, with what
agrees and what does not; the rest is *not-found*. A difference is a fact that disagrees (a
misspelt author, a wrong year or first page), never a difference of form (an abbreviated journal,
an abbreviated page range, "et al.", initials, case and punctuation). Pasted text is neither
stored nor logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from references.record import Record, year_of
from references.refcompare import (
    Difference,
    author_agrees,
    differences,
    expand_pages,
    identifier_facts,
    journal_equivalent,
    located_facts,
    text_key,
    title_score,
)
from references.refparse import (
    MAX_PASTE,
    PastedEntry,
    PasteTooLarge,
    parse_entry,
    split_entries,
)
from references.refreprint import MATCHED, NOT_FOUND, POSSIBLE, reprint

__all__ = [
    "MAX_ENTRIES",
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

TITLE_AGREES = 88  # a title this close (0-100) is the same title
TITLE_CUT_SHORT = 70  # enough when first author, journal, year, volume and first page agree
POSSIBLE_SCORE = 70  # candidates scoring less are not worth a writer's time
POSSIBLE_TITLE = 60
RIVAL_MARGIN = 3  # a second record this close to the best makes a match ambiguous
MAX_ENTRIES = 1000  # entries checked per paste (each one reads at most one DOI, PMID, PMCID)

FindCandidates = Callable[[PastedEntry], list[Record]]


@dataclass(frozen=True)
class Candidate:
    """A library record an entry may be, how well it agrees (0-100), what agrees and what not."""

    key: str
    score: float
    agrees: list[str] = field(default_factory=list)
    differs: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "score": self.score,
            "agrees": list(self.agrees),
            "differs": list(self.differs),
        }


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
    hint: str | None = None  # why a possible match was not taken

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.entry.text,
            "number": self.entry.number,
            "status": self.status,
            "key": self.key,
            "score": self.score,
            "differences": [d.as_json() for d in self.differences],
            "candidates": [c.as_json() for c in self.candidates],
            "hint": self.hint,
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
    total: int = 0  # entries in the paste; more than were checked when the paste was too long
    skipped: list[str] = field(default_factory=list)  # heading and introduction lines left out

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
            "limited": self.total > len(self.entries),
            "skipped": list(self.skipped),
            "total_entries": max(self.total, len(self.entries)),
        }


# --- scoring -----------------------------------------------------------------------------------

FACTS = ("journal", "year", "volume", "first page")


@dataclass(frozen=True)
class _Score:
    record: Record
    total: float
    title: float  # 0-100
    author: bool | None  # None: nothing to compare
    facts: dict[str, bool | None]  # journal, year, volume, first page: agree, differ, unknown
    identifier: bool | None  # True: a DOI or PMID agrees and none differs; False: one differs

    @property
    def title_agrees(self) -> bool:
        return self.title >= TITLE_AGREES

    def agreeing(self) -> int:
        return sum(1 for ok in self.facts.values() if ok)

    def agrees(self, entry: PastedEntry) -> list[str]:
        found = ["title"] if self.title_agrees else []
        found += ["first author"] if self.author else []
        found += [name for name, ok in self.facts.items() if ok]
        return found + [n for n, ok in identifier_facts(entry, self.record).items() if ok]

    def differs(self, entry: PastedEntry) -> list[str]:
        found = ["title"] if entry.title and not self.title_agrees else []
        found += ["first author"] if self.author is False else []
        found += [name for name, ok in self.facts.items() if ok is False]
        return found + [n for n, ok in identifier_facts(entry, self.record).items() if not ok]


def _same_identifier(entry: PastedEntry, record: Record) -> bool | None:
    """Return True when an identifier agrees and none differs, False when one differs."""
    facts = identifier_facts(entry, record)
    return all(facts.values()) if facts else None


def _score(entry: PastedEntry, record: Record, text: str) -> _Score:
    identifier = _same_identifier(entry, record)
    title = title_score(entry, record, text)
    author = author_agrees(entry, record, text)
    facts = located_facts(entry, record)
    weights = ((author, 15.0), (facts["year"], 7.0), (facts["journal"], 3.0))
    total = 0.75 * title + sum(w if ok else (w / 2 if ok is None else 0.0) for ok, w in weights)
    total += 2.0 * sum(1 for name in ("volume", "first page") if facts[name])
    total = 100.0 if identifier else min(total, 100.0)
    return _Score(record, round(total, 1), round(title, 1), author, facts, identifier)


def _has_no_facts(record: Record) -> bool:
    """Return whether a record gives none of journal, year, volume and pages (a web page)."""
    given = any(record.get(v) for v in ("container-title", "volume", "page"))
    return not given and year_of(record) is None


def _text_is_sure(score: _Score) -> bool:
    """Return whether title, first author and two of journal, year, volume, page agree."""
    if score.author and score.agreeing() == len(FACTS) and score.title >= TITLE_CUT_SHORT:
        return True  # journal, volume and first page name one article: a title cut short
    if not (score.title_agrees and score.author):
        return False
    # A web page cited without date or publisher has nothing more to agree on.
    return score.agreeing() >= 2 or _has_no_facts(score.record)


def _is_sure(score: _Score) -> bool:
    """Apply the matching rule: an agreeing identifier, or title, first author and two facts."""
    if score.identifier is not None:
        return score.identifier  # a different DOI or PMID is never this work
    return _text_is_sure(score)


def _listing(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _hint(entry: PastedEntry, score: _Score, rivals: bool) -> str:
    """Say why a possible match was not taken, in words a writer can check against."""
    if rivals:
        return "Two library records fit this entry equally well: check which one you mean."
    differs = score.differs(entry)
    if score.identifier is False:
        named = _listing([n for n in differs if n in ("DOI", "PMID", "PMCID")])
        return f"The {named} differs from the library's: a different paper, or a mistyped number?"
    if score.title_agrees and score.author:
        listed = _listing(differs)
        if score.facts["year"] is False and entry.year is not None:
            which = "an earlier" if entry.year < (year_of(score.record) or 0) else "a later"
            return (
                f"Same title and first author; {listed} differ — {which} version, "
                "or a mis-cited reference?"
            )
        if differs:
            return f"Same title and first author, but {listed} differ: check the entry."
        return (
            "Same title and first author, but too little else to be sure: "
            "add the journal, year, volume or pages."
        )
    if score.title_agrees:
        return "Same title, but not the same first author: check the entry."
    return "A similar title: check whether this is the paper you mean."


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
    scores.sort(key=lambda s: (bool(s.identifier), _is_sure(s), s.total), reverse=True)
    shown = [
        s
        for s in scores
        if s.identifier or (s.total >= POSSIBLE_SCORE and s.title >= POSSIBLE_TITLE)
    ]
    checked.candidates = [
        Candidate(str(s.record["id"]), s.total, s.agrees(entry), s.differs(entry))
        for s in shown[:5]
    ]
    if not shown:
        return checked
    best = shown[0]
    if best.identifier:
        # The identifier names one record while title and first author name another: a pasted
        # DOI from the wrong line, or the wrong title. Either way, not a match to take.
        words = next((s for s in shown[1:] if _text_is_sure(s)), None)
        rivals = words is not None
    else:
        words = None
        rivals = any(_is_sure(s) and s.total >= best.total - RIVAL_MARGIN for s in shown[1:])
    checked.score = best.total
    if _is_sure(best) and not rivals:
        checked.status, checked.key, checked.record = MATCHED, str(best.record["id"]), best.record
        checked.differences = differences(entry, best.record, by_identifier=bool(best.identifier))
    elif words is not None:
        checked.status = POSSIBLE
        named = _listing(list(identifier_facts(entry, best.record)))
        checked.hint = (
            f"The {named} is that of {best.record['id']}, but the title and first author are "
            f"those of {words.record['id']}: check which paper you mean."
        )
    else:
        checked.status = POSSIBLE
        checked.hint = _hint(entry, best, rivals)
    return checked


# --- the whole check ---------------------------------------------------------------------------


def check_references(
    text: str, find_candidates: FindCandidates, style: str = "apa", fmt: str = "text"
) -> CheckReport:
    """Check a pasted reference list against the library and reprint it in a style."""
    if len(text) > MAX_PASTE:
        raise PasteTooLarge(len(text))
    if fmt not in ("text", "html"):
        raise ValueError(f"unknown format {fmt!r}; use 'text' or 'html'")
    skipped: list[str] = []
    raw = split_entries(text, skipped)
    if not raw:
        return CheckReport([], "", style, fmt, message="The paste holds no references to check.")
    total = len(raw)
    # Each entry costs an identifier lookup and a search: a paste of 50,000 "doi:" lines must
    # not hold a worker for half a minute, so the checker reads a bounded number of entries.
    checked = [_judge(entry, find_candidates(entry)) for entry in map(_parse, raw[:MAX_ENTRIES])]
    formatted = reprint([(c.status, c.entry, c.record) for c in checked], style, fmt)
    report = CheckReport(checked, formatted, style, fmt, total=total, skipped=skipped)
    counts = report.summary()
    report.message = (
        f"{len(checked)} {'entry' if len(checked) == 1 else 'entries'}: "
        f"{counts[MATCHED]} matched, {counts[POSSIBLE]} to check, "
        f"{counts[NOT_FOUND]} not in the library."
    )
    if skipped:
        shown = "; ".join(f"“{line[:80]}”" for line in skipped[:3])
        lines = (
            "line that is not a reference was"
            if len(skipped) == 1
            else "lines that are not references were"
        )
        report.message += f" {len(skipped)} {lines} left out: {shown}."
    if total > len(checked):
        report.message = (
            f"The paste holds {total:,} entries; the checker reads at most {MAX_ENTRIES:,} at a "
            f"time, so only the first {MAX_ENTRIES:,} were checked: check the rest in parts. "
            + report.message
        )
    return report


def _parse(raw: Any) -> PastedEntry:
    try:
        return parse_entry(raw.text, raw.number)
    except Exception:  # noqa: BLE001 - an entry that defeats the parser is still shown, unmatched
        return PastedEntry(text=raw.text, number=raw.number, clean=raw.text)
