"""Search parameters, facets that toggle, sorts, pages, year ranges and the syntax fallback."""

from __future__ import annotations

import pytest

from kb import search
from kb.search import BadSearch, SearchParams


def _run(settings, session, **args):
    return search.search(settings, session, SearchParams.from_args(args)).as_json()


def test_params_round_trip() -> None:
    args = {
        "q": "neck",
        "design": ["rct", "cohort"],
        "year_from": "2000",
        "sort": "newest",
        "page": "2",
    }
    params = SearchParams.from_args(args)
    assert params.design == ["rct", "cohort"] and params.year_from == 2000 and params.page == 2
    assert SearchParams.from_args(params.to_args()) == params


def test_comma_separated_values() -> None:
    assert SearchParams.from_args({"finding": "supports,mixed"}).finding == ["supports", "mixed"]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        pytest.param({"colour": "red"}, "colour", id="unknown_parameter"),
        pytest.param({"design": "anecdote"}, "design", id="unknown_design"),
        pytest.param({"finding": "great"}, "finding", id="unknown_finding"),
        pytest.param({"condition": "Neck Pain"}, "condition", id="condition_not_a_slug"),
        pytest.param({"year_from": "soon"}, "year_from", id="year_not_a_number"),
        pytest.param(
            {"year_from": "2015", "year_to": "2010"}, "year_from", id="year_range_backwards"
        ),
        pytest.param({"sort": "random"}, "sort", id="unknown_sort"),
        pytest.param({"page": "0"}, "page", id="page_zero"),
        pytest.param({"per_page": "1000"}, "per_page", id="per_page_too_big"),
        pytest.param({"q": ["a", "b"]}, "q", id="two_queries"),
    ],
)
def test_bad_parameters(args, names: str) -> None:
    with pytest.raises(BadSearch) as error:
        SearchParams.from_args(args)
    assert str(error.value).startswith(names)


def test_json_contract(settings, session) -> None:
    data = _run(settings, session, q="neck")
    assert {
        "query",
        "total",
        "suggestion",
        "hits",
        "facets",
        "page",
        "pages",
        "sort",
        "notice",
    } <= set(data)
    assert {"design", "finding", "condition", "modality", "decade"} <= set(data["facets"])
    hit = data["hits"][0]
    assert {"kind", "key", "title", "year", "score", "snippet", "marks"} <= set(hit)
    assert any(h["marks"] for h in data["hits"])


def test_snippets_are_plain_text_with_spans_of_the_matched_words(settings, session) -> None:
    hits = _run(settings, session, q="massage", per_page="100")["hits"]
    for hit in hits:
        assert "<mark>" not in hit["snippet"] and "&amp;" not in hit["snippet"]
        for start, end in hit["marks"]:
            assert hit["snippet"][start:end].lower().startswith("massag")
    assert sum(len(h["marks"]) for h in hits) > len(hits)


def test_facet_counts_match_filtered_totals(settings, session) -> None:
    data = _run(settings, session, q="massage")
    for entry in data["facets"]["design"]:
        filtered = search.search(settings, session, SearchParams.from_args(entry["toggle"]))
        assert filtered.total == entry["count"], entry["value"]


def test_facet_toggle_on_and_off(settings, session) -> None:
    data = _run(settings, session, q="neck", design="rct")
    rct = next(e for e in data["facets"]["design"] if e["value"] == "rct")
    assert rct["selected"] and "design" not in rct["toggle"]
    assert all(h["design"] == "rct" for h in data["hits"])
    other = next(e for e in data["facets"]["design"] if e["value"] != "rct")
    assert set(other["toggle"]["design"]) == {"rct", other["value"]}


def test_condition_and_finding_filters(settings, session) -> None:
    data = _run(settings, session, condition="stress-anxiety-depression", finding="no-difference")
    assert [h["key"] for h in data["hits"]] == ["sherman2010effectiveness"]


def test_decade_facet_sets_a_year_range(settings, session) -> None:
    data = _run(settings, session, q="massage")
    decade = next(e for e in data["facets"]["decade"] if e["value"] == "2010")
    assert decade["toggle"]["year_from"] == 2010 and decade["toggle"]["year_to"] == 2019
    inside = search.search(settings, session, SearchParams.from_args(decade["toggle"]))
    assert inside.total == decade["count"]
    assert all(2010 <= h["year"] <= 2019 for h in inside.hits)


@pytest.mark.parametrize(
    ("q", "low", "high"),
    [
        ("year:2009", 2009, 2009),
        ("year:2005-2015", 2005, 2015),
        ("year:2020-", 2020, 3000),
        ("year:-2004", 0, 2004),
    ],
)
def test_year_ranges_in_the_query(settings, session, q: str, low: int, high: int) -> None:
    data = _run(settings, session, q=q, per_page="100")
    assert data["total"] > 0
    assert all(low <= h["year"] <= high for h in data["hits"])


def test_sorts(settings, session) -> None:
    newest = [
        h["year"]
        for h in _run(settings, session, q="massage", sort="newest", per_page="100")["hits"]
        if h["kind"] == "reference"
    ]
    dated = [y for y in newest if y is not None]
    assert dated == sorted(dated, reverse=True) and newest[: len(dated)] == dated  # undated last
    oldest = [
        h["year"]
        for h in _run(settings, session, q="massage", sort="oldest", per_page="100")["hits"]
        if h["kind"] == "reference"
    ]
    dated = [y for y in oldest if y is not None]
    assert dated == sorted(dated) and oldest[: len(dated)] == dated
    levels = [
        h["level"]
        for h in _run(settings, session, q="massage", sort="level", per_page="100")["hits"]
        if h["kind"] == "reference"
    ]
    assert levels == sorted(levels)


def test_pagination(settings, session) -> None:
    first = _run(settings, session, q="massage", per_page="5")
    second = _run(settings, session, q="massage", per_page="5", page="2")
    assert first["pages"] == -(-first["total"] // 5)
    assert len(first["hits"]) == 5
    assert not {h["key"] for h in first["hits"]} & {h["key"] for h in second["hits"]}


@pytest.mark.parametrize(
    "q", ['"neck pain', "(neck OR", "year:abc neck", "neck AND", "title:", "***"]
)
def test_syntax_errors_never_raise(settings, session, q: str) -> None:
    data = _run(settings, session, q=q)
    assert isinstance(data["total"], int)


def test_fallback_sets_a_notice(settings, session) -> None:
    data = _run(settings, session, q="year:abc neck")
    assert data["notice"] and data["total"] > 0


def test_operators_and_wildcards(settings, session) -> None:
    both = _run(settings, session, q="neck AND whiplash", per_page="100")["total"]
    either = _run(settings, session, q="neck OR whiplash", per_page="100")["total"]
    without = _run(settings, session, q="neck NOT whiplash", per_page="100")["total"]
    assert both < either and without < either
    assert _run(settings, session, q="fibro*")["total"] > 0


def test_candidates_for_a_pasted_reference(settings, session) -> None:
    text = "Sherman KJ, Cherkin DC. Randomized trial of therapeutic massage for chronic neck pain. Clin J Pain. 2009"
    assert search.candidates(settings, session, text, limit=3)[0] == "sherman2009randomized"


@pytest.mark.parametrize("q", ["fibromy*", "anxiety*", "massage*", "lymph*"])
def test_wildcards_match_words_the_index_stems(settings, session, q: str) -> None:
    assert _run(settings, session, q=q)["total"] > 0


def _store_facets(session) -> dict[str, dict[str, set[str]]]:
    """Return every reference's facet values, read from the store without the index."""
    from sqlmodel import select

    from kb.models import Reference

    out = {}
    for ref in session.exec(select(Reference)).all():
        rows = ref.evidence
        out[ref.key] = {
            "design": {ref.design} if ref.design else set(),
            "finding": {e.finding for e in rows},
            "condition": {e.condition.slug for e in rows},
            "modality": {m.slug for e in rows for m in e.modalities},
            "decade": {str(ref.year // 10 * 10)} if ref.year is not None else set(),
        }
    return out


@pytest.mark.parametrize(
    "args",
    [
        pytest.param({"q": "massage"}, id="broad"),
        pytest.param({"q": "pain", "design": "rct"}, id="with_design"),
        pytest.param(
            {"q": "massage", "finding": "supports", "condition": "chronic-neck-pain"},
            id="two_filters",
        ),
        pytest.param({"q": "anxiety OR depression", "year_from": "2010"}, id="years"),
        pytest.param({"design": "systematic-review,rct", "modality": "swedish"}, id="no_words"),
    ],
)
def test_facet_counts_equal_a_count_from_the_store(settings, session, args) -> None:
    values = _store_facets(session)
    unfiltered = {"q": args["q"]} if "q" in args else {}
    matched: set[str] = set()
    vocabulary = 0
    page = 1
    while True:  # every hit, a page of 100 at a time (the library holds more than 100)
        everything = _run(settings, session, **unfiltered, per_page="100", page=str(page))
        matched |= {h["key"] for h in everything["hits"] if h["kind"] == "reference"}
        vocabulary += sum(h["kind"] != "reference" for h in everything["hits"])
        if page * 100 >= everything["total"]:
            break
        page += 1
    if not unfiltered:
        matched = set(values)
    params = SearchParams.from_args(args)
    low = params.year_from if params.year_from is not None else -10_000
    high = params.year_to if params.year_to is not None else 10_000

    def passes(key: str, facet: str) -> bool:
        v = values[key]
        checks = {
            name: not set(getattr(params, name)) or bool(v[name] & set(getattr(params, name)))
            for name in ("design", "finding", "condition", "modality")
        }
        year = search_year(session, key)
        checks["decade"] = (params.year_from is None and params.year_to is None) or (
            year is not None and low <= year <= high
        )
        return all(ok for name, ok in checks.items() if name != facet)

    data = _run(settings, session, **args)
    for facet, entries in data["facets"].items():
        expected: dict[str, int] = {}
        for key in matched:
            if passes(key, facet):
                for value in values[key][facet]:
                    expected[value] = expected.get(value, 0) + 1
        got = {e["value"]: e["count"] for e in entries if e["count"]}
        assert got == expected, facet
    # Conditions and modalities are hits too, until a filter narrows the search to studies.
    shown = 0 if params.filtered or not unfiltered else vocabulary
    assert data["total"] == sum(1 for key in matched if passes(key, "")) + shown


def search_year(session, key: str) -> int | None:
    from sqlmodel import select

    from kb.models import Reference

    return session.exec(select(Reference.year).where(Reference.key == key)).one()


def test_an_empty_library_searches_to_nothing_without_error(tmp_path) -> None:
    from kb import config, db
    from kb.search import SearchParams, rebuild, search

    empty = config.settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    db.create_schema(empty)
    with db.session_scope(empty) as opened:
        rebuild(empty, opened)
        for params in (SearchParams(q="massage"), SearchParams(), SearchParams(q='"low back"')):
            result = search(empty, opened, params)
            assert (result.total, result.hits) == (0, [])


# --- bounded work per query ---------------------------------------------------------------


def _leaves(q):
    if q.is_leaf():
        return [q]
    return [leaf for child in q.children() for leaf in _leaves(child)]


def _parsed(settings, session, typed: str):
    from kb.search.query import prepare

    return search.view(settings, session).parse(prepare(typed).text)


def test_a_fuzzy_term_is_held_to_two_edits(settings, session) -> None:
    result = _run(settings, session, q="aaaaaaaaa~9")
    assert "at most 2 edits" in result["notice"]
    fuzzy = [q for q in _leaves(_parsed(settings, session, "aaaaaaaaa~9")) if hasattr(q, "maxdist")]
    assert fuzzy and all(q.maxdist == 2 and q.prefixlength >= 1 for q in fuzzy)


def test_fifty_fuzzy_terms_are_cut_to_a_few(settings, session) -> None:
    typed = " ".join(f"word{n}~2" for n in range(50))
    result = _run(settings, session, q=typed)
    assert "first 32 of the query's 50 words" in result["notice"]
    assert "At most 3 fuzzy" in result["notice"]
    leaves = _leaves(_parsed(settings, session, typed))
    assert len({q.text for q in leaves if hasattr(q, "maxdist")}) <= 3


def test_a_leading_wildcard_is_refused_with_a_reason(settings, session) -> None:
    result = _run(settings, session, q="*a*")
    assert "needs at least 3 letters before it" in result["notice"]
    leaves = _leaves(_parsed(settings, session, "*a*"))
    assert not any("*" in str(q) for q in leaves)


def test_hundreds_of_unknown_words_are_cut_and_not_corrected(settings, session) -> None:
    typed = " ".join(f"zqx{n}blorf" for n in range(400))
    result = _run(settings, session, q=typed)
    assert "the limit is 500" in result["notice"] and "first 32" in result["notice"]
    assert result["suggestion"] is None and result["total"] == 0
    assert len({q.text for q in _leaves(_parsed(settings, session, typed))}) <= 32


def test_a_long_word_is_never_fuzzed_nor_corrected(settings, session) -> None:
    word = "ab" * 40
    result = _run(settings, session, q=f"{word}~2")
    assert "at most 30 letters" in result["notice"]
    assert _run(settings, session, q=word + "x")["suggestion"] is None


def test_a_wildcard_stands_for_a_bounded_number_of_words(settings, session, monkeypatch) -> None:
    from kb.search import engine

    # Every reference the unbounded wildcard finds (the library holds more than one page of them).
    full = set(search.keys(settings, session, SearchParams.from_args({"q": "mas*"})))
    assert "at most" not in (_run(settings, session, q="mas*")["notice"] or "")
    monkeypatch.setattr(engine, "MAX_EXPANSIONS", 1)
    result = _run(settings, session, q="mas*", per_page="100")
    assert "stands for more than 1 words: searched the first 1" in result["notice"]
    assert {h["key"] for h in result["hits"] if h["kind"] == "reference"} <= full


@pytest.mark.parametrize(
    "q", ["tmj massage", "anxiety", "low back pain", "whiplash", "neck", "zebra"]
)
def test_the_condition_card_of_a_search_is_that_conditions_overview(settings, session, q) -> None:
    """The card reads only the named condition's rows; it must equal the full overview's item."""
    from kb import evidence

    named = evidence.condition_named(session, q)
    overview = {c["slug"]: c for c in evidence.conditions_overview(session)}
    if q in ("neck", "zebra"):  # no condition is named "neck" alone
        assert named is None
    else:
        assert named is not None and named == overview[named["slug"]]
