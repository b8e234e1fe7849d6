"""Text analysis for the index, fast: the terms and positions of Whoosh's filter chains.

``Analysis`` gives exactly what ``RegexTokenizer | LowercaseFilter | CharsetFilter(accent_map) |
StopFilter(minsize=…) [| StemFilter()]`` gives, without a Token object per word: one compiled
regex over the original text, then each raw word mapped once, through a bounded cache, to its
term (lowercased, accent-folded, stemmed) or to None when it is a stop word. The regex, the stop
words, the accent map and the stemmer are handed in by ``kb.search.schema``.

Positions are Whoosh's: the stop filter renumbers, so the first kept word keeps its place among
all words and every later kept word follows it by one (stopped words leave no gap).

Also here: the common words and their pairs (a phrase of common words answered by one posting
list), and the in-memory posting lists of a bulk build, grouped by field and term, whose value
bytes are encoded by ``kb.search.whoosh_codec`` (Whoosh's formats).
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kb.search.whoosh_codec import encode_deltas, single_positions

COMMON_SIZE = 256  # how many stems make the common set
COMMON_SAMPLE = 5000  # counted over the first this many references, in id order

_MISSING = object()


def _without_groups(pattern: str) -> str:
    """Return the pattern with its capturing groups made non-capturing (findall gives whole matches)."""
    out = []
    escaped = in_class = False
    for i, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]" or pattern[i - 1] == "["
        elif char == "[":
            in_class = True
        elif char == "(" and not pattern.startswith("?", i + 1):
            out.append("(?:")
            continue
        out.append(char)
    return "".join(out)


class Analysis:
    """One analysis chain: words by a regex, lowercased, accent-folded, stop words out, stemmed.

    ``terms(text)`` is the hot path of indexing: the kept terms in order and the position of
    the first (the rest follow it by one). Stop words: in ``stopwords`` or shorter than
    ``minsize`` after folding. ``stem`` None means no stemming.
    """

    def __init__(
        self,
        pattern: str,
        stopwords: Iterable[str],
        charmap: Mapping[int, Any],
        stem: Callable[[str], str] | None = None,
        minsize: int = 2,
        cache_limit: int = 300_000,
    ) -> None:
        self.pattern = pattern
        self.regex = re.compile(pattern)
        self._findall = re.compile(_without_groups(pattern)).findall
        self.stops = frozenset(stopwords)
        self.charmap = charmap
        self.stem = stem
        self.minsize = minsize
        self.cache_limit = cache_limit
        self._cache: dict[str, str | None] = {}  # raw word -> its term, None for a stop word

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["regex"], state["_findall"], state["_cache"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["pattern"],
            state["stops"],
            state["charmap"],
            state["stem"],
            state["minsize"],
            state["cache_limit"],
        )

    def fold(self, raw: str) -> str:
        """Lowercase and accent-fold one raw word."""
        return raw.lower().translate(self.charmap)

    def stopped(self, folded: str) -> bool:
        return len(folded) < self.minsize or folded in self.stops

    def term(self, raw: str) -> str | None:
        """Return a raw word's term, or None for a stop word (cached)."""
        found = self._cache.get(raw, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        folded = self.fold(raw)
        if self.stopped(folded):
            term = None
        else:
            term = self.stem(folded) if self.stem is not None else folded
        cache = self._cache
        if len(cache) >= self.cache_limit:
            cache.clear()
        cache[raw] = term
        return term

    def words(self, text: str) -> list[str]:
        """Return the raw words of a text (the tokenizer's matches)."""
        return self._findall(text)

    def terms(self, text: str) -> tuple[int, list[str]]:
        """Return the position of the first kept term and the kept terms, in order."""
        raw = self._findall(text)
        if not raw:
            return 0, []
        cache = self._cache
        try:
            mapped = list(map(cache.__getitem__, raw))
        except KeyError:
            term = self.term
            mapped = [term(w) for w in raw]
        if None not in mapped:
            return 0, mapped  # type: ignore[return-value]
        kept = [t for t in mapped if t is not None]
        if not kept:
            return 0, kept
        first = 0
        while mapped[first] is None:
            first += 1
        return first, kept


# --- common words and their pairs -------------------------------------------------------------


def common_stems(documents: Iterable[Iterable[str]], size: int = COMMON_SIZE) -> list[str]:
    """Return the ``size`` terms found in the most documents (ties alphabetically), sorted.

    ``documents`` gives each document's terms (repeats allowed); the index counts the ``text``
    terms of its first ``COMMON_SAMPLE`` references in id order.
    """
    frequency: Counter[str] = Counter()
    for terms in documents:
        frequency.update(set(terms))
    ranked = sorted(frequency.items(), key=lambda item: (-item[1], item[0]))
    return sorted(term for term, _ in ranked[:size])


def pairs(stems: Sequence[str], common: frozenset[str] | set[str]) -> list[str]:
    """Return the pair terms of a field's kept stems: both common, adjacent, in text order.

    A pair term is the two stems joined by one space: ``"low back"`` for "… low back pain …"
    when "low" and "back" are both common. Adjacent means consecutive in the stop-removed
    sequence of stems, i.e. consecutive positions, what a phrase query matches ("back in pain"
    gives "back pain": "in" is a stop word). A pair seen twice is listed twice (its frequency).
    A phrase of stems s1 … sn whose neighbours are all common is found by the pair terms
    "s1 s2", "s2 s3", … (every one must be present; for three or more stems this is a superset
    of the phrase's matches, to be checked with positions where exactness matters).
    """
    out: list[str] = []
    previous = None
    for stem in stems:
        if stem in common:
            if previous is not None:
                out.append(f"{previous} {stem}")
            previous = stem
        else:
            previous = None
    return out


# --- posting lists of a bulk build ----------------------------------------------------------


@dataclass
class Inverted:
    """One field's posting lists over a segment, every term's postings one after another.

    ``terms`` in Whoosh's order (UTF-8 bytes order, which is code point order); term ``i`` has
    postings ``starts[i]`` to ``starts[i + 1]``, each a document number (ascending within the
    term), a weight, and a value (``values_between``): from ``values`` (bytes), or the
    ``size``-byte slices of ``packed`` (a fixed-size format), or encoded from ``places`` (the
    positions of every posting's occurrences, ``offsets[j]`` the first of posting ``j``,
    ``weights[j]`` how many), or none (all of them None).
    """

    terms: list[str] | list[bytes]
    starts: np.ndarray  # int64, len(terms) + 1
    docs: np.ndarray  # uint32, one per posting
    weights: np.ndarray  # float32, one per posting
    values: list[bytes] | None = None
    packed: bytes | None = None
    size: int = 0
    places: np.ndarray | None = None  # int32, one per occurrence
    offsets: np.ndarray | None = None  # int32, one per posting

    def values_between(self, start: int, stop: int) -> list[bytes] | None:
        """Return the values of postings ``start`` to ``stop`` (None: a format without values).

        Positions are encoded here, a range at a time, so a segment's millions of position
        values never all exist at once.
        """
        if self.values is not None:
            return self.values[start:stop]
        if self.places is None or self.offsets is None:
            return None
        places, offsets = self.places, self.offsets[start:stop]
        counts = self.weights[start:stop].astype(np.int64)
        firsts = places[offsets]
        if not len(firsts):
            return []
        table = single_positions(int(firsts.max()))
        out = [table[p] for p in firsts.tolist()]
        several = np.flatnonzero(counts > 1)
        if len(several):
            low = int(offsets[0])
            chunk = places[low : int(offsets[-1] + counts[-1])]
            deltas = chunk.copy()
            deltas[1:] -= chunk[:-1]
            deltas[offsets - low] = chunk[offsets - low]  # each posting's first: from 0
            flat = deltas.tolist()
            for i, first, count in zip(
                several.tolist(),
                (offsets[several] - low).tolist(),
                counts[several].tolist(),
                strict=True,
            ):
                out[i] = encode_deltas(flat[first : first + count])
        return out


class _RawIds(dict):  # type: ignore[type-arg]
    """Raw word -> its term's id in a ``TermColumn`` (-1 for a stop word), filled on first sight."""

    def __init__(self, column: TermColumn) -> None:
        super().__init__()
        self.column = column

    def __missing__(self, raw: str) -> int:
        term = self.column.analysis.term(raw)
        if term is None:
            found = -1
        else:
            ids = self.column.ids
            found = ids.get(term, -1)
            if found < 0:
                found = ids[term] = len(self.column.terms)
                self.column.terms.append(term)
        self[raw] = found
        return found


class TermColumn:
    """One analysed text field over a segment's documents: term ids in word order, inverted once.

    ``add`` costs one regex pass and one dict look-up per word (a raw word's term id, stop words
    -1); ``invert`` turns every document's words into Whoosh's postings with numpy: positions
    renumbered past stop words, as the stop filter does, grouped by term and document.
    """

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.terms: list[str] = []  # term id -> term
        self.ids: dict[str, int] = {}  # term -> term id
        self._raw = _RawIds(self)
        self.tokens = array("i")  # every raw word's term id (-1: stopped), document after document
        self.docs = array("i")  # the document number of each document added
        self.counts = array("i")  # how many raw words each document added has

    def add(self, docnum: int, text: str) -> int:
        """Add a document's text; return its field length (the number of kept words)."""
        ids = list(map(self._raw.__getitem__, self.analysis.words(text)))
        self.tokens.extend(ids)
        self.docs.append(docnum)
        self.counts.append(len(ids))
        return len(ids) - ids.count(-1)

    def common(self, start: int, stop: int, size: int = COMMON_SIZE) -> list[str]:
        """``common_stems`` over the documents numbered ``start`` to ``stop`` (excluded)."""
        ids, owner, _ = self._kept(positions=False)
        docs = np.frombuffer(self.docs, dtype=np.int32)
        chosen = (docs >= start) & (docs < stop)
        inside = chosen[owner]
        width = max(len(self.terms), 1)
        seen = np.unique(owner[inside].astype(np.int64) * width + ids[inside]) % width
        frequency = np.bincount(seen, minlength=len(self.terms)).tolist()
        found = [i for i, n in enumerate(frequency) if n]
        found.sort(key=lambda i: (-frequency[i], self.terms[i]))
        return sorted(self.terms[i] for i in found[:size])

    def _kept(self, positions: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Return the kept words' term ids, their documents' indexes (into ``docs``), and
        their positions (when ``positions``), in word order (int32 arrays: memory is the limit).
        """
        tokens = np.frombuffer(self.tokens, dtype=np.int32)
        counts = np.frombuffer(self.counts, dtype=np.int32)
        kept = np.flatnonzero(tokens >= 0).astype(np.int32)
        owner = np.repeat(np.arange(len(counts), dtype=np.int32), counts)[kept]
        ids = tokens[kept]
        if not positions:
            return ids, owner, None
        # Each kept word's rank among its document's kept words.
        per_doc = np.bincount(owner, minlength=len(counts))
        places = np.arange(len(kept), dtype=np.int32)
        places -= (np.cumsum(per_doc) - per_doc).astype(np.int32)[owner]
        # The first kept word keeps its place among all the document's words; the rest follow.
        raw_start = (np.cumsum(counts, dtype=np.int64) - counts).astype(np.int32)
        leaders = np.flatnonzero(places == 0)
        first = np.zeros(len(counts), dtype=np.int32)
        first[owner[leaders]] = kept[leaders] - raw_start[owner[leaders]]
        del kept, leaders
        places += first[owner]
        return ids, owner, places

    def invert(self, positions: bool) -> Inverted:
        """Return the postings of ``Positions`` (``positions``) or ``Frequency`` values."""
        ids, owner, places = self._kept(positions)
        docs = np.frombuffer(self.docs, dtype=np.int32)[owner]
        del owner
        return _group(self.terms, ids, docs, places)

    def pairs(self, common: frozenset[str] | set[str]) -> tuple[Inverted, np.ndarray]:
        """Return the ``Frequency`` postings of the pair terms (``pairs``), and each document's
        number of pairs (aligned with ``docs``)."""
        ids, owner, _ = self._kept(positions=False)
        flags = np.zeros(len(self.terms) + 1, dtype=bool)
        flags[[self.ids[t] for t in common if t in self.ids]] = True
        at = np.flatnonzero(flags[ids[:-1]] & flags[ids[1:]] & (owner[:-1] == owner[1:]))
        width = len(self.terms)
        codes = ids[at].astype(np.int64) * width + ids[at + 1]
        del ids
        unique, which = np.unique(codes, return_inverse=True)
        del codes
        names = [f"{self.terms[c // width]} {self.terms[c % width]}" for c in unique.tolist()]
        owner = owner[at]
        docs = np.frombuffer(self.docs, dtype=np.int32)[owner]
        lengths = np.bincount(owner, minlength=len(self.docs))
        return _group(names, which.reshape(-1).astype(np.int32), docs, None), lengths


def _group(
    names: Sequence[str], ids: np.ndarray, docs: np.ndarray, positions: np.ndarray | None
) -> Inverted:
    """Group word occurrences (term id, document, position; documents ascending) into postings."""
    if not len(ids):
        none = np.zeros(0, dtype=np.uint32)
        return Inverted([], np.zeros(1, np.int64), none, none.astype(np.float32))
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int32)
    rank[order] = np.arange(len(names), dtype=np.int32)
    keys = rank[ids]
    del ids
    sort = np.argsort(keys, kind="stable")  # stable: documents, then positions, stay ascending
    keys, docs = keys[sort], docs[sort]
    places = positions[sort] if positions is not None else None
    del sort, positions
    new = np.ones(len(keys), dtype=bool)
    new[1:] = (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1])
    starts = np.flatnonzero(new).astype(np.int32)
    del new
    freqs = np.diff(np.append(starts, len(keys))).astype(np.int32)
    keys, docs = keys[starts], docs[starts]
    firsts = np.flatnonzero(np.append(True, keys[1:] != keys[:-1]))
    inverted = Inverted(
        terms=[names[order[k]] for k in keys[firsts].tolist()],
        starts=np.append(firsts, len(keys)).astype(np.int64),
        docs=docs.astype(np.uint32),
        weights=freqs.astype(np.float32),
    )
    if places is None:
        inverted.packed = freqs.astype(">u4").tobytes()
        inverted.size = 4
        return inverted
    inverted.places = places
    inverted.offsets = starts
    return inverted


class Postings:
    """One field's posting lists of one segment, grouped by term, in document order.

    For fields analysed by Whoosh itself (a few terms per document): ``add_items`` takes a
    document's (term, frequency, weight, value) items as the field's ``index`` gives them.
    """

    __slots__ = ("lists",)

    def __init__(self) -> None:
        self.lists: dict[Any, tuple[array, array, list[bytes]]] = {}

    def add_items(self, docnum: int, items: Iterable[tuple[Any, int, float, bytes]]) -> int:
        """Add one document's items; return the sum of their frequencies (the field length)."""
        lists = self.lists
        length = 0
        for term, freq, weight, value in items:
            length += freq
            entry = lists.get(term)
            if entry is None:
                entry = lists[term] = (array("I"), array("f"), [])
            entry[0].append(docnum)
            entry[1].append(weight)
            entry[2].append(value)
        return length

    def __len__(self) -> int:
        return len(self.lists)

    def inverted(self, size: int | None) -> Inverted:
        """Return the postings; ``size`` is the format's fixed value size (None: variable)."""
        items = sorted(self.lists.items())
        counts = [len(ids) for _, (ids, _, _) in items]
        docs = array("I")
        weights = array("f")
        values: list[bytes] = []
        for _, (ids, ws, vs) in items:
            docs.extend(ids)
            weights.extend(ws)
            values.extend(vs)
        out = Inverted(
            terms=[term for term, _ in items],
            starts=np.concatenate(([0], np.cumsum(counts, dtype=np.int64))),
            docs=np.frombuffer(docs, dtype=np.uint32),
            weights=np.frombuffer(weights, dtype=np.float32),
        )
        if size is None:
            out.values = values
        elif size > 0:
            out.packed = b"".join(values)
            out.size = size
        return out


__all__ = [
    "COMMON_SAMPLE",
    "COMMON_SIZE",
    "Analysis",
    "Inverted",
    "Postings",
    "TermColumn",
    "common_stems",
    "pairs",
]
