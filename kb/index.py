"""The search index: a derived cache of the store behind a few verbs (the only Whoosh importer).

``sync`` re-indexes references after a write, ``rebuild`` builds from scratch into a temporary
folder and swaps it in, ``status``/``ensure_current`` compare the index's generation with the
store's, and ``run`` answers a parsed query with document numbers, scores and cached facet
columns. Pages load rows from the store by the keys returned here.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from heapq import nsmallest
from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select
from whoosh import collectors, highlight, qparser
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.support.charset import accent_map

from kb import db
from kb.config import Settings
from kb.grading import DESIGN_LABELS, level_of
from kb.models import Condition, Evidence, EvidenceModalityLink, Modality, Reference

META_FILE = "kb-generation.json"
Progress = Callable[[int, int], None]

_TEXT = (
    RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter() | StemFilter()
)
# Unstemmed words for "did you mean": a suggestion must be a word a person would type.
_SPELL = RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter(minsize=3)

SCHEMA = Schema(
    kind=ID(stored=True),
    key=ID(stored=True, unique=True),
    title=TEXT(analyzer=_TEXT, stored=True, field_boost=3.0),
    authors=TEXT(analyzer=_TEXT, stored=True, field_boost=2.0),
    journal=TEXT(analyzer=_TEXT, stored=True, field_boost=1.2),
    year=NUMERIC(int, bits=32, signed=True, stored=True),
    abstract=TEXT(analyzer=_TEXT, stored=True),
    keywords=TEXT(analyzer=_TEXT, field_boost=1.5),
    condition=TEXT(analyzer=_TEXT, field_boost=2.5),
    modality=TEXT(analyzer=_TEXT, field_boost=1.5),
    design=KEYWORD(lowercase=True, commas=True),
    finding=KEYWORD(lowercase=True, commas=True),
    ids=KEYWORD(lowercase=True, commas=True),
    spell=TEXT(analyzer=_SPELL, phrase=False),
    # One packed column per document, read once per segment to count facets without groupedby.
    facets=COLUMN(),
)
# Fields a bare word is looked up in; aliases the query language accepts for field scopes.
SEARCH_FIELDS = ("title", "authors", "journal", "abstract", "keywords", "condition", "modality")
FIELD_ALIASES = {
    "authors": ["author", "au"],
    "journal": ["container", "source", "ta"],
    "abstract": ["summary", "text"],
    "keywords": ["keyword", "kw", "mesh"],
    "ids": ["doi", "pmid", "pmcid"],
}
HIGHLIGHT_FIELDS = ("abstract", "title")


class QuerySyntaxError(ValueError):
    """A query the parser could not turn into a search."""


# --- documents ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A condition or modality as the index sees it."""

    slug: str
    name: str
    aliases: tuple[str, ...]
    description: str

    def words(self) -> str:
        return " ; ".join([self.slug, self.name, *self.aliases])


def _vocabulary(session: Session) -> tuple[dict[int, Term], dict[int, Term]]:
    def load(model: type[Condition | Modality]) -> dict[int, Term]:
        rows = session.exec(
            select(model.id, model.slug, model.name, model.aliases, model.description)
        )
        return {i: Term(s, n, tuple(a or ()), d or "") for i, s, n, a, d in rows}

    return load(Condition), load(Modality)


def _packed(
    kind: str,
    design: str,
    findings: Iterable[str],
    conditions: Iterable[str],
    modalities: Iterable[str],
    year: int | None,
) -> bytes:
    parts = [
        kind,
        design,
        ",".join(sorted(set(findings))),
        ",".join(sorted(set(conditions))),
        ",".join(sorted(set(modalities))),
        str(year if year is not None else ""),
    ]
    return "|".join(parts).encode()


_REFERENCE_COLUMNS = (
    Reference.id,
    Reference.key,
    Reference.title,
    Reference.authors,
    Reference.container_title,
    Reference.year,
    Reference.abstract,
    Reference.keywords,
    Reference.design,
    Reference.doi,
    Reference.pmid,
)


def _author_names(authors: list[dict[str, Any]] | None) -> str:
    names = []
    for a in authors or []:
        parts = (a.get(p) for p in ("given", "non-dropping-particle", "family"))
        names.append(a.get("literal") or " ".join(str(p) for p in parts if p))
    return "; ".join(n for n in names if n)


def reference_docs(
    session: Session, keys: Sequence[str] | None = None, chunk: int = 2000
) -> Iterable[dict[str, Any]]:
    """Yield the index documents of these references (all when ``keys`` is None), in chunks."""
    conditions, modalities = _vocabulary(session)
    last_id = 0
    while True:
        statement = select(*_REFERENCE_COLUMNS).order_by(Reference.id).limit(chunk)
        if keys is not None:
            statement = statement.where(Reference.key.in_(list(keys)))
        statement = statement.where(Reference.id > last_id)
        rows = list(session.exec(statement))
        if not rows:
            return
        last_id = rows[-1][0]
        ids = [r[0] for r in rows]
        evidence: dict[int, list[tuple[int, int, str, str, str]]] = {}
        for e in session.exec(
            select(
                Evidence.id,
                Evidence.reference_id,
                Evidence.condition_id,
                Evidence.finding,
                Evidence.outcome,
                Evidence.summary,
            ).where(Evidence.reference_id.in_(ids))
        ):
            evidence.setdefault(e[1], []).append((e[0], e[2], e[3], e[4], e[5]))
        evidence_ids = [e[0] for rows_ in evidence.values() for e in rows_]
        tested: dict[int, list[int]] = {}
        for link in session.exec(
            select(EvidenceModalityLink.evidence_id, EvidenceModalityLink.modality_id).where(
                EvidenceModalityLink.evidence_id.in_(evidence_ids)
            )
        ):
            tested.setdefault(link[0], []).append(link[1])
        for rid, key, title, authors, journal, year, abstract, keywords, design, doi, pmid in rows:
            rows_ = evidence.get(rid, [])
            conds = [conditions[c] for _, c, _, _, _ in rows_ if c in conditions]
            mods = [modalities[m] for e in rows_ for m in tested.get(e[0], []) if m in modalities]
            findings = [f for _, _, f, _, _ in rows_]
            texts = [abstract or "", *(s for *_, s in rows_ if s), *(o for *_, o, _ in rows_ if o)]
            words = " ".join(keywords or [])
            doc = {
                "kind": "reference",
                "key": key,
                "title": title or "",
                "authors": _author_names(authors),
                "journal": journal or "",
                "abstract": "\n".join(t for t in texts if t),
                "keywords": words,
                "condition": " ; ".join(dict.fromkeys(t.words() for t in conds)),
                "modality": " ; ".join(dict.fromkeys(t.words() for t in mods)),
                "design": design or "",
                "finding": ",".join(dict.fromkeys(findings)),
                "ids": ",".join(i for i in (doi, pmid) if i),
                "spell": " ".join(
                    [
                        title or "",
                        words,
                        _author_names(authors),
                        journal or "",
                        *(t.words() for t in conds),
                        *(t.words() for t in mods),
                    ]
                ),
                "facets": _packed(
                    "reference",
                    design or "",
                    findings,
                    (t.slug for t in conds),
                    (t.slug for t in mods),
                    year,
                ),
            }
            if year is not None:
                doc["year"] = int(year)
            yield doc


def vocabulary_docs(session: Session) -> list[dict[str, Any]]:
    """Return the documents of the conditions and modalities themselves."""
    conditions, modalities = _vocabulary(session)
    docs = []
    for kind, terms, scope in (
        ("condition", conditions, "condition"),
        ("modality", modalities, "modality"),
    ):
        for term in terms.values():
            docs.append(
                {
                    "kind": kind,
                    "key": f"{kind}:{term.slug}",
                    "title": term.name,
                    "abstract": term.description,
                    scope: term.words(),
                    "spell": f"{term.name} {' '.join(term.aliases)}",
                    "facets": _packed(kind, "", (), (), (), None),
                }
            )
    return docs


# --- the index on disk -------------------------------------------------------------------


_lock = threading.RLock()
_open: dict[Path, Any] = {}  # index folder -> FileIndex
_searchers: dict[Path, Any] = {}  # index folder -> open searcher, refreshed when stale


def _forget(folder: Path) -> None:
    with _lock:
        searcher = _searchers.pop(folder, None)
        if searcher is not None:
            searcher.close()
        _open.pop(folder, None)


def _index(settings: Settings) -> Any:
    folder = settings.index_dir
    with _lock:
        ix = _open.get(folder)
        if ix is None:
            ix = whoosh_index.open_dir(str(folder))
            _open[folder] = ix
        return ix


def searcher(settings: Settings) -> Any:
    """Return an open searcher on the latest commit (opening one costs ~100 ms: keep it)."""
    with _lock:
        current = _searchers.get(settings.index_dir)
        if current is None:
            current = _index(settings).searcher()
        elif not current.up_to_date():
            current = current.refresh()
        _searchers[settings.index_dir] = current
        return current


def _read_meta(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_meta(folder: Path, generation: int, session: Session) -> None:
    conditions, modalities = _vocabulary(session)
    vocab = sorted(t.words() + t.description for t in (*conditions.values(), *modalities.values()))
    meta = {"generation": generation, "vocabulary": hash_text("\n".join(vocab))}
    tmp = folder / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(tmp, folder / META_FILE)


def hash_text(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode()).hexdigest()


def sync(settings: Settings, session: Session, keys: Iterable[str]) -> None:
    """Re-index these references (and the vocabulary when it changed); record the generation."""
    keys = list(dict.fromkeys(keys))
    if not whoosh_index.exists_in(str(settings.index_dir)):
        rebuild(settings, session)
        return
    with _lock:
        ix = _index(settings)
        writer = ix.writer(timeout=10.0)
        try:
            for key in keys:
                writer.delete_by_term("key", key)
            for doc in reference_docs(session, keys):
                writer.add_document(**doc)
            meta = _read_meta(settings.index_dir)
            docs = vocabulary_docs(session)
            conditions, modalities = _vocabulary(session)
            vocab = hash_text(
                "\n".join(
                    sorted(
                        t.words() + t.description
                        for t in (*conditions.values(), *modalities.values())
                    )
                )
            )
            if meta.get("vocabulary") != vocab:
                writer.delete_by_query(
                    wq.Or([wq.Term("kind", "condition"), wq.Term("kind", "modality")])
                )
                for doc in docs:
                    writer.add_document(**doc)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        _write_meta(settings.index_dir, db.generation(session), session)


def rebuild(settings: Settings, session: Session, progress: Progress | None = None) -> int:
    """Build the index from scratch in a temporary folder and swap it in; return its size."""
    total = session.exec(select(func.count()).select_from(Reference)).one()
    folder = settings.index_dir
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = folder.parent / f".{folder.name}-building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    try:
        ix = whoosh_index.create_in(str(building), SCHEMA)
        # Two processes nearly halve the build of a large library; a small one is faster alone.
        big = total > 5000 and (os.cpu_count() or 1) > 1
        writer = (
            ix.writer(procs=2, multisegment=True, limitmb=256) if big else ix.writer(limitmb=128)
        )
        count = 0
        try:
            for doc in vocabulary_docs(session):
                writer.add_document(**doc)
                count += 1
            for done, doc in enumerate(reference_docs(session), 1):
                writer.add_document(**doc)
                count += 1
                if progress and (done % 500 == 0 or done == total):
                    progress(done, total)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        _write_meta(building, db.generation(session), session)
        if progress:
            progress(total, total)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    with _lock:
        _forget(folder)
        old = folder.parent / f".{folder.name}-old-{os.getpid()}"
        if folder.exists():
            os.replace(folder, old)
        os.replace(building, folder)
        shutil.rmtree(old, ignore_errors=True)
    return count


@dataclass
class IndexStatus:
    """How the index compares with the store, and how to mend it."""

    exists: bool
    generation: int | None
    store_generation: int
    documents: int
    references_indexed: int
    references: int
    problems: list[str] = field(default_factory=list)

    @property
    def index_generation(self) -> int | None:
        return self.generation

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok}


def status(settings: Settings, session: Session) -> IndexStatus:
    """Compare the index with the store; each problem says how to mend it."""
    store_generation = db.generation(session)
    references = session.exec(select(func.count()).select_from(Reference)).one()
    result = IndexStatus(False, None, store_generation, 0, 0, references)
    if not whoosh_index.exists_in(str(settings.index_dir)):
        result.problems.append(f"index is missing at {settings.index_dir}: run `kb reindex`")
        return result
    result.exists = True
    result.generation = _read_meta(settings.index_dir).get("generation")
    try:
        s = searcher(settings)
        result.documents = s.doc_count()
        result.references_indexed = sum(1 for _ in s.docs_for_query(wq.Term("kind", "reference")))
    except Exception as error:  # noqa: BLE001  any failure to read means the cache must be rebuilt
        _forget(settings.index_dir)
        result.problems.append(
            f"index cannot be read ({type(error).__name__}: {error}): run `kb reindex`"
        )
        return result
    if result.generation is None:
        result.problems.append("index carries no generation: run `kb reindex`")
    elif result.generation != store_generation:
        result.problems.append(
            f"index is stale (generation {result.generation}, store {store_generation}): run `kb reindex`"
        )
    if result.references_indexed != references:
        result.problems.append(
            f"index holds {result.references_indexed} references, the store {references}: run `kb reindex`"
        )
    return result


def ensure_current(settings: Settings, session: Session) -> bool:
    """Rebuild the index when it is missing, stale or unreadable; return whether it did."""
    if status(settings, session).ok:
        return False
    rebuild(settings, session)
    return True


# --- searching ---------------------------------------------------------------------------


@dataclass
class Columns:
    """Per-document facet values by document number, cached per segment and per searcher."""

    kind: list[str] = field(default_factory=list)
    design: list[str] = field(default_factory=list)
    findings: list[tuple[str, ...]] = field(default_factory=list)
    conditions: list[tuple[str, ...]] = field(default_factory=list)
    modalities: list[tuple[str, ...]] = field(default_factory=list)
    year: list[int | None] = field(default_factory=list)
    level: list[int] = field(default_factory=list)

    def extend(self, other: Columns) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))


_segment_columns: dict[str, Columns] = {}  # segment id -> its columns (segments never change)
_searcher_columns: dict[Path, tuple[Any, Columns]] = {}


def _decode_segment(reader: Any) -> Columns:
    tuples: dict[str, tuple[str, ...]] = {"": ()}
    out = Columns()
    for raw in reader.column_reader("facets"):
        kind, design, findings, conditions, modalities, year = (raw or b"|||||").decode().split("|")
        out.kind.append(kind)
        out.design.append(design)
        for target, text in (
            (out.findings, findings),
            (out.conditions, conditions),
            (out.modalities, modalities),
        ):
            value = tuples.get(text)
            if value is None:
                value = tuples[text] = tuple(text.split(","))
            target.append(value)
        out.year.append(int(year) if year else None)
        out.level.append(level_of(design) if kind == "reference" else 0)
    return out


def _columns(settings: Settings, s: Any) -> Columns:
    with _lock:
        cached = _searcher_columns.get(settings.index_dir)
        if cached is not None and cached[0] is s:
            return cached[1]
        columns = Columns()
        for sub, _offset in s.leaf_searchers():
            reader = sub.reader()
            ident = f"{settings.index_dir}:{reader.segment().segment_id()}"
            part = _segment_columns.get(ident)
            if part is None:
                part = _segment_columns[ident] = _decode_segment(reader)
            columns.extend(part)
        _searcher_columns[settings.index_dir] = (s, columns)
        return columns


class _Mark(highlight.HtmlFormatter):
    """Format matched words as ``<mark>``, everything else escaped."""

    def __init__(self) -> None:
        super().__init__(tagname="mark", between=" … ")

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"<mark>{self._text(highlight.get_text(text, token, replace))}</mark>"


_PARSER: Any = None


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        parser = qparser.MultifieldParser(list(SEARCH_FIELDS), SCHEMA, group=qparser.AndGroup)
        parser.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
        parser.add_plugin(qparser.GtLtPlugin())
        parser.add_plugin(qparser.FuzzyTermPlugin())
        _PARSER = parser
    return _PARSER


def _errors(q: Any) -> list[str]:
    found = [q.error] if getattr(q, "error", None) else []
    for child in q.children():
        found.extend(_errors(child))
    return found


@dataclass
class Hit:
    """One ranked document: its key, kind, stored fields and highlighted snippet."""

    docnum: int
    key: str
    kind: str
    title: str
    year: int | None
    score: float | None
    snippet: str
    stored: dict[str, Any]


class View:
    """One consistent view of the index (one searcher): parse, match, rank, highlight."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.searcher = searcher(settings)
        self.columns = _columns(settings, self.searcher)

    def parse(self, text: str) -> Any:
        """Parse the query language; raise QuerySyntaxError on what it cannot mean."""
        try:
            q = _parser().parse(text)
        except Exception as error:  # the parser's failures are many and untyped
            raise QuerySyntaxError(str(error)) from error
        errors = _errors(q)
        if errors:
            raise QuerySyntaxError("; ".join(str(e) for e in errors))
        return q

    def plain(self, words: Sequence[str], *, any_word: bool = False) -> Any:
        """Return a query of plain words (all of them, or any of them)."""
        group = qparser.OrGroup if any_word else qparser.AndGroup
        parser = qparser.MultifieldParser(list(SEARCH_FIELDS), SCHEMA, group=group)
        parser.remove_plugin_class(qparser.FieldsPlugin)
        return parser.parse(" ".join(f'"{w}"' if " " in w else w for w in words))

    def fuzzy(self, words: Sequence[str]) -> Any:
        """Return a query that accepts, for each unknown word, its closest index words."""
        parts = []
        corrector = self.searcher.corrector("spell")
        for word in words:
            options = (
                [word]
                if self.known(word)
                else corrector.suggest(word.lower(), limit=3, maxdist=2, prefix=1)
            )
            if options:
                parts.append(self.plain(options, any_word=True))
        return wq.And(parts) if parts else wq.NullQuery

    def matching(self, q: Any | None) -> list[int]:
        """Return the numbers of every live document the query matches (all when None)."""
        if q is None:
            return list(self.searcher.reader().all_doc_ids())
        return list(self.searcher.docs_for_query(q))

    def ranked(self, q: Any, allowed: set[int] | None, limit: int) -> list[tuple[int, float]]:
        """Return the best ``limit`` documents by relevance, within ``allowed`` when given."""
        # Whoosh's matcher replacement and block-quality skipping drop true top hits when fields
        # carry boosts (seen: the best "massage anxiety" hit missing from a top 5): score every match.
        collector: Any = collectors.TopCollector(limit=max(limit, 1), usequality=False, replace=0)
        if allowed is not None:
            collector = collectors.FilterCollector(collector, allow=allowed)
        self.searcher.search_with_collector(q, collector)
        return [(hit.docnum, float(hit.score or 0.0)) for hit in collector.results()[:limit]]

    def ordered(self, docs: Iterable[int], sort: str, limit: int) -> list[int]:
        """Return the first ``limit`` documents by year or evidence level (vocabulary first)."""
        c = self.columns
        far = 10_000
        if sort == "newest":
            key = lambda d: (c.kind[d] == "reference", -(c.year[d] or -far), d)
        elif sort == "oldest":
            key = lambda d: (c.kind[d] == "reference", c.year[d] or far, d)
        else:
            key = lambda d: (c.kind[d] == "reference", c.level[d], -(c.year[d] or -far), d)
        return nsmallest(limit, docs, key=key)

    def hits(self, ranked: Sequence[tuple[int, float | None]], q: Any | None) -> list[Hit]:
        """Load stored fields and highlighted snippets for ranked documents."""
        terms = {
            t
            for f, t in (q.iter_all_terms() if q is not None else ())
            if f in SEARCH_FIELDS and isinstance(t, str)
        }
        out = []
        for docnum, score in ranked:
            stored = self.searcher.stored_fields(docnum)
            out.append(
                Hit(
                    docnum,
                    stored.get("key", ""),
                    stored.get("kind", ""),
                    stored.get("title", ""),
                    stored.get("year"),
                    score,
                    self.snippet(stored, terms),
                    stored,
                )
            )
        return out

    def snippet(self, stored: dict[str, Any], terms: set[str]) -> str:
        text = stored.get("abstract") or ""
        if terms:
            for name in HIGHLIGHT_FIELDS:
                value = stored.get(name) or ""
                marked = (
                    highlight.highlight(
                        value,
                        terms,
                        _TEXT,
                        highlight.ContextFragmenter(maxchars=220, surround=60),
                        _Mark(),
                        top=2,
                    )
                    if value
                    else ""
                )
                if marked:
                    return marked
        short = text[:220].rsplit(" ", 1)[0] + " …" if len(text) > 220 else text
        return _Mark()._text(short)

    def known(self, word: str) -> bool:
        """Tell whether a word (after stemming) occurs in any searched field."""
        reader = self.searcher.reader()
        stems = [t.text for t in _TEXT(word)]
        if not stems:
            return True  # a stop word is never a typo
        return any(reader.doc_frequency(f, stems[0]) > 0 for f in SEARCH_FIELDS)

    def correct(self, word: str) -> str | None:
        """Return the likeliest index word within two edits of a mistyped word."""
        found = self.searcher.corrector("spell").suggest(word.lower(), limit=1, maxdist=2, prefix=1)
        return found[0] if found else None

    def count(self, kind: str) -> int:
        return sum(1 for _ in self.searcher.docs_for_query(wq.Term("kind", kind)))


def view(settings: Settings, session: Session | None = None) -> View:
    """Return a consistent view of the current index (built first when missing and a store is given)."""
    if session is not None and not whoosh_index.exists_in(str(settings.index_dir)):
        rebuild(settings, session)
    return View(settings)


__all__ = [
    "DESIGN_LABELS",
    "SCHEMA",
    "Columns",
    "Hit",
    "IndexStatus",
    "QuerySyntaxError",
    "View",
    "ensure_current",
    "rebuild",
    "status",
    "sync",
    "view",
]
