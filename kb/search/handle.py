"""One handle per index folder: the open index and searcher, its meta file, and what is cached.

A process opens each index folder once (``of``); the handle holds everything that outlives one
search and belongs to that folder: the Whoosh index and its searcher (refreshed when a commit
made it stale), the meta file (generation, vocabulary, schema, common words; read again only
when it changed), each segment's decoded facet columns and length bytes, the decoded posting
lists (``arrays.PostingCache``), the topic expansion map, and the locks that guard them.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index

from kb.config import Settings
from kb.search import segments, whoosh_codec
from kb.search.arrays import PostingCache
from kb.search.facets import Columns, Part
from kb.search.schema import SCHEMA_SIGNATURE

META_FILE = "kb-generation.json"
POSTING_BUDGET = 256 << 20  # bytes of decoded posting lists kept per index folder


class Handle:
    """An index folder, opened once per process: searcher, meta and the caches of its segments."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.RLock()  # the index, searcher, meta and columns below
        # A segment's files are read by seek-then-read on shared handles: one reader at a time.
        self.reading = threading.Lock()
        self.postings = PostingCache(POSTING_BUDGET)
        self.topics: dict[str, Any] = {}  # vocabulary signature -> its expansion map
        self.parts: dict[str, Part] = {}  # segment id -> its columns
        self.lengths: dict[tuple[str, str], np.ndarray] = {}  # (segment id, field) -> bytes
        self.index_: Any = None
        self.searcher_: Any = None
        self.columns_: tuple[Any, Columns] | None = None
        self.meta_: tuple[tuple[int, int, int], dict[str, Any], frozenset[str]] | None = None
        self.build: str | None = None  # the build id of the index opened (see ``searcher``)

    # --- the index and its searcher ---------------------------------------------------------

    def exists(self) -> bool:
        """Tell whether an index is on disk here (opened already, or a table of contents)."""
        if self.index_ is not None:
            return True
        try:
            return whoosh_index.exists_in(str(self.folder))
        except Exception:  # noqa: BLE001  a table of contents this program cannot read is there
            return True

    def index(self) -> Any:
        """Return the open Whoosh index of this folder."""
        with self.lock:
            if self.index_ is None:
                self.index_ = whoosh_index.open_dir(str(self.folder))
            return self.index_

    def searcher(self) -> Any:
        """Return an open searcher on the latest commit (opening one costs ~100 ms: keep it).

        A rebuild by another process swaps in a new folder whose commits count from the start
        again, so Whoosh's own generation may repeat: the meta file's build id (new at every
        rebuild, never repeated) tells, for the price of a stat, that the index must be reopened.
        """
        with self.lock:
            build = self.meta()[0].get("build")
            if self.index_ is not None and build != self.build:
                self.close()
            self.build = build
            current = self.searcher_
            if current is None:
                current = self.index().searcher()
            elif not current.up_to_date():
                # Not ``refresh()``: it reuses the reader of a segment whose deletions changed
                # (the segment compares equal), so an updated reference's old document stays.
                current.close()
                current = self.index().searcher()
            self.searcher_ = current
            return current

    def close(self) -> None:
        """Close the searcher and forget the index (before a rebuild swaps the folder)."""
        with self.lock:
            if self.searcher_ is not None:
                self.searcher_.close()
            self.searcher_ = None
            self.index_ = None
            self.columns_ = None

    # --- the meta file ----------------------------------------------------------------------

    def read_meta(self) -> dict[str, Any]:
        """Read the meta file afresh ({} when missing or unreadable)."""
        return read_meta(self.folder)

    def meta(self) -> tuple[dict[str, Any], frozenset[str]]:
        """Return the meta file and its common words, read again only when the file changed.

        Every search opens a view, and every update checks the schema: a stat, not a JSON read.
        """
        try:
            st = (self.folder / META_FILE).stat()
        except OSError:
            return {}, frozenset()
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self.lock:
            if self.meta_ is None or self.meta_[0] != stamp:
                meta = self.read_meta()
                self.meta_ = (stamp, meta, frozenset(meta.get("common", ())))
            return self.meta_[1], self.meta_[2]

    def current_schema(self) -> bool:
        """Tell whether the index was written with this program's schema."""
        return self.meta()[0].get("schema") == SCHEMA_SIGNATURE

    # --- what searches read -----------------------------------------------------------------

    def columns(self, searcher: Any) -> Columns:
        """Return the facet columns of a searcher's segments (decoded once per segment)."""
        with self.lock:
            if self.columns_ is not None and self.columns_[0] is searcher:
                return self.columns_[1]
            parts: list[tuple[Part, int]] = []
            deleted: list[int] = []
            current = set()
            for reader, offset, ident in segments.leaves(self.folder, searcher):
                current.add(ident)
                part = self.parts.get(ident)
                if part is None:
                    part = self.parts[ident] = segments.segment_part(self.folder, reader)
                if reader.has_deletions():
                    deleted.extend(offset + d for d in reader.deleted_docs_set)
                parts.append((part, offset))
            for gone in [k for k in self.parts if k not in current]:
                del self.parts[gone]  # merged away or rebuilt: never read again
                self.postings.forget(gone)
            for pair in [k for k in self.lengths if k[0] not in current]:
                del self.lengths[pair]
            columns = Columns(parts, searcher.doc_count_all(), deleted)
            self.columns_ = (searcher, columns)
            return columns

    def length_bytes(self, reader: Any, ident: str, fieldname: str) -> np.ndarray:
        """Return a segment's length bytes of a field (read once per segment)."""
        found = self.lengths.get((ident, fieldname))
        if found is None:
            with self.reading:
                found = whoosh_codec.length_bytes(reader, fieldname)
            self.lengths[(ident, fieldname)] = found
        return found

    def term_postings(
        self, reader: Any, ident: str, fieldname: str, raw: bytes
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return a term's documents and weights in one segment (decoded once, then cached)."""

        def decode() -> tuple[np.ndarray, np.ndarray]:
            with self.reading:
                return whoosh_codec.decode_postings(reader, fieldname, raw)

        return self.postings.get((ident, fieldname, raw), decode)

    def term_positions(
        self,
        reader: Any,
        ident: str,
        fieldname: str,
        raw: bytes,
        only: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return a term's positions in one segment: for ``only`` these documents, uncached;
        else every occurrence, cached (a cached whole list serves any ``only``)."""
        key = (ident, f"{fieldname}#positions", raw)
        found = self.postings.peek(key)
        if found is not None:
            return found
        if only is not None:
            with self.reading:
                return whoosh_codec.decode_positions(reader, fieldname, raw, only)

        def decode() -> tuple[np.ndarray, np.ndarray]:
            with self.reading:
                return whoosh_codec.decode_positions(reader, fieldname, raw)

        return self.postings.get(key, decode)

    def topics_for(self, signature: str, build: Callable[[], Any] | None) -> Any:
        """Return the topic expansion map of a vocabulary, built once (None: not built yet)."""
        found = self.topics.get(signature)
        if found is None and build is not None:
            found = self.topics[signature] = build()
        return found


def read_meta(folder: Path) -> dict[str, Any]:
    """Read an index folder's meta file ({} when missing or unreadable)."""
    try:
        return json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_meta(
    folder: Path, generation: int, signature: str, common: Iterable[str] | None = None
) -> None:
    """Record the generation, vocabulary and schema; ``common`` None keeps the recorded set."""
    old = read_meta(folder)
    words = old.get("common", []) if common is None else common
    meta = {
        # A rebuild (common given) gets a new build id; an update keeps its index's.
        "build": uuid.uuid4().hex if common is not None or "build" not in old else old["build"],
        "generation": generation,
        "vocabulary": signature,
        "schema": SCHEMA_SIGNATURE,
        "common": sorted(words),
    }
    tmp = folder / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(tmp, folder / META_FILE)


_handles: dict[Path, Handle] = {}
_handles_lock = threading.Lock()


def of(settings: Settings) -> Handle:
    """Return the handle of the settings' index folder (one per folder and process)."""
    folder = settings.index_dir
    with _handles_lock:
        found = _handles.get(folder)
        if found is None:
            found = _handles[folder] = Handle(folder)
        return found


def forget(settings: Settings) -> None:
    """Drop a folder's handle and everything it cached (its index was swapped or removed)."""
    with _handles_lock:
        found = _handles.pop(settings.index_dir, None)
    if found is not None:
        found.close()


@atexit.register
def _close_all() -> None:
    """Close every open searcher (their segment files are real files, not copies in memory)."""
    for found in list(_handles.values()):
        found.close()


__all__ = ["META_FILE", "Handle", "forget", "of", "read_meta", "write_meta"]
