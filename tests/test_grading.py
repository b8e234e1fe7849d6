"""The evidence levels and the grade rule of ARCHITECTURE.md, case by case."""

from __future__ import annotations

import json

import pytest

from kb.grading import LEVELS, Row, grade, level_of


@pytest.mark.parametrize(
    ("design", "level"),
    [
        ("guideline", 1),
        ("cochrane-review", 1),
        ("systematic-review", 1),
        ("meta-analysis", 1),
        ("rct", 2),
        ("crossover", 2),
        ("pilot-rct", 3),
        ("cohort", 3),
        ("controlled-before-after", 3),
        ("case-series", 4),
        ("uncontrolled-before-after", 4),
        ("narrative-review", 5),
        ("web-article", 5),
        ("", 5),
        ("something-new", 5),
    ],
)
def test_level_follows_from_design(design: str, level: int) -> None:
    assert level_of(design) == level


def rows(*pairs: str) -> list[Row]:
    return [Row(*pair.split(":")) for pair in pairs]


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        pytest.param(
            rows("rct:supports", "meta-analysis:supports"),
            "consistent-support",
            id="two_strong_support",
        ),
        pytest.param(
            rows("rct:supports", "meta-analysis:supports", "case-series:no-difference"),
            "consistent-support",
            id="weak_null_does_not_spoil_support",
        ),
        pytest.param(
            rows("rct:supports", "rct:supports", "rct:no-difference"), "mixed", id="strong_disagree"
        ),
        pytest.param(rows("rct:supports", "crossover:harm"), "mixed", id="support_and_harm"),
        pytest.param(rows("systematic-review:mixed"), "mixed", id="one_strong_mixed"),
        pytest.param(rows("rct:supports"), "limited", id="single_strong_support"),
        pytest.param(
            rows("cohort:supports", "case-series:supports"), "limited", id="only_weak_support"
        ),
        pytest.param(
            rows("rct:no-difference", "cochrane-review:no-difference"),
            "no-benefit-shown",
            id="strong_null",
        ),
        pytest.param(
            rows("rct:no-difference", "cohort:supports"),
            "no-benefit-shown",
            id="strong_null_weak_support",
        ),
        pytest.param(
            rows("cochrane-review:insufficient"), "insufficient", id="review_says_insufficient"
        ),
        pytest.param(rows("cohort:no-difference"), "insufficient", id="weak_null_only"),
        pytest.param([], "insufficient", id="no_rows"),
    ],
)
def test_grade_rule(evidence: list[Row], expected: str) -> None:
    result = grade(evidence)
    assert result.grade == expected
    assert result.rows == len(evidence)
    assert result.reason


def test_every_shipped_design_has_a_level(shared_data) -> None:
    library = json.loads((shared_data / "library.json").read_text())
    designs = {item["kb"]["design"] for item in library}
    assert designs <= set(LEVELS), designs - set(LEVELS)
