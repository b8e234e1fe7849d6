"""CSL-JSON reading and writing: a Zotero export, single items, unknown keys."""

from __future__ import annotations

import json
from pathlib import Path

from references import csljson, formats

FIXTURES = Path(__file__).parent / "fixtures" / "formats"


def test_zotero_export() -> None:
    result = formats.read_path(FIXTURES / "zotero_csl.json")
    assert (len(result.records), len(result.failures)) == (2, 0)
    first = result.records[0]
    assert first["id"] == "grahekAnatomyPsychologicalTheory2021a"
    assert first["container-title-short"] == "Perspect Psychol Sci"
    assert "psychology—what" in first["abstract"]
    assert result.records[1]["title-short"] == "Event memory"


def test_single_item_and_unknown_keys_are_kept() -> None:
    item = {"id": 7, "type": "book", "title": "T", "kb": {"design": "rct"}}
    record = formats.read_text(json.dumps(item), "csl-json").records[0]
    assert record == {"id": "7", "type": "book", "title": "T", "kb": {"design": "rct"}}


def test_write_is_a_pretty_list_that_reads_back() -> None:
    records = [{"id": "a", "type": "book", "title": "Ünïcode", "custom": {"x": "y"}}]
    text = csljson.write(records)
    assert text.startswith("[\n  {\n") and "Ünïcode" in text
    assert csljson.read(text).records == records
