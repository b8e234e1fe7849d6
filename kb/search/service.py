"""The search: parameters -> identifiers, matches, typo fallbacks, facets, a ranked page.

One function serves ``kb search``, ``/search`` and ``/api/search`` (``search``); an export asks
for every key at once (``keys``); the reference checker asks for look-alikes (``candidates``).
Walk of one query (docs/search.md): ``query.prepare`` -> ``handle`` -> ``engine.View`` (match,
score, facets' columns) -> ``facets.counted`` -> ``engine.View.hits`` (``documents`` and
``snippets``) -> the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlmodel import Session, select

from kb.config import Settings
from kb.grading import DESIGN_LABELS, FINDING_LABELS, level_of
from kb.models import Condition, Modality
from kb.search.arrays import Match
from kb.search.engine import Hit, View, view
from kb.search.facets import Columns, allowed, best, counted
from kb.search.params import BadSearch, SearchParams, SearchResult
from kb.search.query import MAX_FUZZY_CHARS, Prepared, prepare
from kb.search.schema import QuerySyntaxError

FEW = 3  # fewer hits than this and a "did you mean" is worth offering
MAX_KEYS = 1000  # references an export takes from one search


# --- did you mean ------------------------------------------------------------------------

MAX_CORRECTED = 6  # unknown words a search tries to correct; more and it offers nothing


def _unknown(view: View, prepared: Prepared) -> list[str]:
    words = dict.fromkeys(prepared.words)
    return [w for w in words if 4 <= len(w) <= MAX_FUZZY_CHARS and not view.known(w)]


def _suggest(view: View, prepared: Prepared) -> str | None:
    """Return the typed query with its unknown words corrected; identifiers are never touched."""
    unknown = _unknown(view, prepared)
    if not unknown or len(unknown) > MAX_CORRECTED:
        return None
    fixes = {}
    for word in unknown:
        better = view.correct(word)
        if better and better != word.lower():
            fixes[word] = better
    if not fixes:
        return None
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)" for w in fixes))
    typed, out, at = prepared.typed, [], 0
    for ident in [*prepared.identifiers, None]:
        stop = len(typed) if ident is None else ident.start
        out.append(pattern.sub(lambda m: fixes[m.group()], typed[at:stop]))
        if ident is not None:
            out.append(typed[ident.start : ident.end])
            at = ident.end
    changed = "".join(out)
    return changed if changed != typed else None


# --- searching ---------------------------------------------------------------------------


def _labels(session: Session) -> dict[str, dict[str, str]]:
    return {
        "design": dict(DESIGN_LABELS),
        "finding": dict(FINDING_LABELS),
        "condition": dict(session.exec(select(Condition.slug, Condition.name)).all()),
        "modality": dict(session.exec(select(Modality.slug, Modality.name)).all()),
    }


def _hit_json(hit: Hit, c: Columns, scored: bool) -> dict[str, Any]:
    kind = hit.kind
    data: dict[str, Any] = {
        "kind": kind,
        "key": hit.key.split(":", 1)[1] if kind != "reference" else hit.key,
        "title": hit.title,
        "year": hit.year,
        "score": round(hit.score, 3) if scored and hit.score is not None else None,
        # Plain text and the spans of the matched words in it: the page marks them up.
        "snippet": hit.snippet.text,
        "marks": [list(m) for m in hit.snippet.marks],
    }
    if kind == "reference":
        d = hit.docnum
        data.update(
            design=c.design[d] or None,
            level=level_of(c.design[d]),
            findings=list(c.findings[d]),
            conditions=list(c.conditions[d]),
            modalities=list(c.modalities[d]),
            authors=hit.shown.authors,
            journal=hit.shown.journal,
        )
    return data


def _parse(view: View, prepared: Prepared) -> tuple[Any, str | None]:
    """Parse a prepared query; on a syntax error fall back to its plain words and say so."""
    try:
        return view.parse(prepared.text), None
    except QuerySyntaxError as error:
        words = prepared.words
        notice = f"Could not read the query as written ({error}); searched for the words instead"
        return (view.plain(words) if words else None), notice


def _identified(view: View, prepared: Prepared, found: Match) -> tuple[Match, list[str]]:
    """Put the references a query names by DOI or PMID first; say which the library lacks."""
    docs: list[int] = []
    missing = []
    for ident in prepared.identifiers:
        held = view.identified([ident.value])
        if not held:
            missing.append(f"No reference in this library has {ident.kind.upper()} {ident.value}")
        docs.extend(d for d in held if d not in docs)
    if docs:
        top = float(found.score[found.mask].max()) if found.mask.any() else 0.0
        for rank, doc in enumerate(docs):
            found.mask[doc] = True
            found.score[doc] = top + len(docs) - rank
    return found, missing


@dataclass
class _Found:
    """What a query matched, before filters, counts and pages."""

    q: Any | None  # the parsed query searched (None: no words)
    match: Match
    asked: bool  # words or identifiers were given (else: browse everything)
    suggestion: str | None
    notices: list[str]


def _find(view: View, params: SearchParams) -> _Found:
    """Match the query: identifiers, then words, falling back on typos; collect the notices."""
    prepared = prepare(params.q)
    text = prepared.text
    asked = bool(text or prepared.identifiers)
    notices = list(prepared.notices)
    q, notice = _parse(view, prepared) if text else (None, None)
    # One pass over the posting lists gives both the matches and their scores.
    found = view.match(q) if (q is not None or not asked) else Match.none(view.size)
    suggestion = None
    typed = params.q.strip()
    if text and found.mask.sum() < FEW:
        suggestion = _suggest(view, prepared)
        if not found.mask.any() and suggestion and not prepared.identifiers:
            retry, _ = _parse(view, prepare(suggestion))
            if retry is not None and (retried := view.match(retry)).mask.any():
                q, found = retry, retried
                notice = f"No results for “{typed}”; showing results for “{suggestion}”"
        words = prepared.words
        if not found.mask.any() and words and len(_unknown(view, prepared)) <= MAX_CORRECTED:
            fuzzy = view.fuzzy(words)
            near = view.match(fuzzy)
            if near.mask.any():
                q, found = fuzzy, near
                notice = f"No exact matches for “{typed}”; showing near matches"
    if prepared.identifiers:
        found, missing = _identified(view, prepared, found)
        notices.extend(missing)
    notices = [n for n in [notice, *notices, *view.limited] if n]
    return _Found(q, found, asked, suggestion, notices)


def _ranked(
    view: View, params: SearchParams, found: _Found, pool: np.ndarray, end: int
) -> list[tuple[int, float | None]]:
    """Return the first ``end`` documents of the pool in the order asked for."""
    if found.asked and params.sort == "relevance":
        return list(best(found.match.score, pool, end))
    order = "level" if params.sort == "relevance" else params.sort
    return [(d, None) for d in view.ordered(pool, order, end)]


def search(settings: Settings, session: Session, params: SearchParams) -> SearchResult:
    """Run a search: identifiers, then match, fall back on typos, filter, count, rank, page."""
    v = view(settings, session)
    c = v.columns
    found = _find(v, params)
    refs = found.match.mask & c.references
    matched, facets = counted(params, refs, c, _labels(session))
    # Conditions and modalities show only when nothing narrows the search to studies.
    pool = matched if (params.filtered or not found.asked) else found.match.mask
    topics: list[dict[str, Any]] = []
    if params.sort != "relevance" and not (params.filtered or not found.asked):
        # Sorted by year or design, the list holds studies only; the condition and technique
        # pages the words match are given apart (on the first page), not ahead of every study.
        if params.page == 1:
            vocabulary = v.ordered(found.match.mask & ~c.references, "newest", 100)
            shown = v.hits([(d, None) for d in vocabulary], found.q, session, snippets=False)
            topics = [_hit_json(h, c, False) for h in shown]
        pool = matched
    end = params.page * params.per_page
    page = _ranked(v, params, found, pool, end)[end - params.per_page : end]
    scored = found.asked and params.sort == "relevance"
    hits = [_hit_json(h, c, scored) for h in v.hits(page, found.q, session)]
    notice = ". ".join(found.notices) if found.notices else None
    return SearchResult(params, int(pool.sum()), hits, facets, found.suggestion, notice, topics)


def keys(
    settings: Settings, session: Session, params: SearchParams, limit: int = MAX_KEYS
) -> list[str]:
    """Return the keys of the references a search finds, up to ``limit``, in its order.

    One pass, for an export: no facet counts, no pages, no snippets.
    """
    v = view(settings, session)
    c = v.columns
    found = _find(v, params)
    pool = found.match.mask & c.references
    for mask in allowed(params, c).values():
        pool = pool & mask
    return [c.key[d] for d, _ in _ranked(v, params, found, pool, limit)]


def candidates(settings: Settings, session: Session, text: str, limit: int = 10) -> list[str]:
    """Return the keys of the references most like a pasted reference (its rarest words)."""
    if not re.search(r"\w\w", text):
        return []
    v = view(settings, session)
    c = v.columns
    return [c.key[d] for d in v.resembling(text, limit * 2) if c.kind[d] == "reference"][:limit]


__all__ = [
    "MAX_KEYS",
    "BadSearch",
    "SearchParams",
    "SearchResult",
    "candidates",
    "keys",
    "search",
]
