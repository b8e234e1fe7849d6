"""Whoosh's query parser with our field aliases and plugins, and topic expansion of words.

The text a person typed is made ready first (``kb.search.query.prepare``: identifiers, PubMed's
tags, limits); this turns it into a Whoosh query, holds fuzzy terms to their limits, and adds to
each word the condition and modality slugs whose names or aliases hold it ("TMJ" also matches
the ``tmj-tmd`` topic).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session
from whoosh import qparser
from whoosh import query as wq
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer
from whoosh.support.charset import accent_map

from kb.search.documents import vocabulary
from kb.search.query import MAX_EDITS, MAX_FUZZY_CHARS
from kb.search.schema import FIELD_ALIASES, FIELD_BOOSTS, SCHEMA, TEXT_ANALYZER, TOPIC_BOOST

_FOLD = RegexTokenizer(r"\S+") | LowercaseFilter() | CharsetFilter(accent_map)


class _Parser(qparser.QueryParser):
    """The query language, with wildcards matched against the typed and the stemmed word."""

    def term_query(
        self,
        fieldname: str,
        text: str,
        termclass: Any,
        boost: float = 1.0,
        tokenize: bool = True,
        removestops: bool = True,
    ) -> Any:
        q = super().term_query(fieldname, text, termclass, boost, tokenize, removestops)
        if termclass not in (wq.Prefix, wq.Wildcard) or not isinstance(q, termclass):
            return q
        # The parser stems a prefix ("fibromy" -> "fibromi", which no index word starts with),
        # while "anxiety*" needs its stem ("anxieti"): ask for both.
        typed = "".join(t.text for t in _FOLD(text))
        return q if typed == q.text else wq.Or([q, termclass(fieldname, typed, boost=boost)])


def _make_parser(group: Any, fields_too: bool = True) -> Any:
    made = _Parser(None, SCHEMA, group=group)
    made.add_plugin(qparser.MultifieldPlugin(list(FIELD_BOOSTS), fieldboosts=FIELD_BOOSTS))
    if fields_too:
        made.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
        made.add_plugin(qparser.GtLtPlugin())
        made.add_plugin(qparser.FuzzyTermPlugin())
    else:
        made.remove_plugin_class(qparser.FieldsPlugin)
    return made


@functools.cache
def parser(kind: str = "query") -> Any:
    """Return the parser of the query language ("query"), or of plain words ("all", "any")."""
    if kind == "query":
        return _make_parser(qparser.AndGroup)
    return _make_parser(qparser.AndGroup if kind == "all" else qparser.OrGroup, fields_too=False)


def errors(q: Any) -> list[str]:
    found = [q.error] if getattr(q, "error", None) else []
    for child in q.children():
        found.extend(errors(child))
    return found


def bounded(q: Any) -> Any:
    """Hold every fuzzy term to MAX_EDITS edits and a first letter in common (bounded work)."""
    if isinstance(q, wq.FuzzyTerm):
        if len(q.text) > MAX_FUZZY_CHARS:
            return wq.Term(q.fieldname, q.text, boost=q.boost)
        q.maxdist = min(q.maxdist, MAX_EDITS)
        q.prefixlength = max(q.prefixlength, 1)
        return q
    return q if q.is_leaf() else q.apply(bounded)


def stems(text: str) -> list[str]:
    return [t.text for t in TEXT_ANALYZER(text)]


class Topics:
    """Map query words (stemmed) to the condition and modality slugs whose names or aliases hold them."""

    def __init__(self, session: Session | None) -> None:
        self.by_stem: dict[str, set[str]] = {}
        self.by_phrase: dict[tuple[str, ...], set[str]] = {}
        self.slugs: set[str] = set()
        if session is None:
            return
        conditions, modalities = vocabulary(session)
        for term in (*conditions.values(), *modalities.values()):
            self.slugs.add(term.slug)
            for name in (term.slug.replace("-", " "), term.name, *term.aliases):
                words = tuple(stems(name))
                if len(words) > 1:
                    self.by_phrase.setdefault(words, set()).add(term.slug)
                for stem in words:
                    self.by_stem.setdefault(stem, set()).add(term.slug)

    def _slugs(self, slugs: Iterable[str], boost: float) -> Any:
        terms = [wq.Term("topics", s) for s in sorted(slugs)]
        if len(terms) == 1:
            terms[0].boost = boost
            return terms[0]
        return wq.DisjunctionMax(terms, boost=boost)

    def expand(self, q: Any) -> Any:
        """Return the query with words also matching the slugs of the topics they name."""
        if isinstance(q, wq.Term) and q.fieldname == "text" and q.text in self.by_stem:
            topic = self._slugs(self.by_stem[q.text], TOPIC_BOOST * q.boost)
            return wq.Or([q, topic])
        if isinstance(q, wq.Term) and q.fieldname == "topics" and q.text not in self.slugs:
            found = set().union(*(self.by_stem.get(s, set()) for s in stems(q.text)))
            return self._slugs(found, q.boost) if found else q
        if isinstance(q, wq.Phrase) and q.fieldname == "text":
            found = self.by_phrase.get(tuple(q.words))
            return wq.Or([q, self._slugs(found, TOPIC_BOOST * q.boost)]) if found else q
        if q.is_leaf():
            return q
        return q.apply(self.expand)


__all__ = ["Topics", "bounded", "errors", "parser", "stems"]
