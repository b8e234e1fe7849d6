"""The read side on the shipped library: grades follow from rows, and pages show the workings."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from kb import evidence, grading

# Read by hand from tests/fixtures/shared-data/library.json (direct, current rows that compare
# massage with no massage; F/A/M/I among those of level 1-2), December 2026.
HAND_CHECKED = {
    "blood-pressure": "mixed",  # Moyer 2004, Liao 2016 support; Supaat 2013 no difference
    "cancer-symptoms": "mixed",
    "carpal-tunnel-syndrome": "limited-support",
    "cerebral-palsy": "limited-no-benefit",
    "chronic-neck-pain": "mixed",
    "fibromyalgia": "mixed",
    "frozen-shoulder-hip": "limited-support",  # Khan 2024 alone; Yang 2012 is indirect
    "musculoskeletal-pain-general": "mixed",
    "headache-migraine": "mixed",
    "insomnia": "consistent-support",
    "knee-hip-osteoarthritis": "mixed",
    "low-back-pain-sciatica": "mixed",  # 1 supports, 1 no difference, 7 mixed
    "lymphedema": "no-benefit-shown",
    "post-surgical-scar-tissue": "insufficient",  # Shin 2012 insufficient; burn scars indirect
    "pregnancy-prenatal": "limited-support",
    "repetitive-strain-injury": "mixed",
    "shoulder-pain": "mixed",
    "sports-recovery-doms": "mixed",
    "stress-anxiety-depression": "consistent-support",
    "post-operative-swelling": "no-benefit-shown",
    "tmj-tmd": "mixed",  # Kalamir 2012 supports, Gomes 2015 mixed; Herrera-Valencia indirect
    "whiplash": "insufficient",
}

LEVEL = {
    **dict.fromkeys(["guideline", "cochrane-review", "systematic-review", "meta-analysis"], 1),
    **dict.fromkeys(["rct", "crossover"], 2),
    **dict.fromkeys(["pilot-rct", "cohort", "controlled-before-after"], 3),
    **dict.fromkeys(["case-series", "uncontrolled-before-after"], 4),
}
COUNTING = {"no-treatment", "waitlist", "usual-care", "sham", "attention", "various", "none"}


def _independent_grades(shared_data: Path, modality: str | None = None) -> dict[str, str]:
    """Grade every condition (or cell) straight from shared/data, without kb.grading."""
    library = json.loads((shared_data / "library.json").read_text(encoding="utf-8"))
    old = {key for item in library for key in item["kb"].get("supersedes", [])}
    rows: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for item in library:
        for row in item["kb"]["evidence"]:
            found = {r["modality"]: r["finding"] for r in row["results"]}
            if modality is not None:
                if modality not in found:
                    continue
                finding = found[modality]
            else:
                finding = row["finding"]
            counts = row["direct"] and item["id"] not in old and row["comparator"] in COUNTING
            if not counts:
                rows[row["condition"]].append((0, finding))  # listed, never counted
                continue
            level = LEVEL.get(item["kb"]["design"], 5)
            if row.get("certainty") == "very-low":
                level = max(level, 3)
            rows[row["condition"]].append((level, finding))
    grades = {}
    for condition, found in rows.items():
        strong = [f for lv, f in found if lv in (1, 2)]
        f = strong.count("supports")
        a = strong.count("no-difference") + strong.count("harm")
        m = strong.count("mixed")
        i = strong.count("insufficient")
        if f >= 2 and a == 0 and f > m + i:
            grades[condition] = "consistent-support"
        elif a >= 2 and f == 0 and a > m + i:
            grades[condition] = "no-benefit-shown"
        elif f and a:
            grades[condition] = "mixed"
        elif f and not a and not m:
            grades[condition] = "limited-support"
        elif a and not f and not m:
            grades[condition] = "limited-no-benefit"
        elif m:
            grades[condition] = "mixed"
        elif not strong and any(lv in (3, 4) and fd == "supports" for lv, fd in found):
            grades[condition] = "limited-support"
        else:
            grades[condition] = "insufficient"
    return grades


def test_every_condition_grade_equals_the_hand_checked_table(session) -> None:
    overview = evidence.conditions_overview(session)
    assert {c["slug"]: c["grade"]["grade"] for c in overview} == HAND_CHECKED


def test_every_condition_grade_equals_an_independent_implementation(session, shared_data) -> None:
    independent = _independent_grades(shared_data)
    assert independent == HAND_CHECKED
    for condition in evidence.conditions_overview(session):
        assert condition["grade"]["grade"] == independent[condition["slug"]], condition["slug"]


def test_every_cell_grade_equals_an_independent_implementation(session, shared_data) -> None:
    grid = evidence.evidence_map(session)
    checked = 0
    for modality in grid["modalities"]:
        independent = _independent_grades(shared_data, modality["slug"])
        for condition in grid["conditions"]:
            (cell,) = [c for c in condition["cells"] if c["modality"] == modality["slug"]]
            expected = independent.get(condition["slug"])
            assert (cell["grade"] or {}).get("grade") == expected, (condition["slug"], cell)
            checked += expected is not None
    assert checked > 40


def _why(page: dict, group: str) -> dict[str, str]:
    (found,) = [g for g in page["groups"] if g["group"] == group] or [{"rows": []}]
    return {r["key"]: r["reason"] for r in found["rows"]}


def test_scar_page_rests_on_the_surgical_scar_review_not_on_burn_scars(session) -> None:
    page = evidence.condition_page(session, "post-surgical-scar-tissue")
    assert page["grade"]["grade"] == "insufficient"
    assert set(_why(page, "counts")) == {"shin2012role", "scott2022massage", "gilbert2022exploring"}
    indirect = _why(page, "indirect")
    assert indirect["ault2018scar"] == "indirect: burn scars, not post-surgical scars"
    assert (
        indirect["boyd2016impact"] == "indirect: post-operative pain and anxiety, not scar tissue"
    )
    assert set(indirect) == {
        "ault2018scar",
        "boyd2016impact",
        "valladarespoveda2020comparison",
        "deflorin2020physical",
        "santuzzi2024massage",
        "lubczynska2023effectiveness",
    }
    assert _why(page, "other-massage") == {"wasserman2018soft": "compared two techniques"}
    assert page["grade"]["tally"] == {"F": 0, "A": 0, "M": 0, "I": 1}


def test_blood_pressure_page_shows_the_null_trial_and_cambron_harm(session) -> None:
    page = evidence.condition_page(session, "blood-pressure")
    assert page["grade"]["grade"] == "mixed"
    assert page["grade"]["tally"] == {"F": 2, "A": 1, "M": 0, "I": 0}
    counting = _why(page, "counts")
    assert set(counting) == {
        "moyer2004meta",
        "liao2016effects",
        "supaat2013effects",
        "cambron2006changes",
    }
    assert counting["cambron2006changes"].startswith("counts as level 4")
    assert _why(page, "indirect") == {
        "kaye2008effect": "indirect: participants were recruited for muscle spasm, not for "
        "raised blood pressure"
    }
    (cambron,) = [r for r in page["rows"] if r["key"] == "cambron2006changes"]
    assert cambron["comparator"] == "none" and cambron["design"] == "uncontrolled-before-after"
    assert {r["modality"]: r["finding"] for r in cambron["results"]} == {
        "swedish": "supports",
        "trigger-point": "harm",
        "sports-massage": "harm",
    }
    (warning,) = page["harm"]
    assert warning["key"] == "cambron2006changes"
    assert warning["techniques"] == ["Trigger point therapy", "Sports massage"]


def test_low_back_pain_page_marks_furlan_2002_superseded(session) -> None:
    page = evidence.condition_page(session, "low-back-pain-sciatica")
    assert page["grade"]["grade"] == "mixed"
    assert page["grade"]["tally"] == {"F": 1, "A": 1, "M": 7, "I": 0}
    assert _why(page, "superseded") == {"furlan2002massage": "superseded by furlan2015massage"}
    # Romanowski 2017 also compared two techniques; the first reason that applies is shown.
    assert set(_why(page, "indirect")) == {"zhao2026efficacy", "romanowski2017comparison"}
    counting = _why(page, "counts")
    assert "furlan2015massage" in counting and "furlan2002massage" not in counting
    assert counting["jacobson2015structural"].startswith("counts as level 3")
    (old,) = [r for r in page["rows"] if r["key"] == "furlan2002massage"]
    assert old["superseded_by"] == "furlan2015massage"


def test_frozen_shoulder_and_tmj_do_not_rest_on_indirect_rows(session) -> None:
    shoulder = evidence.condition_page(session, "frozen-shoulder-hip")
    assert set(_why(shoulder, "indirect")) == {"yang2012effects", "ikutomo2025effects"}
    assert shoulder["grade"]["grade"] == "limited-support"
    tmj = evidence.condition_page(session, "tmj-tmd")
    assert "herreravalencia2020efficacy" in _why(tmj, "indirect")
    assert _why(tmj, "active") == {"kalamir2013intraoral": "compared with another treatment"}
    for slug in HAND_CHECKED:
        page = evidence.condition_page(session, slug)
        counted = set(_why(page, "counts"))
        assert not counted & set(_why(page, "indirect")), slug
        assert page["grade"]["groups"].get("counts", 0) == sum(
            1 for r in page["rows"] if r["counts"]
        ), slug


def test_condition_rows_carry_the_new_facts_and_a_reader_note(session) -> None:
    page = evidence.condition_page(session, "chronic-neck-pain")
    (row,) = [r for r in page["rows"] if r["key"] == "sherman2009randomized"]
    assert row["population"] == "64 adults with chronic neck pain"
    assert row["comparator"] == "usual-care" and row["direct"] is True
    assert row["results"][0]["modality"] == "therapeutic-massage"
    assert row["outcome"].startswith("clinically meaningful improvement")
    assert row["note"] == ""  # Sherman 2009 carries no reader note
    for group in page["groups"]:  # within each group: strongest design, then newest, first
        levels = [(r["level"], -(r["year"] or 0)) for r in group["rows"]]
        assert levels == sorted(levels)
    order = [grading.GROUP_ORDER.index(r["group"]) for r in page["rows"]]
    assert order == sorted(order)
    assert sum(len(g["rows"]) for g in page["groups"]) == len(page["rows"]) == page["total_rows"]
    json.dumps(page)  # plain data, ready for the JSON twin


def test_condition_filters_narrow_rows_but_keep_the_condition_grade(session) -> None:
    full = evidence.condition_page(session, "tmj-tmd")
    trials = evidence.condition_page(session, "tmj-tmd", design=["rct"])
    assert trials["grade"] == full["grade"]
    assert trials["rows"] and all(r["design"] == "rct" for r in trials["rows"])
    assert trials["selection_grade"]["rows"] == len(trials["rows"])
    assert any(f["value"] == "rct" and f["selected"] for f in trials["facets"]["design"])


def test_cambron_trigger_point_cell_is_harm_and_swedish_helped(session) -> None:
    cell = evidence.cell_page(session, "blood-pressure", "trigger-point")
    (row,) = cell["rows"]
    assert (row["key"], row["result"]) == ("cambron2006changes", "harm")
    assert cell["grade"]["harm"] == ["cambron2006changes"]
    assert cell["harm"][0]["techniques"] == ["Trigger point therapy"]
    swedish = evidence.cell_page(session, "blood-pressure", "swedish")
    results = {r["key"]: r["result"] for r in swedish["rows"]}
    assert results == {"cambron2006changes": "supports", "supaat2013effects": "no-difference"}
    assert swedish["grade"]["grade"] == "limited-no-benefit"  # Supaat's trial; Cambron is level 4
    grid = evidence.evidence_map(session)
    (bp,) = [c for c in grid["conditions"] if c["slug"] == "blood-pressure"]
    cells = {c["modality"]: c for c in bp["cells"]}
    assert cells["trigger-point"]["harm"] and cells["trigger-point"]["findings"] == {"harm": 1}
    assert not cells["swedish"]["harm"]


def test_modality_page_shows_each_cell_grade_and_result(session) -> None:
    page = evidence.modality_page(session, "trigger-point")
    by_slug = {c["slug"]: c for c in page["conditions"]}
    assert {"blood-pressure", "headache-migraine"} <= set(by_slug)
    bp = by_slug["blood-pressure"]
    assert bp["grade"]["harm"] == ["cambron2006changes"]
    assert [(r["key"], r["result"]) for r in bp["rows"]] == [("cambron2006changes", "harm")]
    for condition in page["conditions"]:
        assert all(r["result"] for r in condition["rows"])


@pytest.mark.parametrize("shown", [2, evidence.TECHNIQUE_PAGE_ROWS])
def test_technique_page_cells_are_the_first_rows_of_each_cell_page(
    session, monkeypatch, shown
) -> None:
    # The technique page loads every cell's first rows in one windowed query; each must be the
    # cell page's own first slice, with the same group totals, paging and harm warnings.
    monkeypatch.setattr(evidence, "TECHNIQUE_PAGE_ROWS", shown)
    cut = 0
    for technique in ("trigger-point", "swedish", "therapeutic-massage"):
        page = evidence.modality_page(session, technique)
        assert page["conditions"]
        for shown_cell in page["conditions"]:
            cell = evidence.cell_page(session, shown_cell["slug"], technique, per_page=shown)
            for name in ("rows", "groups", "keys", "paging", "harm", "grade", "shown_rows"):
                assert shown_cell[name] == cell[name], (technique, shown_cell["slug"], name)
            cut += cell["paging"]["pages"] > 1
    assert cut or shown > 2  # with two rows a cell, some cells are cut short


def test_reference_page_has_record_links_rows_and_provenance(session) -> None:
    page = evidence.reference_page(session, "sherman2009randomized")
    assert page["reference"]["title"].startswith("Randomized trial of therapeutic massage")
    assert page["links"]["doi"] == "https://doi.org/10.1097/AJP.0b013e31818b7912"
    assert [r["condition"] for r in page["rows"]] == ["chronic-neck-pain"]
    assert page["provenance"]["not_confirmed"] == [
        "We could not confirm a PubMed ID for this paper."
    ]
    assert page["provenance"]["gaps"][0].startswith("PMID 19333174 not confirmed")
    old = evidence.reference_page(session, "furlan2002massage")
    assert old["reference"]["superseded_by"] == "furlan2015massage"
    new = evidence.reference_page(session, "furlan2015massage")
    assert new["reference"]["supersedes"] == ["furlan2002massage"]


@pytest.mark.parametrize(
    "load, args",
    [
        pytest.param(evidence.condition_page, ("no-such-condition",), id="condition"),
        pytest.param(evidence.modality_page, ("no-such-modality",), id="modality"),
        pytest.param(evidence.reference_page, ("nobody2099nothing",), id="reference"),
        pytest.param(evidence.cell_page, ("no-such-condition", "swedish"), id="cell"),
        pytest.param(evidence.cell_page, ("tmj-tmd", "no-such-modality"), id="cell_modality"),
    ],
)
def test_unknown_names_raise_not_found(session, load, args) -> None:
    with pytest.raises(evidence.NotFound, match=args[-1] if "no-such" in args[-1] else args[0]):
        load(session, *args)


def _row(**changes):
    row = {
        "condition": "tmj-tmd",
        "population": "40 adults with jaw pain",
        "direct": True,
        "comparator": "sham",
        "outcome": "pain at 6 weeks",
        "results": [{"modality": "swedish", "finding": "supports"}],
        "finding": "supports",
        "summary": "Against a sham, Swedish massage eased jaw pain.",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def _write(tmp_path: Path, row: dict) -> Path:
    item = {
        "id": "newman2025jaw",
        "type": "article-journal",
        "title": "Swedish massage for jaw pain",
        "issued": {"date-parts": [[2025]]},
        "kb": {"design": "rct", "n": 40, "evidence": [row]},
    }
    other = {"id": "other2024", "type": "article-journal", "title": "Another paper"}
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([other, item], indent=2), encoding="utf-8")
    return path


def test_csl_json_import_accepts_the_new_row_shape(settings, tmp_path) -> None:
    from kb import db, library

    report = library.import_paths(settings, [_write(tmp_path, _row(certainty="low"))])
    assert report.added == ["other2024", "newman2025jaw"]
    with db.session_scope(settings) as session:
        cell = evidence.cell_page(session, "tmj-tmd", "swedish")
        (row,) = [r for r in cell["rows"] if r["key"] == "newman2025jaw"]
        assert (row["comparator"], row["certainty"], row["result"]) == ("sham", "low", "supports")
        (exported,) = [
            r for r in library.export_records(session, with_kb=True) if r["id"] == "newman2025jaw"
        ]
    assert exported["kb"]["evidence"] == [_row(certainty="low")]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"direct": None}, "must say whether it is direct"),
        ({"direct": False}, "is indirect but does not say why"),
        ({"comparator": "placebo"}, "unknown comparator 'placebo'"),
        ({"certainty": "poor"}, "unknown certainty 'poor'"),
        ({"results": []}, "has no results"),
        ({"results": [{"modality": "reiki", "finding": "supports"}]}, "unknown modality 'reiki'"),
        ({"results": [{"modality": "swedish", "finding": "great"}]}, "unknown finding 'great'"),
        ({"results": None, "modalities": ["swedish"]}, "lists 'modalities' without their"),
        ({"finding": "maybe"}, "unknown finding 'maybe'"),
        ({"condition": "gout"}, "unknown condition 'gout'"),
    ],
)
def test_csl_json_import_rejects_a_malformed_row_with_file_line_and_key(
    settings, tmp_path, changes, message
) -> None:
    from kb import db, library

    path = _write(tmp_path, _row(**changes))
    with db.session_scope(settings) as session:
        before = library.export_records(session, with_kb=True)
    with pytest.raises(library.ImportRejected) as raised:
        library.import_paths(settings, [path])
    (failure,) = raised.value.report.rejected
    assert (failure.file, failure.key) == (str(path), "newman2025jaw")
    lines = path.read_text().splitlines()
    assert '"newman2025jaw"' in lines[failure.line - 1]
    assert message in failure.error
    assert str(path) in str(raised.value) and "newman2025jaw" in str(raised.value)
    with db.session_scope(settings) as session:
        assert library.export_records(session, with_kb=True) == before


def test_pages_of_rows_are_slices_of_the_whole_list(session) -> None:
    whole = evidence.condition_page(session, "low-back-pain-sciatica")
    assert whole["paging"] == {"page": 1, "pages": 1, "per_page": 100, "total": 13}
    keys = []
    for page in (1, 2, 3):
        part = evidence.condition_page(session, "low-back-pain-sciatica", page=page, per_page=5)
        assert part["paging"]["pages"] == 3 and part["grade"] == whole["grade"]
        assert {g["group"]: g["total"] for g in part["groups"]} == {
            g["group"]: len(g["rows"])
            for g in whole["groups"]
            if g["group"] in {p["group"] for p in part["groups"]}
        }
        keys += [r["key"] for r in part["rows"]]
    assert keys == [r["key"] for r in whole["rows"]]
    beyond = evidence.condition_page(session, "low-back-pain-sciatica", page=99, per_page=5)
    assert beyond["paging"]["page"] == 3  # a page past the end shows the last


def test_grades_are_kept_in_the_store_and_refreshed_by_every_write(settings, tmp_path) -> None:
    from kb import db, library, summaries
    from kb.models import GradeSummary

    with db.session_scope(settings) as session:
        stored = session.get(GradeSummary, ("blood-pressure", ""))
        assert stored is not None and stored.data["grade"] == "mixed"
    row = _row(condition="insomnia", finding="no-difference")
    row["results"] = [{"modality": "swedish", "finding": "no-difference"}]
    library.import_paths(settings, [_write(tmp_path, row)])
    with db.session_scope(settings) as session:
        mark = session.get(summaries.StoreMeta, "summaries")
        assert mark is not None and mark.value == str(db.generation(session))
        insomnia = session.get(GradeSummary, ("insomnia", ""))
        assert insomnia is not None and insomnia.data["grade"] == "mixed"  # was consistent support
        assert evidence.condition_page(session, "insomnia")["grade"]["tally"]["A"] == 1
