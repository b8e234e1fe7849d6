"""kb.search.analysis gives exactly what the Whoosh filter chains it replaces give.

The index's text fields used ``RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) |
StopFilter() | StemFilter()`` (and, for ``spell``, ``StopFilter(minsize=3)`` without stemming).
``kb.search.schema`` now analyses with ``kb.search.analysis``; these tests hold it to the chains, token by
token (text, position, characters, stopped) and posting by posting (``word_values``).
"""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.analysis.filters import STOP_WORDS
from whoosh.analysis.tokenizers import default_pattern
from whoosh.fields import TEXT
from whoosh.lang.porter import stem as porter_stem
from whoosh.support.charset import accent_map

from kb.search import analysis, whoosh_codec
from kb.search.documents import reference_docs, vocabulary_docs
from kb.search.schema import SCHEMA, SPELL_ANALYZER, TEXT_ANALYZER, FastText

WHOOSH_TEXT = (
    RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter() | StemFilter()
)
WHOOSH_SPELL = (
    RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter(minsize=3)
)
PAIRS = [(TEXT_ANALYZER, WHOOSH_TEXT), (SPELL_ANALYZER, WHOOSH_SPELL)]

TRICKY = [
    "",
    " ",
    "a",
    "The",
    "the of and a an",
    "Massage THERAPY for low-back pain: a randomised, controlled trial.",
    "Café naïve résumé Ærøskøbing straße façade Œuvre ÉCOLE",
    "don't patient's patients' O'Brien rock'n'roll",
    "e.g. i.e. et al. vs. 3.5 0.05 p<0.001 1,000 v2.0.1 U.S.A. a.b",
    "self-massage well-being 5-year follow-up -- — – ",
    "massag* *wildcard* a*b ** * x.*",
    "under_score __init__ _x_ snake_case_name",
    "İstanbul ǅemal ﬁnger ﬂow Ⅻ ½ ² ٣ 中文 テスト",
    "tab\tnew\nline\r\nend\u00a0nbsp\u2009thin",
    "it is to be or not to be that is the question",
    "x y z 1 2 3 no on at be",
    "running runner runs ran easily fairly generalization generalisation",
    "A.B.C. .hidden trailing. ..double.. dot.dot.dot",
]


def _tokens(analyzer, text, **kwargs):
    out = []
    for t in analyzer(text, **kwargs):
        out.append(
            (
                t.text,
                t.stopped,
                t.boost,
                getattr(t, "pos", None),
                getattr(t, "startchar", None),
                getattr(t, "endchar", None),
                getattr(t, "original", None),
            )
        )
    return out


OPTIONS = [
    {},
    {"positions": True},
    {"positions": True, "chars": True},
    {"positions": True, "chars": True, "removestops": False},
    {"chars": True, "removestops": False, "mode": "query"},
    {"positions": True, "start_pos": 7, "start_char": 11, "chars": True},
    {"keeporiginal": True, "positions": True, "removestops": False},
    {"tokenize": False},
    {"tokenize": False, "removestops": False, "positions": True, "chars": True},
    {"mode": "index", "positions": True, "boosts": True},
]


def _library_texts(session) -> list[str]:
    docs = [*vocabulary_docs(session), *reference_docs(session)]
    texts = []
    for doc in docs:
        texts.extend(
            doc[f] for f in ("title", "text", "authors", "journal", "keywords") if f in doc
        )
    return texts


@pytest.mark.parametrize("options", OPTIONS)
def test_analyzer_gives_the_chains_tokens_on_tricky_text(options) -> None:
    for ours, theirs in PAIRS:
        for text in TRICKY:
            assert _tokens(ours, text, **options) == _tokens(theirs, text, **options), text


def test_analyzer_gives_the_chains_tokens_on_the_library(session) -> None:
    texts = _library_texts(session)
    assert len(texts) > 100
    for ours, theirs in PAIRS:
        for text in texts:
            for options in OPTIONS[1:4]:
                assert _tokens(ours, text, **options) == _tokens(theirs, text, **options)


def test_no_morph_skips_stemming_as_the_chain_does() -> None:
    text = "Running runners easily massaged the patients"
    assert _tokens(TEXT_ANALYZER, text, no_morph=True) == _tokens(WHOOSH_TEXT, text, no_morph=True)
    assert TEXT_ANALYZER.has_morph() and not SPELL_ANALYZER.has_morph()


def _word_values(field, text):
    return list(field.index(text))


@pytest.mark.parametrize("phrase", [True, False])
def test_field_index_gives_whooshs_word_values(session, phrase) -> None:
    for ours, theirs in PAIRS:
        fast = FastText(analyzer=ours, phrase=phrase)
        slow = TEXT(analyzer=theirs, phrase=phrase)
        for text in [*TRICKY, *_library_texts(session)]:
            assert _word_values(fast, text) == _word_values(slow, text), text


def test_field_index_falls_back_to_whoosh_for_lists_and_options() -> None:
    fast = FastText(analyzer=TEXT_ANALYZER)
    slow = TEXT(analyzer=WHOOSH_TEXT)
    assert list(fast.index(["Alpha", "beta", "Alpha"])) == list(
        slow.index(["Alpha", "beta", "Alpha"])
    )
    assert list(fast.index("The massage", mode="query")) == list(slow.index("The massage"))


WORDS = st.sampled_from(
    [
        "the",
        "a",
        "of",
        "massage",
        "Massage",
        "MASSAGE",
        "therapy",
        "thérapie",
        "naïve",
        "e.g.",
        "3.5",
        "don't",
        "low-back",
        "pain",
        "x",
        "it's",
        "well-being",
        "*",
        "a*b",
        "études",
        "straße",
        "İ",
        "ﬁ",
        "__",
        "1",
        "to",
        "be",
        "running",
        "ran",
    ]
)
SEPARATORS = st.sampled_from([" ", "  ", "\n", ", ", ". ", "-", "'", "—", "\t", ";"])
TEXTS = st.lists(st.tuples(WORDS, SEPARATORS), max_size=40).map(
    lambda parts: "".join(w + s for w, s in parts)
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXTS, st.text(max_size=60)))
def test_analysis_equals_the_chains_on_any_text(text) -> None:
    for ours, theirs in PAIRS:
        for options in (
            {"positions": True, "chars": True},
            {"removestops": False, "positions": True},
        ):
            assert _tokens(ours, text, **options) == _tokens(theirs, text, **options)
        fast = FastText(analyzer=ours)
        slow = TEXT(analyzer=theirs)
        assert _word_values(fast, text) == _word_values(slow, text)


@settings(max_examples=100, deadline=None)
@given(TEXTS)
def test_a_small_cache_changes_nothing(text) -> None:
    small = analysis.Analysis(
        default_pattern.pattern,
        STOP_WORDS,
        accent_map,
        porter_stem,
        cache_limit=3,
    )
    assert small.terms(text) == TEXT_ANALYZER.analysis.terms(text)
    assert len(small._cache) <= 3


def test_terms_give_the_kept_words_and_the_first_position() -> None:
    first, terms = TEXT_ANALYZER.analysis.terms("The effects of massaging backs")
    assert (first, terms) == (1, ["effect", "massag", "back"])
    assert [t.pos for t in WHOOSH_TEXT("The effects of massaging backs", positions=True)] == [
        1,
        2,
        3,
    ]
    assert TEXT_ANALYZER.analysis.terms("the of and") == (0, [])


def test_pattern_without_groups_matches_the_same_words() -> None:
    pattern = default_pattern.pattern
    assert "(?:" in analysis._without_groups(pattern)
    assert analysis._without_groups(r"[(]a(b)\(c") == r"[(]a(?:b)\(c"
    text = " ".join(TRICKY)
    assert TEXT_ANALYZER.analysis.words(text) == [
        m.group(0) for m in default_pattern.finditer(text)
    ]


def test_positions_and_frequency_values_are_whooshs_encodings() -> None:
    from whoosh.formats import Positions
    from whoosh.system import pack_uint

    for positions in ([0], [5], [3, 4, 9], list(range(0, 3000, 7)), [70000]):
        assert whoosh_codec.encode_positions(positions) == Positions().encode(positions)
    for freq in (1, 2, 63, 64, 1000):
        assert whoosh_codec.encode_frequency(freq) == pack_uint(freq)


def test_pairs_are_adjacent_common_stems() -> None:
    common = frozenset({"low", "back", "pain", "massag"})
    assert analysis.pairs(["low", "back", "pain", "in", "massag"], common) == [
        "low back",
        "back pain",
    ]
    assert analysis.pairs(["massag", "massag", "x", "massag"], common) == ["massag massag"]
    assert analysis.pairs([], common) == []
    # Stop words leave no gap: "back in pain" is analysed to back, pain (adjacent).
    assert analysis.pairs(TEXT_ANALYZER.analysis.terms("back in pain")[1], common) == ["back pain"]


def test_common_stems_rank_by_documents_then_alphabetically() -> None:
    docs = [["b", "a", "a"], ["a", "c"], ["c", "b"], ["d"]]
    assert analysis.common_stems(docs, size=2) == ["a", "b"]  # a:2, b:2, c:2 -> a, b
    assert analysis.common_stems(docs, size=10) == ["a", "b", "c", "d"]


def test_term_column_counts_common_stems_as_common_stems_does(session) -> None:
    docs = list(reference_docs(session))
    column = analysis.TermColumn(TEXT_ANALYZER.analysis)
    for docnum, doc in enumerate(docs):
        column.add(docnum + 3, doc["text"])
    want = analysis.common_stems(TEXT_ANALYZER.analysis.terms(d["text"])[1] for d in docs[:20])
    assert column.common(3, 23, analysis.COMMON_SIZE) == want
    few = analysis.common_stems((TEXT_ANALYZER.analysis.terms(d["text"])[1] for d in docs), 7)
    assert column.common(0, 10_000, 7) == few


def test_schema_pickles_its_analyzers_by_name() -> None:
    again = pickle.loads(pickle.dumps(SCHEMA))
    assert again["text"].analyzer is TEXT_ANALYZER
    assert again["spell"].analyzer is SPELL_ANALYZER
    assert len(pickle.dumps(TEXT_ANALYZER)) < 100
    state = pickle.loads(pickle.dumps(TEXT_ANALYZER.analysis))
    assert state.terms("Massaging the backs") == TEXT_ANALYZER.analysis.terms("Massaging the backs")


def test_analysis_does_not_import_whoosh() -> None:
    import ast
    from pathlib import Path

    tree = ast.parse(Path(analysis.__file__).read_text(encoding="utf-8"))
    modules = {
        name
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    assert not {m for m in modules if m.split(".")[0] == "whoosh"}
