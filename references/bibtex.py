"""Read and write BibTeX (and the biblatex fields Zotero and JabRef add) as CSL-JSON records.

bibtexparser splits the file into blocks and reports the blocks it cannot parse; macros,
`#` concatenation, LaTeX, names and the field mapping are done here, one entry at a time,
so a bad entry becomes a Failure and never takes its neighbours down with it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from bibtexparser.middlewares.names import (
    NameParts,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ImplicitComment,
    ParsingFailedBlock,
    String,
)
from bibtexparser.splitter import Splitter

from references import bibtex_dates as dates
from references.bibtex_text import (
    UnreadableValue,
    check_size,
    collapse,
    decode,
    encode,
    resolve,
)
from references.identifiers import normalise_doi, normalise_pages, normalise_pmcid, normalise_pmid
from references.record import Failure, ReadResult, Record

FORMAT = "bib"

BIB_TO_CSL = {
    "article": "article-journal",
    "book": "book",
    "booklet": "pamphlet",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "proceedings": "book",
    "manual": "report",
    "techreport": "report",
    "report": "report",
    "thesis": "thesis",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "unpublished": "manuscript",
    "patent": "patent",
    "dataset": "dataset",
    "software": "software",
    "periodical": "periodical",
}
CSL_TO_BIB = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "review": "article",
    "book": "book",
    "pamphlet": "booklet",
    "chapter": "incollection",
    "paper-conference": "inproceedings",
    "report": "techreport",
    "thesis": "phdthesis",
    "manuscript": "unpublished",
    # biblatex's type: Zotero, JabRef and biber read it; BibTeX styles treat it as @misc.
    "webpage": "online",
}
# Plain fields: BibTeX name -> CSL variable, in the order they are written.
TEXT_FIELDS = {
    "title": "title",
    "shorttitle": "title-short",
    "journal": "container-title",
    "journaltitle": "container-title",
    "shortjournal": "container-title-short",
    "publisher": "publisher",
    "address": "publisher-place",
    "location": "publisher-place",
    "volume": "volume",
    "number": "issue",
    "edition": "edition",
    "series": "collection-title",
    "abstract": "abstract",
    "note": "note",
    "language": "language",
    "issn": "ISSN",
    "isbn": "ISBN",
}
NAME_FIELDS = ("author", "editor")
# Copied as written: identifiers and paths are not LaTeX.
VERBATIM = {"url", "doi", "pmid", "pmcid", "urldate", "date", "eprint", "file"}
_KEY_RE = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s{}()]+)\s*,")
_FIELD_LIKE = re.compile(r"^\s*\w[\w-]*\s*=\s*[{\"\d]", re.MULTILINE)


class _EntryError(Exception):
    pass


# Keys read with a note: an entry without one, or with one an earlier entry of the file has.
_NO_KEY = re.compile(
    r"^([ \t]*@\s*(?!(?:string|preamble|comment)\b)\w+\s*[{(])(\s*[\w-]+\s*=)",
    re.IGNORECASE | re.MULTILINE,
)
# Entries that are not references: biblatex groups other entries into a @set.
NOT_REFERENCES = {"set": "a biblatex @set groups other entries and is not a reference"}


def read(text: str, file: str = "<text>") -> ReadResult:
    """Read BibTeX text; entries that cannot be read become failures, never exceptions."""
    text = text.lstrip("\ufeff")
    result = ReadResult(format=FORMAT)
    try:
        # `@article{title = ...}`: an entry without a key, read with an empty one as JabRef does.
        library = Splitter(_NO_KEY.sub(r"\1,\2", text)).split()
    except Exception as e:  # noqa: BLE001 - the splitter on odd input: one line, no traceback
        result.failures.append(Failure(file, 1, None, f"cannot be split into entries ({e!r:.80})"))
        return result
    strings = _strings(library.blocks)
    keys: set[str] = set()
    for block in library.blocks:
        line = (block.start_line or 0) + 1
        try:
            _read_block(block, line, file, strings, keys, result)
        except Exception as e:  # noqa: BLE001 - the entry fails, its neighbours stay
            m = _KEY_RE.match(getattr(block, "raw", "") or "")
            error = f"cannot be read ({type(e).__name__}: {collapse(str(e))[:80]})"
            result.failures.append(Failure(file, line, m.group(1) if m else None, error))
    _inherit_crossrefs(result.records)
    return result


def _read_block(
    block: Any, line: int, file: str, strings: dict[str, str], keys: set[str], result: ReadResult
) -> None:
    """Read one block of the file into the result: a record, a failure, a warning or nothing."""
    if isinstance(block, DuplicateBlockKeyBlock):
        if isinstance(block.ignore_error_block, String):
            return  # a redefined @string: the later definition wins, as in BibTeX
        block = block.ignore_error_block
    first_only: list[str] = []
    if isinstance(block, DuplicateFieldKeyBlock):
        first_only = sorted(block.duplicate_keys)
        block = block.ignore_error_block
    if isinstance(block, ParsingFailedBlock):
        raw = block.raw or ""
        m = _KEY_RE.match(raw)
        reason = getattr(block.error, "abort_reason", str(block.error))
        result.failures.append(
            Failure(file, line, m.group(1) if m else None, collapse(reason), raw)
        )
        return
    if isinstance(block, ImplicitComment):
        if _FIELD_LIKE.search(block.comment):
            result.warnings.append(
                Failure(file, line, None, "text outside any entry is skipped", block.raw or "")
            )
        return
    if not isinstance(block, Entry):
        return
    entry_type = block.entry_type.lower()
    if entry_type in NOT_REFERENCES:
        result.skipped.append(Failure(file, line, block.key or None, NOT_REFERENCES[entry_type]))
        return
    key = block.key
    if first_only:
        names = ", ".join(first_only)
        result.warnings.append(
            Failure(file, line, key or None, f"field given twice: {names}; the first is kept")
        )
    if key and key.lower() in keys:
        key = _suffixed(key, keys)
        result.warnings.append(
            Failure(
                file, line, block.key, f"key {block.key!r} is used twice; this entry is {key!r}"
            )
        )
    if key:
        keys.add(key.lower())
    else:
        result.warnings.append(
            Failure(file, line, None, "entry has no key; one is made from author, year and title")
        )
    try:
        result.add(_record(block, key, strings), line)
    except _EntryError as e:
        result.failures.append(Failure(file, line, key or None, str(e), block.raw))


def _suffixed(key: str, taken: set[str]) -> str:
    """Return key with the first suffix a, b, ... that no entry of the file has."""
    for n in range(1, 10_000):
        suffix, m = "", n
        while m:
            m, r = divmod(m - 1, 26)
            suffix = chr(97 + r) + suffix
        if (key + suffix).lower() not in taken:
            return key + suffix
    raise _EntryError(f"key {key!r} is used more than 10,000 times")


def _inherit_crossrefs(records: list[Record]) -> None:
    """Fill an entry's missing fields from the entry its ``crossref`` names, as BibTeX does."""
    by_key = {str(r.get("id", "")).lower(): r for r in records}
    for record in records:
        target = str((record.get("custom") or {}).get("crossref", "")).strip('{}\\" ').lower()
        parent = by_key.get(target)
        if parent is None or parent is record:
            continue
        for name, value in parent.items():
            if name not in ("id", "custom", "type") and name not in record:
                record[name] = copy.deepcopy(value)


def _strings(blocks: list[Any]) -> dict[str, str]:
    """Return the @string macros, each resolved against the ones defined before it."""
    strings: dict[str, str] = {}
    for block in blocks:
        if isinstance(block, DuplicateBlockKeyBlock) and isinstance(
            block.ignore_error_block, String
        ):
            block = block.ignore_error_block
        if not isinstance(block, String):
            continue
        # One @string block may define several macros ("jan = ..., feb = ...").
        body = re.sub(r"^@\s*string\s*[{(]", "", block.raw or "", flags=re.IGNORECASE)[:-1]
        for definition in _split_commas(body):
            name, _, value = definition.partition("=")
            if name.strip() and value.strip():
                try:
                    strings[name.strip().lower()] = resolve(value.strip(), strings)
                except UnreadableValue:
                    continue  # an entry using it reports the undefined macro
    return strings


def _split_commas(body: str) -> list[str]:
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(body):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "," and depth == 0 and not quoted:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return parts


def _record(entry: Entry, key: str, strings: dict[str, str]) -> Record:
    raw: dict[str, str] = {}
    for field in entry.fields:
        name = field.key.lower()
        if not name:
            raise _EntryError("a field has no name")
        if field.value == "":
            raise _EntryError(f"field {name!r} has no value")
        if name in raw:
            continue  # given twice: the first is kept (a warning says so)
        try:
            check_size(field.value, decoded=name not in VERBATIM)
            raw[name] = resolve(field.value, strings, month_field=name == "month")
        except UnreadableValue as e:
            raise _EntryError(f"field {name!r} {e}") from None
    try:
        return _fields_to_record(entry.entry_type.lower(), key, raw)
    except UnreadableValue as e:
        raise _EntryError(str(e)) from None


def _fields_to_record(bib_type: str, key: str, raw: dict[str, str]) -> Record:
    custom: dict[str, str] = {}
    csl_type = BIB_TO_CSL.get(bib_type, "document")
    if bib_type == "misc":
        csl_type = "webpage" if "url" in raw else "document"
    record: Record = {"id": key, "type": csl_type} if key else {"type": csl_type}

    def text(name: str) -> str:
        value = decode(raw[name])
        return value.strip() if name == "abstract" else collapse(value)

    for name, value in raw.items():
        variable = TEXT_FIELDS.get(name)
        if name == "booktitle" and csl_type in ("chapter", "paper-conference"):
            variable = "container-title"
        if name in ("school", "institution", "organization") and csl_type in ("thesis", "report"):
            variable = "publisher"
        if name == "type" and csl_type in ("thesis", "report"):
            variable = "genre"
        if name == "number" and csl_type == "report":
            variable = "number"
        if variable and variable not in record:
            record[variable] = text(name)
        elif name in NAME_FIELDS:
            record[name] = _names(value)
        elif name == "pages":
            record["page"] = normalise_pages(text(name))
        elif name == "doi" and normalise_doi(value):
            record["DOI"] = normalise_doi(value)
        elif name == "pmid" and normalise_pmid(value):
            record["PMID"] = normalise_pmid(value)
        elif name == "pmcid" and normalise_pmcid(value):
            record["PMCID"] = normalise_pmcid(value)
        elif name == "url":
            record["URL"] = re.sub(r"^\\url\{(.*)\}$", r"\1", value.strip())
        elif name == "keywords":
            words = [collapse(w) for w in re.split(r"[,;]", decode(value))]
            record["keywords"] = [w for w in words if w]
        elif name == "urldate" and dates.parse_iso(value):
            record["accessed"] = {"date-parts": dates.parse_iso(value)}
        elif name in ("year", "month", "day", "date"):
            continue  # read together below
        else:
            custom[name] = value
    issued, unused = dates.issued(raw)
    if issued:
        record["issued"] = issued
    custom.update(unused)
    if csl_type == "thesis" and "genre" not in record and bib_type == "mastersthesis":
        record["genre"] = "Master's thesis"
    if custom:
        record["custom"] = custom
    return record


def _names(raw: str) -> list[dict[str, str]]:
    names: list[dict[str, str]] = []
    for name in split_multiple_persons_names(collapse(raw)):
        name = name.strip()
        if name.lower() == "others":
            names.append({"literal": "others"})
        elif _wholly_braced(name):
            names.append({"literal": collapse(decode(name[1:-1]))})
        else:
            parts = _comma_name(name) or parse_single_name_into_parts(name, strict=False)
            person: dict[str, str] = {}
            for csl, words in (
                ("family", parts.last),
                ("given", parts.first),
                ("non-dropping-particle", parts.von),
                ("suffix", parts.jr),
            ):
                if words:
                    person[csl] = collapse(decode(" ".join(words)))
            names.append(person)
    return names


def _top_level_split(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and (char == separator or (separator == " " and char.isspace())):
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _comma_name(name: str) -> NameParts | None:
    """Split 'von Last, First' and 'von Last, Jr, First' (bibtexparser misreads 'van Aa,')."""
    pieces = _top_level_split(name, ",")
    if len(pieces) < 2 or len(pieces) > 3:
        return None
    words = [w for w in _top_level_split(pieces[0], " ") if w]
    lead = 0
    while lead < len(words) - 1 and words[lead][:1].islower():
        lead += 1
    first = pieces[-1].split() if pieces[-1] else []
    jr = pieces[1].split() if len(pieces) == 3 else []
    return NameParts(first=first, von=words[:lead], last=words[lead:], jr=jr)


def _wholly_braced(name: str) -> bool:
    if not (name.startswith("{") and name.endswith("}")):
        return False
    depth = 0
    for i, char in enumerate(name):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and i < len(name) - 1:
            return False
    return True


# Writing ---------------------------------------------------------------------------------


def write(records: list[Record]) -> str:
    """Return records as a BibTeX file that BibTeX, biber, Zotero and JabRef read."""
    return "\n".join(_entry(record) for record in records)


def _entry(record: Record) -> str:
    csl_type = str(record.get("type") or "document")
    bib_type = CSL_TO_BIB.get(csl_type, "misc")
    genre = str(record.get("genre") or "")
    if csl_type == "thesis" and "master" in genre.lower():
        bib_type = "mastersthesis"
    fields: list[tuple[str, str]] = []

    def add(name: str, body: str) -> None:
        fields.append((name, "{" + body + "}"))

    for role in NAME_FIELDS:
        if record.get(role):
            add(role, " and ".join(_name_text(n) for n in record[role]))
    if record.get("title"):
        add("title", encode(str(record["title"]), protect_case=True))
    container = record.get("container-title")
    if container:
        name = {"chapter": "booktitle", "paper-conference": "booktitle"}.get(csl_type, "journal")
        add(name, encode(str(container)))
    fields.extend(dates.write_issued(record.get("issued")))
    written = {"title", "container-title"}
    for name, variable in TEXT_FIELDS.items():
        if variable in written or not record.get(variable):
            continue
        written.add(variable)
        if variable == "publisher":
            name = {"thesis": "school", "report": "institution"}.get(csl_type, "publisher")
        add(name, encode(str(record[variable])))
    if record.get("number") and csl_type == "report" and "issue" not in record:
        add("number", encode(str(record["number"])))
    if (
        genre
        and csl_type in ("thesis", "report")
        and not (bib_type == "mastersthesis" and genre == "Master's thesis")
    ):
        add("type", encode(genre))
    if record.get("page"):
        pages = str(record["page"])
        add("pages", encode(re.sub(r"(?<=\w)-(?=\w)", "--", pages)).replace("-{}-", "--"))
    for name, variable in (("doi", "DOI"), ("pmid", "PMID"), ("pmcid", "PMCID"), ("url", "URL")):
        if record.get(variable):
            add(name, str(record[variable]))
    if record.get("accessed"):
        accessed = dates.iso(record["accessed"])
        if accessed:
            add("urldate", accessed)
    if record.get("keywords"):
        add("keywords", ", ".join(encode(str(k)) for k in record["keywords"]))
    names = {name for name, _ in fields}
    for name, value in (record.get("custom") or {}).items():
        if name.lower() not in names:
            fields.append((name, "{" + str(value) + "}"))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@{bib_type}{{{_key(record)},\n{body}\n}}\n"


def _key(record: Record) -> str:
    key = re.sub(r"[\s,{}()\"'#%~\\=]", "", str(record.get("id") or ""))
    if key:
        return key
    family = (record.get("author") or [{}])[0]
    stem = re.sub(r"\W", "", str(family.get("family") or family.get("literal") or "anon"))
    return f"{stem.lower()}{dates.year_text(record.get('issued'))}"


def _name_text(name: dict[str, Any]) -> str:
    if name.get("literal"):
        literal = str(name["literal"])
        return literal if literal == "others" else "{" + encode(literal) + "}"
    family = encode(str(name.get("family") or ""))
    particle = " ".join(
        str(name.get(p) or "") for p in ("dropping-particle", "non-dropping-particle")
    )
    given = encode(str(name.get("given") or ""))
    suffix = encode(str(name.get("suffix") or ""))
    raw_family = str(name.get("family") or "")
    # Protect a family name BibTeX would split: a lower-case word would read as a particle.
    if any(w[:1].islower() for w in raw_family.split()) or " and " in raw_family or "," in family:
        family = "{" + family + "}"
    if "," in given or " and " in given:
        given = "{" + given + "}"
    last = f"{encode(particle.strip())} {family}".strip() if particle.strip() else family
    if not last:
        return "{}"
    # Always the comma form: "van Aa" alone would read as given name "van".
    return ", ".join([last] + ([suffix] if suffix else []) + [given])
