"""Real public export files import through `kb import` with the right counts, accents decoded.

The files are in tests/fixtures/formats with their origin beside them; the format tests check
the readers, these check the whole import: counts, de-duplication on a second import, keys.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.config import Settings

FORMATS = Path(__file__).parent / "fixtures" / "formats"


def kb(settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), *args])


def exported(settings: Settings) -> dict[str, dict]:
    return {i["id"]: i for i in json.loads(kb(settings, "export", "--format", "csl-json").output)}


@pytest.mark.parametrize(
    ("name", "counts", "records"),
    [
        pytest.param("zotero_better_bibtex.bib", (1, 0, 0), 1, id="zotero_better_bibtex"),
        pytest.param("jabref_library.bib", (2, 0, 0), 2, id="jabref"),
        # xampl.bib holds a minimal, a full and a cross-referencing entry of the same article
        # (and two of the same book): one work each, the later entries fill in the first.
        pytest.param("xampl_strings.bib", (2, 3, 1), 6, id="string_concatenation_preamble_months"),
        pytest.param("pubmed_medline.txt", (1, 0, 0), 1, id="pubmed_medline"),
        pytest.param("endnote_pubmed.ris", (2, 0, 0), 2, id="endnote_ris"),
        pytest.param("zotero_csl.json", (2, 0, 0), 2, id="zotero_csl_json"),
        # 90 entries: four ":related" entries and baez/online repeat a work read before them.
        pytest.param("biblatex-examples.bib", (86, 0, 4), 90, id="biblatex_examples"),
        # 36 entries of 22 works: the -minimal, -full and -crossref entries of one work merge.
        pytest.param("xampl.bib", (22, 11, 3), 36, id="patashnik_xampl"),
        # Scopus writes one key twice: the second entry (same DOI) is read as Steblinski2022a.
        pytest.param("scopus_export.bib", (2, 0, 1), 3, id="scopus_bibtex"),
        pytest.param("scopus_export.ris", (1, 0, 0), 1, id="scopus_ris"),
    ],
)
def test_real_file_imports_then_is_all_duplicates(
    settings: Settings, name: str, counts: tuple[int, int, int], records: int
) -> None:
    path = FORMATS / name
    first = kb(settings, "import", "--json", str(path))
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert (report["added"], report["updated"], report["duplicates"]) == counts
    assert report["rejected"] == []
    second = json.loads(kb(settings, "import", "--json", str(path)).output)
    assert (second["added"], second["updated"], second["duplicates"]) == (0, 0, records)


def test_accents_are_decoded_from_a_jabref_library(settings: Settings) -> None:
    kb(settings, "import", str(FORMATS / "jabref_library.bib"))
    families = {
        a.get("family") for item in exported(settings).values() for a in item.get("author", [])
    }
    assert {"Boström", "Wäyrynen", "Bodén"} <= families


def test_medline_record_gets_a_generated_key_and_its_pmid(settings: Settings) -> None:
    result = json.loads(
        kb(settings, "import", "--json", str(FORMATS / "pubmed_medline.txt")).output
    )
    (key,) = result["keys"]["added"]
    item = exported(settings)[key]
    assert item["PMID"] == "20481061"
    assert key[0].isalpha() and any(ch.isdigit() for ch in key)


def test_all_real_files_in_one_import(settings: Settings) -> None:
    paths = [str(p) for p in sorted(FORMATS.iterdir()) if not p.name.endswith(".origin")]
    report = json.loads(kb(settings, "import", "--json", *paths).output)
    # xampl_strings.bib repeats two of xampl.bib's works: 10 + 86 + 22 - 2 + 3 from Scopus.
    assert report["added"] == 119
    assert report["rejected"] == []


def test_biblatex_sets_are_listed_as_skipped_not_refused(settings: Settings) -> None:
    result = kb(settings, "import", str(FORMATS / "biblatex-examples.bib"))
    assert result.exit_code == 0, result.output
    skipped = [line for line in result.output.splitlines() if line.startswith("skipped:")]
    assert skipped == [
        f"skipped: {FORMATS / 'biblatex-examples.bib'}:{line}: entry {key!r} a biblatex @set "
        "groups other entries and is not a reference"
        for line, key in ((26, "set"), (31, "stdmodel"))
    ]
    assert result.output.splitlines()[-1] == (
        "imported: 86 added, 0 updated, 4 duplicates, 0 rejected"
    )


def test_entries_without_title_are_imported_with_a_warning_naming_each(settings: Settings) -> None:
    result = kb(settings, "import", str(FORMATS / "xampl.bib"))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    path = FORMATS / "xampl.bib"
    assert warnings == [
        f"warning: {path}:{line}: entry {key!r} has no title; imported without one"
        for line, key in (
            (43, "whole-journal"),
            (226, "misc-minimal"),
            (358, "random-note-crossref"),
        )
    ]
    item = exported(settings)["random-note-crossref"]
    assert "title" not in item
    assert " ".join(item["note"].split()) == "Volume 2 is listed under Knuth <cit.>"


def test_strict_keeps_the_refusals(settings: Settings) -> None:
    before = exported(settings)
    for name, first in (
        ("xampl.bib", "xampl.bib:43: entry 'whole-journal' has no title"),
        ("biblatex-examples.bib", "biblatex-examples.bib:26: entry 'set' a biblatex @set"),
    ):
        result = kb(settings, "import", "--strict", str(FORMATS / name))
        assert result.exit_code == 1
        assert first in result.output
        assert "nothing was imported" in result.output
    assert exported(settings) == before


def test_dry_run_agrees_with_the_import(settings: Settings) -> None:
    paths = [str(FORMATS / "biblatex-examples.bib"), str(FORMATS / "xampl.bib")]
    dry = json.loads(kb(settings, "import", "--dry-run", "--json", *paths).output)
    real = json.loads(kb(settings, "import", "--json", *paths).output)
    assert dry.pop("dry_run") and not real.pop("dry_run")
    assert dry == real


def test_a_key_scopus_writes_twice_gets_a_suffix_and_one_warning(settings: Settings) -> None:
    path = FORMATS / "scopus_export.bib"
    result = kb(settings, "import", str(path))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {path}:50: entry 'Steblinski2022' key 'Steblinski2022' is used twice; "
        + "this entry is 'Steblinski2022a'"
    ]


def test_scopus_ris_references_continue_their_note(settings: Settings) -> None:
    kb(settings, "import", str(FORMATS / "scopus_export.ris"))
    (item,) = [i for i in exported(settings).values() if i.get("DOI") == "10.1063/5.0020407"]
    assert item["note"].startswith("Export Date: 15 October 2020\nReferences: Mayergoyz")
    assert item["note"].endswith(
        "Papusoi, C., Desai, M., Acharya, R., (2015) J. Phys. D Appl. Phys., 48;"
    )
