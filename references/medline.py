"""Read PubMed's MEDLINE format (.nbib, pubmed-*.txt) as CSL-JSON records.

Tag lines are `XXXX- value` (the tag padded to four columns), continuation lines start with
six spaces, and records are separated by blank lines; a `PMID-` line starts a new record even
without a blank line before it (files joined or edited by hand). A line that is neither, and a
record without PMID or title, become failures with their line numbers.
"""

from __future__ import annotations

import re

from references.bibtex_text import month_number
from references.identifiers import expand_page_range, normalise_doi, normalise_pmcid, normalise_pmid
from references.record import Failure, ReadResult, Record
from references.ris import person_name

FORMAT = "medline"
TAG_RE = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,2}- (.*)$|^([A-Z][A-Z0-9]{1,3}) {0,2}-$")
_ROLE_TAGS = {"FAU": "author", "AU": "author", "CN": "author", "FED": "editor", "ED": "editor"}


def read(text: str, file: str = "<text>") -> ReadResult:
    """Read MEDLINE text; records that cannot be read become failures."""
    result = ReadResult(format=FORMAT)
    # Lines end at "\n" alone, as in an editor (splitlines also breaks at U+2028 and others).
    lines = [line.removesuffix("\r") for line in text.lstrip("\ufeff").split("\n")]
    tags: list[tuple[str, str]] = []
    start = 0
    error: tuple[int, str] | None = None

    def finish(end: int) -> None:
        nonlocal tags, error
        if not tags:
            return
        values = dict(tags)
        key = normalise_pmid(values.get("PMID"))
        raw = "\n".join(lines[start - 1 : end])
        if error:
            result.failures.append(Failure(file, error[0], key, error[1], raw))
        elif not key:
            result.failures.append(Failure(file, start, None, "record has no PMID", raw))
        elif not (values.get("TI") or values.get("BTI")):
            result.failures.append(Failure(file, start, key, "record has no title (TI)", raw))
        else:
            try:
                result.add(_record(tags), start)
            except Exception as e:  # noqa: BLE001 - the record fails, its neighbours stay
                error_text = f"cannot be read ({type(e).__name__}: {e})"
                result.failures.append(Failure(file, start, key, error_text, raw))
        tags, error = [], None

    for number, line in enumerate(lines, start=1):
        m = TAG_RE.match(line)
        if not line.strip():
            finish(number - 1)
        elif m:
            tag = m.group(1) or m.group(3)
            if tag == "PMID" and tags:
                finish(number - 1)
            if not tags:
                start = number
            tags.append((tag, (m.group(2) or "").strip()))
        elif line.startswith("      ") and tags:
            tag, value = tags[-1]
            tags[-1] = (tag, f"{value} {line.strip()}")
        elif tags:
            error = error or (number, "line is neither a tag nor a continuation")
        else:
            start = number
            tags.append(("", line))
            error = (number, "line is neither a tag nor a continuation")
    finish(len(lines))
    return result


def _record(tags: list[tuple[str, str]]) -> Record:
    values: dict[str, list[str]] = {}
    for tag, value in tags:
        values.setdefault(tag, []).append(value)
    types = values.get("PT", [])
    record: Record = {"type": _type(types, values)}
    # FAU carries the full name; AU ("Post-White J") only initials and splits badly.
    person_tag = "FAU" if "FAU" in values else "AU"
    editor_tag = "FED" if "FED" in values else "ED"
    for tag, value in tags:
        if tag in (person_tag, "CN") or tag == editor_tag:
            name = {"literal": value} if tag == "CN" else person_name(value)
            record.setdefault(_ROLE_TAGS[tag], []).append(name)

    def first(tag: str) -> str | None:
        return values[tag][0] if values.get(tag) else None

    title = first("TI") or first("BTI")
    record["title"] = title
    if first("TI") and first("BTI"):
        record["container-title"] = first("BTI")
    if journal := first("JT"):
        record["container-title"] = journal
    if abbreviation := first("TA"):
        record["container-title-short"] = abbreviation
    if issued := parse_dp(first("DP") or ""):
        record["issued"] = issued
    for tag, variable in (
        ("VI", "volume"),
        ("IP", "issue"),
        ("AB", "abstract"),
        ("PB", "publisher"),
    ):
        if value := first(tag):
            record[variable] = value
    if pages := first("PG"):
        record["page"] = expand_page_range(pages)
    for value in values.get("LID", []) + values.get("AID", []):
        if value.endswith("[doi]") and "DOI" not in record:
            record["DOI"] = normalise_doi(value[:-5])
    record["PMID"] = normalise_pmid(first("PMID"))
    if pmc := normalise_pmcid(first("PMC")):
        record["PMCID"] = pmc
    keywords: list[str] = []
    for value in values.get("MH", []) + values.get("OT", []):
        # "Low Back Pain/*therapy": the heading is the keyword, the qualifier is indexing detail.
        word = value.split("/")[0].lstrip("*").strip()
        if word and word not in keywords:
            keywords.append(word)
    if keywords:
        record["keywords"] = keywords
    if languages := values.get("LA"):
        record["language"] = languages[0]
    for issn in values.get("IS", []):
        if m := re.match(r"(\d{4}-\d{3}[\dXx])", issn):
            record.setdefault("ISSN", m.group(1))
    if types:
        record["publication-types"] = types
    return record


def _type(types: list[str], values: dict[str, list[str]]) -> str:
    if "BTI" in values:
        return "chapter" if "TI" in values else "book"
    return "article-journal"


_DP_RE = re.compile(
    r"(?P<y1>\d{4})(?:\s+(?P<m1>[A-Za-z]{3,})(?:\s+(?P<d1>\d{1,2}))?)?"
    r"(?:\s*-\s*(?:(?P<y2>\d{4})\s+)?(?P<m2>[A-Za-z]{3,})?(?:\s*(?P<d2>\d{1,2}))?)?"
)


def parse_dp(text: str) -> dict[str, list[list[int]]] | None:
    """Return a CSL date for a MEDLINE DP: '2009 Mar-Apr', '2014 Mar 5', '2008 Dec-2009 Jan'."""
    m = _DP_RE.match(text.strip())
    if not m:
        return None
    y1 = int(m.group("y1"))
    first = [y1]
    m1 = month_number(m.group("m1") or "")
    if m1:
        first.append(m1)
        if m.group("d1"):
            first.append(int(m.group("d1")))
    parts = [first]
    m2 = month_number(m.group("m2") or "")
    if m1 and (m2 or m.group("d2")):
        second = [int(m.group("y2") or y1), m2 or m1]
        if m.group("d2"):
            second.append(int(m.group("d2")))
        parts.append(second)
    return {"date-parts": parts}
