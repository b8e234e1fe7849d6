"""The read side on the shipped library: grades follow from rows, null and harm-like results show."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from kb import evidence, grading


def _shipped_rows(shared_data: Path) -> dict[str, list[tuple[str, str]]]:
    """Return (design, finding) rows per condition, read straight from shared/data."""
    rows: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for record in json.loads((shared_data / "library.json").read_text(encoding="utf-8")):
        for row in record["kb"].get("evidence") or []:
            rows[row["condition"]].append((record["kb"]["design"], row["finding"]))
    return rows


def _grade_by_rule(rows: list[tuple[str, str]]) -> str:
    """Grade rows by ARCHITECTURE.md's table, written out again independently of kb.grading.

    One change to the table, argued in kb/grading.py: support is only "consistent" when the
    supporting level 1-2 rows outnumber the level 1-2 rows with mixed results.
    """
    strong = [f for d, f in rows if grading.LEVELS.get(d, 5) <= 2]
    weak = [f for d, f in rows if grading.LEVELS.get(d, 5) > 2]
    negative = sum(f in ("no-difference", "harm") for f in strong)
    support = strong.count("supports")
    if support >= 2 and not negative and support > strong.count("mixed"):
        return "consistent-support"
    if "mixed" in strong or (support and negative):
        return "mixed"
    if negative and not support:
        return "no-benefit-shown"
    if support == 1 or "supports" in weak:
        return "limited"
    return "insufficient"


def test_every_condition_grade_follows_from_its_rows(session, shared_data):
    shipped = _shipped_rows(shared_data)
    overview = evidence.conditions_overview(session)
    assert {c["slug"] for c in overview} >= set(shipped)
    for condition in overview:
        rows = shipped.get(condition["slug"], [])
        assert condition["grade"]["grade"] == _grade_by_rule(rows), condition["slug"]
        assert condition["grade"]["rows"] == len(rows)


def test_condition_page_carries_grade_rule_counts_and_ordered_rows(session, shared_data):
    page = evidence.condition_page(session, "low-back-pain-sciatica")
    assert page["grade"]["grade"] == _grade_by_rule(
        _shipped_rows(shared_data)["low-back-pain-sciatica"]
    )
    assert [r["grade"] for r in page["rule"]] == [g for g, _ in grading.RULE_TEXT]
    levels = [(r["level"], -(r["year"] or 0)) for r in page["rows"]]
    assert levels == sorted(levels)
    total = sum(d["total"] for d in page["counts"]["designs"])
    assert total == len(page["rows"]) == page["grade"]["rows"]
    row = page["rows"][0]
    for name in (
        "key",
        "title",
        "year",
        "design",
        "level",
        "size",
        "modalities",
        "finding",
        "outcome",
        "summary",
    ):
        assert name in row
    json.dumps(page)  # plain data, ready for the JSON twin


def test_condition_filters_narrow_rows_but_keep_the_condition_grade(session):
    full = evidence.condition_page(session, "tmj-tmd")
    trials = evidence.condition_page(session, "tmj-tmd", design=["rct"])
    assert trials["grade"] == full["grade"]
    assert trials["rows"] and all(r["design"] == "rct" for r in trials["rows"])
    assert trials["selection_grade"]["rows"] == len(trials["rows"])
    assert any(f["value"] == "rct" and f["selected"] for f in trials["facets"]["design"])


def test_cambron_raised_blood_pressure_is_visible(session):
    page = evidence.condition_page(session, "blood-pressure")
    (row,) = [r for r in page["rows"] if r["key"] == "cambron2006changes"]
    assert row["finding"] == "mixed"
    assert "raise" in row["summary"]
    assert {m["slug"] for m in row["modalities"]} >= {"trigger-point", "sports-massage"}


def test_stress_anxiety_null_result_is_visible(session):
    page = evidence.condition_page(session, "stress-anxiety-depression")
    nulls = [r for r in page["rows"] if r["finding"] == "no-difference"]
    assert [r["key"] for r in nulls] == ["sherman2010effectiveness"]
    assert nulls[0]["finding_label"] == "no difference"
    assert page["counts"]["totals"]["no-difference"] == 1


def test_modality_page_lists_conditions_with_rows(session):
    page = evidence.modality_page(session, "trigger-point")
    slugs = {c["slug"] for c in page["conditions"]}
    assert {"blood-pressure", "headache-migraine"} <= slugs
    for condition in page["conditions"]:
        assert all(
            any(m["slug"] == "trigger-point" for m in r["modalities"]) for r in condition["rows"]
        )


def test_reference_page_has_record_links_and_rows(session):
    page = evidence.reference_page(session, "sherman2009randomized")
    assert page["reference"]["title"].startswith("Randomized trial of therapeutic massage")
    assert page["links"]["doi"] == "https://doi.org/10.1097/AJP.0b013e31818b7912"
    assert page["links"]["pubmed"] == "https://pubmed.ncbi.nlm.nih.gov/19333174/"
    assert [r["condition"] for r in page["rows"]] == ["chronic-neck-pain"]


def test_evidence_map_cells_count_studies_and_balance_findings(session):
    grid = evidence.evidence_map(session)
    by_condition = {
        c["slug"]: {cell["modality"]: cell for cell in c["cells"]} for c in grid["conditions"]
    }
    cell = by_condition["blood-pressure"]["trigger-point"]
    assert cell["count"] >= 1 and "cambron2006changes" in cell["keys"]
    assert sum(cell["findings"].values()) >= 1
    assert cell["grade"]["label"] in grading.GRADE_LABELS.values()
    empty = [c for row in by_condition.values() for c in row.values() if not c["count"]]
    assert all(c["grade"] is None for c in empty)


@pytest.mark.parametrize(
    "load, name",
    [
        pytest.param(evidence.condition_page, "no-such-condition", id="condition"),
        pytest.param(evidence.modality_page, "no-such-modality", id="modality"),
        pytest.param(evidence.reference_page, "nobody2099nothing", id="reference"),
    ],
)
def test_unknown_names_raise_not_found(session, load, name):
    with pytest.raises(evidence.NotFound, match=name):
        load(session, name)
