"""Per-segment data read once and kept: a segment's facet columns (``Part``), beside its files.

Segments never change once written, so what is decoded from one is good until it is merged
away; the handle (``kb.search.handle``) keeps it by segment id.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from kb.search.facets import Part

PART_VERSION = 1  # bump when ``Part`` changes shape: older side files are decoded afresh


def segment_id(folder: Path, reader: Any) -> str:
    """Return a segment's id, unique across index folders."""
    return f"{folder}:{reader.segment().segment_id()}"


def leaves(folder: Path, searcher: Any) -> list[tuple[Any, int, str]]:
    """Return each segment's reader, first document number and id (an empty index has none)."""
    out = []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        if reader.segment() is not None:
            out.append((reader, offset, segment_id(folder, reader)))
    return out


def segment_part(folder: Path, reader: Any) -> Part:
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


__all__ = ["PART_VERSION", "leaves", "segment_id", "segment_part"]
