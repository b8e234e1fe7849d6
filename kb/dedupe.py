"""Find the stored reference an incoming record duplicates: DOI, then PMID, then title."""

from __future__ import annotations

import re
from collections import defaultdict

from rapidfuzz import fuzz
from sqlmodel import Session, select

from kb.models import Reference
from references.identifiers import doi_key, first_author_key, normalise_pmid, title_key
from references.record import Record, year_of

# Two folded titles this similar, with the same year and first author, are one work: it
# catches a dropped subtitle colon or a typo. Titles whose numbers differ never match.
FUZZY_TITLE_SCORE = 94.0
# "part II", "volume B", "study two": the number of a paper in a series, written as a word.
_SERIES_NUMBER = re.compile(
    r"\b(?:part|parts|volume|vol|book|series|study|phase|chapter|section|paper|no|number)"
    r"\s+((?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})|[a-z]|one|two|three|four|five|six|seven|eight|nine|ten|first|second"
    r"|third|fourth|fifth)\b"
)


def title_numbers(folded_title: str) -> list[str]:
    """Return the numbers a folded title carries: digits anywhere, and part or volume numbers.

    Two papers of a series ("...: part 1" and "...: part 2", same authors, same year) differ
    in nothing else, so a fuzzy title match must never join titles whose numbers differ.
    """
    return re.findall(r"\d+", folded_title) + _SERIES_NUMBER.findall(folded_title)


class DuplicateFinder:
    """An in-memory map from identifiers and title keys to citation keys."""

    def __init__(self) -> None:
        self.by_doi: dict[str, str] = {}
        self.by_pmid: dict[str, str] = {}
        self.by_title: dict[tuple[str, int | None, str], str] = {}
        # (year, first author) -> [(folded title, key)] for the fuzzy pass
        self.buckets: dict[tuple[int | None, str], list[tuple[str, str]]] = defaultdict(list)
        self.doi_of: dict[str, str] = {}
        # A work without a title is known by its citation key, year and first author.
        self.untitled: dict[tuple[str, int | None, str], str] = {}

    @classmethod
    def from_store(cls, session: Session) -> DuplicateFinder:
        finder = cls()
        rows = session.exec(
            select(
                Reference.key,
                Reference.doi,
                Reference.pmid,
                Reference.title,
                Reference.year,
                Reference.authors,
                Reference.extra,
            )
        )
        for key, doi, pmid, title, year, authors, extra in rows:
            # An edited book's editors live among the extra fields; the first one names it.
            editors = (extra or {}).get("editor") if isinstance(extra, dict) else None
            finder.add(
                {
                    "id": key,
                    "DOI": doi,
                    "PMID": pmid,
                    "title": title,
                    "issued": _issued(year),
                    "author": authors,
                    "editor": editors if isinstance(editors, list) else None,
                },
                key,
            )
        return finder

    def add(self, record: Record, key: str) -> None:
        """Remember a record under its citation key."""
        if doi := doi_key(record.get("DOI")):
            self.by_doi.setdefault(doi, key)
            self.doi_of[key] = doi
        if pmid := normalise_pmid(record.get("PMID")):
            self.by_pmid.setdefault(pmid, key)
        title = title_key(record)
        year, author = year_of(record), first_author_key(record)
        if title:
            self.by_title.setdefault((title, year, author), key)
            self.buckets[(year, author)].append((title, key))
        else:
            self.untitled.setdefault((key, year, author), key)

    def find(self, record: Record) -> str | None:
        """Return the key of the reference this record duplicates, or None."""
        doi = doi_key(record.get("DOI"))
        if doi and doi in self.by_doi:
            return self.by_doi[doi]
        pmid = normalise_pmid(record.get("PMID"))
        if pmid and pmid in self.by_pmid:
            return self.by_pmid[pmid]
        title = title_key(record)
        year, author = year_of(record), first_author_key(record)
        if not title:
            wanted = record.get("id")
            return self.untitled.get((wanted, year, author)) if isinstance(wanted, str) else None
        exact = self.by_title.get((title, year, author))
        if exact and not self._other_doi(exact, doi):
            return exact
        best, best_score = None, FUZZY_TITLE_SCORE
        numbers = title_numbers(title)
        for other, key in self.buckets.get((year, author), ()):
            if self._other_doi(key, doi):
                continue  # same title, another DOI: an erratum, a reply or a reprint
            if title_numbers(other) != numbers:
                continue  # part 1 and part 2 of a series, or two trials numbered apart
            score = fuzz.ratio(title, other)
            if score >= best_score:
                best, best_score = key, score
        return best

    def _other_doi(self, key: str, doi: str | None) -> bool:
        known = self.doi_of.get(key)
        return bool(doi and known and known != doi)


def _issued(year: int | None) -> dict | None:
    return {"date-parts": [[year]]} if year else None
