"""Match and score a query as arrays over every document number (no Whoosh here).

``kb.search.engine`` reads each term's posting list once (the handle caches it here by segment
and term: segments never change) and walks the parsed query; this module gives it the array arithmetic:
a term's BM25F scores (Whoosh's formula), and and/or/max/not combined as Whoosh's matchers
combine them (sum for and/or, max for DisjunctionMax, times the query's boost). A ``Match`` is
a boolean mask of the documents matched and their scores (0 where not matched), both as long
as the searcher's document count: combining two costs microseconds per thousand documents,
not a Python step per document.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

EMPTY_IDS = np.zeros(0, dtype=np.int64)
EMPTY_WEIGHTS = np.zeros(0, dtype=np.float64)


@dataclass
class Match:
    """The documents a (sub)query matches, and the score of each."""

    mask: np.ndarray  # bool, one per document number
    score: np.ndarray  # float64, 0 where not matched

    @classmethod
    def none(cls, size: int) -> Match:
        return cls(np.zeros(size, dtype=bool), np.zeros(size, dtype=np.float64))

    @classmethod
    def sparse(cls, size: int, ids: np.ndarray, scores: np.ndarray | float) -> Match:
        """Spread documents and their scores over the whole document range."""
        out = cls.none(size)
        out.mask[ids] = True
        out.score[ids] = scores
        return out

    def boosted(self, boost: float) -> Match:
        if boost != 1.0:
            self.score *= boost
        return self


def all_of(parts: Sequence[Match]) -> Match:
    """Documents matched by every part, scored by the sum of the parts (Whoosh's And)."""
    mask = parts[0].mask.copy()
    for part in parts[1:]:
        mask &= part.mask
    score = np.zeros_like(parts[0].score)
    for part in parts:
        score += part.score
    score[~mask] = 0.0
    return Match(mask, score)


def any_of(parts: Sequence[Match]) -> Match:
    """Documents matched by any part, scored by the sum of those matching (Whoosh's Or)."""
    return _either(parts, np.add)


def best_of(parts: Sequence[Match]) -> Match:
    """Documents matched by any part, scored by the best part (Whoosh's DisjunctionMax)."""
    return _either(parts, np.maximum)


def _either(parts: Sequence[Match], combine: np.ufunc) -> Match:
    mask = parts[0].mask.copy()
    score = parts[0].score.copy()
    for part in parts[1:]:
        mask |= part.mask
        combine(score, part.score, out=score)
    return Match(mask, score)


def without(match: Match, excluded: np.ndarray) -> Match:
    """The match minus the documents of a mask."""
    match.mask &= ~excluded
    match.score[excluded] = 0.0
    return match


def within(match: Match, required: np.ndarray) -> Match:
    """The match restricted to the documents of a mask."""
    return without(match, ~required)


def bm25(
    tf: np.ndarray,
    length_bytes: np.ndarray,
    norms: np.ndarray,
    idf: float,
    k1: float,
) -> np.ndarray:
    """Whoosh's BM25F term score, ``idf * tf (k1 + 1) / (tf + norm(length))``, per posting.

    ``norms`` holds ``k1 * ((1 - b) + b * length / average length)`` for each of the 256
    length bytes Whoosh stores per document and field.
    """
    norm = norms[length_bytes]
    return idf * ((tf * (k1 + 1)) / (tf + norm))


_STRIDE = 1 << 32  # positions within a document are below this


def consecutive(
    words: Sequence[tuple[np.ndarray, np.ndarray]], candidates: np.ndarray
) -> np.ndarray:
    """Return the documents where the words occur one after another, among the candidates.

    ``words[i]`` holds word ``i``'s occurrences as two arrays, the document and the position of
    each; ``candidates`` is a mask over the documents. Each occurrence becomes one number,
    document and position minus the word's place in the phrase, and a phrase is where word 0's
    number recurs for every later word: set intersections, no step per document in Python.
    """
    found: np.ndarray | None = None
    for place, (docs, positions) in enumerate(words):
        keep = candidates[docs]
        keys = docs[keep].astype(np.int64) * _STRIDE + (positions[keep].astype(np.int64) - place)
        found = keys if found is None else _common_sorted(found, keys)
        if not len(found):
            break
    if found is None or not len(found):
        return EMPTY_IDS
    docs = found // _STRIDE
    return docs[np.concatenate(([True], docs[1:] != docs[:-1]))]


def _common_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the values in both of two ascending arrays of distinct values (ascending).

    A word's occurrences are read in document then position order, so each word's numbers
    are already ascending: a binary search of the shorter in the longer, no sort.
    """
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return a
    at = np.searchsorted(b, a)
    inside = at < len(b)
    hit = np.zeros(len(a), dtype=bool)
    hit[inside] = b[at[inside]] == a[inside]
    return a[hit]


class PostingCache:
    """Decoded posting lists by (segment, field, term), least recently used dropped first.

    Segments are immutable (deletions are kept apart), so an entry stays right for as long as
    its segment exists. The budget is in bytes of the arrays held: 384 MB by default, which at
    100,000 references holds the posting lists and positions that 300 varied queries read.
    """

    def __init__(self, budget: int = 384 << 20) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[tuple[str, str, bytes], tuple[np.ndarray, np.ndarray]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(
        self,
        key: tuple[str, str, bytes],
        load: Callable[[], tuple[np.ndarray, np.ndarray]],
    ) -> tuple[np.ndarray, np.ndarray]:
        found = self.peek(key)
        if found is not None:
            return found
        found = load()
        with self._lock:
            self.misses += 1
            if key not in self._items:
                self._items[key] = found
                self.size += found[0].nbytes + found[1].nbytes
                while self.size > self.budget and len(self._items) > 1:
                    _, (first, second) = self._items.popitem(last=False)
                    self.size -= first.nbytes + second.nbytes
        return found

    def peek(self, key: tuple[str, str, bytes]) -> tuple[np.ndarray, np.ndarray] | None:
        """Return an entry if it is held (counted as a hit), else None."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
            return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = self.hits = self.misses = 0

    def forget(self, segment: str) -> None:
        """Drop the entries of a segment that no longer exists."""
        with self._lock:
            for key in [k for k in self._items if k[0] == segment]:
                first, second = self._items.pop(key)
                self.size -= first.nbytes + second.nbytes


__all__ = [
    "EMPTY_IDS",
    "EMPTY_WEIGHTS",
    "Match",
    "PostingCache",
    "all_of",
    "any_of",
    "best_of",
    "bm25",
    "consecutive",
    "within",
    "without",
]
