"""Search the library: one package behind a small face.

The verbs: ``search`` (a page of hits with facets, for the web, the API and ``kb search``),
``keys`` (every key a search finds, for an export), ``candidates`` (look-alikes of a pasted
reference, for the checker), ``sync`` (re-index references after a write), ``rebuild``,
``status`` and ``ensure_current`` (the index against the store), ``prepare`` (at start-up:
a missing index is built by a background thread while searches raise ``IndexBuilding``), ``view`` (one consistent view
of the index) and ``warm`` (read what searches need, at start-up). How a query travels through
the modules: docs/search.md.
"""

from __future__ import annotations

from kb.search.engine import view, warm
from kb.search.params import PARAMS, BadSearch, SearchParams, SearchResult
from kb.search.service import candidates, keys, search
from kb.search.writer import (
    IndexBuilding,
    ensure_current,
    prepare,
    rebuild,
    status,
    sync,
)

__all__ = [
    "PARAMS",
    "BadSearch",
    "IndexBuilding",
    "SearchParams",
    "SearchResult",
    "candidates",
    "ensure_current",
    "keys",
    "prepare",
    "rebuild",
    "search",
    "status",
    "sync",
    "view",
    "warm",
]
