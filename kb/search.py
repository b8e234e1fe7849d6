"""Search the library: parameters, the query language, facets, suggestions and typo tolerance.

The index (``kb.index``) answers with document numbers, scores and per-document facet columns;
this module turns parameters into a query, filters and counts facets over those columns, and
shapes the result that the web page, the JSON API and ``kb search`` share.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sqlmodel import Session, select

from kb import index
from kb.config import Settings
from kb.grading import DESIGN_LABELS, FINDING_LABELS, FINDINGS, LEVELS, level_of
from kb.index_columns import FACETS, best
from kb.index_engine import Match
from kb.models import Condition, Modality

SORTS = ("relevance", "newest", "oldest", "level")
LIST_PARAMS = ("design", "finding", "condition", "modality")
PARAMS = ("q", *LIST_PARAMS, "year_from", "year_to", "sort", "page", "per_page")
MAX_PER_PAGE = 100
FEW = 3  # fewer hits than this and a "did you mean" is worth offering
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class BadSearch(ValueError):
    """A search parameter that cannot be used; the message names it and says why."""


def _values(args: Mapping[str, Any], name: str) -> list[str]:
    raw = args.getlist(name) if hasattr(args, "getlist") else args.get(name)
    items = raw if isinstance(raw, (list, tuple)) else [] if raw is None else [raw]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def _one(args: Mapping[str, Any], name: str) -> str | None:
    values = _values(args, name) if name != "q" else [str(v) for v in _raw_list(args, name)]
    if len(values) > 1:
        raise BadSearch(f"{name}: give one value, not {len(values)}")
    return values[0].strip() if values else None


def _raw_list(args: Mapping[str, Any], name: str) -> list[Any]:
    raw = args.getlist(name) if hasattr(args, "getlist") else args.get(name)
    return list(raw) if isinstance(raw, (list, tuple)) else [] if raw is None else [raw]


def _int(args: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    text = _one(args, name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise BadSearch(f"{name}: {text!r} is not a whole number") from None
    if not low <= value <= high:
        raise BadSearch(f"{name}: {value} is outside {low}-{high}")
    return value


@dataclass(frozen=True)
class SearchParams:
    """What a person asked for: words, selected facet values, year range, sort and page."""

    q: str = ""
    design: list[str] = field(default_factory=list)
    condition: list[str] = field(default_factory=list)
    modality: list[str] = field(default_factory=list)
    finding: list[str] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> SearchParams:
        """Read request or command-line arguments; raise BadSearch on anything unusable."""
        unknown = sorted(set(args) - set(PARAMS))
        if unknown:
            raise BadSearch(f"{unknown[0]}: unknown parameter (known: {', '.join(PARAMS)})")
        lists = {name: list(dict.fromkeys(_values(args, name))) for name in LIST_PARAMS}
        for value in lists["design"]:
            if value not in LEVELS:
                raise BadSearch(
                    f"design: {value!r} is not a study design (one of {', '.join(LEVELS)})"
                )
        for value in lists["finding"]:
            if value not in FINDINGS:
                raise BadSearch(
                    f"finding: {value!r} is not a finding (one of {', '.join(FINDINGS)})"
                )
        for name in ("condition", "modality"):
            for value in lists[name]:
                if not _SLUG.match(value):
                    raise BadSearch(
                        f"{name}: {value!r} is not a slug (lower-case words joined by hyphens)"
                    )
        year_from = _int(args, "year_from", 0, 3000)
        year_to = _int(args, "year_to", 0, 3000)
        if year_from is not None and year_to is not None and year_from > year_to:
            raise BadSearch(f"year_from: {year_from} is after year_to {year_to}")
        sort = _one(args, "sort") or "relevance"
        if sort not in SORTS:
            raise BadSearch(f"sort: {sort!r} is not one of {', '.join(SORTS)}")
        return cls(
            q=_one(args, "q") or "",
            year_from=year_from,
            year_to=year_to,
            sort=sort,
            page=_int(args, "page", 1, 100_000) or 1,
            per_page=_int(args, "per_page", 1, MAX_PER_PAGE) or 20,
            **lists,
        )

    def to_args(self) -> dict[str, Any]:
        """Return the parameters that differ from the defaults, for a permalink."""
        out: dict[str, Any] = {}
        if self.q:
            out["q"] = self.q
        for name in LIST_PARAMS:
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        for name in ("year_from", "year_to"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.sort != "relevance":
            out["sort"] = self.sort
        if self.page != 1:
            out["page"] = self.page
        if self.per_page != 20:
            out["per_page"] = self.per_page
        return out

    def toggled(self, facet: str, value: str) -> SearchParams:
        """Return these parameters with one facet value switched on or off, on page 1."""
        if facet == "decade":
            start = int(value)
            if (self.year_from, self.year_to) == (start, start + 9):
                return replace(self, year_from=None, year_to=None, page=1)
            return replace(self, year_from=start, year_to=start + 9, page=1)
        current = list(getattr(self, facet))
        chosen = [v for v in current if v != value] if value in current else [*current, value]
        return replace(self, page=1, **{facet: chosen})

    @property
    def filtered(self) -> bool:
        return (
            any(getattr(self, n) for n in LIST_PARAMS)
            or self.year_from is not None
            or self.year_to is not None
        )


@dataclass
class SearchResult:
    """One page of hits with facet counts, a suggestion and a notice."""

    params: SearchParams
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, list[dict[str, Any]]]
    suggestion: str | None = None
    notice: str | None = None
    # Condition and technique pages the words match, apart from a list sorted by year or design.
    topics: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.params.per_page))

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.params.q,
            "total": self.total,
            "suggestion": self.suggestion,
            "notice": self.notice,
            "hits": self.hits,
            "facets": self.facets,
            "page": self.params.page,
            "pages": self.pages,
            "per_page": self.params.per_page,
            "sort": self.params.sort,
            "params": self.params.to_args(),
            "topics": self.topics,
        }


# --- the query language ------------------------------------------------------------------

_YEAR_RANGE = re.compile(r"\byear:(\d{1,4})?-(\d{1,4})?(?=\s|\)|$)")
_SCOPED = re.compile(r'\b(design|finding):("[^"]*"|[^\s()]+)', re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"}


def _design_values(text: str) -> list[str]:
    wanted = text.strip('"').lower().replace(" ", "-")
    if wanted in LEVELS:
        return [wanted]
    loose = wanted.replace("-", " ")
    return [d for d in LEVELS if loose in d.replace("-", " ") or loose in DESIGN_LABELS[d].lower()]


def _rewrite(text: str) -> str:
    """Turn the friendly forms (year:2005-2015, design:cochrane) into the parser's."""

    def year(match: re.Match[str]) -> str:
        low, high = match.group(1) or "", match.group(2) or ""
        return f"year:[{low} TO {high}]".replace("[ TO", "[TO").replace("TO ]", "TO]")

    def scoped(match: re.Match[str]) -> str:
        name, value = match.group(1).lower(), match.group(2)
        if name == "finding":
            return f"finding:{value.strip(chr(34)).lower().replace(' ', '-')}"
        values = _design_values(value)
        if not values:
            return f"design:{value.strip(chr(34)).lower().replace(' ', '-')}"
        return values[0] and (
            f"design:{values[0]}"
            if len(values) == 1
            else "(" + " OR ".join(f"design:{v}" for v in values) + ")"
        )

    return _SCOPED.sub(scoped, _YEAR_RANGE.sub(year, text))


def plain_words(text: str) -> list[str]:
    """Return the plain words of a query: no field scopes, operators or syntax."""
    unscoped = re.sub(r"\b\w+:(\"[^\"]*\"|\[[^\]]*\]|\S+)", " ", text)
    return [w for w in _WORD.findall(unscoped) if w not in _OPERATORS]


def _suggest(view: index.View, text: str) -> str | None:
    changed = text
    for word in dict.fromkeys(plain_words(text)):
        if len(word) < 4 or view.known(word):
            continue
        better = view.correct(word)
        if better and better != word.lower():
            changed = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", better, changed)
    return changed if changed != text else None


# --- searching ---------------------------------------------------------------------------


def _labels(session: Session) -> dict[str, dict[str, str]]:
    return {
        "design": dict(DESIGN_LABELS),
        "finding": dict(FINDING_LABELS),
        "condition": dict(session.exec(select(Condition.slug, Condition.name)).all()),
        "modality": dict(session.exec(select(Modality.slug, Modality.name)).all()),
    }


def _allowed(params: SearchParams, c: index.Columns) -> dict[str, np.ndarray]:
    """Return, per facet with a selection, the references it lets through (values OR-ed)."""
    masks: dict[str, np.ndarray] = {}
    for name in ("design", "finding", "condition", "modality"):
        chosen = getattr(params, name)
        if chosen:
            mask = np.zeros(c.size, dtype=bool)
            for value in chosen:
                mask |= c.having(name, value)
            masks[name] = mask
    if params.year_from is not None or params.year_to is not None:
        masks["decade"] = c.years_between(params.year_from, params.year_to)
    return masks


def _facets(
    params: SearchParams,
    refs: np.ndarray,
    allowed: dict[str, np.ndarray],
    c: index.Columns,
    labels: dict[str, dict[str, str]],
) -> tuple[np.ndarray, dict[str, list[dict[str, Any]]]]:
    """Filter the matched references and count every facet (each ignoring its own selection)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for facet in FACETS:
        docs = refs
        for name, mask in allowed.items():
            if name != facet:
                docs = docs & mask
        counts = c.count(facet, docs)
        if facet == "decade":
            chosen = (
                {str(params.year_from)}
                if params.year_from is not None and params.year_to == (params.year_from or 0) + 9
                else set()
            )
            order = sorted(counts, key=int, reverse=True)
        else:
            chosen = set(getattr(params, facet))
            order = sorted(
                set(counts) | chosen, key=lambda v: (-counts.get(v, 0), labels[facet].get(v, v))
            )
            if facet == "design":
                order.sort(key=lambda v: (level_of(v), -counts.get(v, 0)))
        names = labels.get(facet, {})
        out[facet] = [
            {
                "value": value,
                "label": f"{value}s" if facet == "decade" else names.get(value, value),
                "count": counts.get(value, 0),
                "selected": value in chosen,
                "toggle": params.toggled(facet, value).to_args(),
            }
            for value in order
        ]
    matched = refs
    for mask in allowed.values():
        matched = matched & mask
    return matched, out


def _hit_json(hit: index.Hit, c: index.Columns, scored: bool) -> dict[str, Any]:
    kind = hit.kind
    data: dict[str, Any] = {
        "kind": kind,
        "key": hit.key.split(":", 1)[1] if kind != "reference" else hit.key,
        "title": hit.title,
        "year": hit.year,
        "score": round(hit.score, 3) if scored and hit.score is not None else None,
        "snippet": hit.snippet,
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


def _parse(view: index.View, text: str) -> tuple[Any, str | None]:
    """Parse a query; on a syntax error fall back to its plain words and say so."""
    try:
        return view.parse(_rewrite(text)), None
    except index.QuerySyntaxError as error:
        words = plain_words(text)
        notice = f"Could not read the query as written ({error}); searched for the words instead"
        return (view.plain(words) if words else None), notice


def search(settings: Settings, session: Session, params: SearchParams) -> SearchResult:
    """Run a search: match, fall back on typos, filter, count facets, rank and page."""
    view = index.view(settings, session)
    c = view.columns
    text = params.q.strip()
    q, notice = _parse(view, text) if text else (None, None)
    # One pass over the posting lists gives both the matches and their scores.
    found = view.match(q) if (q is not None or not text) else Match.none(view.size)
    suggestion = None
    if text and found.mask.sum() < FEW:
        suggestion = _suggest(view, text)
        if not found.mask.any() and suggestion:
            retry, _ = _parse(view, suggestion)
            if retry is not None and (retried := view.match(retry)).mask.any():
                q, found = retry, retried
                notice = f"No results for “{text}”; showing results for “{suggestion}”"
        if not found.mask.any() and plain_words(text):
            fuzzy = view.fuzzy(plain_words(text))
            near = view.match(fuzzy)
            if near.mask.any():
                q, found = fuzzy, near
                notice = f"No exact matches for “{text}”; showing near matches"
    refs = found.mask & c.references
    matched, facets = _facets(params, refs, _allowed(params, c), c, _labels(session))
    # Conditions and modalities show only when nothing narrows the search to studies.
    pool = matched if (params.filtered or q is None) else found.mask
    topics: list[dict[str, Any]] = []
    if params.sort != "relevance" and not (params.filtered or q is None):
        # Sorted by year or design, the list holds studies only; the condition and technique
        # pages the words match are given apart (on the first page), not ahead of every study.
        if params.page == 1:
            vocabulary = view.ordered(found.mask & ~c.references, "newest", 100)
            shown = view.hits([(d, None) for d in vocabulary], q, session, snippets=False)
            topics = [_hit_json(h, c, False) for h in shown]
        pool = matched
    end = params.page * params.per_page
    scored = q is not None and params.sort == "relevance"
    if scored:
        ranked: list[tuple[int, float | None]] = list(best(found.score, pool, end))
    else:
        order = "level" if params.sort == "relevance" else params.sort
        ranked = [(d, None) for d in view.ordered(pool, order, end)]
    page = ranked[end - params.per_page : end]
    hits = [_hit_json(h, c, scored) for h in view.hits(page, q, session)]
    return SearchResult(params, int(pool.sum()), hits, facets, suggestion, notice, topics)


def candidates(settings: Settings, session: Session, text: str, limit: int = 10) -> list[str]:
    """Return the keys of the references most like a pasted reference (its rarest words)."""
    if not re.search(r"\w\w", text):
        return []
    view = index.view(settings, session)
    c = view.columns
    return [c.key[d] for d in view.resembling(text, limit * 2) if c.kind[d] == "reference"][:limit]


__all__ = [
    "SORTS",
    "BadSearch",
    "SearchParams",
    "SearchResult",
    "candidates",
    "plain_words",
    "search",
]
