"""Citation clusters for a document: what a word-processor plug-in asks a CSL processor for.

A document is a list of ``Cluster`` s (one per in-text citation or footnote), each holding
``CiteItem`` s: a reference key with an optional locator (``235``) and its label (``page``,
``chapter`` ...), a prefix and suffix, and ``suppress_author`` ("(2009, p. 235)" after the
author's name in the sentence) or ``author_only`` ("Sherman et al.").

``positions`` works out each cite's CSL position over the whole document, in order: ``first``;
``subsequent``; ``ibid`` (the same work as the cite just before it, at the same place) and
``ibid-with-locator`` (the same work, at another place); ``near-note`` (cited again within the
style's ``near-note-distance`` notes). ``cite_document`` renders the clusters and the document's
bibliography in one style (a name, or inline CSL XML) as text, HTML or RTF::

    doc = cite_document(records, [Cluster([CiteItem("sherman2009", locator="235")])], "apa")
    doc.citations  # ["(Sherman et al., 2009, p. 235)"]

Numbering, disambiguation and year suffixes come from ``references.cite`` over the cited works,
so a cite reads the same here as in the work's bibliography.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from references import cite as csl
from references import csl_collapse, csl_format, csl_list
from references import csl_engine as engine
from references.record import Record

OUTPUTS = ("text", "html", "rtf")

# CSL's locator labels (the locale terms a label renders with).
LABELS = (
    "act",
    "appendix",
    "article-locator",
    "book",
    "canon",
    "chapter",
    "column",
    "elocation",
    "equation",
    "figure",
    "folio",
    "issue",
    "line",
    "note",
    "opus",
    "page",
    "paragraph",
    "part",
    "rule",
    "scene",
    "section",
    "sub-verbo",
    "supplement",
    "table",
    "timestamp",
    "title-locator",
    "verse",
    "volume",
)


class CitationError(ValueError):
    """A cluster asks for something that cannot be cited (an unknown key or label)."""


@dataclass(frozen=True)
class CiteItem:
    """One work cited in a cluster, with where in it and how."""

    key: str
    locator: str | None = None
    label: str = "page"
    prefix: str = ""
    suffix: str = ""
    suppress_author: bool = False
    author_only: bool = False


@dataclass
class Cluster:
    """One citation in the text (or one footnote): its cites, and its note number."""

    items: list[CiteItem]
    note: int | None = None


@dataclass
class CitedDocument:
    """A document's rendered citations (one per cluster, in order) and its bibliography."""

    citations: list[str]
    bibliography: list[str]
    positions: list[list[frozenset[str]]] = field(default_factory=list)


def positions(clusters: Sequence[Cluster], near_note_distance: int = 5) -> list[list[frozenset]]:
    """Return each cite's CSL positions, in document order."""
    out: list[list[frozenset]] = []
    last_note: dict[str, int] = {}
    for c, cluster in enumerate(clusters):
        note = cluster.note if cluster.note is not None else c + 1
        row: list[frozenset] = []
        for j, item in enumerate(cluster.items):
            if item.key not in last_note:
                row.append(frozenset({"first"}))
                last_note[item.key] = note
                continue
            found = {"subsequent"}
            if j:
                before: CiteItem | None = cluster.items[j - 1]
            else:  # the cite before is the last cluster's, if it cited one work only
                previous = clusters[c - 1].items if c else []
                before = previous[0] if len(previous) == 1 else None
            if before is not None and before.key == item.key:
                if item.locator == before.locator and item.label == before.label:
                    found.add("ibid")
                elif item.locator is not None:
                    found |= {"ibid", "ibid-with-locator"}
            if note - last_note[item.key] <= near_note_distance:
                found.add("near-note")
            last_note[item.key] = note
            row.append(frozenset(found))
        out.append(row)
    return out


def cite_document(
    records: Iterable[Record],
    clusters: Sequence[Cluster],
    style: str = "apa",
    fmt: str = "text",
    locale: str | None = None,
    versions: Mapping[str, str] | None = None,
    citer: csl.Citer | None = None,
) -> CitedDocument:
    """Render a document's clusters and the bibliography of the works they cite."""
    if fmt not in OUTPUTS:
        raise CitationError(f"unknown format {fmt!r}; use text, html or rtf")
    by_key = {str(r["id"]): r for r in records}
    cited: list[str] = []
    for cluster in clusters:
        for item in cluster.items:
            if item.key not in by_key:
                raise CitationError(f"not in the library: {item.key}")
            if item.label not in LABELS:
                raise CitationError(f"unknown locator label {item.label!r}; use one of {LABELS}")
            if item.key not in cited:
                cited.append(item.key)
    citer = citer or csl.Citer()
    render_fmt = "text" if fmt == "text" else "html"
    job = citer._job([by_key[k] for k in cited], style, render_fmt, locale, versions)
    index = {k: i for i, k in enumerate(cited)}
    distance = int(job.loaded.option(job.loaded.citation, "near-note-distance", "5") or 5)
    where = positions(clusters, distance)
    citations = [
        _render_cluster(job, cluster, row, index)
        for cluster, row in zip(clusters, where, strict=True)
    ]
    entries = citer.bibliography([by_key[k] for k in cited], style, render_fmt, locale, versions)
    if fmt == "rtf":
        citations = [csl_format.html_to_rtf(c) for c in citations]
        entries = [csl_format.html_to_rtf(e) for e in entries]
    return CitedDocument(citations, entries, where)


def _render_cluster(job: Any, cluster: Cluster, row: list[frozenset], index: dict[str, int]) -> str:
    loaded = job.loaded
    citation = loaded.citation
    order = list(range(len(cluster.items)))
    if len(order) > 1 and not any(i.prefix or i.suffix for i in cluster.items):
        # The style's cs:sort orders a cluster's cites (not a plug-in's order) when it has one.
        ranked = job.sorted_indices(citation, [index[i.key] for i in cluster.items])
        order = sorted(order, key=lambda j: ranked.index(index[cluster.items[j].key]))
    pieces = []
    for j in order:
        item = cluster.items[j]
        text = _render_cite(job, item, row[j], index[item.key])
        if text and _opens_a_sentence(job, item, first=not pieces):
            text = _capital_ibid(job, text)
        if text:
            # A writer's affixes may hold the markup fields may (<i> ...); the rest of their
            # text is escaped with the cite's.
            prefix, suffix = (
                csl_format.field_markup(csl_format.field_quotes(a))
                for a in (item.prefix, item.suffix)
            )
            affixed = f"{prefix}{text}{suffix}"
            pieces.append(_piece(job, item, index[item.key], affixed))
    parts = [p.text for p in pieces]
    if not parts:
        return ""
    collapse = citation.get("collapse")
    grouping = (collapse or "").startswith("year") or citation.get("cite-group-delimiter")
    if grouping and len(pieces) > 1:
        pieces = _grouped_by_author(pieces)
        if not collapse:
            collapse = "group"  # a cite-group-delimiter alone groups, without collapsing
    delimiter = citation.layout.get("delimiter", "")
    if len(pieces) > 1 and any(p.text[:1] in ",;." for p in pieces[1:]):
        # A cite whose prefix opens with punctuation (", cited in") takes no delimiter.
        parts = [pieces[0].text]
        for piece in pieces[1:]:
            parts[0] += ("" if piece.text[:1] in ",;." else delimiter) + piece.text
        collapse = None
    if collapse and len(pieces) > 1:
        joined = csl_collapse.collapse(
            pieces,
            collapse,
            delimiter,
            citation.get("after-collapse-delimiter"),
            citation.get("cite-group-delimiter"),
            citation.get("year-suffix-delimiter"),
        )
        parts = [joined]
    if any(cluster.items[j].author_only for j in order) and len(parts) == 1:
        return job.finish(parts[0])  # "Sherman et al.": no layout affixes round a name
    return job.finish(engine.wrap_layout(citation.layout, parts))


def _grouped_by_author(pieces: list[csl_collapse.Piece]) -> list[csl_collapse.Piece]:
    """Move one author's cites together, after the first of them (citeproc-js's cite
    grouping): "Smith 2003; Jones 2005; Smith 2010" is "Smith 2003, 2010; Jones 2005"."""
    slots: dict[str, list[csl_collapse.Piece]] = {}
    order: list[list[csl_collapse.Piece]] = []
    for piece in pieces:
        if piece.names and piece.names in slots:
            slots[piece.names].append(piece)
            continue
        slot = [piece]
        order.append(slot)
        if piece.names:
            slots[piece.names] = slot
    return [p for slot in order for p in slot]


def _opens_a_sentence(job: Any, item: CiteItem, first: bool) -> bool:
    """Return whether a cite begins a sentence: the first of a footnote, or after a prefix
    that ends one ("As he said. Ibid.")."""
    prefix = item.prefix.rstrip()
    if prefix:  # a sentence, not a one-word abbreviation ("cf.", "Nocapsafter.")
        return prefix[-1] in ".!?" and " " in prefix.strip()
    return first and job.loaded.root.get("class") == "note"


def _capital_ibid(job: Any, text: str) -> str:
    """Capitalise "ibid." where it begins a sentence, as citeproc-js does."""
    ibid = job.loaded.term("ibid")
    if ibid and text.startswith(ibid):
        return text[:1].upper() + text[1:]
    return text


def _piece(job: Any, item: CiteItem, i: int, text: str) -> csl_collapse.Piece:
    plain = not (item.prefix or item.suffix or item.locator or item.suppress_author)
    state = job.states[i]
    names = ""
    citation = job.loaded.citation
    if plain and (
        citation.get("collapse", "").startswith("year") or citation.get("cite-group-delimiter")
    ):
        names = csl_list.names(job.citer, job, i, job.loaded.citation, state)[0]
    return csl_collapse.Piece(text, job.numbers[i], names, state.year_suffix, plain)


_LOCATOR_RANGE = re.compile(r"(?<=\d)\s*[-\u2013]\s*(?=\d)")


def _render_cite(job: Any, item: CiteItem, where: frozenset, i: int) -> str:
    loaded = job.loaded
    render_item = job.item(i, job.states[i])
    if item.locator is not None:
        # "100 - 103" is the range 100-103; spaces round a locator are not part of it.
        locator = _LOCATOR_RANGE.sub("-", str(item.locator).strip())
        render_item["locator"] = engine.source.Locator(item.label, locator)
    render_item["positions"] = where
    with loaded.lock:
        loaded.root.formatter = csl_format.FORMATS[job.fmt]
        loaded.citation.cites = []
        if item.author_only:
            return engine.render_names(loaded.citation.layout, render_item) or ""
        text = engine.render_layout(
            loaded, loaded.citation.layout, render_item, suppress_author=item.suppress_author
        )
    return text or ""
