"""The bulk writer: a segment's postings held as arrays and written a block at a time.

A rebuild, and every update, writes its documents through ``Bulk`` instead of Whoosh's
``add_document`` and its sorting pool (the same bytes: tests/test_index_build.py); a rebuild of
more than ``kb.search.writer.BIG`` references has a second process (``Helper``) write the later
half meanwhile.
"""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import threading
import traceback
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh.analysis import IDTokenizer
from whoosh.fields import ID, UnknownFieldError
from whoosh.formats import Existence, Frequency, Positions
from whoosh.util.numeric import length_to_byte

from kb import db
from kb.config import Settings
from kb.search import analysis
from kb.search.documents import reference_docs
from kb.search.schema import Analyzer, FastText, PairTerms
from kb.search.whoosh_codec import (
    finish_segment,
    mark_added,
    take_flush,
    write_postings,
)

SEGMENT = 50_000  # references per segment of a bulk build (its postings are held in memory)
_COLUMN, _PAIRS, _ITEMS = range(3)
_PENDING: list[str] = []  # a document's ``pairs`` before the segment's pairs are computed


class Bulk:
    """One segment of a bulk build, written without Whoosh's per-posting sorting pool.

    ``add`` keeps a document in memory: the words of its text fields as term ids
    (``kb.search.analysis.TermColumn``; ``pairs`` come from ``text`` at the end), the few terms of its
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
        take_flush(writer, self._flush)

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
        mark_added(self.writer, docnum + 1)

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
            write_postings(fw, name, fieldobj, inv, lenbytes)
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


def write_part(
    ix: Any,
    docs: Iterable[dict[str, Any]],
    common: frozenset[str] | Callable[[], frozenset[str]],
    tick: Callable[[], None],
    size: int,
    bulk: Bulk | None = None,
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
                bulk = Bulk(ix.writer(_lk=False, compound=False), frozenset())
                room = size
            for doc in islice(docs, max(room, 0)):
                bulk.add(doc)
                tick()
            if callable(common):
                common = common()
            bulk.common = common
            segment = finish_segment(bulk.writer)  # None: nothing to write, no empty segment
            if segment is not None:
                segments.append(segment)
            bulk = None
    except BaseException:
        if bulk is not None and not bulk.writer.is_closed:
            bulk.writer.cancel()
        raise


def segment_size(references: int) -> int:
    """Split a part of a build into even segments of ``SEGMENT`` references (10 % over is fine:
    50,043 references make one segment, not two of 25,022)."""
    count = max(1, -(-references // (SEGMENT + SEGMENT // 10)))
    return max(1, -(-references // count))


@contextmanager
def bulk_mode() -> Iterator[None]:
    """Pause the cyclic garbage collector (a build makes millions of small objects, no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Helper:
    """A second process writing the later references of a rebuild (``helper_main``).

    Started with a fresh interpreter (``python -c``: no fork of a threaded server, no re-import
    of the caller's main module); sent the job, then the common words, on its stdin; it answers
    on its stdout with progress counts, then its segments (or the error that stopped it).
    """

    def __init__(self, settings: Settings, folder: Path, start: int, count: int) -> None:
        root = str(Path(__file__).resolve().parents[2])  # this kb package, installed or not
        paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from kb.search.bulk import helper_main; helper_main()"],
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


def helper_main() -> None:
    """The second process of a rebuild: write the references from ``start`` on (``Helper``)."""
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

        with bulk_mode(), db.session_scope(settings) as session:
            docs = reference_docs(session, ids=(job["start"], None))
            segments = write_part(ix, docs, common, tick, segment_size(job["count"]))
        answer("done", done)
        answer("segments", segments)
    except BaseException:  # noqa: BLE001  told to the parent, which raises it
        answer("error", traceback.format_exc())
        raise SystemExit(1) from None


__all__ = ["SEGMENT", "Bulk", "Helper", "bulk_mode", "helper_main", "segment_size", "write_part"]
