"""What a therapist, writer or student types, and what must come back in the top three."""

from __future__ import annotations

import pytest

from kb import search


def _top(settings, session, q: str, n: int = 3) -> list[str]:
    result = search.search(settings, session, search.SearchParams(q=q, per_page=10))
    return [hit["key"] for hit in result.hits[:n]]


CASES = [
    pytest.param("sherman neck", ["sherman2009randomized"], True, id="author_and_topic_first"),
    pytest.param("tmj", ["tmj-tmd"], True, id="alias_tmj_condition_first"),
    pytest.param("TMD", ["tmj-tmd"], False, id="alias_tmd"),
    pytest.param("jaw pain", ["tmj-tmd"], False, id="alias_jaw_pain"),
    pytest.param("cochrane low back", ["furlan2015massage"], False, id="cochrane_low_back"),
    pytest.param(
        "author:moraska",
        ["moraska2015myofascial", "moraska2008comparison"],
        False,
        id="author_scope",
    ),
    pytest.param(
        "carpal tunnel", ["elliott2013massage", "madenci2011reliability"], False, id="carpal_tunnel"
    ),
    pytest.param("CTS", ["carpal-tunnel-syndrome"], False, id="alias_cts"),
    pytest.param("RSI", ["repetitive-strain-injury"], False, id="alias_rsi"),
    pytest.param(
        "tennis elbow", ["hassan2016effect", "loew2014deep"], False, id="alias_tennis_elbow"
    ),
    pytest.param("LBP", ["low-back-pain-sciatica"], False, id="alias_lbp"),
    pytest.param("sciatica", ["low-back-pain-sciatica"], False, id="sciatica"),
    pytest.param("frozen shoulder", ["frozen-shoulder-hip"], False, id="alias_frozen_shoulder"),
    pytest.param("adhesive capsulitis", ["khan2024deep"], False, id="adhesive_capsulitis"),
    pytest.param("MLD", ["manual-lymphatic-drainage"], False, id="alias_mld"),
    pytest.param("lymphatic drainage lymphedema", ["ezzo2015manual"], False, id="mld_lymphedema"),
    pytest.param("DOMS", ["guo2017massage"], False, id="alias_doms"),
    pytest.param("fibromyalgia", ["li2014massage"], False, id="fibromyalgia"),
    pytest.param("rolfing", ["structural-integration"], False, id="alias_rolfing"),
    pytest.param(
        "structural integration back pain",
        ["jacobson2015structural"],
        False,
        id="structural_integration",
    ),
    pytest.param("tuina", ["tuina"], False, id="tuina"),
    pytest.param(
        "massage blood pressure",
        ["supaat2013effects", "cambron2006changes"],
        False,
        id="blood_pressure",
    ),
    pytest.param("hypertension", ["blood-pressure"], False, id="alias_hypertension"),
    pytest.param(
        "insomnia postmenopausal", ["oliveira2011effect"], False, id="insomnia_postmenopausal"
    ),
    pytest.param("depression meta-analysis", ["hou2010treatment"], False, id="depression_meta"),
    pytest.param("scar massage burns", ["ault2018scar"], False, id="scar_burns"),
    pytest.param(
        "aromatherapy breast cancer", ["clemocrosby2018aromatherapy"], False, id="aromatherapy"
    ),
    pytest.param(
        "tension headache trigger point", ["moraska2015myofascial"], False, id="tension_headache"
    ),
    pytest.param("whiplash", ["whiplash"], False, id="whiplash"),
    pytest.param("neck pain guideline", ["bussieres2016treatment"], False, id="neck_guideline"),
    pytest.param("deep friction", ["khan2024deep"], False, id="deep_friction"),
    pytest.param("title:evidence map", ["miakelye2019massage"], False, id="title_scope"),
    pytest.param('"swedish massage" blood pressure', ["supaat2013effects"], False, id="phrase"),
    pytest.param("journal:cochrane neck", ["gross2024massage"], False, id="journal_scope"),
    pytest.param("neck year:2009", ["sherman2009randomized"], True, id="year_scope"),
    pytest.param("design:rct anxiety", ["sherman2010effectiveness"], True, id="design_scope"),
    pytest.param("Müller", [], False, id="accented_word_no_error"),
]


@pytest.mark.parametrize(("q", "expected", "first"), CASES)
def test_top_three(settings, session, q: str, expected: list[str], first: bool) -> None:
    top = _top(settings, session, q)
    for key in expected:
        assert key in top, f"{key} not in top 3 for {q!r}: {top}"
    if first:
        assert top[0] == expected[0]


def test_massage_anxiety_shows_the_null_result(settings, session) -> None:
    result = search.search(settings, session, search.SearchParams(q="massage anxiety"))
    top = result.hits[:3]
    assert "sherman2010effectiveness" in [h["key"] for h in top]
    assert any("no-difference" in h.get("findings", []) for h in top)


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("fibromialgia", "fibromyalgia"), ("sciatia", "sciatica"), ("carpel tunnel", "carpal tunnel")],
)
def test_typo_gets_a_suggestion_and_hits(settings, session, typo: str, suggestion: str) -> None:
    result = search.search(settings, session, search.SearchParams(q=typo))
    assert result.suggestion == suggestion
    assert result.total > 0
    assert result.notice


@pytest.mark.parametrize("limit", [1, 5, 10])
def test_top_hits_with_shortcuts_equal_full_scoring(settings, session, limit: int) -> None:
    # Block-quality skipping is exact here, yet missed true top hits at 100,000 references after
    # updates (docs/benchmarks.md), so ``ranked`` scores every match unless asked otherwise.
    from kb import index

    view = index.view(settings, session)
    for q, *_ in (case.values for case in CASES):
        parsed = view.parse(search._rewrite(q))
        fast = view.ranked(parsed, None, limit, optimize=True)
        full = view.ranked(parsed, None, limit)
        assert [round(s, 6) for _, s in fast] == [round(s, 6) for _, s in full], q
        # Equal scores may come in either order; the best documents must be the same.
        best = {d for d, s in full if round(s, 6) > round(full[-1][1], 6)} if full else set()
        assert best <= {d for d, _ in fast}, q
    for q in ("massage anxiety", "massage", "pain", "neck pain", "low back", '"neck pain"'):
        parsed = view.parse(q)
        assert view.ranked(parsed, None, limit, optimize=True)[0][1] == pytest.approx(
            view.ranked(parsed, None, limit)[0][1]
        ), q
