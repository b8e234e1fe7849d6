"""Pick the reader for a file, guard against files no reader should see, and write any format."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path

from references import bibtex, csljson, medline, ris
from references.record import FormatError, ReadResult, Record
from references.validate import validate_result

FORMATS = ("bib", "ris", "medline", "csl-json")
WRITABLE = ("bib", "ris", "csl-json")
MAX_BYTES = 20 * 1024 * 1024
NAMES = {"bib": "BibTeX", "ris": "RIS", "medline": "MEDLINE", "csl-json": "CSL-JSON"}

_READERS: dict[str, Callable[[str, str], ReadResult]] = {
    "bib": bibtex.read,
    "ris": ris.read,
    "medline": medline.read,
    "csl-json": csljson.read,
}
_WRITERS: dict[str, Callable[[list[Record]], str]] = {
    "bib": bibtex.write,
    "ris": ris.write,
    "csl-json": csljson.write,
}
_EXTENSIONS = {
    ".bib": "bib",
    ".bibtex": "bib",
    ".ris": "ris",
    ".nbib": "medline",
    ".medline": "medline",
    ".json": "csl-json",
}
_LOOKS_LIKE = {
    "bib": re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE),
    "ris": re.compile(r"^TY  -", re.MULTILINE),
    "medline": re.compile(r"^PMID- ?\d", re.MULTILINE),
    "csl-json": re.compile(r"\A\s*[\[{]"),
}
# JabRef writes "% Encoding: ..." at the top of files it did not save as UTF-8.
_DECLARED = re.compile(rb"^%\s*Encoding:\s*([\w-]+)", re.MULTILINE | re.IGNORECASE)
_SINGLE_BYTE = {"cp1252", "iso8859-1", "iso8859-15"}


def sniff(text: str) -> str | None:
    """Return the format text looks like, or None."""
    for name in ("csl-json", "ris", "medline", "bib"):
        if _LOOKS_LIKE[name].search(text[:100_000]):
            return name
    return None


def detect(path: str | Path, text: str) -> str:
    """Return the format of a file, by its extension or else by its content."""
    suffix = Path(path).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    found = sniff(text.lstrip("\ufeff"))
    if found:
        return found
    if suffix in (".txt", ".medline"):
        return "medline"
    raise FormatError(str(path), "is not BibTeX, RIS, MEDLINE or CSL-JSON")


def read_text(text: str, format: str, file: str = "<text>") -> ReadResult:
    """Read text in a named format; every record passes the one CSL-JSON validation."""
    if format not in _READERS:
        raise FormatError(file, f"unknown format {format!r}; known: {', '.join(FORMATS)}")
    return validate_result(_READERS[format](text, file), file)


def read_path(path: str | Path) -> ReadResult:
    """Read a file of any known format; raise FormatError when the file as a whole cannot be read."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise FormatError(name, "does not exist")
    if path.is_dir():
        raise FormatError(name, "is a directory, not a file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise FormatError(
            name, f"is {size / 1024 / 1024:.1f} MB; the largest file import takes is 20 MB"
        )
    data = path.read_bytes()
    text = _decode(name, data)
    if not text.strip():
        raise FormatError(name, "is empty")
    format = detect(path, text)
    if format != "csl-json" and not _LOOKS_LIKE[format].search(text):
        raise FormatError(name, f"is not {NAMES[format]}: no {_WHAT[format]} found")
    return read_text(text, format, name)


_WHAT = {
    "bib": "@entry",
    "ris": "'TY  - ' line",
    "medline": "'PMID- ' line",
    "csl-json": "item",
}


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        declared = _DECLARED.search(data[:4096])
        if declared:
            try:
                codec = codecs.lookup(declared.group(1).decode("ascii").replace("Cp", "cp")).name
            except LookupError:
                codec = ""
            if codec in _SINGLE_BYTE:
                return data.decode(codec)
        line = data.count(b"\n", 0, e.start) + 1
        raise FormatError(
            name,
            f"is not UTF-8 (byte 0x{data[e.start]:02x} on line {line}); save it as UTF-8",
            line,
        ) from None


def write(records: list[Record], format: str) -> str:
    """Return records in a writable format ('bib', 'ris' or 'csl-json')."""
    if format not in _WRITERS:
        raise ValueError(f"cannot write {format!r}; writable: {', '.join(WRITABLE)}")
    return _WRITERS[format](records)
