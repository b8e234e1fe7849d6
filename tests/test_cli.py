"""The kb command: help on every command, init, import all-or-nothing, export, doctor."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kb import db
from kb.cli import cli
from kb.config import Settings

SHERMAN_BIB = """@article{newstudy2020,
  author = {M{\\"u}ller, Anna and van der Berg, Jan},
  title = {Massage for shoulder pain: a trial},
  journal = {Journal of Bodywork and Movement Therapies},
  year = {2020},
  volume = {24},
  pages = {1--9},
  doi = {10.1016/j.example.2020.01.001}
}
"""


def run(settings: Settings, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    return runner.invoke(cli, ["--data-dir", str(settings.data_dir), *args], input=input)


def store_snapshot(settings: Settings) -> tuple[int, str]:
    from kb import library

    with db.session_scope(settings) as session:
        records = library.export_records(session, with_kb=True)
        return db.generation(session), json.dumps(records, sort_keys=True)


def command_names() -> list[str]:
    return sorted(cli.commands)


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help_with_an_example(name: str) -> None:
    command = cli.commands[name]
    assert command.help, f"kb {name} has no help"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output, f"kb {name} --help shows no example"


def test_the_interface_commands_exist() -> None:
    assert set(command_names()) >= {
        "init",
        "import",
        "export",
        "search",
        "cite",
        "styles",
        "check-refs",
        "serve",
        "reindex",
        "doctor",
    }


def test_init_creates_the_store_and_refuses_to_run_twice(empty_settings: Settings) -> None:
    result = run(empty_settings, "init")
    assert result.exit_code == 0, result.output
    assert "123 added, 0 updated, 0 duplicates, 0 rejected" in result.output
    again = run(empty_settings, "init")
    assert again.exit_code == 1
    assert "already exists" in again.output and "kb init --reset" in again.output


def test_init_reset_asks_first(settings: Settings) -> None:
    declined = run(settings, "init", "--reset", input="n\n")
    assert declined.exit_code == 1
    assert "Aborted" in declined.output
    accepted = run(settings, "init", "--reset", "--yes")
    assert accepted.exit_code == 0, accepted.output


def test_commands_without_a_store_say_what_to_do(empty_settings: Settings) -> None:
    result = run(empty_settings, "export")
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"Error: no store at {empty_settings.data_dir}: run `kb init` first"
    )


def test_export_csl_json_lists_every_shipped_reference(
    settings: Settings, shared_data: Path
) -> None:
    result = run(settings, "export", "--format", "csl-json")
    assert result.exit_code == 0
    items = {item["id"]: item for item in json.loads(result.output)}
    expected = json.loads((shared_data / "library.json").read_text())
    assert len(items) == 123
    for item in expected:
        assert items[item["id"]].get("DOI") == item.get("DOI")
        assert items[item["id"]].get("PMID") == item.get("PMID")


def test_export_to_a_folder_writes_content_files(settings: Settings, tmp_path: Path) -> None:
    result = run(settings, "export", str(tmp_path / "out"))
    assert result.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "conditions.toml",
        "evidence.toml",
        "library.bib",
        "modalities.toml",
    ]


@pytest.mark.parametrize("fmt", ["bib", "ris", "csl-json"])
def test_export_reimports_as_duplicates(settings: Settings, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "x"
    assert run(settings, "export", str(out), "--format", fmt).exit_code == 0
    (path,) = out.iterdir()
    before = store_snapshot(settings)
    result = run(settings, "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["added"], report["updated"], report["duplicates"]) == (0, 0, 123)
    assert store_snapshot(settings) == before


def test_import_adds_and_decodes(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "new.bib"
    path.write_text(SHERMAN_BIB)
    result = run(settings, "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("imported: 1 added, 0 updated, 0 duplicates, 0 rejected")
    exported = json.loads(run(settings, "export", "--format", "csl-json").output)
    item = next(i for i in exported if i["id"] == "newstudy2020")
    assert item["author"][0] == {"family": "Müller", "given": "Anna"}
    assert item["author"][1]["non-dropping-particle"] == "van der"
    assert item["page"] == "1-9"


def test_dry_run_writes_nothing(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "new.bib"
    path.write_text(SHERMAN_BIB)
    before = store_snapshot(settings)
    result = run(settings, "import", "--dry-run", str(path))
    assert result.exit_code == 0
    assert "would import: 1 added" in result.output
    assert store_snapshot(settings) == before


def test_merge_fills_missing_fields_and_keeps_the_key(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "sherman.json"
    path.write_text(
        json.dumps(
            [
                {
                    "id": "someOtherKey",
                    "type": "article-journal",
                    "DOI": "10.1097/ajp.0b013e31818b7912",
                    "title": "Randomized trial of therapeutic massage for chronic neck pain",
                    "abstract": "An abstract the shipped record lacks.",
                    "ISSN": "0749-8047",
                }
            ]
        )
    )
    result = run(settings, "import", "--json", str(path))
    report = json.loads(result.output)
    assert (report["added"], report["updated"]) == (0, 1)
    assert report["keys"]["updated"] == ["sherman2009randomized"]
    items = {i["id"]: i for i in json.loads(run(settings, "export", "--format", "csl-json").output)}
    sherman = items["sherman2009randomized"]
    assert sherman["abstract"] == "An abstract the shipped record lacks."
    assert sherman["ISSN"] == "0749-8047"
    assert sherman["DOI"] == "10.1097/AJP.0b013e31818b7912"  # the stored value wins
    assert "someOtherKey" not in items


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_INPUTS = [
    pytest.param(
        "unclosed.bib",
        b"@article{good2020,\n title={Fine}, year={2020}}\n\n@article{broken2021,\n"
        b"  title = {Never closed,\n  year = {2021}\n",
        "broken2021",
        4,
        id="bibtex_unclosed_brace",
    ),
    pytest.param(
        "latin1.bib",
        "@article{enc2020,\n title={Caf\u00e9 massage}, year={2020}}\n".encode("latin-1"),
        None,
        2,
        id="wrong_encoding",
    ),
    pytest.param(
        "no-er.ris",
        b"TY  - JOUR\nTI  - First\nER  - \n\nTY  - JOUR\nTI  - Second without end\n",
        None,
        5,
        id="ris_record_without_er",
    ),
    pytest.param("not-csl.json", b'{"hello": "world"}\n', None, 1, id="json_not_csl"),
    pytest.param("empty.bib", b"", None, 1, id="empty_file"),
]


@pytest.mark.parametrize(("name", "data", "key", "line"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_1_and_nothing_written(
    settings: Settings, tmp_path: Path, name: str, data: bytes, key: str | None, line: int
) -> None:
    path = _write_bytes(tmp_path / name, data)
    before = store_snapshot(settings)
    result = run(settings, "import", str(path))
    assert result.exit_code == 1
    message = result.output.strip().splitlines()[-1]
    assert message.startswith(f"Error: {path}:{line}:"), message
    if key:
        assert repr(key) in message
    assert "nothing was imported" in message
    assert store_snapshot(settings) == before


def test_a_50_mb_file_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "huge.bib"
    with path.open("wb") as handle:
        handle.write(b"@comment{" + b"x" * (50 * 1024 * 1024) + b"}\n")
    result = run(settings, "import", str(path))
    assert result.exit_code == 1
    assert "50.0 MB" in result.output and str(path) in result.output


def test_a_directory_and_a_missing_path_are_refused(settings: Settings, tmp_path: Path) -> None:
    for path, words in ((tmp_path, "directory"), (tmp_path / "nope.bib", "does not exist")):
        result = run(settings, "import", str(path))
        assert result.exit_code == 1
        assert str(path) in result.output and words in result.output.lower()


def test_skip_bad_imports_the_good_and_lists_the_rejected(
    settings: Settings, tmp_path: Path
) -> None:
    path = _write_bytes(tmp_path / "mixed.bib", BAD_INPUTS[0].values[1])
    result = run(settings, "import", "--skip-bad", "--json", str(path))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["added"] == 1
    assert [(r["line"], r["key"]) for r in report["rejected"]] == [(4, "broken2021")]


def test_json_report_of_a_rejected_import(settings: Settings, tmp_path: Path) -> None:
    path = _write_bytes(tmp_path / "mixed.bib", BAD_INPUTS[0].values[1])
    result = run(settings, "import", "--json", str(path))
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["added"] == 0
    assert report["rejected"][0]["file"] == str(path)


def test_unknown_condition_in_an_evidence_block_is_rejected(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "ev.json"
    path.write_text(
        json.dumps(
            [
                {
                    "id": "x2020",
                    "type": "article-journal",
                    "title": "T",
                    "kb": {
                        "evidence": [{"condition": "gout", "results": [], "finding": "supports"}]
                    },
                }
            ],
            indent=1,
        )
    )
    before = store_snapshot(settings)
    result = run(settings, "import", str(path))
    assert result.exit_code == 1
    assert "unknown condition 'gout'" in result.output and "'x2020'" in result.output
    assert store_snapshot(settings) == before


def test_doctor_finds_a_missing_index(settings: Settings) -> None:
    ok = run(settings, "doctor")
    assert ok.exit_code == 0, ok.output
    assert "ok: store and index agree" in ok.output
    import shutil

    shutil.rmtree(settings.index_dir)
    broken = run(settings, "doctor")
    assert broken.exit_code == 1
    assert "kb reindex" in broken.output
    assert run(settings, "reindex").exit_code == 0
    assert run(settings, "doctor").exit_code == 0


def test_cli_module_is_the_only_click_user() -> None:
    root = Path(__file__).resolve().parents[1]
    users = [p for p in (root / "kb").rglob("*.py") if "import click" in p.read_text()]
    users += [p for p in (root / "references").rglob("*.py") if "import click" in p.read_text()]
    assert all("cli" in p.parts for p in users), users
    assert click  # the CLI is built on click


def test_a_disagreeing_duplicate_keeps_the_library_value_and_says_so(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "sherman.ris"
    path.write_text(
        "TY  - JOUR\nTI  - Randomized trial of therapeutic massage for chronic neck pain\n"
        "AU  - Sherman, Karen J.\nPY  - 2009\nVL  - 52\nDO  - 10.1097/AJP.0b013e31818b7912\nER  - \n"
    )
    result = run(settings, "import", str(path))
    assert result.exit_code == 0, result.output
    assert (
        "kept the library's volume of sherman2009randomized: '25' (the file says '52')"
        in result.output
    )
    report = json.loads(run(settings, "import", "--json", str(path)).output)
    assert report["conflicts"] == [
        {"key": "sherman2009randomized", "field": "volume", "library": "25", "incoming": "52"}
    ]


def test_search_text_counts_its_results_and_sets_topics_apart_when_sorted(
    settings: Settings,
) -> None:
    one = run(settings, "search", "10.1097/AJP.0b013e31818b7912")
    assert one.exit_code == 0, one.output
    assert "1 result for '10.1097/AJP.0b013e31818b7912'" in one.output
    assert "sherman2009randomized" in one.output
    sorted_ = run(settings, "search", "tmj", "--sort", "newest")
    assert sorted_.exit_code == 0, sorted_.output
    head, _, studies = sorted_.output.partition(" results for 'tmj'")
    assert "pages on these words:" in head and "tmj-tmd" in head
    assert "tmj-tmd" not in studies  # the condition page is not among the sorted studies
