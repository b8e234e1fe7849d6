"""Identifiers (DOI, PMID, PMCID) and the keys that decide whether two records are one work."""

from __future__ import annotations

import re
import unicodedata

from references.record import Record, family_of, year_of

DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_DOI_PREFIXES = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def normalise_doi(value: str | None) -> str | None:
    """Return a DOI without resolver prefix or trailing punctuation, or None when there is none.

    Case is kept as given (publishers print it that way); compare with ``doi_key``.
    """
    if not value:
        return None
    text = _DOI_PREFIXES.sub("", str(value).strip())
    m = DOI_RE.search(text)
    if not m:
        return None
    doi = m.group(1)
    # A DOI pasted at the end of a sentence or inside brackets drags punctuation along.
    while doi and doi[-1] in ".,;:)]}'\"":
        if doi[-1] in ")]}" and doi.count(doi[-1]) <= doi.count(
            {")": "(", "]": "[", "}": "{"}[doi[-1]]
        ):
            break
        doi = doi[:-1]
    return doi or None


def doi_key(value: str | None) -> str | None:
    """Return the DOI as it is compared: DOIs are case-insensitive."""
    doi = normalise_doi(value)
    return doi.lower() if doi else None


def normalise_pmid(value: str | int | None) -> str | None:
    """Return a PMID as a string of digits, or None."""
    if value is None:
        return None
    m = re.search(r"\d{1,9}", str(value))
    return m.group(0).lstrip("0") or None if m else None


def normalise_pmcid(value: str | None) -> str | None:
    """Return a PMCID as 'PMC1234567', or None."""
    if not value:
        return None
    m = re.search(r"(?:PMC)?\s*(\d{3,9})", str(value), re.IGNORECASE)
    return f"PMC{m.group(1)}" if m else None


def fold(text: str) -> str:
    """Return text lower-cased, without accents, punctuation or repeated spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w\s]", " ", text.lower().replace("ß", "ss"))
    return re.sub(r"\s+", " ", text).strip()


def title_key(record: Record) -> str:
    """Return the folded title used for duplicate checks."""
    return fold(str(record.get("title") or ""))


def first_author_key(record: Record) -> str:
    """Return the folded family name of the first author (or editor), or ''."""
    for role in ("author", "editor"):
        names = record.get(role) or []
        if names:
            return fold(family_of(names[0]))
    return ""


def duplicate_keys(record: Record) -> list[tuple[str, str]]:
    """Return the keys that identify this record's work, strongest first: DOI, PMID, title+year+author."""
    keys: list[tuple[str, str]] = []
    if doi := doi_key(record.get("DOI")):
        keys.append(("doi", doi))
    if pmid := normalise_pmid(record.get("PMID")):
        keys.append(("pmid", pmid))
    title = title_key(record)
    if title:
        keys.append(("title", f"{title}|{year_of(record) or ''}|{first_author_key(record)}"))
    return keys


def normalise_pages(value: str | None) -> str | None:
    """Return a page range with a plain hyphen ('233–238', '233--238' → '233-238'), or None."""
    if value is None:
        return None
    text = re.sub(r"\s*(?:-{1,3}|[\u2010-\u2015\u2212])\s*", "-", str(value).strip())
    return text or None


def expand_page_range(value: str | None) -> str | None:
    """Return a MEDLINE-style abbreviated range in full ('233-8' → '233-238')."""
    pages = normalise_pages(value)
    if not pages:
        return pages
    m = re.fullmatch(r"([A-Za-z]*)(\d+)-([A-Za-z]*)(\d+)", pages)
    if m and len(m.group(4)) < len(m.group(2)) and m.group(3) in ("", m.group(1)):
        first, last = m.group(2), m.group(4)
        full = first[: len(first) - len(last)] + last
        if int(full) >= int(first):
            return f"{m.group(1)}{first}-{m.group(1)}{full}"
    return pages
