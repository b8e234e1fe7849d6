"""The search index: a derived cache of the store behind a few verbs (the only Whoosh importer).

``sync`` re-indexes references after a write, ``rebuild`` builds from scratch into a temporary
folder and swaps it in, ``status``/``ensure_current`` compare the index's generation with the
store's, and ``View`` answers a parsed query with document numbers, scores and cached facet
columns. Pages load rows from the store by the keys returned here (``kb.index_documents``).

Field weights are query boosts, not schema ``field_boost``. Ranking scores every match: Whoosh's
top-N shortcuts drop true top hits (see ``View.ranked``).
"""

from __future__ import annotations

import atexit
import json
import math
import os
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from heapq import nlargest, nsmallest
from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select
from whoosh import collectors, highlight, qparser
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25F
from whoosh.support.charset import accent_map
from whoosh.util.numeric import byte_to_length

from kb import db
from kb.config import Settings
from kb.grading import DESIGN_LABELS, level_of
from kb.index_columns import Columns
from kb.index_documents import (
    Shown,
    reference_docs,
    shown,
    vocabulary,
    vocabulary_docs,
    vocabulary_signature,
)
from kb.models import Reference

META_FILE = "kb-generation.json"
Progress = Callable[[int, int], None]
BIG = 5000  # above this many references a rebuild writes with two processes

_TEXT = (
    RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter() | StemFilter()
)
# Unstemmed words for "did you mean": a suggestion must be a word a person would type.
_SPELL = RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter(minsize=3)

SCHEMA = Schema(
    kind=ID(stored=True),
    key=ID(stored=True, unique=True, sortable=True),
    title=TEXT(analyzer=_TEXT),
    text=TEXT(analyzer=_TEXT),
    authors=TEXT(analyzer=_TEXT),
    journal=TEXT(analyzer=_TEXT, phrase=False),
    keywords=TEXT(analyzer=_TEXT, phrase=False),
    topics=KEYWORD(lowercase=True),
    year=NUMERIC(int, bits=32, signed=True, shift_step=8),
    design=KEYWORD(lowercase=True, commas=True),
    finding=KEYWORD(lowercase=True, commas=True),
    ids=KEYWORD(lowercase=True, commas=True),
    spell=TEXT(analyzer=_SPELL, phrase=False),
    # One packed column per document, read once per segment to count facets without groupedby.
    facets=COLUMN(),
)
# What an index on disk must have been built with; an index of another shape (an older version
# of this program) is rebuilt rather than read with the wrong fields.
SCHEMA_SIGNATURE = ",".join(
    f"{name}:{type(kind).__name__}" for name, kind in sorted(SCHEMA.items())
)
# Bare words are looked up in these fields, with these weights; ``topics`` is reached by
# expanding a word to the slugs whose names or aliases hold it.
FIELD_BOOSTS = {"text": 1.0, "title": 3.0, "authors": 2.0}
TOPIC_BOOST = 2.5
SEARCH_FIELDS = (*FIELD_BOOSTS, "topics")
FIELD_ALIASES = {
    "authors": ["author", "au"],
    "journal": ["container", "source", "ta"],
    "text": ["abstract", "summary"],
    "keywords": ["keyword", "kw", "mesh"],
    "topics": ["condition", "modality", "topic"],
    "ids": ["doi", "pmid", "pmcid"],
}
HIGHLIGHT_FIELDS = ("text", "title")


class QuerySyntaxError(ValueError):
    """A query the parser could not turn into a search."""


# --- the index on disk -------------------------------------------------------------------


_lock = threading.RLock()
_open: dict[Path, Any] = {}  # index folder -> FileIndex
_searchers: dict[Path, Any] = {}  # index folder -> open searcher, refreshed when stale


@atexit.register
def _close_all() -> None:
    """Close every open searcher (their segment files are real files, not copies in memory)."""
    for folder in list(_searchers):
        _forget(folder)


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
            # Not ``refresh()``: it reuses the reader of a segment whose deletions changed (the
            # segment compares equal), so an updated reference's old document stays visible.
            current.close()
            current = _index(settings).searcher()
        _searchers[settings.index_dir] = current
        return current


def _read_meta(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_meta(folder: Path, generation: int, signature: str) -> None:
    meta = {"generation": generation, "vocabulary": signature, "schema": SCHEMA_SIGNATURE}
    tmp = folder / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(tmp, folder / META_FILE)


def sync(settings: Settings, session: Session, keys: Iterable[str]) -> None:
    """Re-index these references (and the vocabulary when it changed); record the generation.

    One writer and one commit for any number of keys; small updates commit without merging
    segments (a rebuild merges), and the open searcher is refreshed once, on its next use.
    """
    keys = list(dict.fromkeys(keys))
    if (
        not whoosh_index.exists_in(str(settings.index_dir))
        or _read_meta(settings.index_dir).get("schema") != SCHEMA_SIGNATURE
    ):
        rebuild(settings, session)
        return
    signature = vocabulary_signature(session)
    with _lock:
        meta = _read_meta(settings.index_dir)
        ix = _index(settings)
        # Separate segment files, not one compound file: opening a reader on a compound segment
        # copies its term index into memory (~0.5 s at 100,000 references), and every update
        # opens one to delete the old document, and every search after it opens another.
        writer = ix.writer(timeout=10.0, limitmb=128, compound=False)
        try:
            for key in keys:
                writer.delete_by_term("key", key)
            for doc in reference_docs(session, keys):
                writer.add_document(**doc)
            if meta.get("vocabulary") != signature:
                for kind in ("condition", "modality"):
                    writer.delete_by_term("kind", kind)
                for doc in vocabulary_docs(session):
                    writer.add_document(**doc)
        except BaseException:
            writer.cancel()
            raise
        # Merging small segments rewrites them; fine for a big import, wasted on one reference.
        writer.commit(merge=len(keys) > 200)
        _write_meta(settings.index_dir, db.generation(session), signature)


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
        big = total > BIG and (os.cpu_count() or 1) > 1
        writer = (
            ix.writer(procs=2, multisegment=True, limitmb=1024, compound=False)
            if big
            else ix.writer(limitmb=256, compound=False)
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
        _write_meta(building, db.generation(session), vocabulary_signature(session))
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
    meta = _read_meta(settings.index_dir)
    result.generation = meta.get("generation")
    if meta.get("schema") != SCHEMA_SIGNATURE:
        result.problems.append(
            "index was built by another version of this program: run `kb reindex`"
        )
        return result
    try:
        s = searcher(settings)
        result.documents = s.doc_count()
        result.references_indexed = s.doc_frequency("kind", "reference")
        if s.reader().has_deletions():
            result.references_indexed = sum(
                1 for _ in s.docs_for_query(wq.Term("kind", "reference"))
            )
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


_segment_columns: dict[str, Columns] = {}  # segment id -> its columns (segments never change)
# (segment id, field) -> each document's length byte in that field, for scoring without a matcher.
_segment_lengths: dict[tuple[str, str], Sequence[int]] = {}
_searcher_columns: dict[Path, tuple[Any, Columns, frozenset[int]]] = {}


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
    # The key column covers every document, deleted or not, so a page of hits needs no reads.
    out.key.extend(reader.column_reader("key"))
    return out


def _columns(settings: Settings, s: Any) -> tuple[Columns, frozenset[int]]:
    with _lock:
        cached = _searcher_columns.get(settings.index_dir)
        if cached is not None and cached[0] is s:
            return cached[1], cached[2]
        columns = Columns()
        deleted: set[int] = set()
        current = set()
        for sub, offset in s.leaf_searchers():
            reader = sub.reader()
            ident = f"{settings.index_dir}:{reader.segment().segment_id()}"
            current.add(ident)
            part = _segment_columns.get(ident)
            if part is None:
                part = _segment_columns[ident] = _decode_segment(reader)
            if reader.has_deletions():
                deleted.update(offset + d for d in reader.deleted_docs_set)
            columns.extend(part)
        prefix = f"{settings.index_dir}:"
        for gone in [k for k in _segment_columns if k.startswith(prefix) and k not in current]:
            del _segment_columns[gone]  # merged away or rebuilt: never read again
        for pair in [
            k for k in _segment_lengths if k[0].startswith(prefix) and k[0] not in current
        ]:
            del _segment_lengths[pair]
        columns.references = frozenset(
            d for d, kind in enumerate(columns.kind) if kind == "reference" and d not in deleted
        )
        _searcher_columns[settings.index_dir] = (s, columns, frozenset(deleted))
        return columns, frozenset(deleted)


class _Mark(highlight.HtmlFormatter):
    """Format matched words as ``<mark>``, everything else escaped."""

    def __init__(self) -> None:
        super().__init__(tagname="mark", between=" … ")

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"<mark>{self._text(highlight.get_text(text, token, replace))}</mark>"


_FOLD = RegexTokenizer(r"\S+") | LowercaseFilter() | CharsetFilter(accent_map)


class _Parser(qparser.QueryParser):
    """The query language, with wildcards matched against the typed and the stemmed word."""

    def term_query(
        self,
        fieldname: str,
        text: str,
        termclass: Any,
        boost: float = 1.0,
        tokenize: bool = True,
        removestops: bool = True,
    ) -> Any:
        q = super().term_query(fieldname, text, termclass, boost, tokenize, removestops)
        if termclass not in (wq.Prefix, wq.Wildcard) or not isinstance(q, termclass):
            return q
        # The parser stems a prefix ("fibromy" -> "fibromi", which no index word starts with),
        # while "anxiety*" needs its stem ("anxieti"): ask for both.
        typed = "".join(t.text for t in _FOLD(text))
        return q if typed == q.text else wq.Or([q, termclass(fieldname, typed, boost=boost)])


def _make_parser(group: Any, fields_too: bool = True) -> Any:
    parser = _Parser(None, SCHEMA, group=group)
    parser.add_plugin(qparser.MultifieldPlugin(list(FIELD_BOOSTS), fieldboosts=FIELD_BOOSTS))
    if fields_too:
        parser.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
        parser.add_plugin(qparser.GtLtPlugin())
        parser.add_plugin(qparser.FuzzyTermPlugin())
    else:
        parser.remove_plugin_class(qparser.FieldsPlugin)
    return parser


_PARSERS: dict[str, Any] = {}


def _parser(kind: str = "query") -> Any:
    if kind not in _PARSERS:
        _PARSERS[kind] = {
            "query": lambda: _make_parser(qparser.AndGroup),
            "all": lambda: _make_parser(qparser.AndGroup, fields_too=False),
            "any": lambda: _make_parser(qparser.OrGroup, fields_too=False),
        }[kind]()
    return _PARSERS[kind]


def _errors(q: Any) -> list[str]:
    found = [q.error] if getattr(q, "error", None) else []
    for child in q.children():
        found.extend(_errors(child))
    return found


def _stems(text: str) -> list[str]:
    return [t.text for t in _TEXT(text)]


class Topics:
    """Map query words (stemmed) to the condition and modality slugs whose names or aliases hold them."""

    def __init__(self, session: Session | None) -> None:
        self.by_stem: dict[str, set[str]] = {}
        self.by_phrase: dict[tuple[str, ...], set[str]] = {}
        self.slugs: set[str] = set()
        if session is None:
            return
        conditions, modalities = vocabulary(session)
        for term in (*conditions.values(), *modalities.values()):
            self.slugs.add(term.slug)
            for name in (term.slug.replace("-", " "), term.name, *term.aliases):
                stems = tuple(_stems(name))
                if len(stems) > 1:
                    self.by_phrase.setdefault(stems, set()).add(term.slug)
                for stem in stems:
                    self.by_stem.setdefault(stem, set()).add(term.slug)

    def _slugs(self, slugs: Iterable[str], boost: float) -> Any:
        terms = [wq.Term("topics", s) for s in sorted(slugs)]
        if len(terms) == 1:
            terms[0].boost = boost
            return terms[0]
        return wq.DisjunctionMax(terms, boost=boost)

    def expand(self, q: Any) -> Any:
        """Return the query with words also matching the slugs of the topics they name."""
        if isinstance(q, wq.Term) and q.fieldname == "text" and q.text in self.by_stem:
            topic = self._slugs(self.by_stem[q.text], TOPIC_BOOST * q.boost)
            return wq.Or([q, topic])
        if isinstance(q, wq.Term) and q.fieldname == "topics" and q.text not in self.slugs:
            found = set().union(*(self.by_stem.get(s, set()) for s in _stems(q.text)))
            return self._slugs(found, q.boost) if found else q
        if isinstance(q, wq.Phrase) and q.fieldname == "text":
            found = self.by_phrase.get(tuple(q.words))
            return wq.Or([q, self._slugs(found, TOPIC_BOOST * q.boost)]) if found else q
        if q.is_leaf():
            return q
        return q.apply(self.expand)


def _all_ids(matcher: Any) -> Iterable[int]:
    """Return a posting list's document numbers a block at a time (deletions not removed)."""
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child  # deleted documents: the caller removes them
    if not isinstance(matcher, W3LeafMatcher):
        return list(matcher.all_ids())
    # Whoosh's all_ids() steps one posting at a time through three method calls; reading the
    # decoded block arrays is some twenty times faster on a posting list of 100,000 documents.
    ids: list[int] = []
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        ids.extend(matcher._ids[matcher._i :])
        matcher._next_block()
    return ids


_topics: dict[str, Topics] = {}  # vocabulary signature -> its expansion map


@dataclass
class Hit:
    """One ranked document: its key, kind, what it shows and its highlighted snippet."""

    docnum: int
    key: str
    kind: str
    title: str
    year: int | None
    score: float | None
    snippet: str
    shown: Shown


class View:
    """One consistent view of the index (one searcher): parse, match, rank, highlight."""

    def __init__(self, settings: Settings, session: Session | None = None):
        self.settings = settings
        self.session = session
        self.searcher = searcher(settings)
        self.columns, self.deleted = _columns(settings, self.searcher)
        signature = _read_meta(settings.index_dir).get("vocabulary", "")
        topics = _topics.get(signature)
        if topics is None and session is not None:
            topics = _topics[signature] = Topics(session)
        self.topics = topics or Topics(None)

    def parse(self, text: str) -> Any:
        """Parse the query language; raise QuerySyntaxError on what it cannot mean."""
        try:
            q = _parser().parse(text)
        except Exception as error:  # the parser's failures are many and untyped
            raise QuerySyntaxError(str(error)) from error
        errors = _errors(q)
        if errors:
            raise QuerySyntaxError("; ".join(str(e) for e in errors))
        return self.topics.expand(q)

    def plain(self, words: Sequence[str], *, any_word: bool = False) -> Any:
        """Return a query of plain words (all of them, or any of them)."""
        parser = _parser("any" if any_word else "all")
        q = parser.parse(" ".join(f'"{w}"' if " " in w else w for w in words))
        return self.topics.expand(q)

    def resembling(self, text: str, limit: int, keep: int = 8, share: float = 0.02) -> list[int]:
        """Return the documents sharing the most of a text's rarest indexed words, best first.

        For the reference checker: a pasted entry's common words ("massage", "therapy",
        "journal") match much of a large library without narrowing anything, so only words in at
        most ``share`` of the documents (or 50, in a small library) count, each weighted by its
        rarity (idf), summed over posting lists: no per-document scoring.
        """
        total = max(1, self.searcher.doc_count())
        counted = sorted(
            (df, term)
            for term in {token.text for token in SCHEMA["text"].analyzer(text)}
            if (df := self.searcher.doc_frequency("text", term)) > 0
        )
        ceiling = max(50.0, share * total)
        rare = [(df, term) for df, term in counted if df <= ceiling][:keep] or counted[:keep]
        weights: Counter[int] = Counter()
        for df, term in rare:
            weight = math.log(1 + total / df)
            for doc in self._postings("text", term):
                weights[doc] += weight
        return [doc for doc, _ in weights.most_common(limit)]

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

    def matching(self, q: Any | None) -> set[int]:
        """Return the numbers of every live document the query matches (all when None)."""
        if q is None:
            return set(range(self.searcher.doc_count_all())) - self.deleted
        return self._docs(q)

    def _postings(self, fieldname: str, text: Any) -> set[int]:
        try:
            raw = SCHEMA[fieldname].to_bytes(text)
        except (KeyError, ValueError, TypeError):
            return set()
        found: set[int] = set()
        for sub, offset in self.searcher.leaf_searchers():
            reader = sub.reader()
            if (fieldname, raw) not in reader:
                continue
            ids = _all_ids(reader.postings(fieldname, raw))
            found.update(map(offset.__add__, ids) if offset else ids)
        return found - self.deleted if self.deleted else found

    def _docs(self, q: Any) -> set[int]:
        """Match by set algebra on posting lists: far cheaper than a matcher tree per document."""
        if isinstance(q, wq.Term):
            return self._postings(q.fieldname, q.text)
        if isinstance(q, (wq.Or, wq.DisjunctionMax)):
            return set().union(*(self._docs(c) for c in q.subqueries))
        if isinstance(q, wq.And):
            parts = sorted((self._docs(c) for c in q.subqueries), key=len)
            return parts[0].intersection(*parts[1:]) if parts else set()
        if isinstance(q, wq.AndNot):
            return self._docs(q.a) - self._docs(q.b)
        if isinstance(q, wq.AndMaybe):
            return self._docs(q.a)
        if isinstance(q, wq.Require):
            return self._docs(q.a) & self._docs(q.b)
        if isinstance(q, wq.Not):
            return self.matching(None) - self._docs(q.query)
        if q is wq.NullQuery or isinstance(q, wq.NullQuery.__class__):
            return set()
        return set(self.searcher.docs_for_query(q))

    def ranked(
        self, q: Any, allowed: set[int] | None, limit: int, *, optimize: bool = False
    ) -> list[tuple[int, float]]:
        """Return the best ``limit`` documents by relevance, within ``allowed`` when given.

        Every match is scored unless ``optimize``: Whoosh's matcher ``replace()`` drops true top
        hits (the shipped library's best "massage anxiety" hit, 23.8, lost to 11.6, with or
        without field boosts), and block-quality skipping alone still missed three of the true
        top ten for "quality" at 100,000 references after updates (docs/benchmarks.md).

        Scoring every match through Whoosh's matcher tree costs seconds at 100,000 references,
        so the usual query (terms under and/or/not) is scored here instead: the matching set by
        set algebra, then each term's BM25F score read a posting block at a time and combined as
        Whoosh's matchers combine them (sum for and/or, max for DisjunctionMax, times boosts).
        Other leaves (phrases, wildcards, ranges) are scored by their own Whoosh matcher.
        """
        if optimize or not isinstance(self.searcher.weighting, BM25F):
            return self._ranked_by_matcher(q, allowed, limit, optimize=optimize)
        return self.best(self._scores(q, allowed), allowed, limit)

    def scored(self, q: Any) -> dict[int, float] | None:
        """Return the score of every live document the query matches, in one posting pass.

        Its keys are ``matching(q)``: a relevance search takes the matching set and the ranking
        from the same read of the posting lists. None when the weighting is not BM25F (then
        ``matching`` and ``ranked`` go through Whoosh).
        """
        if not isinstance(self.searcher.weighting, BM25F):
            return None
        scores = self._scores(q, None)
        if self.deleted:
            scores = {d: v for d, v in scores.items() if d not in self.deleted}
        return scores

    def best(
        self, scores: dict[int, float], allowed: set[int] | None, limit: int
    ) -> list[tuple[int, float]]:
        """Return the ``limit`` best scored documents, within ``allowed`` when given."""
        # Term postings still hold deleted documents: drop them, and those not ``allowed``.
        items: Iterable[tuple[int, float]] = scores.items()
        if allowed is not None:
            items = [(d, v) for d, v in items if d in allowed and d not in self.deleted]
        elif self.deleted:
            items = [(d, v) for d, v in items if d not in self.deleted]
        # Whoosh's TopCollector breaks ties by the lower document number.
        top = nlargest(max(limit, 1), items, key=lambda item: (item[1], -item[0]))
        return [(doc, float(score)) for doc, score in top[:limit]]

    def _ranked_by_matcher(
        self, q: Any, allowed: set[int] | None, limit: int, *, optimize: bool = False
    ) -> list[tuple[int, float]]:
        collector: Any = collectors.TopCollector(
            limit=max(limit, 1), usequality=optimize, replace=0
        )
        if allowed is not None:
            collector = collectors.FilterCollector(collector, allow=allowed)
        self.searcher.search_with_collector(q, collector)
        return [(hit.docnum, float(hit.score or 0.0)) for hit in collector.results()[:limit]]

    def _scores(self, q: Any, docs: set[int] | None) -> dict[int, float]:
        """Return the score of each document the query matches, as Whoosh scores it.

        ``docs``, when given, may narrow what is scored (the caller still filters: term postings
        include deleted documents and documents outside ``docs``).
        """
        if isinstance(q, wq.Term):
            return self._term_scores(q, docs)
        if q is wq.NullQuery or isinstance(q, wq.NullQuery.__class__):
            return {}
        if isinstance(q, (wq.And, wq.Or, wq.DisjunctionMax)) and type(q) in (
            wq.And,
            wq.Or,
            wq.DisjunctionMax,
        ):
            if not q.subqueries:
                return {}
            if isinstance(q, wq.Or) and (q.scale or q.minmatch):
                return self._leaf_scores(q, docs)
            parts = []
            for child in q.subqueries:
                parts.append(self._scores(child, docs))
                if not parts[-1] and isinstance(q, wq.And):
                    return {}  # one part matches nothing: neither does the whole
            if len(parts) == 1:
                return parts[0]  # Whoosh uses the lone child's matcher, ignoring the boost
            if isinstance(q, wq.And):
                parts.sort(key=len)
                out = {
                    d: score
                    for d, score in parts[0].items()
                    if all(d in other for other in parts[1:])
                }
                for other in parts[1:]:
                    for d in out:
                        out[d] += other[d]
            else:
                combine = max if isinstance(q, wq.DisjunctionMax) else float.__add__
                out = dict(parts[0])
                for other in parts[1:]:
                    for d, score in other.items():
                        have = out.get(d)
                        out[d] = score if have is None else combine(have, score)
            if q.boost != 1.0:
                for d in out:
                    out[d] *= q.boost
            return out
        if type(q) is wq.AndNot:
            out = self._scores(q.a, docs)
            gone = self._docs(q.b)
            return {d: v for d, v in out.items() if d not in gone}
        if type(q) is wq.Require:
            out = self._scores(q.a, docs)
            need = self._docs(q.b)
            return {d: v for d, v in out.items() if d in need}
        if type(q) is wq.AndMaybe:
            out = self._scores(q.a, docs)
            extra = self._scores(q.b, set(out))
            extra = {d: v for d, v in extra.items() if d in out}
            for d, v in extra.items():
                out[d] += v
            return out
        return self._leaf_scores(q, docs)

    def _leaf_scores(self, q: Any, docs: set[int] | None) -> dict[int, float]:
        """Score a query Whoosh's way, by its own matcher, segment by segment."""
        out: dict[int, float] = {}
        context = self.searcher.context()
        for sub, offset in self.searcher.leaf_searchers():
            m = q.matcher(sub, context)
            while m.is_active():
                d = offset + m.id()
                if docs is None or d in docs:
                    out[d] = m.score()
                m.next()
        return out

    def _lengths(self, reader: Any, fieldname: str) -> Sequence[int]:
        key = (f"{self.settings.index_dir}:{reader.segment().segment_id()}", fieldname)
        found = _segment_lengths.get(key)
        if found is None:
            # How Whoosh's own ``doc_field_length`` reads them: one length byte per document.
            column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
            found = bytes(column) if column is not None else bytes(reader.doc_count_all())
            _segment_lengths[key] = found
        return found

    def _term_scores(self, q: Any, docs: set[int] | None) -> dict[int, float]:
        """BM25F scores of one term's postings (Whoosh's formula, to the bit), deleted included."""
        fieldname = q.fieldname
        try:
            fieldobj = SCHEMA[fieldname]
            raw = fieldobj.to_bytes(q.text)
        except (KeyError, ValueError, TypeError):
            return {}
        s = self.searcher
        out: dict[int, float] = {}
        boost = q.boost
        scorable = fieldobj.scorable
        if scorable:
            weighting = s.weighting
            B = weighting._field_B.get(fieldname, weighting.B)
            K1 = weighting.K1
            idf = s.idf(fieldname, raw)
            avgfl = s.avg_field_length(fieldname) or 1
            norms = [K1 * ((1 - B) + B * byte_to_length(b) / avgfl) for b in range(256)]
            k1p = K1 + 1
        for sub, offset in s.leaf_searchers():
            reader = sub.reader()
            if (fieldname, raw) not in reader:
                continue
            m = reader.postings(fieldname, raw)
            if isinstance(m, FilterMatcher):
                m = m.child  # deleted documents: the caller removes them
            if not isinstance(m, W3LeafMatcher):
                out.update(self._leaf_scores(q, docs))
                return out
            lengths = self._lengths(reader, fieldname) if scorable else b""
            while m.is_active():
                if m._ids is None:
                    m._read_ids()
                if m._weights is None:
                    m._read_weights()
                i = m._i
                ids, weights = m._ids[i:], m._weights[i:]
                if scorable:
                    scores = [
                        idf * ((tf * k1p) / (tf + norms[lengths[d]])) for d, tf in zip(ids, weights)
                    ]
                else:
                    scores = list(weights)
                if boost != 1.0:
                    scores = [score * boost for score in scores]
                out.update(zip(map(offset.__add__, ids) if offset else ids, scores))
                m._next_block()
        return out

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

    def hits(
        self,
        ranked: Sequence[tuple[int, float | None]],
        q: Any | None,
        session: Session,
        *,
        snippets: bool = True,
    ) -> list[Hit]:
        """Load what each ranked document shows from the store, with a highlighted snippet."""
        terms = {
            t
            for f, t in (q.iter_all_terms() if q is not None else ())
            if f in HIGHLIGHT_FIELDS and isinstance(t, str)
        }
        keys = [self.columns.key[d] for d, _ in ranked]
        loaded = shown(session, keys)
        out = []
        for (docnum, score), key in zip(ranked, keys, strict=True):
            row = loaded.get(key) or Shown("", None, "", "", "")
            kind = self.columns.kind[docnum]
            snippet = self.snippet(row, terms) if snippets else ""
            out.append(Hit(docnum, key, kind, row.title, row.year, score, snippet, row))
        return out

    def snippet(self, row: Shown, terms: set[str]) -> str:
        if terms:
            for value in (row.text, row.title):
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
        text = row.text
        short = text[:220].rsplit(" ", 1)[0] + " …" if len(text) > 220 else text
        return _Mark()._text(short)

    def known(self, word: str) -> bool:
        """Tell whether a word (after stemming) occurs in any searched field."""
        reader = self.searcher.reader()
        stems = _stems(word)
        if not stems:
            return True  # a stop word is never a typo
        return any(reader.doc_frequency(f, stems[0]) > 0 for f in FIELD_BOOSTS)

    def correct(self, word: str) -> str | None:
        """Return the likeliest index word within two edits of a mistyped word."""
        found = self.searcher.corrector("spell").suggest(word.lower(), limit=1, maxdist=2, prefix=1)
        return found[0] if found else None

    def count(self, kind: str) -> int:
        return len(self._postings("kind", kind))


def view(settings: Settings, session: Session | None = None) -> View:
    """Return a consistent view of the current index (built first when missing and a store is given)."""
    if session is not None and not whoosh_index.exists_in(str(settings.index_dir)):
        rebuild(settings, session)
    return View(settings, session)


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
