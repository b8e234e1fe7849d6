"""The search index: a derived cache of the store behind a few verbs (the only Whoosh importer).

``sync`` re-indexes references after a write, ``rebuild`` builds from scratch into a temporary
folder and swaps it in (both write postings a block at a time from in-memory arrays, ``_Bulk``),
``status``/``ensure_current`` compare the index's generation with the store's, and ``View``
answers a parsed query with a mask of matched documents and their scores, computed as arrays
over decoded posting lists (``kb.index_engine``) and cached facet columns (``kb.index_columns``).
Pages load rows from the store by the keys returned here (``kb.index_documents``). The design,
end to end: docs/search.md.

This module is long because it is the one place that knows Whoosh (its writer, codec blocks,
matchers and parser); what needs no Whoosh lives in kb.analysis, kb.index_engine,
kb.index_columns and kb.snippets. Field weights are query boosts, not schema ``field_boost``.
Ranking scores every match: Whoosh's top-N shortcuts drop true top hits (see ``View.ranked``).
"""

from __future__ import annotations

import atexit
import gc
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
import threading
import traceback
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from itertools import accumulate, chain, islice, pairwise
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, func, select
from whoosh import collectors, qparser
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import (
    CharsetFilter,
    IDTokenizer,
    LowercaseFilter,
    RegexTokenizer,
    Token,
    Tokenizer,
)
from whoosh.analysis.filters import STOP_WORDS
from whoosh.analysis.tokenizers import default_pattern
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3LeafMatcher,
    W3TermInfo,
)
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, TEXT, Schema, UnknownFieldError
from whoosh.formats import Existence, Frequency, Positions
from whoosh.lang.porter import stem as porter_stem
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import SegmentReader
from whoosh.scoring import BM25F
from whoosh.support.charset import accent_map
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from kb import analysis, db
from kb.config import Settings
from kb.grading import DESIGN_LABELS
from kb.index_columns import NO_YEAR, Columns, Part, best
from kb.index_documents import (
    Shown,
    reference_docs,
    shown,
    vocabulary,
    vocabulary_docs,
    vocabulary_signature,
)
from kb.index_engine import (
    EMPTY_IDS,
    EMPTY_WEIGHTS,
    Match,
    PostingCache,
    all_of,
    any_of,
    best_of,
    bm25,
    consecutive,
    within,
    without,
)
from kb.index_query import MAX_EDITS, MAX_EXPANSIONS, MAX_FUZZY_CHARS
from kb.models import Reference
from kb.snippets import snippet

META_FILE = "kb-generation.json"
Progress = Callable[[int, int], None]
BIG = 5000  # above this many references a rebuild writes with two processes

# The text fields' analysis: Whoosh's chain RegexTokenizer() | LowercaseFilter() |
# CharsetFilter(accent_map) | StopFilter() | StemFilter(), computed by kb.analysis (same terms and
# positions, no Token object per word). Unstemmed words for "did you mean" (``spell``): a
# suggestion must be a word a person would type; StopFilter(minsize=3), no StemFilter.
_ANALYSES = {
    "text": analysis.Analysis(default_pattern.pattern, STOP_WORDS, accent_map, porter_stem),
    "spell": analysis.Analysis(default_pattern.pattern, STOP_WORDS, accent_map, None, minsize=3),
}


def _analyzer(name: str) -> Any:
    """Return the named analyzer (how the schema pickled in an index's TOC refers to it)."""
    return _ANALYZERS[name]


class Analyzer(Tokenizer):
    """A ``kb.analysis.Analysis`` as a Whoosh analyzer: the Tokens of the filter chain it mirrors.

    Honours what the chain honours: ``positions`` (renumbered past stop words), ``chars``,
    ``start_pos``/``start_char``, ``keeporiginal``, ``removestops=False`` (stop words yielded,
    unstemmed, with ``stopped`` set), ``tokenize=False`` (the whole value is one word) and
    ``no_morph`` (no stemming). ``mode`` changes nothing, as in the chain.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.analysis = _ANALYSES[name]
        self.is_morph = self.analysis.stem is not None

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _analyzer, (self.name,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Analyzer) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        no_morph: bool = False,
        **kwargs: Any,
    ) -> Any:
        assert isinstance(value, str), f"{value!r} is not unicode"
        a = self.analysis
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if tokenize:
            matches: Iterable[Any] = a.regex.finditer(value)
        else:
            matches = [None]
            t.original = value
        pos = None
        for i, match in enumerate(matches):
            raw = value if match is None else match.group(0)
            if no_morph or a.stem is None:
                text = a.fold(raw)
                stopped = a.stopped(text)
            else:
                term = a.term(raw)
                stopped = term is None
                text = a.fold(raw) if stopped else term
            if stopped and removestops:
                continue
            t.text = text
            t.boost = 1.0
            t.stopped = stopped
            if keeporiginal and match is not None:
                t.original = raw
            if positions:
                if stopped:
                    t.pos = start_pos + i
                else:
                    pos = start_pos + i if pos is None else pos + 1
                    t.pos = pos
            if chars:
                start, end = (0, len(value)) if match is None else match.span()
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


_ANALYZERS = {name: Analyzer(name) for name in _ANALYSES}
_TEXT = _ANALYZERS["text"]
_SPELL = _ANALYZERS["spell"]


class FastText(TEXT):
    """A TEXT field whose ``index`` reads kb.analysis directly: Whoosh's postings, faster.

    Gives exactly the (term bytes, frequency, weight, value) items of ``Positions.word_values``
    or ``Frequency.word_values`` over the analyzer's tokens; anything else (a list of words, a
    Characters format, extra arguments) goes through Whoosh's own ``index``.
    """

    def index(self, value: Any, **kwargs: Any) -> Any:
        kind = type(self.format)
        if (
            not isinstance(value, str)
            or not isinstance(self.analyzer, Analyzer)
            or kind not in (Positions, Frequency)
            or set(kwargs) - {"mode"}
        ):
            return super().index(value, **kwargs)
        first, terms = self.analyzer.analysis.terms(value)
        boost = self.format.field_boost
        if kind is Positions:
            items = analysis.position_values(first, terms, boost)
        else:
            items = analysis.frequency_values(terms, boost)
        return [(term.encode("utf-8"), freq, weight, v) for term, freq, weight, v in items]


class PairTerms(TEXT):
    """The ``pairs`` field: a list of pair terms (``kb.analysis.pairs``), counted, no positions."""

    def __init__(self) -> None:
        super().__init__(analyzer=_SPELL, phrase=False)

    def index(self, value: Any, **kwargs: Any) -> Any:
        if not isinstance(value, (list, tuple)) or set(kwargs) - {"mode"}:
            return super().index(value, **kwargs)
        boost = self.format.field_boost
        items = analysis.frequency_values(value, boost)
        return [(term.encode("utf-8"), freq, weight, v) for term, freq, weight, v in items]


SCHEMA = Schema(
    kind=ID(stored=True),
    key=ID(stored=True, unique=True, sortable=True),
    title=FastText(analyzer=_TEXT),
    text=FastText(analyzer=_TEXT),
    authors=FastText(analyzer=_TEXT),
    journal=FastText(analyzer=_TEXT, phrase=False),
    keywords=FastText(analyzer=_TEXT, phrase=False),
    # Adjacent common stems of ``text`` ("low back"), for phrases of common words: see pairs().
    pairs=PairTerms(),
    topics=KEYWORD(lowercase=True),
    year=NUMERIC(int, bits=32, signed=True, shift_step=8),
    design=KEYWORD(lowercase=True, commas=True),
    finding=KEYWORD(lowercase=True, commas=True),
    ids=KEYWORD(lowercase=True, commas=True),
    spell=FastText(analyzer=_SPELL, phrase=False),
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
    "title": ["ti"],
    "authors": ["author", "au"],
    "journal": ["container", "source", "ta"],
    "text": ["abstract", "summary", "tiab", "tw"],
    "keywords": ["keyword", "kw", "mesh", "mh"],
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


_metas: dict[Path, tuple[tuple[int, int, int], dict[str, Any], frozenset[str]]] = {}


def _meta(folder: Path) -> tuple[dict[str, Any], frozenset[str]]:
    """Return the meta file and its common words, read again only when the file changed.

    Every search opens a view, and every update checks the schema: a stat, not a JSON read.
    """
    try:
        st = (folder / META_FILE).stat()
    except OSError:
        return {}, frozenset()
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    with _lock:
        cached = _metas.get(folder)
        if cached is None or cached[0] != stamp:
            meta = _read_meta(folder)
            cached = _metas[folder] = (stamp, meta, frozenset(meta.get("common", ())))
        return cached[1], cached[2]


def _write_meta(
    folder: Path, generation: int, signature: str, common: Iterable[str] | None = None
) -> None:
    """Record the generation, vocabulary and schema; ``common`` None keeps the recorded set."""
    words = _read_meta(folder).get("common", []) if common is None else common
    meta = {
        "generation": generation,
        "vocabulary": signature,
        "schema": SCHEMA_SIGNATURE,
        "common": sorted(words),
    }
    tmp = folder / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(tmp, folder / META_FILE)


# Phrase candidates (in one segment) up to which a word's positions are read for them alone;
# above, the word's every position is read once (~0.15 s per million) and kept in the cache.
FEW_CANDIDATES = 64
FOLD_AT = 24  # small segments (one per update) before an update re-indexes their documents
SMALL = 500  # documents in a segment that counts as small


def _small_segment_keys(writer: Any) -> list[str]:
    """Return the keys in small segments once ``FOLD_AT`` of them have piled up, else none.

    Each update writes a segment; every search then reads each segment's posting lists in turn
    (cached per segment, so ~5 microseconds a term and segment once warm). Writing a segment
    costs per distinct term (~600 for one reference), so merging, by Whoosh's policy or by
    re-indexing, costs ~25-30 ms a document at 100,000 references. The update that finds
    ``FOLD_AT`` small segments re-indexes their documents from the store with its own, and the
    emptied segments are dropped at commit: ~0.7 s once in 24 updates (measured in
    docs/benchmarks.md), the others ~50-80 ms.
    """
    small = [s for s in writer.segments if s.doc_count_all() <= SMALL]
    if len(small) < FOLD_AT:
        return []
    keys = []
    for segment in small:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            keys.extend(reader.stored_fields(d)["key"] for d in reader.all_doc_ids())
        finally:
            reader.close()
    return keys


def _drop_emptied(writer: Any, segments: list[Any]) -> list[Any]:
    """A Whoosh merge policy: keep the segments that still hold a live document, merge nothing."""
    return [segment for segment in segments if segment.doc_count() > 0]


def sync(settings: Settings, session: Session, keys: Iterable[str]) -> None:
    """Re-index these references (and the vocabulary when it changed); record the generation.

    One writer and one commit for any number of keys; the documents of small segments left by
    earlier updates are folded in when they pile up (``FOLD_AT``), and the open searcher is
    refreshed once, on its next use.
    """
    keys = list(dict.fromkeys(keys))
    if _meta(settings.index_dir)[0].get("schema") != SCHEMA_SIGNATURE or (
        # Reading the table of contents costs ~15 ms at 100,000: once per process is enough.
        settings.index_dir not in _open and not whoosh_index.exists_in(str(settings.index_dir))
    ):
        rebuild(settings, session)
        return
    signature = vocabulary_signature(session)
    common = common_words(settings)
    with _lock:
        meta = _meta(settings.index_dir)[0]
        ix = _index(settings)
        # Separate segment files, not one compound file: opening a reader on a compound segment
        # copies its term index into memory (~0.5 s at 100,000 references), and every update
        # opens one to delete the old document, and every search after it opens another.
        writer = ix.writer(timeout=10.0, limitmb=128, compound=False)
        try:
            folded = _small_segment_keys(writer)
            vocabulary_folded = any(":" in key for key in folded)
            keys = list(dict.fromkeys([*keys, *(k for k in folded if ":" not in k)]))
            for key in keys:
                writer.delete_by_term("key", key)
            # The new segment is written as a rebuild writes one (the same postings as
            # ``add_document``, a block at a time): a third of an update's time at 100,000.
            bulk = _Bulk(writer, common)
            for doc in reference_docs(session, keys):
                bulk.add(doc)
            if meta.get("vocabulary") != signature or vocabulary_folded:
                for kind in ("condition", "modality"):
                    writer.delete_by_term("kind", kind)
                for doc in vocabulary_docs(session):
                    bulk.add(doc)
        except BaseException:
            writer.cancel()
            raise
        # Segments whose every document was re-indexed above are dropped (their files go too).
        writer.commit(mergetype=_drop_emptied)
        _write_meta(settings.index_dir, db.generation(session), signature)


def common_words(settings: Settings) -> frozenset[str]:
    """Return the index's common stems: two of them adjacent in ``text`` make a ``pairs`` term.

    Chosen at rebuild (``kb.analysis.common_stems``), kept in the index's meta file and used by
    every later ``sync``; read once per meta file (cached by its stat).
    """
    return _meta(settings.index_dir)[1]


def _with_pairs(doc: dict[str, Any], common: frozenset[str]) -> dict[str, Any]:
    """Add a document's ``pairs`` (from its ``text``), as ``add_document`` takes them."""
    text = doc.get("text")
    if text is not None and "pairs" not in doc:
        doc["pairs"] = analysis.pairs(_TEXT.analysis.terms(text)[1], common)
    return doc


SEGMENT = 50_000  # references per segment of a bulk build (its postings are held in memory)
_HELPER_MINIMUM = 1000  # fewer references than this left for a helper process: no helper
_RUN = 500_000  # postings of a field made Python objects at once when written
_COLUMN, _PAIRS, _ITEMS = range(3)
_PENDING: list[str] = []  # a document's ``pairs`` before the segment's pairs are computed


class _Bulk:
    """One segment of a bulk build, written without Whoosh's per-posting sorting pool.

    ``add`` keeps a document in memory: the words of its text fields as term ids
    (``kb.analysis.TermColumn``; ``pairs`` come from ``text`` at the end), the few terms of its
    other fields as Whoosh's ``index`` gives them, and what the per-document writer needs.
    ``_flush``, in place of the writer's ``_flush_segment`` at commit, writes each document's
    stored fields, lengths and columns through the writer's per-document writer exactly as
    ``SegmentWriter.add_document`` does, then the postings field by field and term by term
    through the writer's field writer (``_write_postings``: the bytes of ``add_posting`` per
    posting, written a block at a time).

    A text field takes strings here (Whoosh's ``index`` also takes lists of words), and
    ``pairs`` are computed from ``text``, never given.
    """

    def __init__(self, writer: Any, common: frozenset[str]) -> None:
        self.writer = writer
        self.common = common
        self.fields = dict(writer.schema.items())
        self.kinds: dict[str, int] = {}
        self.columns: dict[str, analysis.TermColumn] = {}
        self.items: dict[str, analysis.Postings] = {}
        for name, fieldobj in self.fields.items():
            if fieldobj.vector or fieldobj.separate_spelling():
                raise ValueError(f"a bulk build cannot write field {name!r}")
            if not fieldobj.indexed:
                continue
            analyzer = getattr(fieldobj, "analyzer", None)
            plain = getattr(fieldobj.format, "field_boost", None) == 1.0
            fast = type(fieldobj.format) in (Positions, Frequency) and plain
            if isinstance(fieldobj, PairTerms) and fast:
                self.kinds[name] = _PAIRS
            elif isinstance(fieldobj, FastText) and isinstance(analyzer, Analyzer) and fast:
                self.kinds[name] = _COLUMN
                self.columns[name] = analysis.TermColumn(analyzer.analysis)
            else:
                self.kinds[name] = _ITEMS
            self.items[name] = analysis.Postings()
        self.pairs = self.kinds.get("pairs") == _PAIRS and self.kinds.get("text") == _COLUMN
        # Each scorable field's length in each document.
        self.lengths = {name: array("i") for name, f in self.fields.items() if f.scorable}
        # Each document's field names (sorted), stored values and column values.
        self.docs: list[tuple[tuple[str, ...], dict[str, Any], list[tuple[str, Any, Any]]]] = []
        # Fields Whoosh analyses: an ID's value is its one term; others' items are remembered
        # by value while that pays (not for values nearly every document has its own of).
        self.whole = {
            name
            for name, f in self.fields.items()
            if type(f) is ID
            and type(f.analyzer) is IDTokenizer
            and type(f.format) is Existence
            and f.format.field_boost == 1.0
        }
        self.memo: dict[tuple[str, Any], list[tuple[bytes, int, float, bytes]]] = {}
        self.misses: Counter[str] = Counter()
        writer._flush_segment = self._flush

    def _items(self, name: str, fieldobj: Any, value: Any) -> list[tuple[bytes, int, float, bytes]]:
        """Return a field's (term bytes, frequency, weight, value) items: its ``index(value)``."""
        if name in self.whole and isinstance(value, str):
            return [(value.encode("utf-8"), 1, 1.0, b"")]  # Existence.word_values of one token
        key = None
        if isinstance(value, (str, int)) and self.misses[name] <= max(1000, len(self.docs) // 2):
            key = (name, value)
            found = self.memo.get(key)
            if found is not None:
                return found
            self.misses[name] += 1
        items = [(t, f, w, v or b"") for t, f, w, v in fieldobj.index(value)]
        if key is not None:
            if len(self.memo) > 100_000:
                self.memo.clear()
            self.memo[key] = items
        return items

    def add(self, doc: dict[str, Any]) -> None:
        docnum = len(self.docs)
        fields = self.fields
        if self.pairs and doc.get("text") is not None:
            if doc.get("pairs") not in (None, _PENDING):
                raise ValueError("a bulk build computes pairs from text: give none")
            doc["pairs"] = _PENDING
        names = tuple(sorted(n for n, v in doc.items() if v is not None and n[0] != "_"))
        for name in names:
            if name not in fields:
                raise UnknownFieldError(f"No field named {name!r} in {self.writer.schema}")
        for lengths in self.lengths.values():
            lengths.append(0)
        stored: dict[str, Any] = {}
        columns: list[tuple[str, Any, Any]] = []
        for name in names:
            value = doc[name]
            fieldobj = fields[name]
            if fieldobj.indexed:
                kind = self.kinds[name]
                if kind == _COLUMN:
                    if not isinstance(value, str):
                        raise TypeError(f"a bulk build indexes text in {name!r}, not {value!r}")
                    length = self.columns[name].add(docnum, value)
                elif value is _PENDING:
                    length = 0  # counted with the segment's pairs, in _flush
                else:
                    items = self._items(name, fieldobj, value)
                    length = self.items[name].add_items(docnum, items)
                if fieldobj.scorable:
                    self.lengths[name][docnum] = length
            if fieldobj.stored:
                stored[name] = value
            if fieldobj.column_type:
                columns.append((name, fieldobj.column_type, fieldobj.to_column_value(value)))
        self.docs.append((names, stored, columns))
        self.writer.docnum = docnum + 1
        self.writer._added = True

    def _flush(self) -> None:
        """Write the segment (in place of ``SegmentWriter._flush_segment``)."""
        writer = self.writer
        inverted: dict[str, analysis.Inverted] = {}
        if self.pairs:
            text = self.columns["text"]
            inverted["pairs"], counts = text.pairs(self.common)
            lengths = self.lengths["pairs"]
            for docnum, count in zip(text.docs, counts.tolist(), strict=True):
                lengths[docnum] = count
        self._write_per_doc()
        writer.perdocwriter.close()
        fw = writer.fieldwriter
        for name in sorted(self.items):
            fieldobj = self.fields[name]
            inv = inverted.pop(name, None)
            if inv is None:
                column = self.columns.pop(name, None)
                if column is not None and len(column.docs):
                    inv = column.invert(type(fieldobj.format) is Positions)
                else:
                    inv = self.items[name].inverted(fieldobj.format.fixed_value_size())
            self.items[name].lists.clear()
            lengths = self.lengths.get(name)
            lenbytes = None
            if lengths is not None:
                lenbytes = np.frombuffer(bytes(map(length_to_byte, lengths)), dtype=np.uint8)
            _write_postings(fw, name, fieldobj, inv, lenbytes)
        fw.close()

    def _write_per_doc(self) -> None:
        pdw = self.writer.perdocwriter
        fields = self.fields
        lengths = {name: values.tolist() for name, values in self.lengths.items()}
        for docnum, (names, stored, columns) in enumerate(self.docs):
            pdw.start_doc(docnum)
            for name in names:
                counted = lengths.get(name)
                pdw.add_field(
                    name, fields[name], stored.get(name), counted[docnum] if counted else 0
                )
            for name, column, value in columns:
                pdw.add_column_value(name, column, value)
            pdw.finish_doc()
        self.docs.clear()


def _write_postings(
    fw: Any, name: str, fieldobj: Any, inv: analysis.Inverted, lenbytes: np.ndarray | None
) -> None:
    """Write one field's postings through a W3FieldWriter, a term at a time.

    The bytes are those of ``start_term``, one ``add_posting`` per posting (``dfl`` lengths
    from the per-document lengths) and ``finish_term`` (tests/test_index_build.py checks them
    against a writer driving Whoosh's own ``W3PostingsWriter._write_block``), computed here a
    block at a time from numpy arrays: ``_write_block``'s block (the pickled, compressed id
    deltas, weights and values, after the pickled block info) and ``W3TermInfo.add_block``'s
    totals, then the term info row in the terms table. Terms are taken in runs of about
    ``_RUN`` postings, so only a run's postings are ever Python objects at once.
    """
    if not inv.terms:
        return
    fw.start_field(name, fieldobj)
    pw = fw._postwriter
    limit, level = pw._blocklimit, pw._compression
    write, tell, add_term = fw._postfile.write, fw._postfile.tell, fw._tindex.add
    prefix = pack_ushort(fw._fieldid)
    fixed = fieldobj.format.fixed_value_size()
    packed, size = inv.packed, inv.size
    # Every block of every term: postings begin (included) to end (excluded).
    starts = inv.starts
    blocks = (np.diff(starts) + limit - 1) // limit
    total = int(blocks.sum())
    nth = np.arange(total) - np.repeat(np.cumsum(blocks) - blocks, blocks)
    begin = np.repeat(starts[:-1], blocks) + limit * nth
    end = np.minimum(begin + limit, np.repeat(starts[1:], blocks))
    weights = inv.weights
    heaviest = np.maximum.reduceat(weights, begin).tolist()
    lightest = np.minimum.reduceat(weights, begin).tolist()
    sums = np.add.reduceat(weights.astype(np.float64), begin).tolist()  # exact: whole numbers
    if lenbytes is None:  # not scorable: no lengths, as dfl() gives 0
        shortest = longest = [0] * total
    else:
        found = lenbytes[inv.docs].astype(np.int16)
        shortest = np.minimum.reduceat(np.where(found == 0, 256, found), begin).tolist()
        longest = np.maximum.reduceat(found, begin).tolist()
        del found
    firsts = inv.docs[begin].tolist()
    lasts = inv.docs[end - 1].tolist()
    begins, ends = begin.tolist(), end.tolist()
    counts = blocks.tolist()
    # Runs of whole terms of about _RUN postings each.
    cuts = np.searchsorted(starts, np.arange(_RUN, int(starts[-1]), _RUN), side="right") - 1
    cuts = np.unique(np.concatenate(([0], cuts[cuts > 0], [len(inv.terms)]))).tolist()
    b = 0
    for t0, t1 in pairwise(cuts):
        p0, p1 = int(starts[t0]), int(starts[t1])
        docs = inv.docs[p0:p1].astype(np.int64)
        deltas = docs.copy()
        deltas[1:] -= docs[:-1]
        local = begin[b : b + sum(counts[t0:t1])] - p0
        deltas[local] = docs[local]  # delta_encode() starts each block from 0
        deltas = deltas.tolist()
        listed = weights[p0:p1].tolist()
        values = inv.values_between(p0, p1) if fixed is None else None
        for t in range(t0, t1):
            count = counts[t]
            offset = tell()
            write(WHOOSH3_HEADER_MAGIC)
            info = W3TermInfo()
            info._minid = firsts[b]
            weight = 0.0
            for i in range(count):
                s, e = begins[b], ends[b]
                low, high = lightest[b], heaviest[b]
                # _mini_weights(), _mini_values(), _mini_ids()
                if low == high == 1.0:
                    ws: Any = None
                elif low == high:
                    ws = listed[s - p0]
                else:
                    ws = tuple(listed[s - p0 : e - p0])
                if fixed is None:
                    vs: Any = tuple(values[s - p0 : e - p0]) if values is not None else ()
                elif fixed == 0:
                    vs = None
                else:
                    vs = packed[size * s : size * e] if packed else b""
                data = zlib.compress(
                    pickle.dumps((tuple(deltas[s - p0 : e - p0]), ws, vs), 2), level
                )
                # dfl() gives byte_to_length() of the length byte, None for a 0 byte; the
                # block info holds length_to_byte() of the shortest and longest: the bytes.
                short = shortest[b] if shortest[b] < 256 else 0
                heavy = max(0, high)
                head = pickle.dumps((e - s, lasts[b], heavy, level, short, longest[b]), 2)
                n = len(head) + len(data)
                write(pack_int(-n if i == count - 1 else n) + head + data)
                # W3TermInfo.add_block()
                weight += sums[b]
                info._df += e - s
                if short:
                    length = byte_to_length(short)
                    if info._minlength is None or length < info._minlength:
                        info._minlength = length
                info._maxlength = max(info._maxlength, byte_to_length(longest[b]))
                info._maxweight = max(info._maxweight, heavy)
                b += 1
            info._weight = weight
            info._maxid = lasts[b - 1]
            info.set_extent(offset, tell() - offset)
            term = inv.terms[t]
            add_term(
                prefix + (term.encode("utf-8") if isinstance(term, str) else term), info.to_bytes()
            )
    fw.finish_field()


def _write_part(
    ix: Any,
    docs: Iterable[dict[str, Any]],
    common: frozenset[str] | Callable[[], frozenset[str]],
    tick: Callable[[], None],
    size: int,
    bulk: _Bulk | None = None,
    room: int = 0,
) -> list[Any]:
    """Write references as segments of ``size`` each; return the (uncommitted) segments.

    ``bulk``, when given, is a segment already begun, with ``room`` references to go. ``common``
    may be a function, asked for the common words when the first segment is written.
    """
    segments = []
    docs = iter(docs)
    try:
        while True:
            if bulk is None:
                first = next(docs, None)
                if first is None:
                    return segments
                docs = chain([first], docs)
                bulk = _Bulk(ix.writer(_lk=False, compound=False), frozenset())
                room = size
            for doc in islice(docs, max(room, 0)):
                bulk.add(doc)
                tick()
            if callable(common):
                common = common()
            bulk.common = common
            if bulk.writer._added:
                segments.append(bulk.writer._finalize_segment())
            else:
                bulk.writer._close_segment()  # nothing to write: no empty segment
            bulk = None
    except BaseException:
        if bulk is not None and not bulk.writer.is_closed:
            bulk.writer.cancel()
        raise


def _segment_size(references: int) -> int:
    """Split a part of a build into even segments of ``SEGMENT`` references (10 % over is fine:
    50,043 references make one segment, not two of 25,022)."""
    count = max(1, -(-references // (SEGMENT + SEGMENT // 10)))
    return max(1, -(-references // count))


@contextmanager
def _bulk_mode() -> Iterator[None]:
    """Pause the cyclic garbage collector (a build makes millions of small objects, no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Helper:
    """A second process writing the later references of a rebuild (``_helper_main``).

    Started with a fresh interpreter (``python -c``: no fork of a threaded server, no re-import
    of the caller's main module); sent the job, then the common words, on its stdin; it answers
    on its stdout with progress counts, then its segments (or the error that stopped it).
    """

    def __init__(self, settings: Settings, folder: Path, start: int, count: int) -> None:
        root = str(Path(__file__).resolve().parents[1])  # this kb package, installed or not
        paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from kb.index import _helper_main; _helper_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.done = 0
        self.result: tuple[str, Any] | None = None
        self._send({"settings": settings, "folder": str(folder), "start": start, "count": count})
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _send(self, message: Any) -> None:
        assert self.process.stdin is not None
        pickle.dump(message, self.process.stdin, 2)
        self.process.stdin.flush()

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                kind, value = pickle.load(self.process.stdout)
                if kind == "done":
                    self.done = value
                else:
                    self.result = (kind, value)
                    return
        except Exception as error:  # noqa: BLE001  a dead helper: reported by segments()
            self.result = ("error", f"the build helper stopped ({error!r})")

    def common(self, words: frozenset[str]) -> None:
        self._send(words)

    def segments(self, progress: Callable[[], None]) -> list[Any]:
        """Wait for the helper's segments, reporting its progress meanwhile."""
        while self._reader.is_alive():
            self._reader.join(0.25)
            progress()
        self.process.wait()
        kind, value = self.result or ("error", "the build helper sent nothing")
        if kind != "segments":
            raise RuntimeError(f"index build helper failed: {value}")
        return value

    def stop(self) -> None:
        """End the helper (killed if still running) and close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


def _helper_main() -> None:
    """The second process of a rebuild: write the references from ``start`` on (``_Helper``)."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, not into the answers

    def answer(kind: str, value: Any) -> None:
        pickle.dump((kind, value), out, 2)
        out.flush()

    try:
        job = pickle.load(sys.stdin.buffer)
        settings = job["settings"]
        ix = whoosh_index.open_dir(job["folder"])
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if done % 500 == 0:
                answer("done", done)

        def common() -> frozenset[str]:
            return pickle.load(sys.stdin.buffer)

        with _bulk_mode(), db.session_scope(settings) as session:
            docs = reference_docs(session, ids=(job["start"], None))
            segments = _write_part(ix, docs, common, tick, _segment_size(job["count"]))
        answer("done", done)
        answer("segments", segments)
    except BaseException:  # noqa: BLE001  told to the parent, which raises it
        answer("error", traceback.format_exc())
        raise SystemExit(1) from None


def rebuild(settings: Settings, session: Session, progress: Progress | None = None) -> int:
    """Build the index from scratch in a temporary folder and swap it in; return its size.

    Documents are written by ``_Bulk`` (postings in memory, written a block at a time) in
    segments of up to ``SEGMENT`` references, not through ``add_document`` and its sorting
    pool. The common words are counted once the first ``COMMON_SAMPLE`` references are in.
    Above ``BIG`` references a second process (``_Helper``) writes the later half meanwhile.
    """
    total = session.exec(select(func.count()).select_from(Reference)).one()
    folder = settings.index_dir
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = folder.parent / f".{folder.name}-building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    # This process takes at least the references the common words are counted over.
    mine = max((total + 1) // 2, min(total, analysis.COMMON_SAMPLE))
    split = None
    if (
        total > BIG
        and total - mine >= _HELPER_MINIMUM
        and (os.cpu_count() or 1) > 1
        and sys.executable
    ):
        split = session.exec(
            select(Reference.id).order_by(Reference.id).offset(mine).limit(1)
        ).first()
    helper = None
    done = 0

    def report() -> None:
        if progress:
            progress(min(done + (helper.done if helper else 0), total), total)

    def tick() -> None:
        nonlocal done
        done += 1
        if progress and done % 500 == 0:
            report()

    try:
        ix = whoosh_index.create_in(str(building), SCHEMA)
        if split is not None:
            helper = _Helper(settings, building, split, total - mine)
        main = ix.writer(compound=False)
        with _bulk_mode():
            try:
                bulk = _Bulk(main, frozenset())
                vocabulary = vocabulary_docs(session)
                for doc in vocabulary:
                    bulk.add(doc)
                refs = iter(reference_docs(session, ids=(None, split)))
                for doc in islice(refs, analysis.COMMON_SAMPLE):
                    bulk.add(doc)
                    tick()
                common = frozenset(
                    bulk.columns["text"].common(len(vocabulary), len(vocabulary) + done)
                )
                if helper is not None:
                    helper.common(common)
                size = _segment_size(mine if helper is not None else total)
                segments = _write_part(ix, refs, common, tick, size, bulk, size - done)
                if helper is not None:
                    segments += helper.segments(report)
            except BaseException:
                if not main.is_closed:
                    main.cancel()
                raise
        main._commit_toc(segments)
        main._finish()
        count = sum(s.doc_count_all() for s in segments)
        _write_meta(building, db.generation(session), vocabulary_signature(session), common)
        if progress:
            progress(total, total)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    finally:
        if helper is not None:
            helper.stop()
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


_parts: dict[str, Part] = {}  # segment id -> its columns (segments never change)
_postings_cache = PostingCache()
# A segment's files are read by seek-then-read on shared handles: one reader at a time.
_reading = threading.Lock()
_segment_lengths: dict[tuple[str, str], np.ndarray] = {}  # (segment id, field) -> length bytes
_searcher_columns: dict[Path, tuple[Any, Columns]] = {}


def _segment_id(settings: Settings, reader: Any) -> str:
    return f"{settings.index_dir}:{reader.segment().segment_id()}"


def _leaves(settings: Settings, s: Any) -> list[tuple[Any, int, str]]:
    """Return each segment's reader, first document number and id (an empty index has none)."""
    out = []
    for sub, offset in s.leaf_searchers():
        reader = sub.reader()
        if reader.segment() is not None:
            out.append((reader, offset, _segment_id(settings, reader)))
    return out


PART_VERSION = 1  # bump when ``Part`` changes shape: older side files are decoded afresh


def _segment_part(folder: Path, reader: Any) -> Part:
    """Return a segment's columns, from its side file when one was written, else decoded.

    Decoding the packed facet column takes ~0.5 s per 50,000 documents, in every process that
    opens the index (each ``kb search``); the decoded columns are kept beside the segment's
    files, named like them, so Whoosh deletes them with the segment.
    """
    path = folder / f"{reader.segment().segment_id()}.kbparts"
    try:
        with path.open("rb") as handle:
            version, part = pickle.load(handle)
        if version == PART_VERSION and len(part.key) == reader.doc_count_all():
            return part
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
        pass
    # The key column covers every document, deleted or not: a page of hits needs no reads.
    part = Part.decode(reader.column_reader("facets"), reader.column_reader("key"))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            pickle.dump((PART_VERSION, part), handle, protocol=5)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only index still works, decoding each time
    return part


def _columns(settings: Settings, s: Any) -> Columns:
    with _lock:
        cached = _searcher_columns.get(settings.index_dir)
        if cached is not None and cached[0] is s:
            return cached[1]
        parts: list[tuple[Part, int]] = []
        deleted: list[int] = []
        current = set()
        for reader, offset, ident in _leaves(settings, s):
            current.add(ident)
            part = _parts.get(ident)
            if part is None:
                part = _parts[ident] = _segment_part(settings.index_dir, reader)
            if reader.has_deletions():
                deleted.extend(offset + d for d in reader.deleted_docs_set)
            parts.append((part, offset))
        prefix = f"{settings.index_dir}:"
        for gone in [k for k in _parts if k.startswith(prefix) and k not in current]:
            del _parts[gone]  # merged away or rebuilt: never read again
            _postings_cache.forget(gone)
        for pair in [
            k for k in _segment_lengths if k[0].startswith(prefix) and k[0] not in current
        ]:
            del _segment_lengths[pair]
        columns = Columns(parts, s.doc_count_all(), deleted)
        _searcher_columns[settings.index_dir] = (s, columns)
        return columns


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


def _bounded(q: Any) -> Any:
    """Hold every fuzzy term to MAX_EDITS edits and a first letter in common (bounded work)."""
    if isinstance(q, wq.FuzzyTerm):
        if len(q.text) > MAX_FUZZY_CHARS:
            return wq.Term(q.fieldname, q.text, boost=q.boost)
        q.maxdist = min(q.maxdist, MAX_EDITS)
        q.prefixlength = max(q.prefixlength, 1)
        return q
    return q if q.is_leaf() else q.apply(_bounded)


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


def _decode_postings(reader: Any, fieldname: str, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Read a term's whole posting list in one segment: document numbers and weights.

    Whoosh's matcher steps one posting at a time through several method calls; this reads
    each block's pickled tuple of id deltas and weights once and decodes them as arrays.
    Deleted documents are included (the caller removes them).
    """
    with _reading:
        return _read_postings(reader, fieldname, raw)


def _read_postings(reader: Any, fieldname: str, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    if (fieldname, raw) not in reader:
        return EMPTY_IDS, EMPTY_WEIGHTS
    m = reader.postings(fieldname, raw)
    if isinstance(m, FilterMatcher):
        m = m.child
    if not isinstance(m, W3LeafMatcher):  # an inlined posting list (one document)
        ids, weights = [], []
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
        return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)
    deltas: list[int] = []
    weights_out: list[float] = []
    starts: list[int] = []
    bases: list[int] = []
    last = 0
    while m.is_active():
        if m._data is None:
            m._read_data()
        block_ids, block_weights, _ = m._data
        n = m._blocklength
        starts.append(len(deltas))
        bases.append(last)
        deltas.extend(block_ids)
        if block_weights is None:
            weights_out.extend([1.0] * n)
        elif isinstance(block_weights, float):
            weights_out.extend([block_weights] * n)
        else:
            weights_out.extend(block_weights)
        last = m._maxid
        m._next_block()
    # Each block's first id is absolute: make it relative to the block before, then add up.
    steps = np.array(deltas, dtype=np.int64)
    steps[starts] -= np.array(bases, dtype=np.int64)
    return np.cumsum(steps), np.array(weights_out, dtype=np.float64)


def _length_column(column: Any, size: int) -> np.ndarray:
    """Return a segment's length bytes (one per document) as an array.

    The column is Whoosh's fixed one-byte ``NumericColumn``: its bytes are read in one piece
    (documents past its end have length 0), not one ``__getitem__`` per document.
    """
    if column is None:
        return np.zeros(size, dtype=np.uint8)
    if getattr(column, "_fixedlen", None) == 1 and hasattr(column, "_dbfile"):
        count = min(column._count, size)
        raw = bytes(column._dbfile.get(column._basepos, count))
        return np.frombuffer(raw + bytes(size - count), dtype=np.uint8)
    return np.frombuffer(bytes(column), dtype=np.uint8)


def _decode_positions(
    reader: Any, fieldname: str, raw: bytes, only: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read a term's positions in one segment: the document and position of each occurrence.

    With ``only`` (sorted segment-local document numbers), blocks holding none of them are
    skipped undecoded and only their positions are read: for a common word in a phrase with a
    rarer one, a few thousand documents instead of the word's every occurrence.
    """
    with _reading:
        docs: list[int] = []
        positions: list[int] = []
        if (fieldname, raw) not in reader:
            return EMPTY_IDS, EMPTY_IDS
        m = reader.postings(fieldname, raw)
        if isinstance(m, FilterMatcher):
            m = m.child
        wanted = None if only is None else only.tolist()
        size = 0 if wanted is None else len(wanted)
        w = 0  # the next wanted document
        loads = pickle.loads
        while m.is_active():
            if isinstance(m, W3LeafMatcher):
                if wanted is not None:
                    if w >= size:
                        break
                    if wanted[w] > m._maxid:
                        m._next_block()
                        continue
                if m._data is None:
                    m._read_data()
                ids = list(accumulate(m._data[0]))
                m._read_values()
                values = m._values
                m._next_block()
            else:
                ids, values = [m.id()], [m.value()]
                m.next()
            for d, value in zip(ids, values, strict=True):
                if wanted is not None:
                    while w < size and wanted[w] < d:
                        w += 1
                    if w >= size or wanted[w] != d:
                        continue
                # Whoosh's Positions format: a 4-byte count, then the pickled position deltas.
                here = list(accumulate(loads(value[4:])))
                docs.extend([d] * len(here))
                positions.extend(here)
        return np.array(docs, dtype=np.int32), np.array(positions, dtype=np.int32)


class View:
    """One consistent view of the index (one searcher): parse, match, rank, highlight.

    Matching and ranking read posting lists as arrays (``kb.index_engine``) rather than
    stepping Whoosh's matcher tree a document at a time; the leaves this does not know
    (ranges of words, "every") still go through Whoosh's matchers.
    """

    def __init__(self, settings: Settings, session: Session | None = None):
        self.settings = settings
        self.session = session
        self.searcher = searcher(settings)
        self.columns = _columns(settings, self.searcher)
        self.size = self.columns.size
        self.live = self.columns.live
        self.deleted = frozenset(np.flatnonzero(~self.live).tolist())
        self._segments = _leaves(settings, self.searcher)
        meta, self._common = _meta(settings.index_dir)
        signature = meta.get("vocabulary", "")
        topics = _topics.get(signature)
        if topics is None and session is not None:
            topics = _topics[signature] = Topics(session)
        self.topics = topics or Topics(None)
        self.limited: list[str] = []  # what matching cut short, said to the person searching

    def parse(self, text: str) -> Any:
        """Parse the query language; raise QuerySyntaxError on what it cannot mean."""
        try:
            q = _parser().parse(text)
        except Exception as error:  # the parser's failures are many and untyped
            raise QuerySyntaxError(str(error)) from error
        errors = _errors(q)
        if errors:
            raise QuerySyntaxError("; ".join(str(e) for e in errors))
        return self.topics.expand(_bounded(q))

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
        weights = np.zeros(self.size, dtype=np.float64)
        for df, term in rare:
            ids, _ = self.postings("text", term)
            weights[ids] += math.log(1 + total / df)
        return [doc for doc, _ in best(weights, (weights > 0) & self.live, limit)]

    def fuzzy(self, words: Sequence[str]) -> Any:
        """Return a query that accepts, for each unknown word, its closest index words."""
        parts = []
        corrector = self.searcher.corrector("spell")
        for word in words:
            options = (
                [word]
                if len(word) > MAX_FUZZY_CHARS or self.known(word)
                else corrector.suggest(word.lower(), limit=3, maxdist=2, prefix=1)
            )
            if options:
                parts.append(self.plain(options, any_word=True))
        return wq.And(parts) if parts else wq.NullQuery

    def matching(self, q: Any | None) -> set[int]:
        """Return the numbers of every live document the query matches (all when None)."""
        return set(np.flatnonzero(self.match(q).mask).tolist())

    def match(self, q: Any | None) -> Match:
        """Return the live documents the query matches and their scores (all, unscored, for None)."""
        if q is None:
            return Match(self.live.copy(), np.zeros(self.size, dtype=np.float64))
        found = self._match(q)
        return without(found, ~self.live)

    def ranked(
        self, q: Any, allowed: set[int] | None, limit: int, *, optimize: bool = False
    ) -> list[tuple[int, float]]:
        """Return the best ``limit`` documents by relevance, within ``allowed`` when given.

        Every match is scored unless ``optimize``: Whoosh's matcher ``replace()`` drops true top
        hits (the shipped library's best "massage anxiety" hit, 23.8, lost to 11.6, with or
        without field boosts), and block-quality skipping alone still missed three of the true
        top ten for "quality" at 100,000 references after updates (docs/benchmarks.md).
        """
        if optimize or not isinstance(self.searcher.weighting, BM25F):
            return self._ranked_by_matcher(q, allowed, limit, optimize=optimize)
        found = self.match(q)
        mask = found.mask
        if allowed is not None:
            mask = mask & self.mask_of(allowed)
        return best(found.score, mask, limit)

    def mask_of(self, docs: Iterable[int]) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[np.fromiter(docs, dtype=np.int64)] = True
        return mask

    def _ranked_by_matcher(
        self, q: Any, allowed: set[int] | None, limit: int, *, optimize: bool = False
    ) -> list[tuple[int, float]]:
        """Rank through Whoosh's own matcher tree (the reference the array path is tested by)."""
        collector: Any = collectors.TopCollector(
            limit=max(limit, 1), usequality=optimize, replace=0
        )
        if allowed is not None:
            collector = collectors.FilterCollector(collector, allow=allowed)
        self.searcher.search_with_collector(q, collector)
        return [(hit.docnum, float(hit.score or 0.0)) for hit in collector.results()[:limit]]

    # --- matching as arrays ---------------------------------------------------------------

    def postings(self, fieldname: str, text: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return a term's documents (deleted ones included) and weights, over every segment."""
        try:
            raw = SCHEMA[fieldname].to_bytes(text)
        except (KeyError, ValueError, TypeError):
            return EMPTY_IDS, EMPTY_WEIGHTS
        ids, weights = [], []
        for reader, offset, ident in self._segments:
            found = _postings_cache.get(
                (ident, fieldname, raw),
                lambda reader=reader: _decode_postings(reader, fieldname, raw),
            )
            if len(found[0]):
                ids.append(found[0] + offset if offset else found[0])
                weights.append(found[1])
        if not ids:
            return EMPTY_IDS, EMPTY_WEIGHTS
        if len(ids) == 1:
            return ids[0], weights[0]
        return np.concatenate(ids), np.concatenate(weights)

    def _length_bytes(self, fieldname: str) -> np.ndarray:
        found = self.columns.lengths.get(fieldname)
        if found is None:
            parts = []
            for reader, _, ident in self._segments:
                part = _segment_lengths.get((ident, fieldname))
                if part is None:
                    # As Whoosh's ``doc_field_length`` reads them: one length byte per document.
                    column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
                    part = _segment_lengths[(ident, fieldname)] = _length_column(
                        column, reader.doc_count_all()
                    )
                parts.append(part)
            found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)
            self.columns.lengths[fieldname] = found
        return found

    def _term_match(self, fieldname: str, text: Any, boost: float) -> Match:
        """A term's documents with their BM25F scores (Whoosh's formula, to the bit)."""
        ids, weights = self.postings(fieldname, text)
        if not len(ids):
            return Match.none(self.size)
        fieldobj = SCHEMA[fieldname]
        if fieldobj.scorable:
            s = self.searcher
            weighting = s.weighting
            b = weighting._field_B.get(fieldname, weighting.B)
            k1 = weighting.K1
            norms = self.columns.norms.get(fieldname)
            if norms is None:
                avgfl = s.avg_field_length(fieldname) or 1
                norms = self.columns.norms[fieldname] = np.array(
                    [k1 * ((1 - b) + b * byte_to_length(n) / avgfl) for n in range(256)]
                )
            idf = s.idf(fieldname, fieldobj.to_bytes(text))
            scores = bm25(weights, self._length_bytes(fieldname)[ids], norms, idf, k1)
        else:
            scores = weights.copy()
        if boost != 1.0:
            scores *= boost
        return Match.sparse(self.size, ids, scores)

    def _match(self, q: Any) -> Match:
        """Match and score a parsed query the way Whoosh's matchers would, as arrays."""
        kind = type(q)
        if kind is wq.Term:
            return self._term_match(q.fieldname, q.text, q.boost)
        if q is wq.NullQuery or isinstance(q, wq.NullQuery.__class__):
            return Match.none(self.size)
        if kind in (wq.And, wq.Or, wq.DisjunctionMax) and not (
            kind is wq.Or and (q.scale or q.minmatch)
        ):
            if not q.subqueries:
                return Match.none(self.size)
            parts = []
            for child in q.subqueries:
                parts.append(self._match(child))
                if kind is wq.And and not parts[-1].mask.any():
                    return Match.none(self.size)  # one part matches nothing: neither does the whole
            if len(parts) == 1:
                return parts[0]  # Whoosh uses the lone child's matcher, ignoring the boost
            combine = {wq.And: all_of, wq.Or: any_of, wq.DisjunctionMax: best_of}[kind]
            return combine(parts).boosted(q.boost)
        if kind is wq.AndNot:
            return without(self._match(q.a), self._match(q.b).mask)
        if kind is wq.Require:
            return within(self._match(q.a), self._match(q.b).mask)
        if kind is wq.AndMaybe:
            found = self._match(q.a)
            extra = self._match(q.b)
            found.score += np.where(found.mask, extra.score, 0.0)
            return found
        if kind is wq.Phrase and q.slop == 1 and len(q.words) > 1:
            return self._phrase_match(q)
        if kind is wq.NumericRange and q.fieldname == "year" and q.constantscore:
            years = self.columns.years
            inside = years != NO_YEAR
            if q.start is not None:
                inside &= (years > q.start) if q.startexcl else (years >= q.start)
            if q.end is not None:
                inside &= (years < q.end) if q.endexcl else (years <= q.end)
            return Match(inside, np.where(inside, float(q.boost), 0.0))
        if isinstance(q, (wq.Prefix, wq.Wildcard, wq.FuzzyTerm)):
            return self._expanded_match(q)
        return self._leaf_match(q)

    def _expanded_match(self, q: Any) -> Match:
        """Match a wildcard or fuzzy term by at most MAX_EXPANSIONS of the index words it names."""
        words = list(islice(q.expanded_terms(self.searcher.reader()), MAX_EXPANSIONS + 1))
        if len(words) <= MAX_EXPANSIONS:
            return self._leaf_match(q)
        shown = str(q).split(":", 1)[-1]
        note = f"“{shown}” stands for more than {MAX_EXPANSIONS} words: searched the first {MAX_EXPANSIONS}"
        if note not in self.limited:
            self.limited.append(note)
        fieldobj = SCHEMA[q.fieldname]
        terms = [wq.Term(q.fieldname, fieldobj.from_bytes(w)) for _, w in words[:MAX_EXPANSIONS]]
        return self._match(wq.Or(terms, boost=q.boost))

    def identified(self, values: Sequence[str]) -> list[int]:
        """Return the live documents holding these identifiers (DOI, PMID), in the order asked."""
        docs: list[int] = []
        for value in values:
            ids, _ = self.postings("ids", value.lower())
            docs.extend(d for d in ids.tolist() if self.live[d] and d not in docs)
        return docs

    def _phrase_match(self, q: Any) -> Match:
        """Documents holding the words side by side; scored as Whoosh scores a phrase.

        The candidates are the documents holding every word; in ``text``, pairs of common words
        are looked up as indexed word pairs (``pairs``), so "massage therapy" needs no position
        reads. What is left is checked against the words' positions, candidate by candidate.
        """
        fieldname, words = q.fieldname, list(q.words)
        fieldobj = SCHEMA[fieldname] if fieldname in SCHEMA.names() else None
        if fieldobj is None:
            return Match.none(self.size)
        parts = [self._term_match(fieldname, w, 1.0) for w in words]
        mask = parts[0].mask.copy()
        for part in parts[1:]:
            mask &= part.mask
        checked = False
        if fieldname == "text" and self._common:
            adjacent = list(pairwise(words))
            if all(a in self._common and b in self._common for a, b in adjacent):
                for a, b in adjacent:
                    ids, _ = self.postings("pairs", f"{a} {b}")
                    paired = np.zeros(self.size, dtype=bool)
                    paired[ids] = True
                    mask &= paired
                checked = len(words) == 2
        if not checked and fieldobj.format.supports("positions"):
            mask &= self.live
            found = np.zeros(self.size, dtype=bool)
            for reader, offset, ident in self._segments:
                local = mask[offset : offset + reader.doc_count_all()]
                if not local.any():
                    continue
                words_at = []
                only = np.flatnonzero(local)
                for w in words:
                    raw = fieldobj.to_bytes(w)
                    key = (ident, f"{fieldname}#positions", raw)
                    found_at = _postings_cache.peek(key)
                    if found_at is None and len(only) <= FEW_CANDIDATES:
                        # A few candidates: read their blocks only (~0.15 ms each), keep nothing.
                        found_at = _decode_positions(reader, fieldname, raw, only)
                    elif found_at is None:
                        found_at = _postings_cache.get(
                            key,
                            lambda reader=reader, raw=raw: _decode_positions(
                                reader, fieldname, raw
                            ),
                        )
                    words_at.append(found_at)
                found[consecutive(words_at, local) + offset] = True
            mask = found
        score = np.zeros(self.size, dtype=np.float64)
        for part in parts:
            score += part.score
        score[~mask] = 0.0
        return Match(mask, score).boosted(q.boost)

    def _leaf_match(self, q: Any) -> Match:
        """Match and score a query Whoosh's way, by its own matcher, segment by segment."""
        out = Match.none(self.size)
        context = self.searcher.context()
        for sub, offset in self.searcher.leaf_searchers():
            m = q.matcher(sub, context)
            ids, scores = [], []
            while m.is_active():
                ids.append(offset + m.id())
                scores.append(m.score())
                m.next()
            out.mask[ids] = True
            out.score[ids] = scores
        return out

    def ordered(self, docs: np.ndarray, sort: str, limit: int) -> list[int]:
        """Return the first ``limit`` documents of a mask by year or evidence level (vocabulary first)."""
        return self.columns.ordered(docs, sort, limit)

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
            text = _TEXT.analysis
            for value in (row.text, row.title):
                marked = snippet(value, terms, text.regex, text.term) if value else ""
                if marked:
                    return marked
        text = row.text
        short = text[:220].rsplit(" ", 1)[0] + " …" if len(text) > 220 else text
        return escape(short, quote=False)

    def known(self, word: str) -> bool:
        """Tell whether a word (after stemming) occurs in any searched field."""
        reader = self.searcher.reader()
        stems = _stems(word)
        if not stems:
            return True  # a stop word is never a typo
        return any(reader.doc_frequency(f, stems[0]) > 0 for f in FIELD_BOOSTS)

    def correct(self, word: str) -> str | None:
        """Return the likeliest index word within two edits of a mistyped word."""
        if len(word) > MAX_FUZZY_CHARS:
            return None  # a Levenshtein automaton for a long word costs seconds to build
        found = self.searcher.corrector("spell").suggest(word.lower(), limit=1, maxdist=2, prefix=1)
        return found[0] if found else None

    def count(self, kind: str) -> int:
        ids, _ = self.postings("kind", kind)
        return int(self.live[ids].sum())


def forget_postings() -> None:
    """Empty the cache of decoded posting lists (for measuring a cold start)."""
    _postings_cache.clear()


def posting_cache_stats() -> dict[str, int]:
    """Return the posting cache's hits, misses and size (postings held)."""
    c = _postings_cache
    return {"hits": c.hits, "misses": c.misses, "bytes": c.size, "budget": c.budget}


def warm(settings: Settings) -> None:
    """Open the index and read what every search needs: the columns and the length bytes."""
    if not whoosh_index.exists_in(str(settings.index_dir)):
        return
    v = View(settings)
    for fieldname in (*FIELD_BOOSTS, "pairs"):
        if fieldname in SCHEMA.names():
            v._length_bytes(fieldname)


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
    "forget_postings",
    "posting_cache_stats",
    "rebuild",
    "status",
    "sync",
    "view",
    "warm",
]
