"""The evidence levels and the grade rule v2 of ARCHITECTURE.md, line by line."""

from __future__ import annotations

import json

import pytest

from kb.grading import GRADE_LABELS, LEVELS, RULE_TEXT, Row, grade, level_of


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
        ("scoping-review", 5),
        ("web-article", 5),
        ("", 5),
        ("something-new", 5),
    ],
)
def test_level_follows_from_design(design: str, level: int) -> None:
    assert level_of(design) == level


def rows(*specs: str) -> list[Row]:
    """Build rows from "design:finding[:comparator]" (a direct, current row; sham by default)."""
    built = []
    for number, spec in enumerate(specs):
        design, finding, *rest = spec.split(":")
        built.append(Row(design, finding, key=f"s{number}", comparator=rest[0] if rest else "sham"))
    return built


# (rows, grade, the line of the rule that gives it)
LINES = [
    # 1. consistent support: F >= 2, A = 0, F > M + I
    pytest.param(rows("rct:supports", "meta-analysis:supports"), "consistent-support", 1, id="1"),
    pytest.param(
        rows("rct:supports", "rct:supports", "rct:supports", "rct:mixed", "rct:insufficient"),
        "consistent-support",
        1,
        id="1_outnumbers_mixed_and_insufficient",
    ),
    pytest.param(
        rows("rct:supports", "rct:supports", "uncontrolled-before-after:harm"),
        "consistent-support",
        1,
        id="1_weak_harm_does_not_move_it",
    ),
    # 2. no benefit shown: A >= 2, F = 0, A > M + I
    pytest.param(rows("rct:no-difference", "cochrane-review:harm"), "no-benefit-shown", 2, id="2"),
    pytest.param(
        rows("rct:no-difference", "rct:no-difference", "cohort:supports"),
        "no-benefit-shown",
        2,
        id="2_weak_support_does_not_move_it",
    ),
    # 3. mixed: F >= 1 and A >= 1
    pytest.param(rows("rct:supports", "rct:supports", "rct:no-difference"), "mixed", 3, id="3"),
    pytest.param(rows("rct:supports", "crossover:harm"), "mixed", 3, id="3_support_and_harm"),
    # 4. limited support: F >= 1, A = 0, M = 0
    pytest.param(rows("rct:supports"), "limited-support", 4, id="4_single"),
    pytest.param(
        rows("rct:supports", "rct:supports", "rct:insufficient", "rct:insufficient"),
        "limited-support",
        4,
        id="4_support_not_outnumbering_insufficient",
    ),
    # 5. limited: no benefit found: A >= 1, F = 0, M = 0
    pytest.param(rows("rct:no-difference"), "limited-no-benefit", 5, id="5_single"),
    pytest.param(
        rows(
            "rct:no-difference",
            "rct:no-difference",
            "systematic-review:insufficient",
            "rct:insufficient",
        ),
        "limited-no-benefit",
        5,
        id="5_null_not_outnumbering_insufficient",
    ),
    # 6. mixed: M >= 1
    pytest.param(rows("systematic-review:mixed"), "mixed", 6, id="6_one_mixed"),
    pytest.param(rows("rct:supports", "rct:mixed"), "mixed", 6, id="6_support_and_mixed"),
    pytest.param(
        rows("rct:supports", "rct:supports", "rct:mixed", "rct:mixed"), "mixed", 6, id="6_tie"
    ),
    pytest.param(rows("rct:no-difference", "rct:mixed"), "mixed", 6, id="6_null_and_mixed"),
    # 7. limited support: no level 1-2 counting row; a direct level 3-4 row supports
    pytest.param(
        rows("pilot-rct:supports", "uncontrolled-before-after:mixed:none"),
        "limited-support",
        7,
        id="7_level3",
    ),
    pytest.param(
        rows("uncontrolled-before-after:supports:none"), "limited-support", 7, id="7_before_after"
    ),
    # 8. insufficient: anything else
    pytest.param(
        rows("cochrane-review:insufficient"), "insufficient", 8, id="8_review_insufficient"
    ),
    pytest.param(rows("cohort:no-difference"), "insufficient", 8, id="8_weak_null_only"),
    pytest.param(rows("narrative-review:supports"), "insufficient", 8, id="8_level5_support"),
    pytest.param(
        rows("rct:insufficient", "pilot-rct:supports"),
        "insufficient",
        8,
        id="8_weak_support_beside_a_strong_row",
    ),
    pytest.param([], "insufficient", 8, id="8_no_rows"),
]


@pytest.mark.parametrize(("evidence", "expected", "line"), LINES)
def test_each_line_of_the_rule(evidence: list[Row], expected: str, line: int) -> None:
    result = grade(evidence)
    assert (result.grade, result.line) == (expected, line)
    assert RULE_TEXT[line - 1][0] == GRADE_LABELS[expected]
    assert result.rows == len(evidence)
    assert result.reason


def test_the_rule_text_has_the_eight_lines_in_order() -> None:
    assert [label for label, _ in RULE_TEXT] == [
        "consistent support",
        "no benefit shown",
        "mixed",
        "limited support",
        "limited: no benefit found",
        "mixed",
        "limited support",
        "insufficient",
    ]


SUPPORT = [Row("rct", "supports", key="a"), Row("meta-analysis", "supports", key="b")]


@pytest.mark.parametrize(
    ("extra", "group", "reason"),
    [
        pytest.param(
            Row("rct", "no-difference", key="x", direct=False, indirect_because="healthy adults"),
            "indirect",
            "indirect: healthy adults",
            id="indirect",
        ),
        pytest.param(
            Row("rct", "no-difference", key="x", superseded_by="new2015"),
            "superseded",
            "superseded by new2015",
            id="superseded",
        ),
        pytest.param(
            Row("rct", "no-difference", key="x", comparator="active"),
            "active",
            "compared with another treatment",
            id="active",
        ),
        pytest.param(
            Row("rct", "no-difference", key="x", comparator="other-massage"),
            "other-massage",
            "compared two techniques",
            id="other_massage",
        ),
    ],
)
def test_rows_that_do_not_count_are_listed_with_their_reason(
    extra: Row, group: str, reason: str
) -> None:
    result = grade([*SUPPORT, extra])
    assert result.grade == "consistent-support"  # the null row would have made it mixed
    assert [w["key"] for w in result.counting] == ["a", "b"]
    assert result.not_counting == [
        {"key": "x", "level": 2, "finding": "no-difference", "group": group, "reason": reason}
    ]


@pytest.mark.parametrize(
    "comparator", ["no-treatment", "waitlist", "usual-care", "sham", "attention", "various", "none"]
)
def test_comparisons_with_no_massage_count(comparator: str) -> None:
    result = grade([*SUPPORT, Row("rct", "no-difference", key="x", comparator=comparator)])
    assert result.grade == "mixed"
    assert "x" in [w["key"] for w in result.counting]


def test_a_very_low_certainty_review_counts_as_level_3() -> None:
    review = Row("cochrane-review", "supports", key="r", certainty="very-low")
    assert review.level == 3
    result = grade([review, Row("rct", "supports", key="t")])
    assert result.grade == "limited-support" and result.line == 4  # not consistent support
    assert "very low certainty" in result.counting[0]["reason"]
    alone = grade([review])
    assert (alone.grade, alone.line) == ("limited-support", 7)  # a level 3 row supports


def test_harm_in_a_counting_row_is_a_warning_whatever_the_grade() -> None:
    harm = Row("uncontrolled-before-after", "harm", key="cambron", comparator="none")
    result = grade([*SUPPORT, harm])
    assert result.grade == "consistent-support"
    assert result.harm == ["cambron"]
    indirect = Row("rct", "harm", key="y", direct=False, indirect_because="healthy adults")
    assert grade([*SUPPORT, indirect]).harm == []


def test_every_shipped_design_has_a_level(shared_data) -> None:
    library = json.loads((shared_data / "library.json").read_text())
    designs = {item["kb"]["design"] for item in library}
    assert designs <= set(LEVELS), designs - set(LEVELS)
