"""Read and write RIS (Zotero, EndNote, Embase, Scopus, PubMed) as CSL-JSON records.

The reader counts records itself: a record without TY or ER becomes a Failure with its line
number. An untagged line inside a record continues the tag before it, whatever the tag, as
EndNote, Zotero and Web of Science write wrapped values; under the tags EndNote repeats on
lines of their own (notes, keywords, addresses, ISSNs) it is a further value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from references.identifiers import (
    expand_page_range,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
)
from references.record import Failure, ReadResult, Record

FORMAT = "ris"
TAG_RE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
# EndNote writes further values of these tags on untagged lines of their own.
REPEATED = {"N1", "KW", "AD", "SN"}

TY_TO_CSL = {
    "JOUR": "article-journal",
    "JFULL": "article-journal",
    "EJOUR": "article-journal",
    "INPR": "article-journal",
    "ABST": "article-journal",
    "MGZN": "article-magazine",
    "NEWS": "article-newspaper",
    "BOOK": "book",
    "EBOOK": "book",
    "EDBOOK": "book",
    "SER": "book",
    "CHAP": "chapter",
    "ECHAP": "chapter",
    "CONF": "paper-conference",
    "CPAPER": "paper-conference",
    "RPRT": "report",
    "GOVDOC": "report",
    "THES": "thesis",
    "ELEC": "webpage",
    "WEB": "webpage",
    "BLOG": "post-weblog",
    "DATA": "dataset",
    "PAT": "patent",
    "COMP": "software",
    "UNPB": "manuscript",
    "PAMP": "pamphlet",
    "GEN": "document",
}
CSL_TO_TY = {
    "article-journal": "JOUR",
    "article-magazine": "MGZN",
    "article-newspaper": "NEWS",
    "book": "BOOK",
    "chapter": "CHAP",
    "paper-conference": "CONF",
    "report": "RPRT",
    "thesis": "THES",
    "webpage": "ELEC",
    "post-weblog": "BLOG",
    "dataset": "DATA",
    "patent": "PAT",
    "software": "COMP",
    "manuscript": "UNPB",
    "pamphlet": "PAMP",
}
ROLES = {"AU": "author", "A1": "author", "A2": "editor", "ED": "editor", "A3": "collection-editor"}
ROLES_OUT = {"author": "AU", "editor": "A2", "collection-editor": "A3"}
SIMPLE = {
    "VL": "volume",
    "IS": "issue",
    "PB": "publisher",
    "CY": "publisher-place",
    "LA": "language",
    "ET": "edition",
    "T3": "collection-title",
    "DB": "archive",
    "AN": "archive_location",
    "ID": "id",
}


@dataclass
class _Raw:
    line: int
    tags: list[tuple[str, str]] = field(default_factory=list)


def read(text: str, file: str = "<text>") -> ReadResult:
    """Read RIS text; records that cannot be read become failures."""
    result = ReadResult(format=FORMAT)
    current: _Raw | None = None
    stray: _Raw | None = None  # tagged lines outside a record: a record without TY
    # Lines end at "\n" alone, as in an editor (splitlines also breaks at U+2028 and others).
    lines = [line.removesuffix("\r") for line in text.lstrip("\ufeff").split("\n")]

    def fail(raw: _Raw, line: int, error: str, end: int) -> None:
        key = dict(raw.tags).get("ID") or dict(raw.tags).get("AN")
        body = "\n".join(lines[raw.line - 1 : end])
        result.failures.append(Failure(file, line, key, error, body))

    for number, line in enumerate(lines, start=1):
        m = TAG_RE.match(line.rstrip())
        if m:
            tag, value = m.group(1), (m.group(2) or "").strip()
            if tag == "TY":
                if current is not None:
                    fail(
                        current,
                        current.line,
                        f"record has no ER before the next TY on line {number}",
                        number - 1,
                    )
                if stray is not None:
                    fail(stray, stray.line, "record has no TY", number - 1)
                    stray = None
                current = _Raw(number, [(tag, value)])
            elif current is None:
                if tag == "ER":
                    fail(
                        stray or _Raw(number),
                        (stray or _Raw(number)).line,
                        "record has no TY",
                        number,
                    )
                    stray = None
                else:
                    stray = stray or _Raw(number)
                    stray.tags.append((tag, value))
            elif tag == "ER":
                try:
                    result.add(_record(current.tags), current.line)
                except Exception as e:  # noqa: BLE001 - the record fails, its neighbours stay
                    fail(current, current.line, f"cannot be read ({type(e).__name__}: {e})", number)
                current = None
            else:
                current.tags.append((tag, value))
        elif not line.strip():
            continue
        elif current is not None and current.tags[-1][0] in REPEATED:
            current.tags.append((current.tags[-1][0], line.strip()))
        elif current is not None:
            tag, value = current.tags[-1]
            current.tags[-1] = (tag, f"{value} {line.strip()}".strip())
        elif stray is not None:
            stray.tags.append(("", line))
        else:
            result.failures.append(
                Failure(file, number, None, "line is outside any record and has no tag", line)
            )
    if current is not None:
        fail(current, current.line, "record has no ER (end of file reached)", len(lines))
    if stray is not None:
        fail(stray, stray.line, "record has no TY", len(lines))
    return result


def _record(tags: list[tuple[str, str]]) -> Record:
    ty = tags[0][1].upper()
    record: Record = {"type": TY_TO_CSL.get(ty, "document")}
    values: dict[str, list[str]] = {}
    for tag, value in tags[1:]:
        if value:
            values.setdefault(tag, []).append(value)
        if tag in ROLES and value:
            record.setdefault(ROLES[tag], []).append(person_name(value))

    def first(*names: str) -> str | None:
        for name in names:
            if values.get(name):
                return values[name][0]
        return None

    if title := first("TI", "T1", "CT"):
        record["title"] = title
    container_tags = ("JF", "JO", "T2", "BT", "JA", "J2") if ty != "BOOK" else ("JF", "JO", "BT")
    if container := first(*container_tags):
        record["container-title"] = container
    short = first("J2", "JA")
    if short and short != record.get("container-title"):
        record["container-title-short"] = short
    if ty == "BOOK" and values.get("T2") and "collection-title" not in record:
        record["collection-title"] = values["T2"][0]
    for tag, variable in SIMPLE.items():
        if values.get(tag) and variable not in record:
            record[variable] = values[tag][0]
    if date := _date(first("PY", "Y1"), first("DA")):
        record["issued"] = date
    if accessed := _date(first("Y2"), None):
        record["accessed"] = accessed
    start, end = first("SP"), first("EP")
    if start:
        record["page"] = expand_page_range(f"{start}-{end}" if end and "-" not in start else start)
    if doi := normalise_doi(first("DO") or ""):
        record["DOI"] = doi
    if url := first("UR", "L2"):
        record["URL"] = url
    if abstract := first("AB", "N2"):
        record["abstract"] = "\n".join(values.get("AB") or values.get("N2") or [abstract])
    if notes := values.get("N1"):
        record["note"] = "\n".join(notes)
    keywords = [k.strip() for v in values.get("KW", []) for k in v.split(";") if k.strip()]
    if keywords:
        record["keywords"] = keywords
    for number in values.get("SN", []):
        # ISSNs are 8 characters (1234-567X, maybe "(Print)"); anything longer is an ISBN.
        issn = re.match(r"(\d{4}-?\d{3}[\dXx])\b(?!-)", number.strip())
        if issn:
            record.setdefault("ISSN", issn.group(1))
        else:
            record.setdefault("ISBN", number.strip())
    source = " ".join(values.get("DB", []) + values.get("DP", [])).lower()
    accession = first("AN") or ""
    # PubMed exports (EndNote's, Zotero's) put the PMID in AN.
    if accession.isdigit() and any(w in source for w in ("pubmed", "medline", "nlm")):
        record["PMID"] = accession
        # Read as the PMID, AN and DB are not also an archive and its location.
        if record.get("archive_location") == accession:
            del record["archive_location"]
            if str(record.get("archive", "")).lower() in ("pubmed", "medline", "nlm"):
                del record["archive"]
    if pmcid := next((v for v in values.get("C2", []) if re.fullmatch(r"PMC\d+", v)), None):
        record["PMCID"] = pmcid
    types = values.get("M3", []) + values.get("PT", [])
    if types:
        record["publication-types"] = types
    return record


def _date(year_field: str | None, date_field: str | None) -> dict[str, list[list[int]]] | None:
    """Return a CSL date from RIS 'YYYY/MM/DD/other' fields."""
    parts: list[int] = []
    for text in (date_field, year_field):
        if not text:
            continue
        pieces = re.split(r"[/-]", text.strip())
        numbers = []
        for piece in pieces[:3]:
            if not piece.strip().isdigit():
                break
            numbers.append(int(piece))
        same_year = not parts or parts[0] == (numbers or [0])[0]
        if numbers and len(str(numbers[0])) == 4 and len(numbers) > len(parts) and same_year:
            parts = numbers
    if not parts:
        return None
    return {"date-parts": [parts]}


_INITIALS = re.compile(r"(?:[A-Z][a-z]?\.?-?){1,4}")


def person_name(text: str) -> dict[str, str]:
    """Return a CSL name for 'Family, Given[, Suffix]', 'Family KJ' or an organisation."""
    text = re.sub(r"\s+", " ", text).strip()
    if "," in text:
        family, _, rest = text.partition(",")
        given, _, suffix = rest.strip().partition(",")
        name = _family_parts(family.strip())
        if given.strip():
            name["given"] = given.strip()
        if suffix.strip():
            name["suffix"] = suffix.strip()
        return name
    words = text.split(" ")
    # "Sherman KJ" (PubMed AU) and "Sherman K.J." (Embase): a family name then initials.
    if len(words) > 1 and _INITIALS.fullmatch(words[-1]) and words[-1][0].isupper():
        name = _family_parts(" ".join(words[:-1]))
        name["given"] = words[-1]
        return name
    return {"literal": text}


def _family_parts(family: str) -> dict[str, str]:
    words = family.split(" ")
    lead = 0
    while lead < len(words) - 1 and words[lead][:1].islower():
        lead += 1
    name = {"family": " ".join(words[lead:])}
    if lead:
        name["non-dropping-particle"] = " ".join(words[:lead])
    return name


# Writing ---------------------------------------------------------------------------------


def write(records: list[Record]) -> str:
    """Return records as RIS text."""
    return "".join(_write_record(record) for record in records)


def _write_record(record: Record) -> str:
    lines: list[tuple[str, str]] = [("TY", CSL_TO_TY.get(str(record.get("type")), "GEN"))]
    if record.get("id"):
        lines.append(("ID", str(record["id"])))
    for role, tag in ROLES_OUT.items():
        for name in record.get(role) or []:
            lines.append((tag, _name_text(name)))
    for tag, variable in (
        ("TI", "title"),
        ("T2", "container-title"),
        ("J2", "container-title-short"),
    ):
        if record.get(variable):
            lines.append((tag, _one_line(record[variable])))
    parts = ((record.get("issued") or {}).get("date-parts") or [[]])[0]
    if parts:
        lines.append(("PY", str(parts[0])))
        if len(parts) > 1:
            lines.append(("DA", "/".join([str(parts[0])] + [f"{int(p):02d}" for p in parts[1:3]])))
    if accessed := ((record.get("accessed") or {}).get("date-parts") or [[]])[0]:
        lines.append(
            ("Y2", "/".join([str(accessed[0])] + [f"{int(p):02d}" for p in accessed[1:3]]))
        )
    pubmed = _pubmed_lines(record)
    taken = {tag for tag, _ in pubmed}  # a PMID takes DB and AN (see _pubmed_lines)
    for tag, variable in SIMPLE.items():
        if tag != "ID" and tag not in taken and record.get(variable):
            lines.append((tag, _one_line(record[variable])))
    if record.get("page"):
        start, _, end = str(record["page"]).partition("-")
        lines.append(("SP", start))
        if end:
            lines.append(("EP", end))
    for tag, variable in (("DO", "DOI"), ("UR", "URL"), ("SN", "ISSN"), ("SN", "ISBN")):
        if record.get(variable):
            lines.append((tag, str(record[variable])))
    lines.extend(pubmed)
    for paragraph in str(record.get("abstract") or "").split("\n"):
        if paragraph.strip():
            lines.append(("AB", paragraph.strip()))
    for note in str(record.get("note") or "").split("\n"):
        if note.strip():
            lines.append(("N1", note.strip()))
    lines.extend(("KW", _one_line(k)) for k in record.get("keywords") or [])
    lines.extend(("M3", _one_line(t)) for t in record.get("publication-types") or [])
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {value}".rstrip() + "\n" for tag, value in lines) + "\n"


def _pubmed_lines(record: Record) -> list[tuple[str, str]]:
    """Return the PMID and PMCID where EndNote and Zotero read them back.

    EndNote files a PubMed record's PMID as its accession number (AN) from the database (DB)
    PubMed, and the PMCID in Custom 2 (C2); Zotero imports DB and AN as Archive and Loc. in
    Archive, and this library's reader takes AN as the PMID when DB names PubMed.
    """
    lines: list[tuple[str, str]] = []
    if pmid := normalise_pmid(record.get("PMID")):
        lines += [("DB", "PubMed"), ("AN", pmid)]
    if pmcid := normalise_pmcid(str(record.get("PMCID") or "")):
        lines.append(("C2", pmcid))
    return lines


def _one_line(value: object) -> str:
    return re.sub(r"\s+", " ", str(value)).strip()


def _name_text(name: dict[str, str]) -> str:
    if name.get("literal"):
        return _one_line(name["literal"])
    family = " ".join(str(name.get(p) or "") for p in ("non-dropping-particle", "family")).strip()
    parts = [family, str(name.get("given") or "")]
    if name.get("suffix"):
        parts.append(str(name["suffix"]))
    return ", ".join(p for p in parts if p) if parts[1] or len(parts) > 2 else family + ","
