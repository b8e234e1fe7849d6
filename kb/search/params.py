"""What a person asked a search for, and the page of results it gets back.

``SearchParams`` reads request or command-line arguments (and refuses what it cannot use, with
a message naming the parameter); ``SearchResult`` is what the web page, the JSON API and
``kb search`` share.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kb.grading import FINDINGS, LEVELS

SORTS = ("relevance", "newest", "oldest", "level")
LIST_PARAMS = ("design", "finding", "condition", "modality")
PARAMS = ("q", *LIST_PARAMS, "year_from", "year_to", "sort", "page", "per_page")
MAX_PER_PAGE = 100
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


__all__ = ["MAX_PER_PAGE", "PARAMS", "SORTS", "BadSearch", "SearchParams", "SearchResult"]
