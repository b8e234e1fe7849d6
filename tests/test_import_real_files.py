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
    assert report["added"] == 10
    assert report["rejected"] == []
