"""Read one pasted reference into its parts (best effort): identifiers, authors, year, title,
journal, volume, issue and pages, in any common style (APA, AMA/Vancouver, Harvard, MLA, Chicago).

HTML in an entry is never interpreted: tags are dropped and entities decoded for reading, and the
entry's text is kept as pasted for display.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from references.identifiers import normalise_doi, normalise_pmcid, normalise_pmid
from references.refsplit import MAX_PASTE, PasteTooLarge, RawEntry, split_entries

__all__ = ["MAX_PASTE", "PasteTooLarge", "PastedEntry", "RawEntry", "parse_entry", "split_entries"]

_YEAR_RE = re.compile(r"(?<!\d)(?:1[89]\d\d|20\d\d)(?!\d)")

# --- reading one entry -------------------------------------------------------------------------

_TAG_RE = re.compile(r"<[A-Za-z/!][^<>]{0,500}>")
_DOI_IN_TEXT_RE = re.compile(
    r"(?:https?://(?:dx\.)?doi\.org/|\bdoi\s*:?\s*|\bDOI\s+)?(10\.\d{4,9}/[^\s\"<>]+)",
    re.IGNORECASE,
)
_DOI_GLUE_RE = re.compile(r"(?i)\.?(?:pmid|pmcid|epub|https?:|\[pubmed|\[google|\[pmc|\[crossref)")
_PMID_RE = re.compile(r"\bPMID\s*:?\s*(\d{1,9})", re.IGNORECASE)
_PMCID_RE = re.compile(r"\bPMC(?:ID)?\s*:?\s*(?:PMC)?(\d{3,9})\b", re.IGNORECASE)
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_NOISE_RE = re.compile(
    r"\[(?:PMC free article|PubMed|Google Scholar|CrossRef|Ref list|DOI)\]|\[cited [^\]]{0,40}\]|\[Preprint\]"
    r"|\b(?:Accessed|Retrieved|Cited|Viewed)(?:\s+on)?\s+[^.]*?\d{4}(?:,?\s+from\b)?\.?"
    r"|\bView at (?:Publisher|Google Scholar|Scopus|PubMed|Web of Science|MathSciNet)\b\s*[·|]?"
    r"|\bRetrieved from\b|\bAvailable (?:from|at)\s*:?|\bEpub\b[^.;]*[.;]?|\[Internet\]",
    re.IGNORECASE,
)
_QUOTED_RE = re.compile(
    r"[\"“”«]\s*([^\"“”«»]{8,}?)[,.]?\s*[\"”“»]"
    r"|(?:^|(?<=[\s(]))['‘]([^'‘’]{8,}?)[,.]?['’](?=[,.:;]|\s+in\b)"  # Harvard: 'Title', Journal
)
_PAREN_YEAR_RE = re.compile(r"\(\s*((?:1[89]|20)\d\d)[a-z]?(?:[,;][^()]{0,30})?\s*\)")
# "(n.d.)" stands where the year would: it ends the author list of an undated web page.
_NO_DATE_RE = re.compile(r"\((?:n\.\s?d\.?|no date|nd|undated)\)", re.IGNORECASE)
_BARE_YEAR_RE = re.compile(r"(?<=[,.])\s+((?:1[89]|20)\d\d)[a-z]?(?=[.,:]\s|[.]?$)")
_AMA_AUTHORS_RE = re.compile(
    r"^(?:[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+(?:\s(?:[a-z]{1,3}\s)?[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+)*\s[A-Z]{1,3}(?:-[A-Z])?(?:\s[A-Z]{1,3}|\s[a-z]{1,3}\s[A-Z]{1,3})?"
    r"(?:,\s*|\s+(?:and|&)\s+)?)+(?:,?\s*et\s+al)?\.\s"
)
_SENTENCE_END_RE = re.compile(r"(?<=[.?!])\s+(?=[\"“‘(\[]?[A-Z0-9])")
_NOT_SENTENCE_END = {"vs", "eg", "ie", "al", "no", "vol", "pp", "ed", "eds", "st", "dr", "jr", "sr"}
_LOWER_RUN_RE = re.compile(r"\b[a-z][a-z'’\-]*\s+[a-z][a-z'’\-]*\s+[a-z][a-z'’\-]*\b")
_PAGES = r"[A-Za-z]{0,3}\d+[A-Za-z]?(?:\s*[-–—]\s*[A-Za-z]{0,3}\d+[A-Za-z]?)?"
_AMA_SOURCE_RE = re.compile(
    rf"((?:1[89]|20)\d\d)[^;:()]{{0,25}};\s*(\d+)?\s*(?:\(([^)]{{1,20}})\))?\s*(?::\s*({_PAGES}))?"
)
_CHICAGO_SOURCE_RE = re.compile(
    rf"(?<![\d.])(\d+)(?:,\s*no\.\s*(\w+))?\s*\((?:[A-Za-z]+\.?\s+)?((?:1[89]|20)\d\d)\)\s*:\s*({_PAGES})"
)
_VOL_KW_RE = re.compile(r"\bvol(?:ume)?\.?\s*(\d+)", re.IGNORECASE)
_ISSUE_KW_RE = re.compile(r"\b(?:no|issue|iss|nr)\.?\s*(\d+[A-Za-z]?)\b", re.IGNORECASE)
_PAGES_KW_RE = re.compile(rf"\b(?:pp?|pages?)\.?\s*({_PAGES})", re.IGNORECASE)
_ARTICLE_NO_RE = re.compile(
    r"\bArt(?:icle)?\.?\s*(?:No\.?|number)\s*:?\s*([A-Za-z]*\d+)", re.IGNORECASE
)
_VOL_ISSUE_PAGES_RE = re.compile(
    rf"(?<![\d.])(\d{{1,5}})\s*(?:\(([^)]{{1,20}})\))?\s*[,:]\s*(?:pp?\.?\s*)?({_PAGES})(?![\d(])"
)
_JOURNAL_END_RE = re.compile(
    r"\s*(?:[.,;:]\s*|\s)(?=\d|[A-Z]{1,3}\d{4,}|vol\b|volume\b|pp?\.|no\.|issue\b|art\.|\(\d"
    r"|published\s+online\b|(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?[\s,])"
    r"|\s*[.,;]\s*$",
    re.IGNORECASE,
)
_MLA_FIRST_RE = re.compile(
    r"^([A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+(?:\s(?:[a-z]{1,3}\s)?[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+)*),\s*"
    r"([A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]*\.?(?:\s[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]*\.?)*)(?:,\s*|\s*$)"
)
_GIVEN_FIRST_RE = re.compile(
    r"^(?:[A-Z]\.\s?-?)+\s?[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+(?:\s[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+)?$"
)
_INITIALS_RE = re.compile(
    r"(?:\b[A-Z]\.\s*-?\s*)+$|\s[A-Z]{1,3}(?:-[A-Z])?(?:\s[a-z]{1,3}\s[A-Z])?$"
)


@dataclass
class PastedEntry:
    """One entry of a pasted list and what could be read from it (every part may be missing)."""

    text: str  # the entry as pasted (lines joined), shown back to the writer
    number: str | None = None
    clean: str = ""  # tags stripped, entities decoded: what matching reads
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None
    year: int | None = None
    title: str | None = None
    authors: list[str] | None = None  # family names, or an organisation, in order
    et_al: bool = False
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    initials: list[str] | None = None  # each author's given-name initials ("KJ"), "" when unknown
    accessed: tuple[int, int, int] | None = None  # "Accessed July 31, 2015"

    def as_json(self) -> dict[str, object]:
        return {
            "doi": self.doi,
            "pmid": self.pmid,
            "url": self.url,
            "year": self.year,
            "title": self.title,
            "authors": list(self.authors or []),
            "et_al": self.et_al,
            "journal": self.journal,
            "volume": self.volume,
            "issue": self.issue,
            "pages": self.pages,
        }


def clean_text(text: str) -> str:
    """Return the entry as matching reads it: no tags or entities, plain dashes and spaces."""
    import html
    import unicodedata

    if "<" in text and _TAG_RE.search(text):
        # Tags are never interpreted: they are dropped so "<i>Clin J Pain</i>" reads as words.
        text = _TAG_RE.sub(" ", text)
    text = html.unescape(text) if "&" in text else text
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("‐", "-").replace("‑", "-").replace("−", "-")
    return re.sub(r"\s+", " ", text).strip()


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    m = pattern.search(text)
    if not m:
        return None, text
    return m, text[: m.start()] + " " + text[m.end() :]


def _take_doi(text: str) -> tuple[str | None, str]:
    m = _DOI_IN_TEXT_RE.search(text)
    if not m:
        return None, text
    raw = m.group(1)
    glue = _DOI_GLUE_RE.search(raw, 8)
    end = m.start(1) + (glue.start() if glue else len(raw))
    doi = normalise_doi(text[m.start(1) : end])
    return doi, text[: m.start()] + " " + text[end:]


def _first_sentence(text: str) -> tuple[str, str]:
    """Return the first sentence of text (a title, an author list) and the rest."""
    for m in _SENTENCE_END_RE.finditer(text):
        before = text[: m.start()]
        word = re.search(r"([\w'’]+)[.?!]$", before)
        if before.endswith(".") and word:
            token = word.group(1)
            if (len(token) == 1 and token.isupper()) or token.lower() in _NOT_SENTENCE_END:
                continue  # an initial, "et al." or "vs.": the sentence goes on
        return before.strip(), text[m.end() :].strip()
    return text.strip(), ""


def _looks_like_names(text: str) -> bool:
    words = text.split()
    return (
        bool(words)
        and len(words) <= 150  # reviews list twenty authors and more
        and not _LOWER_RUN_RE.search(
            re.sub(r"\bet al\b|\b(?:van|von|de|der|den|la|le|du|da|dos|del)\b", "", text)
        )
    )


def parse_authors(block: str) -> tuple[list[str], bool]:
    """Return the family names (or an organisation) in an author list, and whether it says et al."""
    families, _, et_al = parse_names(block)
    return families, et_al


def _initials_of(given: str) -> str:
    """Return the initials of given names: "K. J." and "Karen J." give "KJ", "Yan-hui" "YH"."""
    return "".join(w[0].upper() for w in re.findall(r"[^\W\d_][\w'’]*", given))


def parse_names(block: str) -> tuple[list[str], list[str], bool]:
    """Return the family names in an author list, each one's initials, and whether it says et al."""
    block = block.strip(" ,;:(")
    et_al = bool(re.search(r"\bet\.?\s*al\b|\.\.\.|…", block))
    block = re.sub(r",?\s*(?:\bet\.?\s*al\b\.?|\.\.\.|…).*$", "", block).strip(" ,;")
    if not block:
        return [], [], et_al
    given_first = [p.strip() for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", block) if p.strip()]
    if all(_GIVEN_FIRST_RE.match(p) for p in given_first):
        # IEEE and Hindawi: "M. Imanura, A. D. Furlan, and E. L. Irvin"
        names = [p.rsplit(None, 1) for p in given_first]
        return [n[-1] for n in names], [_initials_of(n[0]) for n in names], et_al
    raw = block
    block = block.rstrip(". ")
    parts = [p.strip() for p in re.split(r",\s*|\s+(?:and|&)\s+|;\s*", block) if p.strip()]
    parts = [re.sub(r"^(?:and|&)\s+", "", p) for p in parts]
    if parts and all(
        re.search(r"\s[A-Z]{1,3}(?:-[A-Z])?(?:\s[a-z]{1,3}\s[A-Z])?$", p) for p in parts
    ):
        # AMA: "Sherman KJ"
        families = [_INITIALS_RE.sub("", p).strip() for p in parts]
        return families, [p.rsplit(None, 1)[-1] for p in parts], et_al
    mla = _MLA_FIRST_RE.match(raw)
    if mla and re.search(r"[a-z]{2}", mla.group(2)):
        # MLA / Chicago: "Furlan, Andrea D., M. Giraldo, and M. Imamura" - first inverted,
        # the rest given name first.
        rest = [p for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", raw[mla.end() :]) if p]
        names = [p.strip().rsplit(None, 1) for p in rest if p.strip()]
        families = [mla.group(1), *[n[-1] for n in names]]
        initials = [_initials_of(mla.group(2)), *[_initials_of(" ".join(n[:-1])) for n in names]]
        return families, initials, et_al
    apa = re.findall(
        r"([A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+(?:\s(?:[a-z]{1,3}\s)?[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+)*),\s*((?:[A-Z]\.\s*-?\s*)+)",
        raw + " ",
    )
    if apa:
        return [family for family, _ in apa], [_initials_of(g) for _, g in apa], et_al
    if len(parts) >= 2 and len(parts[0].split()) <= 3 and "," in block:
        # MLA / Chicago: "Elliott, Rex, and Brendan Burkett" - first inverted, the rest not.
        rest = [p for p in parts[2:] if p]
        initials = [_initials_of(parts[1]), *[_initials_of(" ".join(p.split()[:-1])) for p in rest]]
        return [parts[0], *[p.split()[-1] for p in rest]], initials, et_al
    return [block], [""], et_al  # an organisation


def _read_source(entry: PastedEntry, source: str) -> None:
    """Read journal, year, volume, issue and pages from the text after the title."""
    source = source.strip(" .,")
    if not source:
        return
    end = _JOURNAL_END_RE.search(source)
    journal = source[: end.start()] if end else source
    journal = re.sub(r"\s*\([^)]*\)?\s*$", "", journal).strip(" .,;:")
    if journal and not re.match(r"^\d", journal) and len(journal) <= 200:
        entry.journal = journal
    tail = source[len(journal) :] if journal else source
    if m := _AMA_SOURCE_RE.search(tail):
        entry.year = entry.year or int(m.group(1))
        entry.volume, entry.issue, entry.pages = m.group(2), m.group(3), m.group(4)
    elif m := _CHICAGO_SOURCE_RE.search(tail):
        entry.volume, entry.issue, entry.pages = m.group(1), m.group(2), m.group(4)
        entry.year = entry.year or int(m.group(3))
    elif _VOL_KW_RE.search(tail) or _ISSUE_KW_RE.search(tail):
        vol, iss, pages = (
            _VOL_KW_RE.search(tail),
            _ISSUE_KW_RE.search(tail),
            _PAGES_KW_RE.search(tail),
        )
        entry.volume = vol.group(1) if vol else None
        entry.issue = iss.group(1) if iss else None
        entry.pages = pages.group(1) if pages else None
        if not pages and (art := _ARTICLE_NO_RE.search(tail)):
            entry.pages = art.group(1)
        if vol and not pages and (vip := _VOL_ISSUE_PAGES_RE.search(tail, vol.start())):
            entry.issue = entry.issue or vip.group(2)
            entry.pages = vip.group(3)
    elif m := _VOL_ISSUE_PAGES_RE.search(tail):
        entry.volume, entry.issue, entry.pages = m.group(1), m.group(2), m.group(3)
    elif m := re.match(r"\s*[,.]?\s*(\d{1,5})\s*\(([^)]{1,20})\)", tail):
        entry.volume, entry.issue = m.group(1), m.group(2)
    elif m := _PAGES_KW_RE.search(tail):
        entry.pages = m.group(1)
    if entry.pages:
        entry.pages = re.sub(r"\s*[-–—]\s*", "-", entry.pages)
    if entry.year is None and (years := _YEAR_RE.findall(tail)):
        entry.year = int(years[0])


_MONTHS = {
    m: n
    for n, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        1,
    )
    for m in names
}
_MONTH = r"([A-Za-z]{3,9})\.?"
_ACCESSED_RE = re.compile(
    r"\b(?:accessed|retrieved|cited|viewed)(?:\s+on)?\s*:?\s*"
    rf"(?:{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})|(\d{{1,2}})\s+{_MONTH}\s+(\d{{4}})"
    r"|(\d{4})-(\d\d)-(\d\d)|(\d{4})\s+" + _MONTH + r"\s+(\d{1,2}))",
    re.IGNORECASE,
)


def read_accessed(text: str) -> tuple[int, int, int] | None:
    """Return the access date a web citation gives ("Accessed July 31, 2015"), if it names one."""
    m = _ACCESSED_RE.search(text)
    if not m:
        return None
    g = m.groups()
    if g[0]:
        month, day, year = _MONTHS.get(g[0].lower()), int(g[1]), int(g[2])
    elif g[3]:
        month, day, year = _MONTHS.get(g[4].lower()), int(g[3]), int(g[5])
    elif g[6]:
        month, day, year = int(g[7]), int(g[8]), int(g[6])
    else:
        month, day, year = _MONTHS.get(g[10].lower()), int(g[11]), int(g[9])
    if not month or not 1 <= month <= 12 or not 1 <= day <= 31:
        return None  # "Date retrieved 1/10/2021": day and month order unknown, so not read
    return year, month, day


def _year_of(match: re.Match[str]) -> int | None:
    return int(match.group(1)) if match.groups() else None


def parse_entry(text: str, number: str | None = None) -> PastedEntry:
    """Read one pasted entry into its parts, best effort."""
    entry = PastedEntry(text=text, number=number, clean=clean_text(text))
    rest = entry.clean
    entry.accessed = read_accessed(rest)
    entry.doi, rest = _take_doi(rest)
    m, rest = _take(_PMID_RE, rest)
    entry.pmid = normalise_pmid(m.group(1)) if m else None
    m, rest = _take(_PMCID_RE, rest)
    entry.pmcid = normalise_pmcid(m.group(1)) if m else None
    m, rest = _take(_URL_RE, rest)
    entry.url = m.group(0).rstrip(".,;)") if m else None
    rest = re.sub(r"\s+", " ", _NOISE_RE.sub(" ", rest)).strip(" ;,")

    quoted = _QUOTED_RE.search(rest)
    year = _PAREN_YEAR_RE.search(rest) or _BARE_YEAR_RE.search(rest) or _NO_DATE_RE.search(rest)
    authors, title, source = "", "", ""
    quoted_title = (quoted.group(1) or quoted.group(2)) if quoted else ""
    if quoted and len(quoted_title.split()) >= 2:
        authors = _PAREN_YEAR_RE.sub("", _BARE_YEAR_RE.sub("", rest[: quoted.start()]))
        title, source = quoted_title, rest[quoted.end() :]
        if year and year.start() < quoted.start():
            entry.year = _year_of(year)
    elif year and _looks_like_names(rest[: year.start()]) and year.start() > 0:
        # APA, Harvard, Chicago author-date: "Authors (2013). Title. Journal, ..."
        entry.year = _year_of(year)
        authors = rest[: year.start()]
        title, source = _first_sentence(rest[year.end() :].lstrip(" .,:)"))
    elif ama := _AMA_AUTHORS_RE.match(rest):
        authors = ama.group(0)
        title, source = _first_sentence(rest[ama.end() :])
    else:
        head, tail = _first_sentence(rest)
        org = re.match(r"^([A-Z][^:.]{1,60}?):\s+(\S.*)$", rest)
        if tail and _looks_like_names(head) and not _YEAR_RE.search(head):
            authors = head
            title, source = _first_sentence(tail)
        elif org and len(org.group(1).split()) <= 5 and not re.search(r"\d", org.group(1)):
            authors = org.group(1)  # "Mayo Clinic: Massage: get in touch ..."
            title, source = _first_sentence(org.group(2))
        else:
            title, source = head, tail
    entry.authors, entry.initials, entry.et_al = (
        parse_names(authors) if authors else ([], [], False)
    )
    title = title.strip(" .,;")
    entry.title = title or None
    _read_source(entry, source)
    if entry.year is None and (years := _YEAR_RE.findall(rest)):
        entry.year = int(years[0])
    return entry
