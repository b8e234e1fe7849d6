"""Every private name of Whoosh this program uses, in one place: nothing else touches ``._``.

whoosh-reloaded is pinned to 2.7.x (pyproject.toml) and no longer maintained: each name below is
ours to keep. An upgrade must re-run tests/test_index_build.py and tests/test_index.py, which
compare what this module reads and writes with Whoosh's own public paths (``add_document``, the
matcher tree, ``searcher.search``). tests/test_search_package.py fails when any other module
reaches ``._`` of an object.

Reading posting lists as arrays (``decode_postings``, ``decode_positions``), because stepping
Whoosh's matcher costs several method calls a posting:

- ``W3LeafMatcher._data``, ``._read_data()``: the current block's pickled (id deltas, weights,
  values) tuple, decoded once per block;
- ``._blocklength``, ``._maxid``: the block's posting count and last document (to skip blocks);
- ``._next_block()``: the next block without stepping its postings;
- ``._read_values()``, ``._values``: a block's position values, for phrases.

Reading length bytes in one piece (``length_bytes``), where ``doc_field_length`` reads a byte
per call:

- ``SegmentReader._perdoc._cached_reader(name, column)``: the per-document reader's column of a
  field's lengths (``_<field>_len``, Whoosh's own name);
- ``NumericColumn`` reader's ``._fixedlen``, ``._dbfile``, ``._basepos``, ``._count``: where
  its one-byte values start in the segment file and how many there are.

Scoring as Whoosh scores (``field_b``):

- ``BM25F._field_B``: the per-field B parameter (B for a field not named there).

Writing a segment a block at a time (``write_postings``, ``Segment``), where ``add_document``
sorts every posting through a pool:

- ``SegmentWriter._flush_segment`` (replaced on the instance by the bulk writer's own flush),
  ``._added`` (set when documents were added), ``._finalize_segment()`` (flush and return the
  segment), ``._close_segment()`` (nothing written: no segment), ``._commit_toc(segments)`` and
  ``._finish()`` (commit a table of contents naming segments written elsewhere);
- ``W3FieldWriter._postwriter`` (its ``._blocklimit``, ``._compression``), ``._postfile``,
  ``._tindex``, ``._fieldid``: where a field's blocks and term rows go;
- ``W3TermInfo._minid``, ``._maxid``, ``._df``, ``._weight``, ``._minlength``, ``._maxlength``,
  ``._maxweight``: the term's totals, as ``W3TermInfo.add_block`` sums them.

The formats' value bytes (``encode_positions``, ``encode_frequency``): Whoosh's ``Positions``
(a 4-byte count, then the pickled position deltas) and ``Frequency`` (the count) encodings,
which the analysis writes without a Token per word.
"""

from __future__ import annotations

import pickle
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import accumulate, pairwise
from pickle import dumps
from struct import Struct
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3LeafMatcher, W3TermInfo
from whoosh.matching.wrappers import FilterMatcher
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length

from kb.search.arrays import EMPTY_IDS, EMPTY_WEIGHTS

if TYPE_CHECKING:
    from collections.abc import Callable

_RUN = 500_000  # postings of a field made Python objects at once when written
_uint = Struct("!I").pack  # Whoosh's pack_uint


class Inverted(Protocol):
    """One field's posting lists over a segment (``kb.search.analysis.Inverted`` is one)."""

    terms: list[str] | list[bytes]
    starts: np.ndarray
    docs: np.ndarray
    weights: np.ndarray
    packed: bytes | None
    size: int

    def values_between(self, start: int, stop: int) -> list[bytes] | None: ...


# --- the formats' value bytes -----------------------------------------------------------------

_ONE: list[bytes] = []  # position -> the value of a term seen once, at that position


def single_positions(upto: int) -> list[bytes]:
    """Return the table of one-position values, filled at least up to ``upto``."""
    if upto >= len(_ONE):
        _ONE.extend(_uint(1) + dumps([p], 2) for p in range(len(_ONE), upto + 1024))
    return _ONE


def encode_positions(positions: Sequence[int]) -> bytes:
    """Whoosh's ``Positions.encode``: the count, then the pickled deltas (protocol 2)."""
    if len(positions) == 1:
        return single_positions(positions[0])[positions[0]]
    deltas = [positions[0]]
    deltas.extend(b - a for a, b in pairwise(positions))
    return _uint(len(deltas)) + dumps(deltas, 2)


def encode_deltas(deltas: list[int]) -> bytes:
    """Whoosh's ``Positions`` value of positions already given as deltas."""
    return _uint(len(deltas)) + dumps(deltas, 2)


_FREQUENCY: list[bytes] = [_uint(n) for n in range(64)]


def encode_frequency(freq: int) -> bytes:
    """Whoosh's ``Frequency`` value: the count as an unsigned big-endian int."""
    return _FREQUENCY[freq] if freq < 64 else _uint(freq)


def positions_of(first: int, terms: Sequence[str]) -> dict[str, list[int]]:
    """Group a text's kept terms by term: each term's positions, in first-seen order."""
    out: dict[str, list[int]] = {}
    get = out.get
    for position, term in enumerate(terms, first):
        have = get(term)
        if have is None:
            out[term] = [position]
        else:
            have.append(position)
    return out


def position_values(
    first: int, terms: Sequence[str], boost: float = 1.0
) -> list[tuple[str, int, float, bytes]]:
    """Whoosh's ``Positions.word_values``: (term, frequency, weight, value) per distinct term."""
    return [
        (term, len(ps), len(ps) * boost, encode_positions(ps))
        for term, ps in positions_of(first, terms).items()
    ]


def frequency_values(
    terms: Iterable[str], boost: float = 1.0
) -> list[tuple[str, int, float, bytes]]:
    """Whoosh's ``Frequency.word_values``: (term, frequency, weight, value) per distinct term."""
    return [
        (term, freq, freq * boost, encode_frequency(freq)) for term, freq in Counter(terms).items()
    ]


# --- reading ----------------------------------------------------------------------------------


def decode_postings(reader: Any, fieldname: str, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Read a term's whole posting list in one segment: document numbers and weights.

    Whoosh's matcher steps one posting at a time through several method calls; this reads
    each block's pickled tuple of id deltas and weights once and decodes them as arrays.
    Deleted documents are included (the caller removes them). The caller holds the segment's
    reading lock (its files are read by seek-then-read on shared handles).
    """
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


def decode_positions(
    reader: Any, fieldname: str, raw: bytes, only: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read a term's positions in one segment: the document and position of each occurrence.

    With ``only`` (sorted segment-local document numbers), blocks holding none of them are
    skipped undecoded and only their positions are read: for a common word in a phrase with a
    rarer one, a few thousand documents instead of the word's every occurrence.
    """
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


def length_bytes(reader: Any, fieldname: str) -> np.ndarray:
    """Return a segment's length bytes of a field, one per document (as ``doc_field_length``)."""
    column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    return _length_column(column, reader.doc_count_all())


def field_b(weighting: Any, fieldname: str) -> float:
    """Return BM25F's B for a field (its per-field value, else the default)."""
    return float(weighting._field_B.get(fieldname, weighting.B))


# --- writing ----------------------------------------------------------------------------------


def take_flush(writer: Any, flush: Callable[[], None]) -> None:
    """Make a SegmentWriter write its segment by ``flush`` at commit, not by its pool."""
    writer._flush_segment = flush


def mark_added(writer: Any, count: int) -> None:
    """Tell a SegmentWriter that ``count`` documents were added (as ``add_document`` does)."""
    writer.docnum = count
    writer._added = True


def added(writer: Any) -> bool:
    """Tell whether documents were added to a SegmentWriter."""
    return bool(writer._added)


def finish_segment(writer: Any) -> Any | None:
    """Write a SegmentWriter's segment and return it uncommitted (None: nothing was added)."""
    if writer._added:
        return writer._finalize_segment()
    writer._close_segment()
    return None


def commit_segments(writer: Any, segments: list[Any]) -> None:
    """Commit a table of contents naming these segments (written by other writers) and close."""
    writer._commit_toc(segments)
    writer._finish()


def write_postings(
    fw: Any, name: str, fieldobj: Any, inv: Inverted, lenbytes: np.ndarray | None
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


__all__ = [
    "added",
    "commit_segments",
    "decode_positions",
    "decode_postings",
    "encode_deltas",
    "encode_frequency",
    "encode_positions",
    "field_b",
    "finish_segment",
    "frequency_values",
    "length_bytes",
    "mark_added",
    "position_values",
    "positions_of",
    "single_positions",
    "take_flush",
    "write_postings",
]
