"""Citations of stored references: CSL styles through references.cite, and file exports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, select

from kb import db
from kb.config import Settings
from kb.models import Reference
from kb.records import record_of
from references import cite as csl
from references import formats
from references.clusters import LABELS, CitationError, CiteItem, Cluster, cite_document
from references.record import Record
from references.styles import ALIASES, StyleInfo, find_styles, resolve_style

CSL_FORMATS = ("text", "html")
FILE_FORMATS = {"bibtex": "bib", "ris": "ris", "csl-json": "csl-json"}
FORMATS = CSL_FORMATS + tuple(FILE_FORMATS)

# The styles a chooser offers first; any other style is found by name.
COMMON_STYLES = (
    "apa",
    "american-medical-association",
    "nlm-citation-sequence",
    "chicago-author-date",
    "harvard-cite-them-right",
    "modern-language-association",
    "ieee",
)


class UnknownKeys(LookupError):
    """Some citation keys are not in the library."""

    def __init__(self, keys: Sequence[str]):
        self.keys = list(keys)
        super().__init__(f"not in the library: {', '.join(self.keys)}")


class UnknownFormat(ValueError):
    def __init__(self, fmt: str):
        super().__init__(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


@dataclass
class Citation:
    """Formatted citations of some references in one style and format."""

    keys: list[str]
    style: StyleInfo | None
    fmt: str
    entries: list[str] = field(default_factory=list)
    in_text: str = ""

    @property
    def text(self) -> str:
        """Return the whole document: one entry per line, or the export file."""
        if self.fmt in FILE_FORMATS:
            return self.entries[0] if self.entries else ""
        return "\n".join(self.entries) + ("\n" if self.entries else "")

    def as_json(self) -> dict[str, object]:
        return {
            "keys": self.keys,
            "style": self.style.name if self.style else None,
            "style_title": self.style.title if self.style else None,
            "format": self.fmt,
            "entries": self.entries,
            "citation": self.in_text,
            "text": self.text,
        }


def load_references(session: Session, keys: Sequence[str]) -> list[Reference]:
    """Return the references with these keys, in the order given; raise UnknownKeys."""
    wanted = list(dict.fromkeys(k.strip() for k in keys if k and k.strip()))
    rows = {r.key: r for r in session.exec(select(Reference).where(Reference.key.in_(wanted)))}
    missing = [k for k in wanted if k not in rows]
    if missing:
        raise UnknownKeys(missing)
    return [rows[k] for k in wanted]


def cite_references(
    references: Sequence[Reference], style: str = "apa", fmt: str = "text", *, in_text: bool = True
) -> Citation:
    """Format references in a CSL style (text, html) or as a file (bibtex, ris, csl-json).

    ``in_text=False`` skips the in-text citation of them all, which a bibliography does not show
    and which costs as much as the entries for a page's hundreds of references.
    """
    if fmt not in FORMATS:
        raise UnknownFormat(fmt)
    keys = [r.key for r in references]
    records: list[Record] = [record_of(r) for r in references]
    if fmt in FILE_FORMATS:
        return Citation(
            keys, None, fmt, [formats.write(records, FILE_FORMATS[fmt])] if records else []
        )
    info = resolve_style(style)
    versions = {r.key: str(r.version) for r in references}
    entries = csl.format_bibliography(records, style=style, fmt=fmt, versions=versions)
    citation = (
        csl.format_citation(records, style=style, fmt=fmt, versions=versions)
        if records and in_text
        else ""
    )
    return Citation(keys, info, fmt, entries, citation)


def cite(session: Session, keys: Sequence[str], style: str = "apa", fmt: str = "text") -> Citation:
    """Format the references with these keys (see ``cite_references``)."""
    return cite_references(load_references(session, keys), style, fmt)


@dataclass
class InText:
    """How a work is cited in the text: the citation (or first note) at a locator and, for a
    note style, the note that cites it again straight after (``Ibid., 235.``)."""

    citation: str
    locator: str | None
    label: str
    next_note: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "citation": self.citation,
            "locator": self.locator,
            "label": self.label,
            "next_note": self.next_note,
        }


def check_locator(locator: str | None, label: str = "page") -> str | None:
    """Return a locator stripped (None when empty); raise ValueError for a bad one."""
    if label not in LABELS:
        raise ValueError(f"unknown locator label {label!r}; use one of {', '.join(LABELS)}")
    locator = (locator or "").strip()
    if not locator:
        return None
    if len(locator) > 40 or any(not c.isprintable() for c in locator):
        raise ValueError("a locator is a page or range of at most 40 printable characters")
    return locator


def cite_in_text(
    references: Sequence[Reference],
    style: str = "apa",
    locators: Sequence[str | None] = (None,),
    label: str = "page",
    fmt: str = "text",
) -> list[InText]:
    """Cite references together once per locator, in order, as a writer's successive
    citations (or notes) of them: the second of two notes on the same work reads "Ibid."."""
    records: list[Record] = [record_of(r) for r in references]
    keys = [r.key for r in references]
    checked = [check_locator(loc, label) for loc in locators or (None,)]
    clusters = [Cluster([CiteItem(k, loc, label) for k in keys]) for loc in checked]
    versions = {r.key: str(r.version) for r in references}
    try:
        doc = cite_document(records, clusters, style, fmt, versions=versions)
    except CitationError as error:
        raise ValueError(str(error)) from error
    out = [InText(c, loc, label) for c, loc in zip(doc.citations, checked, strict=True)]
    info = resolve_style(style)
    if len(out) == 1 and is_note_style(info):
        # What the next note would read, citing the same work at this locator.
        again = [Cluster([CiteItem(k) for k in keys]), clusters[0]]
        out[0].next_note = cite_document(records, again, style, fmt, versions=versions).citations[1]
    return out


def is_note_style(info: StyleInfo) -> bool:
    """Return whether a style cites in footnotes (``class="note"``)."""
    with open(info.path, encoding="utf-8") as f:
        head = f.read(2000)
    return 'class="note"' in head


def style_choices() -> list[StyleInfo]:
    """Return the common styles, for a chooser."""
    return [resolve_style(name) for name in COMMON_STYLES]


__all__ = ["ALIASES", "Citation", "UnknownKeys", "cite", "find_styles", "style_choices"]


def warm(settings: Settings, styles: Sequence[str] = ("apa",)) -> int:
    """Render the bibliographies the pages show by default, so no visitor waits for them.

    Citations are cached per reference version and style on first use (references.cite);
    this makes the first use happen at start-up: every condition's and modality's list and
    every single reference, in each style. Returns the number of lists rendered.
    """
    from kb import evidence

    rendered = 0
    with db.session_scope(settings) as session:
        lists = [
            evidence.condition_page(session, item["slug"])["keys"]
            for item in evidence.conditions_overview(session)
        ]
        lists += [
            evidence.modality_page(session, item["slug"])["keys"]
            for item in evidence.modalities_overview(session)
        ]
        lists += [[key] for key in session.exec(select(Reference.key))]
        for style in styles:
            for keys in lists:
                if keys:
                    cite(session, keys, style)
                    rendered += 1
    return rendered
