"""RIS export carries the PMID and PMCID where EndNote and Zotero read them back."""

from __future__ import annotations

import json
from pathlib import Path

from references import ris
from references.record import Record


def _library(shared_data: Path) -> list[Record]:
    items = json.loads((shared_data / "library.json").read_text(encoding="utf-8"))
    return [{k: v for k, v in item.items() if k != "kb"} for item in items]


def test_pmid_and_pmcid_are_written_as_endnote_files_them(shared_data: Path) -> None:
    (boyd,) = [r for r in _library(shared_data) if r["id"] == "boyd2016impact"]
    text = ris.write([boyd])
    lines = text.splitlines()
    assert "DB  - PubMed" in lines
    assert "AN  - 27165970" in lines
    assert "C2  - PMC5013820" in lines


def test_export_then_import_keeps_pmid_and_pmcid(shared_data: Path) -> None:
    library = _library(shared_data)
    result = ris.read(ris.write(library), "library.ris")
    assert not result.failures
    by_id = {r["id"]: r for r in result.records}
    with_pmid = [r for r in library if r.get("PMID")]
    with_pmcid = [r for r in library if r.get("PMCID")]
    assert len(with_pmid) > 50 and with_pmcid  # the data has both, so the test can fail
    for record in library:
        back = by_id[record["id"]]
        assert back.get("PMID") == record.get("PMID"), record["id"]
        assert back.get("PMCID") == record.get("PMCID"), record["id"]


def test_record_without_pmid_writes_no_pubmed_lines(shared_data: Path) -> None:
    (furlan,) = [r for r in _library(shared_data) if r["id"] == "furlan2002massage"]
    text = ris.write([furlan])
    assert "AN  -" not in text and "DB  -" not in text and "C2  -" not in text


def test_archive_fields_are_not_written_twice() -> None:
    record: Record = {
        "id": "x2020",
        "type": "article-journal",
        "title": "A title",
        "PMID": "12345678",
        "archive": "PubMed",
        "archive_location": "12345678",
    }
    lines = ris.write([record]).splitlines()
    assert lines.count("AN  - 12345678") == 1 and lines.count("DB  - PubMed") == 1
