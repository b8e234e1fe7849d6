"""Turn CSL-JSON records into Reference rows and back, without losing a field."""

from __future__ import annotations

import copy
from typing import Any

from kb.models import Reference
from references.identifiers import normalise_doi, normalise_pmcid, normalise_pmid
from references.record import Record, year_of

# CSL field -> Reference column, for the plain string fields.
_STRING_FIELDS = {
    "type": "type",
    "title": "title",
    "container-title": "container_title",
    "publisher": "publisher",
    "volume": "volume",
    "issue": "issue",
    "page": "page",
    "URL": "url",
    "language": "language",
    "abstract": "abstract",
}
_HANDLED = set(_STRING_FIELDS) | {
    "id",
    "author",
    "issued",
    "accessed",
    "DOI",
    "PMID",
    "PMCID",
    "keywords",
    "kb",
}
# Curation facts carried in a record's ``kb`` block (shared/data's shape) or evidence.toml.
CURATION_FIELDS = ("seed", "verified_from", "gaps", "notes")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # CSL allows a list for some strings; keep the first
        return str(value[0]) if value else ""
    return str(value)


def reference_fields(record: Record) -> dict[str, Any]:
    """Return the Reference column values a record carries (not the key, not evidence)."""
    fields: dict[str, Any] = {
        column: _text(record.get(name)) for name, column in _STRING_FIELDS.items()
    }
    fields["type"] = fields["type"] or "article-journal"
    fields["authors"] = copy.deepcopy(record.get("author") or [])
    fields["issued"] = copy.deepcopy(record.get("issued")) or None
    fields["accessed"] = copy.deepcopy(record.get("accessed")) or None
    fields["year"] = year_of(record)
    fields["doi"] = normalise_doi(record.get("DOI"))
    fields["pmid"] = normalise_pmid(record.get("PMID"))
    fields["pmcid"] = normalise_pmcid(record.get("PMCID"))
    keywords = record.get("keywords") or []
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.replace(";", ",").split(",") if k.strip()]
    fields["keywords"] = list(keywords)
    fields["extra"] = {k: copy.deepcopy(v) for k, v in record.items() if k not in _HANDLED}
    meta = record.get("kb") or {}
    if meta.get("design"):
        fields["design"] = meta["design"]
    if meta.get("n") is not None:
        fields["size"] = int(meta["n"])
    if meta.get("n_unit"):
        fields["size_unit"] = meta["n_unit"]
    curation = {
        k: copy.deepcopy(meta[k]) for k in CURATION_FIELDS if meta.get(k) not in (None, [], "")
    }
    if curation:
        fields["curation"] = curation
    return fields


def record_of(reference: Reference, *, with_kb: bool = False) -> Record:
    """Return a reference as a CSL-JSON record; ``with_kb`` adds design, size and curation."""
    record: Record = {"id": reference.key, "type": reference.type or "article-journal"}
    if reference.title:
        record["title"] = reference.title
    if reference.authors:
        record["author"] = copy.deepcopy(reference.authors)
    for name, column in _STRING_FIELDS.items():
        value = getattr(reference, column)
        if value and name not in record:
            record[name] = value
    if reference.issued:
        record["issued"] = copy.deepcopy(reference.issued)
    if reference.accessed:
        record["accessed"] = copy.deepcopy(reference.accessed)
    if reference.doi:
        record["DOI"] = reference.doi
    if reference.pmid:
        record["PMID"] = reference.pmid
    if reference.pmcid:
        record["PMCID"] = reference.pmcid
    if reference.keywords:
        record["keywords"] = list(reference.keywords)
    for name, value in (reference.extra or {}).items():
        record.setdefault(name, copy.deepcopy(value))
    if with_kb:
        meta: dict[str, Any] = {}
        if reference.design:
            meta["design"] = reference.design
        if reference.size is not None:
            meta["n"] = reference.size
        if reference.size_unit:
            meta["n_unit"] = reference.size_unit
        meta.update(copy.deepcopy(reference.curation or {}))
        if meta:
            record["kb"] = meta
    return record
