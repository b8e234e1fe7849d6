"""One validation of the CSL-JSON shape, applied once to what every reader returns.

After it a record can be trusted by every page, citation and export:

- ``id`` is text (a number becomes text); ``type`` is a CSL type (an unknown one becomes
  ``document``, with a warning);
- names (``author``, ``editor``, ...) are lists of objects whose parts are text (a number
  becomes text); a name with no part is left out, with a warning;
- dates are ``{"date-parts": [[year, month, day]]}`` (one part, or two for a range) of whole
  numbers (digit strings become numbers), with optional ``season``, ``circa``, ``literal`` and
  ``raw``; a season named in the month's place ("Spring") becomes CSL's season; a date with no
  parts and no text is dropped, with a warning; a text date is read as ISO 8601 or kept literal;
- CSL's text and number variables are text (a number becomes text); ``keywords`` is a list of
  text; ``custom`` (BibTeX fields CSL has no variable for) maps names to text;
- the ``kb`` block is an object: ``n`` a whole number, ``design`` text, ``evidence`` a list of
  objects with text fields. What a row must hold (comparator, results per technique, …) is the
  knowledge base's rule, checked by ``kb.records.row_problem``.

Whatever cannot be made so is a Failure naming the file, the line and the key, in one line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from references.record import Failure, ReadResult, Record

CSL_TYPES = frozenset(
    [
        "article",
        "article-journal",
        "article-magazine",
        "article-newspaper",
        "bill",
        "book",
        "broadcast",
        "chapter",
        "classic",
        "collection",
        "dataset",
        "document",
        "entry",
        "entry-dictionary",
        "entry-encyclopedia",
        "event",
        "figure",
        "graphic",
        "hearing",
        "interview",
        "legal_case",
        "legislation",
        "manuscript",
        "map",
        "motion_picture",
        "musical_score",
        "pamphlet",
        "paper-conference",
        "patent",
        "performance",
        "periodical",
        "personal_communication",
        "post",
        "post-weblog",
        "regulation",
        "report",
        "review",
        "review-book",
        "software",
        "song",
        "speech",
        "standard",
        "thesis",
        "treaty",
        "webpage",
    ]
)
NAME_VARIABLES = frozenset(
    [
        "author",
        "chair",
        "collection-editor",
        "compiler",
        "composer",
        "container-author",
        "contributor",
        "curator",
        "director",
        "editor",
        "editorial-director",
        "executive-producer",
        "guest",
        "host",
        "illustrator",
        "interviewer",
        "narrator",
        "organizer",
        "original-author",
        "performer",
        "producer",
        "recipient",
        "reviewed-author",
        "script-writer",
        "series-creator",
        "translator",
    ]
)
DATE_VARIABLES = frozenset(
    ["accessed", "available-date", "event-date", "issued", "original-date", "submitted"]
)
# CSL 1.0.2's text and number variables (CSL-JSON spells them with hyphens, but for two).
TEXT_VARIABLES = frozenset(
    [
        "abstract",
        "annote",
        "archive",
        "archive_collection",
        "archive_location",
        "archive-place",
        "authority",
        "call-number",
        "chapter-number",
        "citation-key",
        "citation-label",
        "citation-number",
        "collection-number",
        "collection-title",
        "container-title",
        "container-title-short",
        "dimensions",
        "division",
        "DOI",
        "edition",
        "event",
        "event-title",
        "event-place",
        "first-reference-note-number",
        "genre",
        "ISBN",
        "ISSN",
        "issue",
        "jurisdiction",
        "keyword",
        "language",
        "license",
        "locator",
        "medium",
        "note",
        "number",
        "number-of-pages",
        "number-of-volumes",
        "original-publisher",
        "original-publisher-place",
        "original-title",
        "page",
        "page-first",
        "part-number",
        "part-title",
        "PMCID",
        "PMID",
        "printing-number",
        "publisher",
        "publisher-place",
        "references",
        "reviewed-genre",
        "reviewed-title",
        "scale",
        "section",
        "source",
        "status",
        "supplement-number",
        "title",
        "title-short",
        "URL",
        "version",
        "volume",
        "volume-title",
        "volume-title-short",
        "year-suffix",
    ]
)
NAME_PARTS = ("family", "given", "dropping-particle", "non-dropping-particle", "suffix", "literal")
_NAME_FLAGS = ("comma-suffix", "static-ordering", "parse-names", "sequence")
_DATE_KEYS = ("date-parts", "season", "circa", "literal", "raw")
# CSL-JSON's months 13-16 (and citeproc-js's 21-24) are the seasons, spring to winter.
SEASONS = {"spring": 1, "summer": 2, "autumn": 3, "fall": 3, "winter": 4}
_ISO_DATE = re.compile(r"(-?\d{1,4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
# Slugs and free text in the kb block; the row shape beyond these belongs to kb/records.py.
_KB_TEXT = ("design", "n_unit")
_ROW_TEXT = ("condition", "finding", "outcome", "summary")


class Invalid(Exception):
    """A value that cannot be made into the CSL-JSON shape; its message is one line."""


@dataclass
class Checked:
    """A record made into the CSL-JSON shape, and what was changed to make it so."""

    record: Record
    notes: list[str] = field(default_factory=list)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any, what: str) -> str:
    """Return a value as text: text stays, a number becomes text, anything else is refused."""
    if isinstance(value, str):
        return value
    if _is_number(value):
        return str(int(value)) if float(value).is_integer() else str(value)
    raise Invalid(f"{what} is not text: {_show(value)}")


def _whole(value: Any, what: str) -> int:
    """Return a whole number from a number or digit string, or refuse it."""
    if isinstance(value, bool):
        raise Invalid(f"{what} is not a whole number: {_show(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        return int(value)
    raise Invalid(f"{what} is not a whole number: {_show(value)}")


def validate(record: Any) -> Checked:
    """Return a record in the CSL-JSON shape, or raise Invalid saying what is wrong."""
    if not isinstance(record, dict):
        raise Invalid(f"item is a JSON {type(record).__name__}, not an object")
    out: Record = {}
    notes: list[str] = []
    for name, value in record.items():
        if not isinstance(name, str):
            raise Invalid(f"field name {_show(name)} is not text")
        if value is None:
            continue  # JSON's null: the field is absent
        if name == "id":
            if isinstance(value, str | int) and not isinstance(value, bool):
                if str(value).strip():
                    out["id"] = str(value).strip()
                continue
            raise Invalid(f"'id' is not text: {_show(value)}")
        if name == "type":
            out["type"] = _type(value, notes)
        elif name in NAME_VARIABLES:
            names = _names(value, name, notes)
            if names:
                out[name] = names
        elif name in DATE_VARIABLES:
            date = _date(value, name, notes)
            if date:
                out[name] = date
        elif name in TEXT_VARIABLES:
            out[name] = _text(value, f"{name!r}")
        elif name in ("keywords", "categories", "publication-types"):
            words = _words(value, name)
            if words:
                out[name] = words
        elif name == "custom":
            out[name] = _custom(value)
        elif name == "kb":
            out[name] = _kb(value)
        else:
            out[name] = value  # a field CSL has none for: kept as the file gives it
    if "type" not in out:
        raise Invalid("item has no 'type'")
    return Checked(out, notes)


def _type(value: Any, notes: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"'type' is not a CSL type: {_show(value)}")
    if value not in CSL_TYPES:
        notes.append(f"type {value!r} is not a CSL type; read as 'document'")
        return "document"
    return value


def _names(value: Any, role: str, notes: list[str]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise Invalid(f"{role!r} is not a list of names: {_show(value)}")
    names = []
    for number, name in enumerate(value, start=1):
        if not isinstance(name, dict):
            raise Invalid(f"{role!r} name {number} is not a name object: {_show(name)}")
        person: dict[str, Any] = {}
        for part, text in name.items():
            if text is None:
                continue
            if part in NAME_PARTS:
                text = _text(text, f"{role!r} name {number} {part!r}").strip()
                if text:
                    person[part] = text
            elif part in _NAME_FLAGS and isinstance(text, str | int | float | bool):
                person[part] = text
        if not any(person.get(p) for p in NAME_PARTS):
            notes.append(f"{role} name {number} has no name part; left out")
            continue
        parts = [p for p in NAME_PARTS if p != "literal" and p in person]
        if "literal" in person and parts:
            # CSL reads a literal name whole; parts beside it would make a second, different name.
            for part in parts:
                del person[part]
            notes.append(
                f"{role} name {number} has a literal name and name parts; kept the literal"
            )
        names.append(person)
    return names


def _date(value: Any, name: str, notes: list[str]) -> dict[str, Any] | None:
    if isinstance(value, str):
        return _text_date(value)
    if not isinstance(value, dict):
        raise Invalid(f"{name!r} is not a date object: {_show(value)}")
    date: dict[str, Any] = {}
    for key in ("literal", "raw"):
        if value.get(key) not in (None, ""):
            date[key] = _text(value[key], f"{name!r} {key!r}")
    if value.get("season") not in (None, ""):
        season = value["season"]
        if not isinstance(season, str | int) or isinstance(season, bool):
            raise Invalid(f"{name!r} season is not a season: {_show(season)}")
        date["season"] = season
    if isinstance(value.get("circa"), str | int | bool):
        date["circa"] = value["circa"]
    parts = value.get("date-parts")
    if parts is not None:
        date_parts, season = _date_parts(parts, name)
        if date_parts:
            date["date-parts"] = date_parts
        if season and "season" not in date:
            date["season"] = season
    if "date-parts" not in date and not date.get("literal") and not date.get("raw"):
        notes.append(f"{name} has no date in it; left out")
        return None
    return date


def _date_parts(parts: Any, name: str) -> tuple[list[list[int]], int | None]:
    """Return date-parts of whole numbers (one date, or two for a range) and a season."""
    what = f"{name!r} date-parts {_show(parts)}"
    if not isinstance(parts, list) or len(parts) > 2:
        raise Invalid(f"{what} is not one date or a range of two")
    dates: list[list[int]] = []
    season: int | None = None
    for part in parts:
        if not isinstance(part, list) or len(part) > 3:
            raise Invalid(f"{what} is not [year, month, day]")
        part = [p for p in part if p not in (None, "")]
        if not part:
            continue
        numbers = [_whole(part[0], f"{what}: the year")]
        if numbers[0] == 0 or not -9999 <= numbers[0] <= 9999:
            raise Invalid(f"{what}: {numbers[0]} is not a year")
        if len(part) > 1:
            month = part[1]
            if isinstance(month, str) and month.strip().lower() in SEASONS:
                season = season or SEASONS[month.strip().lower()]
                dates.append(numbers)
                continue
            month = _whole(month, f"{what}: the month")
            if 13 <= month <= 16 or 21 <= month <= 24:
                season = season or (month - 12 if month <= 16 else month - 20)
                dates.append(numbers)
                continue
            if not 1 <= month <= 12:
                raise Invalid(f"{what}: {month} is not a month")
            numbers.append(month)
        if len(part) > 2:
            day = _whole(part[2], f"{what}: the day")
            if not 1 <= day <= 31:
                raise Invalid(f"{what}: {day} is not a day of a month")
            numbers.append(day)
        dates.append(numbers)
    return dates, season


def _text_date(text: str) -> dict[str, Any] | None:
    """Return a date written as text: ISO 8601 as date-parts, anything else kept literal."""
    text = text.strip()
    if not text:
        return None
    m = _ISO_DATE.fullmatch(text)
    if m:
        numbers = [int(g) for g in m.groups() if g]
        valid = numbers[0] != 0 and (len(numbers) < 2 or 1 <= numbers[1] <= 12)
        if valid and (len(numbers) < 3 or 1 <= numbers[2] <= 31):
            return {"date-parts": [numbers]}
    return {"literal": text}


def _words(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[;,]", value)
    if not isinstance(value, list):
        raise Invalid(f"{name!r} is not a list of words: {_show(value)}")
    words = []
    for word in value:
        if word is None:
            continue
        word = _text(word, f"{name!r} entry").strip()
        if word and word not in words:
            words.append(word)
    return words


def _custom(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Invalid(f"'custom' is not an object of fields: {_show(value)}")
    return {str(k): _text(v, f"'custom' field {k!r}") for k, v in value.items() if v is not None}


def _kb(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"'kb' is not an object: {_show(value)}")
    meta = dict(value)
    for name in _KB_TEXT:
        if meta.get(name) is not None:
            meta[name] = _text(meta[name], f"kb {name!r}")
    if meta.get("n") is not None:
        meta["n"] = _whole(meta["n"], "kb 'n'")
        if meta["n"] < 0:
            raise Invalid(f"kb 'n' is not a number of participants: {meta['n']}")
    if meta.get("evidence") is not None:
        rows = meta["evidence"]
        if not isinstance(rows, list):
            raise Invalid(f"kb 'evidence' is not a list of rows: {_show(rows)}")
        meta["evidence"] = [_row(row, number) for number, row in enumerate(rows, 1)]
    return meta


def _row(row: Any, number: int) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise Invalid(f"kb evidence row {number} is not an object: {_show(row)}")
    row = dict(row)
    for name in _ROW_TEXT:
        if row.get(name) is not None:
            row[name] = _text(row[name], f"kb evidence row {number} {name!r}")
    return row


def validate_result(result: ReadResult, file: str) -> ReadResult:
    """Return a reader's result with every record validated: refused ones become failures."""
    checked = ReadResult(
        failures=list(result.failures),
        format=result.format,
        warnings=list(result.warnings),
        skipped=list(result.skipped),
    )
    for index, record in enumerate(result.records):
        line = result.line_of(index)
        key = record.get("id") if isinstance(record, dict) else None
        key = str(key) if isinstance(key, str | int) and not isinstance(key, bool) else None
        try:
            done = validate(record)
        except Invalid as error:
            raw = json.dumps(record, ensure_ascii=False, default=repr)[:2000]
            checked.failures.append(Failure(file, line, key, str(error), raw))
            continue
        checked.add(done.record, line)
        checked.warnings.extend(Failure(file, line, key, note) for note in done.notes)
    checked.failures.sort(key=lambda f: f.line)
    return checked
