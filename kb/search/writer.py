"""Writing the index: re-index references after a write, rebuild, and compare with the store.

``sync`` re-indexes references after a write (one commit; the small segments updates leave are
folded in once ``FOLD_AT`` of them pile up), ``rebuild`` builds from scratch into a temporary
folder and swaps it in, ``status``/``ensure_current`` compare the index's generation with the
store's. Both writers go through the bulk writer (``kb.search.bulk``).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.reading import SegmentReader

from kb import db
from kb.config import Settings
from kb.models import Reference
from kb.search import analysis, handle
from kb.search.bulk import Bulk, Helper, bulk_mode, segment_size, write_part
from kb.search.documents import reference_docs, vocabulary_docs, vocabulary_signature
from kb.search.handle import write_meta
from kb.search.schema import SCHEMA, SCHEMA_SIGNATURE, TEXT_ANALYZER
from kb.search.whoosh_codec import commit_segments

Progress = Callable[[int, int], None]
BIG = 5000  # above this many references a rebuild writes with two processes
HELPER_MINIMUM = 1000  # fewer references than this left for a helper process: no helper

FEW_CANDIDATES = 64
FOLD_AT = 24  # small segments (one per update) before an update re-indexes their documents
SMALL = 500  # documents in a segment that counts as small
WRITE_WAIT = 10.0  # seconds an update waits for another process's index writer


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


def sync(
    settings: Settings, session: Session, keys: Iterable[str], generation: int | None = None
) -> None:
    """Re-index these references (and the vocabulary when it changed); record the generation.

    One writer and one commit for any number of keys; the documents of small segments left by
    earlier updates are folded in when they pile up (``FOLD_AT``), and the open searcher is
    refreshed once, on its next use.
    """
    keys = list(dict.fromkeys(keys))
    h = handle.of(settings)
    # Reading the table of contents costs ~15 ms at 100,000: once per process is enough.
    if not h.current_schema() or not h.exists():
        rebuild(settings, session)
        return
    signature = vocabulary_signature(session)
    common = common_words(settings)
    with h.lock:
        meta = h.meta()[0]
        ix = h.index()
        # Separate segment files, not one compound file: opening a reader on a compound segment
        # copies its term index into memory (~0.5 s at 100,000 references), and every update
        # opens one to delete the old document, and every search after it opens another.
        writer = ix.writer(timeout=WRITE_WAIT, limitmb=128, compound=False)
        try:
            folded = _small_segment_keys(writer)
            vocabulary_folded = any(":" in key for key in folded)
            keys = list(dict.fromkeys([*keys, *(k for k in folded if ":" not in k)]))
            for key in keys:
                writer.delete_by_term("key", key)
            # The new segment is written as a rebuild writes one (the same postings as
            # ``add_document``, a block at a time): a third of an update's time at 100,000.
            bulk = Bulk(writer, common)
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
        if generation is None:
            generation = db.generation(session)
        write_meta(settings.index_dir, generation, signature)


def common_words(settings: Settings) -> frozenset[str]:
    """Return the index's common stems: two of them adjacent in ``text`` make a ``pairs`` term.

    Chosen at rebuild (``kb.search.analysis.common_stems``), kept in the index's meta file and used by
    every later ``sync``; read once per meta file (cached by its stat).
    """
    return handle.of(settings).meta()[1]


def with_pairs(doc: dict[str, Any], common: frozenset[str]) -> dict[str, Any]:
    """Add a document's ``pairs`` (from its ``text``), as ``add_document`` takes them."""
    text = doc.get("text")
    if text is not None and "pairs" not in doc:
        doc["pairs"] = analysis.pairs(TEXT_ANALYZER.analysis.terms(text)[1], common)
    return doc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove the building and old folders that killed rebuilds left beside the index.

    A rebuild works in ``.index-building-PID`` and moves the index it replaces to
    ``.index-old-PID``; a process killed meanwhile leaves them (hundreds of MB each). Those of
    a process still running (a rebuild under way) are kept. Returns what was removed.
    """
    removed = []
    for kind in ("building", "old"):
        for path in folder.parent.glob(f".{folder.name}-{kind}-*"):
            pid = path.name.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def rebuild(settings: Settings, session: Session, progress: Progress | None = None) -> int:
    """Build the index from scratch in a temporary folder and swap it in; return its size.

    Documents are written by ``Bulk`` (postings in memory, written a block at a time) in
    segments of up to ``SEGMENT`` references, not through ``add_document`` and its sorting
    pool. The common words are counted once the first ``COMMON_SAMPLE`` references are in.
    Above ``BIG`` references a second process (``Helper``) writes the later half meanwhile.
    """
    with build_lock(settings):
        return _rebuild(settings, session, progress)


def _rebuild(settings: Settings, session: Session, progress: Progress | None) -> int:
    total = session.exec(select(func.count()).select_from(Reference)).one()
    folder = settings.index_dir
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder)
    building = folder.parent / f".{folder.name}-building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    # This process takes at least the references the common words are counted over.
    mine = max((total + 1) // 2, min(total, analysis.COMMON_SAMPLE))
    split = None
    if (
        total > BIG
        and total - mine >= HELPER_MINIMUM
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
            helper = Helper(settings, building, split, total - mine)
        main = ix.writer(compound=False)
        with bulk_mode():
            try:
                bulk = Bulk(main, frozenset())
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
                size = segment_size(mine if helper is not None else total)
                segments = write_part(ix, refs, common, tick, size, bulk, size - done)
                if helper is not None:
                    segments += helper.segments(report)
            except BaseException:
                if not main.is_closed:
                    main.cancel()
                raise
        commit_segments(main, segments)
        count = sum(s.doc_count_all() for s in segments)
        write_meta(building, db.generation(session), vocabulary_signature(session), common)
        if progress:
            progress(total, total)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    finally:
        if helper is not None:
            helper.stop()
    h = handle.of(settings)
    with h.lock:
        handle.forget(settings)
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
    remove_leftovers(settings.index_dir)
    h = handle.of(settings)
    if not h.exists():
        result.problems.append(f"index is missing at {settings.index_dir}: run `kb reindex`")
        return result
    result.exists = True
    meta = h.read_meta()
    result.generation = meta.get("generation")
    if meta.get("schema") != SCHEMA_SIGNATURE:
        result.problems.append(
            "index was built by another version of this program: run `kb reindex`"
        )
        return result
    try:
        s = h.searcher()
        result.documents = s.doc_count()
        result.references_indexed = s.doc_frequency("kind", "reference")
        if s.reader().has_deletions():
            result.references_indexed = sum(
                1 for _ in s.docs_for_query(wq.Term("kind", "reference"))
            )
    except Exception as error:  # noqa: BLE001  any failure to read means the cache must be rebuilt
        handle.forget(settings)
        result.problems.append(
            f"index cannot be read ({type(error).__name__}: {error}): run `kb reindex`"
        )
        return result
    if result.generation is None:
        result.problems.append("index carries no generation: run `kb reindex`")
    elif result.generation > store_generation:
        # Only a process killed between an index commit and a store commit (the order of an
        # earlier version) leaves this: the index may hold references the store never kept.
        result.problems.append(
            f"index is ahead of the store (generation {result.generation}, store "
            f"{store_generation}): it may hold writes the store lacks; run `kb reindex`"
        )
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
    with build_lock(settings):  # a rebuild under way in another thread is waited for
        if status(settings, session).ok:
            return False
        rebuild(settings, session)
        return True


CATCH_UP_EVERY = 2.0  # seconds between a searcher's looks at the store's generation
_looked: dict[Path, float] = {}
_catching_up: set[Path] = set()


def catch_up(settings: Settings, session: Session) -> str:
    """Bring an index behind the store (another host wrote) up to date from the change log.

    The keys changed since the index's generation are re-indexed (one ``sync``); when the log
    no longer reaches back, or the index is ahead or of another schema, it is rebuilt in a
    background thread, searches using the old index meanwhile. Returns what was done:
    "current", "synced", "rebuilding" or "busy" (another thread of this process is at it).
    """
    folder = settings.index_dir
    with _guard:
        if folder in _catching_up or folder in _building:
            return "busy"
        _catching_up.add(folder)
    try:
        h = handle.of(settings)
        meta = h.meta()[0]
        ours = meta.get("generation")
        store = db.generation(session)
        if ours == store and h.current_schema():
            return "current"
        keys = None
        if isinstance(ours, int) and ours < store and h.current_schema():
            keys = db.changes_since(session, ours, store)
        if keys is None:
            build_in_background(settings)
            return "rebuilding"
        sync(settings, session, keys, generation=store)
        return "synced"
    finally:
        with _guard:
            _catching_up.discard(folder)


def catch_up_now_and_then(settings: Settings, session: Session) -> None:
    """Catch up (``catch_up``) at most once every ``CATCH_UP_EVERY`` seconds per index folder.

    A search costs one clock read; once in two seconds, one query of the store's generation.
    A failure (another process holds the index writer) is left to the next look.
    """
    now = time.monotonic()
    folder = settings.index_dir
    if now - _looked.get(folder, float("-inf")) < CATCH_UP_EVERY:
        return
    _looked[folder] = now
    try:
        catch_up(settings, session)
    except Exception:
        logging.getLogger(__name__).exception("catching up the index at %s failed", folder)


class IndexBuilding(Exception):
    """The index is missing and a background thread is building it: ask again shortly."""

    retry_after = 10  # seconds a client is told to wait before asking again


_building: set[Path] = set()  # index folders a background build is making
_build_locks: dict[Path, threading.RLock] = {}
_guard = threading.Lock()


def build_lock(settings: Settings) -> threading.RLock:
    """Return the lock a rebuild of this index folder holds while it works (one at a time in a
    process: they share the ``.index-building-PID`` folder)."""
    with _guard:
        return _build_locks.setdefault(settings.index_dir, threading.RLock())


def building(settings: Settings) -> bool:
    """Tell whether a background build of this (missing) index is under way."""
    return settings.index_dir in _building


def build_in_background(settings: Settings) -> threading.Thread:
    """Bring the index up to date in a thread; a search of a missing one meanwhile raises
    ``IndexBuilding`` instead of building it inside the request (seconds at 100,000)."""
    with _guard:
        _building.add(settings.index_dir)

    def run() -> None:
        try:
            with build_lock(settings), db.session_scope(settings) as session:
                ensure_current(settings, session)
        finally:
            with _guard:
                _building.discard(settings.index_dir)

    thread = threading.Thread(target=run, name="kb-index-build", daemon=True)
    thread.start()
    return thread


def prepare(settings: Settings) -> threading.Thread | None:
    """Make the index ready at start-up: one on disk is brought up to date here; a missing one
    is built by a background thread, returned (searches meanwhile raise ``IndexBuilding``)."""
    if not handle.of(settings).exists():
        return build_in_background(settings)
    with db.session_scope(settings) as session:
        ensure_current(settings, session)
    return None


__all__ = [
    "BIG",
    "CATCH_UP_EVERY",
    "FOLD_AT",
    "WRITE_WAIT",
    "IndexBuilding",
    "IndexStatus",
    "build_in_background",
    "build_lock",
    "building",
    "catch_up",
    "catch_up_now_and_then",
    "common_words",
    "ensure_current",
    "prepare",
    "rebuild",
    "remove_leftovers",
    "status",
    "sync",
    "with_pairs",
]
