"""One validation at the edge: each odd record is refused with one line or imported and rendered.

The cases are the ones fuzzing found (issue 12): each once passed import and then took a page,
`kb cite` or an export down, or passed `--dry-run` and crashed the real import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.config import Settings
from references import formats
from references.validate import Invalid, validate

CONDITION, MODALITY = "tmj-tmd", "swedish"


def item(**fields: Any) -> dict[str, Any]:
    """Return an odd CSL-JSON item with a title word to search and one evidence row."""
    record: dict[str, Any] = {
        "id": "odd2020item",
        "type": "article-journal",
        "title": "Zebracorn massage oddity",
        "author": [{"family": "Odd", "given": "O."}],
        "issued": {"date-parts": [[2020]]},
        "kb": {
            "design": "rct",
            "evidence": [row()],
        },
    }
    record.update(fields)
    return record


def row(*techniques: str) -> dict[str, Any]:
    """Return one evidence row in shared/data's second-release shape."""
    return {
        "condition": CONDITION,
        "population": "adults with jaw pain",
        "direct": True,
        "comparator": "usual-care",
        "outcome": "jaw pain at 4 weeks",
        "results": [{"modality": m, "finding": "supports"} for m in techniques or (MODALITY,)],
        "finding": "supports",
    }


def kb_row(**fields: Any) -> dict[str, Any]:
    meta = item()["kb"]
    meta.update(fields)
    return meta


REFUSED = [
    pytest.param({"issued": {"date-parts": [["a"]]}}, "'issued' date-parts", id="year_a"),
    pytest.param(
        {"issued": {"literal": ["x"]}}, "'issued' 'literal' is not text", id="literal_list"
    ),
    pytest.param({"accessed": {"date-parts": 5}}, "'accessed' date-parts 5", id="accessed_5"),
    pytest.param({"issued": {"date-parts": {"y": 1}}}, "'issued' date-parts", id="parts_object"),
    pytest.param({"issued": 2009}, "'issued' is not a date object: 2009", id="date_number"),
    pytest.param(
        {"author": [{"family": ["a"]}]}, "'author' name 1 'family' is not text", id="family_list"
    ),
    pytest.param({"kb": "rct"}, "'kb' is not an object: 'rct'", id="kb_string"),
    pytest.param({"kb": kb_row(n="abc")}, "kb 'n' is not a whole number: 'abc'", id="n_abc"),
    pytest.param(
        {"kb": kb_row(evidence=[row(MODALITY, MODALITY)])},
        "gives 'swedish' two results",
        id="modality_listed_twice",
    ),
    pytest.param(
        {"kb": kb_row(design={"x": 1})}, "kb 'design' is not text: {'x': 1}", id="design_object"
    ),
    pytest.param({"kb": kb_row(evidence=3)}, "kb 'evidence' is not a list", id="evidence_number"),
    pytest.param({"keywords": {"a": 1}}, "'keywords' is not a list of words", id="keywords_object"),
    pytest.param({"issued": {"date-parts": [[2009, 13.5]]}}, "the month", id="month_fraction"),
    pytest.param({"issued": {"date-parts": [[2009, 2, 40]]}}, "40 is not a day", id="day_40"),
]


@pytest.mark.parametrize(("fields", "error"), REFUSED)
def test_refused_with_one_line_naming_file_line_and_key(
    settings: Settings, tmp_path: Path, fields: dict[str, Any], error: str
) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps([item(id="fine2020", title="Fine"), item(**fields)], indent=1))
    before = kb(settings, "export", "--format", "csl-json").output
    for args in (("--dry-run",), ()):
        result = kb(settings, "import", *args, str(path))
        assert result.exit_code == 1
        (line,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert line.startswith(f"Error: {path}:") and "entry 'odd2020item'" in line, line
        assert error in line, line
        assert "Traceback" not in result.output
    assert kb(settings, "export", "--format", "csl-json").output == before


ACCEPTED = [
    pytest.param({"issued": {"date-parts": [[]]}}, {}, id="empty_date_parts"),
    pytest.param(
        {"issued": {"date-parts": [[2009, "Spring"]]}},
        {"issued": {"date-parts": [[2009]], "season": 1}},
        id="season_named",
    ),
    pytest.param(
        {"issued": {"date-parts": [["2009", "3"]]}},
        {"issued": {"date-parts": [[2009, 3]]}},
        id="digit_strings",
    ),
    pytest.param(
        {"issued": "2009-03-15"}, {"issued": {"date-parts": [[2009, 3, 15]]}}, id="iso_text"
    ),
    pytest.param(
        {"author": [{"literal": 5}]}, {"author": [{"literal": "5"}]}, id="integer_literal"
    ),
    pytest.param({"keywords": None}, {}, id="keywords_null"),
    pytest.param({"keywords": [3, "back", None]}, {"keywords": ["3", "back"]}, id="keywords_num"),
    pytest.param({"volume": 12, "page": 101}, {"volume": "12", "page": "101"}, id="numbers"),
    pytest.param({"type": "journal-artcle"}, {"type": "document"}, id="unknown_type"),
    pytest.param({"kb": kb_row(n="42")}, {}, id="n_digits"),
    pytest.param({"URL": "javascript:alert(1)"}, {}, id="javascript_url"),
]


@pytest.mark.parametrize(("fields", "expected"), ACCEPTED)
def test_accepted_and_rendered_everywhere(
    settings: Settings, app: Any, client: Any, tmp_path: Path, fields: dict, expected: dict
) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps([item(**fields)], indent=1))
    dry = kb(settings, "import", "--dry-run", "--json", str(path))
    real = kb(settings, "import", "--json", str(path))
    assert real.exit_code == 0, real.output
    assert {**json.loads(dry.output), "dry_run": False} == json.loads(real.output)
    assert json.loads(real.output)["keys"]["added"] == ["odd2020item"]
    stored = {i["id"]: i for i in json.loads(kb(settings, "export", "--format", "csl-json").output)}
    for name, value in expected.items():
        assert stored["odd2020item"][name] == value
    assert_renders_everywhere(settings, client, "odd2020item", "zebracorn")


def assert_renders_everywhere(settings: Settings, client: Any, key: str, word: str) -> None:
    """Every page, citation and export that shows the reference answers, without a 500."""
    assert_reference_renders(client, key)
    assert_library_renders(settings, client, [key], word)


def assert_reference_renders(client: Any, key: str) -> None:
    """The reference's page, its JSON twin and its three downloads answer 200."""
    for url in (
        f"/references/{key}",
        f"/api/references/{key}",
        f"/references/{key}.bib",
        f"/references/{key}.ris",
        f"/references/{key}.json",
        f"/cite?keys={key}",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


def assert_library_renders(settings: Settings, client: Any, keys: list[str], word: str) -> None:
    """The pages listing the references, their citations and every export answer."""
    for url in (
        f"/conditions/{CONDITION}",
        f"/api/conditions/{CONDITION}",
        f"/modalities/{MODALITY}",
        f"/api/modalities/{MODALITY}",
        "/evidence-map",
        f"/search?q={word}",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    for fmt in ("bibtex", "ris", "csl-json", "text"):
        response = client.get("/search/export", query_string={"q": word, "format": fmt})
        assert response.status_code == 200, (fmt, response.status_code)
    for style in ("apa", "vancouver", "modern-language-association", "chicago-author-date"):
        result = kb(settings, "cite", *keys, "--style", style)
        assert result.exit_code == 0, (style, result.output)
    for fmt in ("bib", "ris", "csl-json"):
        result = kb(settings, "export", "--format", fmt)
        assert result.exit_code == 0, (fmt, result.output)


def kb(settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), *args])


# The validation itself, without a store -------------------------------------------------


def test_a_season_in_the_month_place_becomes_a_csl_season() -> None:
    for month, season in (("Spring", 1), ("summer", 2), ("Fall", 3), (15, 3), (24, 4)):
        record = validate(item(issued={"date-parts": [[2009, month]]})).record
        assert record["issued"] == {"date-parts": [[2009]], "season": season}


def test_every_change_is_a_warning_with_file_line_and_key() -> None:
    text = json.dumps(
        [item(), item(id="b", issued={"date-parts": [[]]}, author=[{"family": ""}])], indent=1
    )
    result = formats.read_text(text, "csl-json", "odd.json")
    # The line is where item "b" opens: the line before its "id".
    line = text.splitlines().index('  "id": "b",')
    assert [(w.line, w.key, w.error) for w in result.warnings] == [
        (line, "b", "author name 1 has no name part; left out"),
        (line, "b", "issued has no date in it; left out"),
    ]


def test_a_refusal_is_one_line() -> None:
    with pytest.raises(Invalid) as caught:
        validate(item(issued={"date-parts": [["a" * 500]]}))
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


def test_a_literal_name_with_name_parts_keeps_the_literal() -> None:
    # Found by the hypothesis test: citeproc-py cannot render a name holding both.
    done = validate(item(author=[{"literal": "EMT Working Group", "family": "Doe", "given": "J"}]))
    assert done.record["author"] == [{"literal": "EMT Working Group"}]
    assert done.notes == ["author name 1 has a literal name and name parts; kept the literal"]
