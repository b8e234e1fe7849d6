"""The record model: one citable work as a CSL-JSON item.

A record is a plain ``dict`` shaped like a CSL-JSON item (https://citeproc-js.readthedocs.io/en/latest/csl-json/markup.html):
``id`` is the citation key, ``type`` the CSL type, ``author`` a list of names
(``{"family", "given", "non-dropping-particle", "dropping-particle", "suffix"}`` or
``{"literal"}``), ``issued`` / ``accessed`` as ``{"date-parts": [[y, m, d]]}``,
and ``DOI``, ``PMID``, ``PMCID``, ``URL`` in CSL's spelling. Fields CSL has no
variable for keep their source name in lower case (``keywords`` as a list of
strings, ``language``, ``abstract``). Readers return records and failures;
they never drop an entry silently: what they read differently from the file (a made-up key, a
field given twice) is a warning, and what is not a reference (a biblatex ``@set``) is listed
as skipped, both with the entry's line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]

# CSL name parts, in the order a display name is built from.
NAME_PARTS = ("given", "dropping-particle", "non-dropping-particle", "family", "suffix", "literal")


@dataclass(frozen=True)
class Failure:
    """An entry a reader could not turn into a record."""

    file: str
    line: int  # 1-based line where the entry starts
    key: str | None  # the entry's key or id when one could be read
    error: str  # what is wrong, in one line
    raw: str = ""  # the entry's raw text

    def message(self) -> str:
        """Return the one-line message shown to a person."""
        where = f"{self.file}:{self.line}"
        entry = f" entry {self.key!r}" if self.key else ""
        return f"{where}:{entry} {self.error}".replace(":  ", ": ")

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "key": self.key, "error": self.error}


@dataclass
class ReadResult:
    """What a reader made of one file: the records and the entries it could not read."""

    records: list[Record] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    format: str = ""
    # Oddities read the way Zotero and JabRef read them, one line each; --strict refuses them.
    warnings: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)  # entries that are not references
    lines: list[int] = field(default_factory=list)  # the line each record starts on

    def add(self, record: Record, line: int) -> None:
        """Add a record read from the entry that starts on ``line``."""
        self.records.append(record)
        self.lines.append(line)

    def line_of(self, index: int) -> int:
        """Return the line the record at ``index`` starts on (1 when the reader did not say)."""
        return self.lines[index] if index < len(self.lines) else 1

    def extend(self, other: ReadResult) -> None:
        self.records.extend(other.records)
        self.lines.extend(other.lines)
        self.failures.extend(other.failures)
        self.warnings.extend(other.warnings)
        self.skipped.extend(other.skipped)


class FormatError(Exception):
    """A whole file cannot be read (wrong encoding, not this format, a directory, too large)."""

    def __init__(self, file: str, error: str, line: int = 1, key: str | None = None):
        self.failure = Failure(file=file, line=line, key=key, error=error)
        super().__init__(self.failure.message())


def year_of(record: Record) -> int | None:
    """Return the year the work was issued, or None."""
    issued = record.get("issued") or {}
    parts = issued.get("date-parts") or []
    if parts and parts[0] and parts[0][0] not in (None, ""):
        try:
            return int(parts[0][0])
        except (TypeError, ValueError):
            return None
    raw = issued.get("raw") or issued.get("literal")
    if raw:
        m = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", str(raw))
        if m:
            return int(m.group(1))
    return None


def name_text(name: dict[str, Any]) -> str:
    """Return a person's or organisation's name as 'Given Particle Family'."""
    if name.get("literal"):
        return str(name["literal"])
    parts = [name.get(p) for p in ("given", "dropping-particle", "non-dropping-particle", "family")]
    text = " ".join(str(p) for p in parts if p)
    if name.get("suffix"):
        text += f", {name['suffix']}"
    return text


def family_of(name: dict[str, Any]) -> str:
    """Return the name a list is sorted and matched by (the family name or the literal)."""
    if name.get("literal"):
        return str(name["literal"])
    particle = name.get("non-dropping-particle")
    family = str(name.get("family") or "")
    return f"{particle} {family}" if particle else family


# Browsers drop ASCII tabs and newlines anywhere in a URL and C0 controls and spaces around it
# before reading its scheme, so " Java\tScript:" is javascript: to them.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_WEB_URL = re.compile(r"https?://", re.IGNORECASE)
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))


def link_target(url: object) -> str | None:
    """Return a URL as a browser would follow it if it is http(s), else None (show it as text)."""
    if not isinstance(url, str):
        return None
    cleaned = _URL_IGNORED.sub("", url).strip(_C0_AND_SPACE)
    return cleaned if _WEB_URL.match(cleaned) else None
