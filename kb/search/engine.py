"""The engine: a parsed query matched and scored as arrays over one consistent searcher.

``View`` answers a parsed query with a mask of matched documents and their BM25F scores,
computed from decoded posting lists (``kb.search.arrays``) exactly as Whoosh's matchers would
(tests/test_index.py compares them), and the facet columns of the handle (``kb.search.facets``);
``hits`` loads a page's rows from the store (``kb.search.documents``) with their snippets.
Ranking scores every match: Whoosh's top-N shortcuts drop true top hits (see ``View.ranked``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import Any

import numpy as np
from sqlmodel import Session
from whoosh import collectors
from whoosh import query as wq
from whoosh.scoring import BM25F
from whoosh.util.numeric import byte_to_length

from kb.config import Settings
from kb.search import handle
from kb.search.arrays import (
    EMPTY_IDS,
    EMPTY_WEIGHTS,
    Match,
    all_of,
    any_of,
    best_of,
    bm25,
    consecutive,
    within,
    without,
)
from kb.search.documents import Shown, shown
from kb.search.facets import NO_YEAR, best
from kb.search.handle import Handle
from kb.search.parser import Topics, bounded, errors, parser, stems
from kb.search.query import MAX_EXPANSIONS, MAX_FUZZY_CHARS
from kb.search.schema import (
    FIELD_BOOSTS,
    HIGHLIGHT_FIELDS,
    SCHEMA,
    TEXT_ANALYZER,
    QuerySyntaxError,
)
from kb.search.segments import leaves
from kb.search.snippets import Snippet, opening, snippet
from kb.search.whoosh_codec import field_b
from kb.search.writer import IndexBuilding, building, catch_up_now_and_then, rebuild

# Phrase candidates (in one segment) up to which a word's positions are read for them alone;
# above, the word's every position is read once (~0.15 s per million) and kept in the cache.
FEW_CANDIDATES = 64


@dataclass
class Hit:
    """One ranked document: its key, kind, what it shows and its snippet (text and marks)."""

    docnum: int
    key: str
    kind: str
    title: str
    year: int | None
    score: float | None
    snippet: Snippet
    shown: Shown


class View:
    """One consistent view of the index (one searcher): parse, match, rank, highlight.

    Matching and ranking read posting lists as arrays (``kb.search.arrays``) rather than
    stepping Whoosh's matcher tree a document at a time; the leaves this does not know
    (ranges of words, "every") still go through Whoosh's matchers.
    """

    def __init__(self, handle: Handle, session: Session | None = None):
        self.handle = handle
        self.session = session
        self.searcher = handle.searcher()
        self.columns = handle.columns(self.searcher)
        self.size = self.columns.size
        self.live = self.columns.live
        self.deleted = frozenset(np.flatnonzero(~self.live).tolist())
        self.segments = leaves(handle.folder, self.searcher)
        meta, self.common = handle.meta()
        build = (lambda: Topics(session)) if session is not None else None
        self.topics = handle.topics_for(meta.get("vocabulary", ""), build) or Topics(None)
        self.limited: list[str] = []  # what matching cut short, said to the person searching

    def parse(self, text: str) -> Any:
        """Parse the query language; raise QuerySyntaxError on what it cannot mean."""
        try:
            q = parser().parse(text)
        except Exception as error:  # the parser's failures are many and untyped
            raise QuerySyntaxError(str(error)) from error
        found = errors(q)
        if found:
            raise QuerySyntaxError("; ".join(str(e) for e in found))
        return self.topics.expand(bounded(q))

    def plain(self, words: Sequence[str], *, any_word: bool = False) -> Any:
        """Return a query of plain words (all of them, or any of them)."""
        q = parser("any" if any_word else "all").parse(
            " ".join(f'"{w}"' if " " in w else w for w in words)
        )
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
            return self.ranked_by_matcher(q, allowed, limit, optimize=optimize)
        found = self.match(q)
        mask = found.mask
        if allowed is not None:
            mask = mask & self.mask_of(allowed)
        return best(found.score, mask, limit)

    def mask_of(self, docs: Iterable[int]) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[np.fromiter(docs, dtype=np.int64)] = True
        return mask

    def ranked_by_matcher(
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
        for reader, offset, ident in self.segments:
            found = self.handle.term_postings(reader, ident, fieldname, raw)
            if len(found[0]):
                ids.append(found[0] + offset if offset else found[0])
                weights.append(found[1])
        if not ids:
            return EMPTY_IDS, EMPTY_WEIGHTS
        if len(ids) == 1:
            return ids[0], weights[0]
        return np.concatenate(ids), np.concatenate(weights)

    def length_bytes(self, fieldname: str) -> np.ndarray:
        """Return every document's length byte of a field (as ``doc_field_length`` reads it)."""
        found = self.columns.lengths.get(fieldname)
        if found is None:
            parts = [self.handle.length_bytes(r, ident, fieldname) for r, _, ident in self.segments]
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
            b = field_b(weighting, fieldname)
            k1 = weighting.K1
            norms = self.columns.norms.get(fieldname)
            if norms is None:
                avgfl = s.avg_field_length(fieldname) or 1
                norms = self.columns.norms[fieldname] = np.array(
                    [k1 * ((1 - b) + b * byte_to_length(n) / avgfl) for n in range(256)]
                )
            idf = s.idf(fieldname, fieldobj.to_bytes(text))
            scores = bm25(weights, self.length_bytes(fieldname)[ids], norms, idf, k1)
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
        if fieldname == "text" and self.common:
            adjacent = list(pairwise(words))
            if all(a in self.common and b in self.common for a, b in adjacent):
                for a, b in adjacent:
                    ids, _ = self.postings("pairs", f"{a} {b}")
                    paired = np.zeros(self.size, dtype=bool)
                    paired[ids] = True
                    mask &= paired
                checked = len(words) == 2
        if not checked and fieldobj.format.supports("positions"):
            mask &= self.live
            found = np.zeros(self.size, dtype=bool)
            for reader, offset, ident in self.segments:
                local = mask[offset : offset + reader.doc_count_all()]
                if not local.any():
                    continue
                words_at = []
                only = np.flatnonzero(local)
                for w in words:
                    # A few candidates: read their blocks only (~0.15 ms each), keep nothing.
                    few = only if len(only) <= FEW_CANDIDATES else None
                    raw = fieldobj.to_bytes(w)
                    words_at.append(self.handle.term_positions(reader, ident, fieldname, raw, few))
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
        """Load what each ranked document shows from the store, with its snippet as spans."""
        terms = {
            t
            for f, t in (q.iter_all_terms() if q is not None and snippets else ())
            if f in HIGHLIGHT_FIELDS and isinstance(t, str)
        }
        keys = [self.columns.key[d] for d, _ in ranked]
        loaded = shown(session, keys)
        analysis = TEXT_ANALYZER.analysis
        out = []
        for (docnum, score), key in zip(ranked, keys, strict=True):
            row = loaded.get(key) or Shown("", None, "", "", ())
            found = snippet(row.texts, terms, analysis.regex, analysis.term) if terms else None
            if found is None and terms:
                found = snippet((row.title,), terms, analysis.regex, analysis.term)
            kind = self.columns.kind[docnum]
            shown_snippet = (found or opening(row.texts)) if snippets else Snippet("")
            out.append(Hit(docnum, key, kind, row.title, row.year, score, shown_snippet, row))
        return out

    def known(self, word: str) -> bool:
        """Tell whether a word (after stemming) occurs in any searched field."""
        reader = self.searcher.reader()
        found = stems(word)
        if not found:
            return True  # a stop word is never a typo
        return any(reader.doc_frequency(f, found[0]) > 0 for f in FIELD_BOOSTS)

    def correct(self, word: str) -> str | None:
        """Return the likeliest index word within two edits of a mistyped word."""
        if len(word) > MAX_FUZZY_CHARS:
            return None  # a Levenshtein automaton for a long word costs seconds to build
        found = self.searcher.corrector("spell").suggest(word.lower(), limit=1, maxdist=2, prefix=1)
        return found[0] if found else None

    def count(self, kind: str) -> int:
        ids, _ = self.postings("kind", kind)
        return int(self.live[ids].sum())


def view(settings: Settings, session: Session | None = None) -> View:
    """Return a consistent view of the current index (built first when missing and a store is given;
    ``IndexBuilding`` when a background build of it is under way)."""
    h = handle.of(settings)
    if session is not None and not h.exists():
        if building(settings):
            raise IndexBuilding(
                "The search index is being built; searching works again in a moment."
            )
        rebuild(settings, session)
        h = handle.of(settings)
    elif session is not None:
        # Another host on the same store may have written: its keys come from the change log.
        catch_up_now_and_then(settings, session)
        h = handle.of(settings)
    return View(h, session)


def warm(settings: Settings) -> None:
    """Open the index and read what every search needs: the columns and the length bytes."""
    h = handle.of(settings)
    if not h.exists():
        return
    v = View(h)
    for fieldname in (*FIELD_BOOSTS, "pairs"):
        if fieldname in SCHEMA.names():
            v.length_bytes(fieldname)


def posting_cache_stats(settings: Settings) -> dict[str, int]:
    """Return the posting cache's hits, misses and size (postings held) for an index folder."""
    c = handle.of(settings).postings
    return {"hits": c.hits, "misses": c.misses, "bytes": c.size, "budget": c.budget}


__all__ = ["FEW_CANDIDATES", "Hit", "View", "posting_cache_stats", "view", "warm"]
