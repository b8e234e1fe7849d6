"""Compare a pasted entry with a library record, part by part, and list what disagrees.

Differences of form are not differences: an abbreviated journal ("Clin J Pain" is "The Clinical
Journal of Pain"), an abbreviated page range (233-8 is 233-238), "et al.", initials for given
names, case, punctuation and dashes. The agreement functions at the end (title, first author,
journal, year, volume, first page, identifiers) are what the checker's matching rule reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from references.identifiers import doi_key, first_author_key, fold, normalise_pmid
from references.record import Record, family_of, year_of
from references.refparse import PastedEntry


@dataclass(frozen=True)
class Difference:
    """One fact on which a pasted entry and its library record disagree."""

    field: str
    pasted: str
    library: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "pasted": self.pasted, "library": self.library}


# --- comparing the parts of a citation ---------------------------------------------------------

_JOURNAL_STOP = {"the", "of", "and", "in", "for", "on", "a", "an", "de", "la", "und"}


def _journal_words(name: str) -> list[str]:
    # "Spine (Phila Pa 1976)", "Clinics (Sao Paulo)": the bracket names the same journal.
    name = re.sub(r"\([^)]*\)?|['’]", "", name)
    return [w for w in fold(name).split() if w not in _JOURNAL_STOP]


def _abbreviates(short: str, full: str) -> bool:
    """Return whether short is full or its abbreviation (same first letter, letters in order)."""
    if not short or short[0] != full[0]:
        return False
    rest = iter(full)
    return all(c in rest for c in short)


def journal_equivalent(pasted: str, library: str) -> bool:
    """Return whether two journal names name one journal ('Clin J Pain' = 'The Clinical Journal of Pain')."""
    a, b = _journal_words(pasted), _journal_words(library)
    if not a or not b:
        return False
    if a == b:
        return True
    if len(a) != len(b):
        return False
    return all(_abbreviates(x, y) for x, y in zip(a, b)) or all(
        _abbreviates(y, x) for x, y in zip(a, b)
    )


def expand_pages(pages: str) -> tuple[str, str | None]:
    """Return the first and last page, the last written out in full (233-8 gives 233, 238)."""
    m = re.match(
        r"\s*([A-Za-z]*)(\d+)([A-Za-z]?)\s*(?:[-–—]+\s*([A-Za-z]*)(\d+)([A-Za-z]?))?", pages
    )
    if not m:
        return pages.strip().lower(), None
    first = (m.group(1) + m.group(2) + m.group(3)).lower()
    if m.group(5) is None:
        return first, None
    digits, last = m.group(2), m.group(5)
    if len(last) < len(digits):
        last = digits[: len(digits) - len(last)] + last
    return first, ((m.group(4) or m.group(1)) + last + m.group(6)).lower()


def name_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(name))


def leading_number(value: str) -> str:
    m = re.match(r"\s*([A-Za-z]*\d+)", value)
    return m.group(1).lower() if m else fold(value)


def text_key(title: str) -> str:
    return fold(title.replace("&", " and "))


def main_title(title: str) -> str:
    """Return a title without its subtitle."""
    return re.split(r"\s*[:?!—]\s+|\s+[-–]\s+|—", title, maxsplit=1)[0]


def families_of(record: Record) -> list[str]:
    names = record.get("author") or record.get("editor") or []
    return [family_of(n) for n in names]


# --- differences -------------------------------------------------------------------------------


def _author_differences(entry: PastedEntry, record: Record) -> list[Difference]:
    pasted, library = list(entry.authors or []), families_of(record)
    if not pasted or not library:
        return []
    keys = [name_key(n) for n in library]
    # An author list that was not cut out cleanly would report nonsense: compare only when
    # the first names resemble each other.
    if fuzz.ratio(name_key(pasted[0]), keys[0]) < 60 and name_key(pasted[0]) not in keys:
        return []
    found: list[Difference] = []
    for i, name in enumerate(pasted[: len(library)]):
        key = name_key(name)
        if key == keys[i]:
            continue
        if key in keys:  # the right people in the wrong order
            shown = len(pasted)
            return [Difference("authors", ", ".join(pasted), ", ".join(library[:shown]))]
        found.append(Difference("authors", name, library[i]))
    if len(pasted) > len(library) or len(pasted) < len(library) and not entry.et_al:
        found.append(Difference("authors", ", ".join(pasted), ", ".join(library)))
    return found


def differences(
    entry: PastedEntry, record: Record, by_identifier: bool = False
) -> list[Difference]:
    """Return every fact on which the pasted entry disagrees with the library record."""
    found = _author_differences(entry, record)
    library_year = year_of(record)
    if entry.year and library_year and entry.year != library_year:
        found.append(Difference("year", str(entry.year), str(library_year)))
    title = str(record.get("title") or "")
    if entry.title and title and text_key(entry.title) != text_key(title):
        closeness = max(
            fuzz.ratio(text_key(entry.title), text_key(title)),
            fuzz.ratio(text_key(entry.title), text_key(main_title(title))),
        )
        if closeness >= 60 or by_identifier:
            found.append(Difference("title", entry.title, title))
    journal = str(record.get("container-title") or "")
    if entry.journal and journal and not journal_equivalent(entry.journal, journal):
        found.append(Difference("journal", entry.journal, journal))
    for name, variable in (("volume", "volume"), ("issue", "issue")):
        pasted, library = getattr(entry, name), record.get(variable)
        if pasted and library and leading_number(str(pasted)) != leading_number(str(library)):
            found.append(Difference(name, str(pasted), str(library)))
    library_pages = str(record.get("page") or "")
    if entry.pages and library_pages:
        first, last = expand_pages(entry.pages)
        library_first, library_last = expand_pages(library_pages)
        if first != library_first or (last and library_last and last != library_last):
            found.append(Difference("pages", entry.pages, library_pages))
    if entry.doi and record.get("DOI") and doi_key(entry.doi) != doi_key(record.get("DOI")):
        found.append(Difference("DOI", entry.doi, str(record["DOI"])))
    library_pmid = normalise_pmid(record.get("PMID"))
    if entry.pmid and library_pmid and entry.pmid != library_pmid:
        found.append(Difference("PMID", entry.pmid, library_pmid))
    return found


# --- agreement of an entry and a record (the checker's matching rule reads these) -------------


def identifier_facts(entry: PastedEntry, record: Record) -> dict[str, bool]:
    """Return, for each identifier both sides give, whether it agrees."""
    facts: dict[str, bool] = {}
    if entry.doi and record.get("DOI"):
        facts["DOI"] = doi_key(entry.doi) == doi_key(record.get("DOI"))
    if entry.pmid and (library_pmid := normalise_pmid(record.get("PMID"))):
        facts["PMID"] = entry.pmid == library_pmid
    if entry.pmcid and record.get("PMCID"):
        facts["PMCID"] = entry.pmcid == str(record.get("PMCID") or "").upper()
    return facts


def title_score(entry: PastedEntry, record: Record, text: str) -> float:
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


def author_agrees(entry: PastedEntry, record: Record, text: str) -> bool | None:
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


def journal_agrees(entry: PastedEntry, record: Record) -> bool | None:
    names = [str(record.get(v) or "") for v in ("container-title", "container-title-short")]
    names = [n for n in names if n]
    if not entry.journal or not names:
        return None
    return any(journal_equivalent(entry.journal, n) for n in names)


def located_facts(entry: PastedEntry, record: Record) -> dict[str, bool | None]:
    """Return whether journal, year, volume and first page agree (None: one side lacks it)."""
    library_year, volume, page = year_of(record), record.get("volume"), record.get("page")
    facts: dict[str, bool | None] = {"journal": journal_agrees(entry, record), "year": None}
    if entry.year is not None and library_year is not None:
        facts["year"] = entry.year == library_year
    facts["volume"] = None
    if entry.volume and volume:
        facts["volume"] = leading_number(entry.volume) == leading_number(str(volume))
    facts["first page"] = None
    if entry.pages and page:
        facts["first page"] = expand_pages(entry.pages)[0] == expand_pages(str(page))[0]
    return facts
