"""The index's fields, their analysis, boosts and aliases: what a document and a query hold.

Field weights are query boosts, not schema ``field_boost``. The text fields' analysis is
Whoosh's chain, computed by ``kb.search.analysis`` (the same terms and positions, no Token per
word): ``Analyzer`` gives Whoosh the Tokens where it asks for them (the query parser) and
``FastText.index`` gives the postings directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from whoosh.analysis import Token, Tokenizer
from whoosh.analysis.filters import STOP_WORDS
from whoosh.analysis.tokenizers import default_pattern
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.formats import Frequency, Positions
from whoosh.lang.porter import stem as porter_stem
from whoosh.support.charset import accent_map

from kb.search import analysis
from kb.search.whoosh_codec import frequency_values, position_values

# The text fields' analysis: Whoosh's chain RegexTokenizer() | LowercaseFilter() |
# CharsetFilter(accent_map) | StopFilter() | StemFilter(), computed by kb.search.analysis (same terms and
# positions, no Token object per word). Unstemmed words for "did you mean" (``spell``): a
# suggestion must be a word a person would type; StopFilter(minsize=3), no StemFilter.
_ANALYSES = {
    "text": analysis.Analysis(default_pattern.pattern, STOP_WORDS, accent_map, porter_stem),
    "spell": analysis.Analysis(default_pattern.pattern, STOP_WORDS, accent_map, None, minsize=3),
}


def _analyzer(name: str) -> Any:
    """Return the named analyzer (how the schema pickled in an index's TOC refers to it)."""
    return _ANALYZERS[name]


class Analyzer(Tokenizer):
    """A ``kb.search.analysis.Analysis`` as a Whoosh analyzer: the Tokens of the filter chain it mirrors.

    Honours what the chain honours: ``positions`` (renumbered past stop words), ``chars``,
    ``start_pos``/``start_char``, ``keeporiginal``, ``removestops=False`` (stop words yielded,
    unstemmed, with ``stopped`` set), ``tokenize=False`` (the whole value is one word) and
    ``no_morph`` (no stemming). ``mode`` changes nothing, as in the chain.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.analysis = _ANALYSES[name]
        self.is_morph = self.analysis.stem is not None

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _analyzer, (self.name,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Analyzer) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        no_morph: bool = False,
        **kwargs: Any,
    ) -> Any:
        assert isinstance(value, str), f"{value!r} is not unicode"
        a = self.analysis
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if tokenize:
            matches: Iterable[Any] = a.regex.finditer(value)
        else:
            matches = [None]
            t.original = value
        pos = None
        for i, match in enumerate(matches):
            raw = value if match is None else match.group(0)
            if no_morph or a.stem is None:
                text = a.fold(raw)
                stopped = a.stopped(text)
            else:
                term = a.term(raw)
                stopped = term is None
                text = a.fold(raw) if stopped else term
            if stopped and removestops:
                continue
            t.text = text
            t.boost = 1.0
            t.stopped = stopped
            if keeporiginal and match is not None:
                t.original = raw
            if positions:
                if stopped:
                    t.pos = start_pos + i
                else:
                    pos = start_pos + i if pos is None else pos + 1
                    t.pos = pos
            if chars:
                start, end = (0, len(value)) if match is None else match.span()
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


_ANALYZERS = {name: Analyzer(name) for name in _ANALYSES}
TEXT_ANALYZER = _ANALYZERS["text"]
SPELL_ANALYZER = _ANALYZERS["spell"]


class FastText(TEXT):
    """A TEXT field whose ``index`` reads kb.search.analysis directly: Whoosh's postings, faster.

    Gives exactly the (term bytes, frequency, weight, value) items of ``Positions.word_values``
    or ``Frequency.word_values`` over the analyzer's tokens; anything else (a list of words, a
    Characters format, extra arguments) goes through Whoosh's own ``index``.
    """

    def index(self, value: Any, **kwargs: Any) -> Any:
        kind = type(self.format)
        if (
            not isinstance(value, str)
            or not isinstance(self.analyzer, Analyzer)
            or kind not in (Positions, Frequency)
            or set(kwargs) - {"mode"}
        ):
            return super().index(value, **kwargs)
        first, terms = self.analyzer.analysis.terms(value)
        boost = self.format.field_boost
        if kind is Positions:
            items = position_values(first, terms, boost)
        else:
            items = frequency_values(terms, boost)
        return [(term.encode("utf-8"), freq, weight, v) for term, freq, weight, v in items]


class PairTerms(TEXT):
    """The ``pairs`` field: a list of pair terms (``kb.search.analysis.pairs``), counted, no positions."""

    def __init__(self) -> None:
        super().__init__(analyzer=SPELL_ANALYZER, phrase=False)

    def index(self, value: Any, **kwargs: Any) -> Any:
        if not isinstance(value, (list, tuple)) or set(kwargs) - {"mode"}:
            return super().index(value, **kwargs)
        boost = self.format.field_boost
        items = frequency_values(value, boost)
        return [(term.encode("utf-8"), freq, weight, v) for term, freq, weight, v in items]


SCHEMA = Schema(
    kind=ID(stored=True),
    key=ID(stored=True, unique=True, sortable=True),
    title=FastText(analyzer=TEXT_ANALYZER),
    text=FastText(analyzer=TEXT_ANALYZER),
    authors=FastText(analyzer=TEXT_ANALYZER),
    journal=FastText(analyzer=TEXT_ANALYZER, phrase=False),
    keywords=FastText(analyzer=TEXT_ANALYZER, phrase=False),
    # Adjacent common stems of ``text`` ("low back"), for phrases of common words: see pairs().
    pairs=PairTerms(),
    topics=KEYWORD(lowercase=True),
    year=NUMERIC(int, bits=32, signed=True, shift_step=8),
    design=KEYWORD(lowercase=True, commas=True),
    finding=KEYWORD(lowercase=True, commas=True),
    ids=KEYWORD(lowercase=True, commas=True),
    spell=FastText(analyzer=SPELL_ANALYZER, phrase=False),
    # One packed column per document, read once per segment to count facets without groupedby.
    facets=COLUMN(),
)
# What an index on disk must have been built with; an index of another shape (an older version
# of this program) is rebuilt rather than read with the wrong fields.
# The analyzers are pickled by module path (``_analyzer`` below): an index written when they
# lived elsewhere (kb.index) cannot be opened, so the module is part of the signature.
SCHEMA_SIGNATURE = ",".join(
    [*(f"{name}:{type(kind).__name__}" for name, kind in sorted(SCHEMA.items())), __name__]
)
# Bare words are looked up in these fields, with these weights; ``topics`` is reached by
# expanding a word to the slugs whose names or aliases hold it.
FIELD_BOOSTS = {"text": 1.0, "title": 3.0, "authors": 2.0}
TOPIC_BOOST = 2.5
SEARCH_FIELDS = (*FIELD_BOOSTS, "topics")
FIELD_ALIASES = {
    "title": ["ti"],
    "authors": ["author", "au"],
    "journal": ["container", "source", "ta"],
    "text": ["abstract", "summary", "tiab", "tw"],
    "keywords": ["keyword", "kw", "mesh", "mh"],
    "topics": ["condition", "modality", "topic"],
    "ids": ["doi", "pmid", "pmcid"],
}
HIGHLIGHT_FIELDS = ("text", "title")


class QuerySyntaxError(ValueError):
    """A query the parser could not turn into a search."""


__all__ = [
    "FIELD_ALIASES",
    "FIELD_BOOSTS",
    "HIGHLIGHT_FIELDS",
    "SCHEMA",
    "SCHEMA_SIGNATURE",
    "SEARCH_FIELDS",
    "SPELL_ANALYZER",
    "TEXT_ANALYZER",
    "TOPIC_BOOST",
    "Analyzer",
    "FastText",
    "PairTerms",
    "QuerySyntaxError",
]
