"""The shipped library: every reference verified, exactly as in shared/data, and well linked."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from kb import content, db, library, records
from kb.config import CONTENT_DIR

BIB_FIELDS = (
    "title",
    "author",
    "container-title",
    "issued",
    "volume",
    "issue",
    "page",
    "DOI",
    "PMID",
    "PMCID",
    "URL",
    "type",
    "container-title-short",
)
# Every fact of a reference's kb block, including the curator-only ones.
KB_FIELDS = (
    "design",
    "n",
    "supersedes",
    "seed",
    "ship",
    "verified_from",
    "gaps",
    "notes",
    "evidence",
)


@pytest.fixture(scope="module")
def shipped() -> content.Content:
    return content.load(CONTENT_DIR)


def test_content_reads_without_failures(shipped: content.Content) -> None:
    assert shipped.failures == []
    assert len(shipped.records) == 123
    assert len(shipped.conditions) == 22
    assert len(shipped.modalities) == 13


def test_every_reference_can_be_checked(shipped: content.Content) -> None:
    web_pages = {
        "clevelandclinic-therapeutic-massage",
        "mayoclinic-massage-benefits",
        "sutterhealth-therapeutic-bodywork",
        "kaiserpermanente-massage-overview",
    }
    for record in shipped.records:
        if record["id"] in web_pages:
            assert record["type"] == "webpage"
            continue
        has_id = any(record.get(k) for k in ("DOI", "PMID", "URL"))
        full = all(record.get(k) for k in ("container-title", "issued", "volume", "page"))
        assert has_id or full, record["id"]


def test_evidence_rows_name_existing_conditions_and_modalities(shipped: content.Content) -> None:
    conditions = {c["slug"] for c in shipped.conditions}
    modalities = {m["slug"] for m in shipped.modalities}
    rows = [row for r in shipped.records for row in (r.get("kb") or {}).get("evidence", [])]
    assert len(rows) == 131
    for row in rows:
        assert row["condition"] in conditions
        assert {r["modality"] for r in row["results"]} <= modalities
        assert row["finding"] in records.FINDINGS
        assert all(r["finding"] in records.FINDINGS for r in row["results"])
        assert row["comparator"] in records.COMPARATORS
        assert row["direct"] is (not row.get("indirect_because"))


def test_shipped_facts_are_exactly_shared_data(shipped: content.Content, shared_data: Path) -> None:
    expected = json.loads((shared_data / "library.json").read_text())
    expected += json.loads((shared_data / "seed-web.json").read_text())
    by_key = {r["id"]: r for r in shipped.records}
    assert set(by_key) == {item["id"] for item in expected}
    for item in expected:
        record = by_key[item["id"]]
        for name in BIB_FIELDS:
            assert record.get(name) == item.get(name), (item["id"], name)
        meta, want = record.get("kb", {}), item["kb"]
        for name in KB_FIELDS:
            empty = [] if name in ("supersedes", "evidence", "verified_from", "gaps") else None
            assert meta.get(name, empty) == want.get(name, empty), (item["id"], name)
        assert meta.get("n_unit") == (want["n_unit"] or None), item["id"]


def test_vocabularies_are_exactly_shared_data(shipped: content.Content, shared_data: Path) -> None:
    for name, items in (("conditions", shipped.conditions), ("modalities", shipped.modalities)):
        assert items == json.loads((shared_data / f"{name}.json").read_text())


def test_library_bib_is_plain_bibtex() -> None:
    text = (CONTENT_DIR / "library.bib").read_text(encoding="utf-8")
    entries = re.findall(r"^@(\w+)\{([^,]+),", text, re.MULTILINE)
    assert len(entries) == 123
    assert {kind for kind, _ in entries} <= {"article", "online", "misc"}
    assert "doi = {10.1097/AJP.0b013e31818b7912}" in text
    assert "pmid = {19333174}" in text


def test_evidence_toml_is_keyed_by_citation_key() -> None:
    curation = tomllib.loads((CONTENT_DIR / "evidence.toml").read_text())
    assert curation["sherman2009randomized"]["design"] == "rct"
    row = curation["sherman2009randomized"]["evidence"][0]
    assert row["condition"] == "chronic-neck-pain"
    assert row["comparator"] == "usual-care" and row["direct"] is True
    assert row["results"] == [{"modality": "therapeutic-massage", "finding": "mixed"}]
    assert curation["furlan2015massage"]["supersedes"] == ["furlan2002massage"]


def test_content_round_trips_through_the_store(settings, tmp_path: Path) -> None:
    """kb/content -> store -> export -> a fresh store gives an identical store (and files)."""
    exported = tmp_path / "exported"
    with db.session_scope(settings) as session:
        library.export_content(session, exported)
        first = library.export_records(session, with_kb=True)
    for name in (content.LIBRARY, content.EVIDENCE, content.CONDITIONS, content.MODALITIES):
        assert (exported / name).read_text() == (CONTENT_DIR / name).read_text(), name
    from kb.config import settings as make_settings

    again = make_settings(data_dir=tmp_path / "again")
    library.init(again, folder=exported)
    with db.session_scope(again) as session:
        assert library.export_records(session, with_kb=True) == first
