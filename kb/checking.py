"""Check a pasted reference list against the store: identifiers first, then the search index."""

from __future__ import annotations

from sqlmodel import Session, func, or_, select

from kb import search
from kb.config import Settings
from kb.models import Reference
from kb.records import record_of
from references import checker
from references.identifiers import doi_key
from references.record import Record
from references.refparse import PastedEntry

CANDIDATES = 8  # references the index proposes for one entry; the checker scores them


def _query_text(entry: PastedEntry) -> str:
    """Return the words the index is asked for: the title, else the whole entry."""
    parts = [entry.title or entry.clean or entry.text]
    if entry.authors:
        parts.append(" ".join(entry.authors[:2]))
    return " ".join(p for p in parts if p)


def candidate_finder(settings: Settings, session: Session):  # type: ignore[no-untyped-def]
    """Return the function the checker calls to get candidate records for one entry."""

    def find_candidates(entry: PastedEntry) -> list[Record]:
        found: dict[str, Reference] = {}
        conditions = []
        if entry.doi and (doi := doi_key(entry.doi)):
            conditions.append(func.lower(Reference.doi) == doi)
        if entry.pmid:
            conditions.append(Reference.pmid == entry.pmid)
        if conditions:
            for reference in session.exec(select(Reference).where(or_(*conditions))):
                found[reference.key] = reference
        keys = [
            k
            for k in search.candidates(settings, session, _query_text(entry), limit=CANDIDATES)
            if k not in found
        ]
        if keys:
            rows = session.exec(select(Reference).where(Reference.key.in_(keys)))  # type: ignore[attr-defined]
            by_key = {r.key: r for r in rows}
            found.update((k, by_key[k]) for k in keys if k in by_key)
        return [record_of(r) for r in found.values()]

    return find_candidates


def check(settings: Settings, session: Session, text: str, style: str = "apa", fmt: str = "text"):  # type: ignore[no-untyped-def]
    """Check pasted text against the library; the text is never stored or logged."""
    return checker.check_references(text, candidate_finder(settings, session), style=style, fmt=fmt)
