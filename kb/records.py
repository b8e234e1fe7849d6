"""Turn CSL-JSON records into Reference rows and back, without losing a field."""

from __future__ import annotations

import copy
from collections.abc import Collection
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
CURATION_FIELDS = ("seed", "ship", "verified_from", "gaps", "notes")

FINDINGS = ("supports", "mixed", "no-difference", "insufficient", "harm")
COMPARATORS = (
    "no-treatment",
    "waitlist",
    "usual-care",
    "sham",
    "attention",
    "active",
    "other-massage",
    "none",
    "various",
)
CERTAINTIES = ("high", "moderate", "low", "very-low")
# The text fields of an evidence row, in the order a content file writes them.
_ROW_TEXT = ("population", "indirect_because", "outcome", "summary")


def _one_of(value: Any, allowed: tuple[str, ...]) -> bool:
    return isinstance(value, str) and value in allowed


def row_problem(row: Any, conditions: Collection[str], modalities: Collection[str]) -> str | None:
    """Return what is wrong with one evidence row of a ``kb`` block, or None."""
    if not isinstance(row, dict):
        return "has an evidence row that is not a table of fields"
    where = f"evidence row for {row.get('condition')!r}"
    if row.get("condition") not in conditions:
        return f"names an unknown condition {row.get('condition')!r}"
    if "modalities" in row and "results" not in row:
        return (
            f"{where} lists 'modalities' without their 'results'; give one "
            "{modality, finding} per technique tested"
        )
    if not _one_of(row.get("finding"), FINDINGS):
        return (
            f"{where} has an unknown finding {row.get('finding')!r} (one of {', '.join(FINDINGS)})"
        )
    if not isinstance(row.get("direct"), bool):
        return f"{where} must say whether it is direct (true or false)"
    if row["direct"] is False and not str(row.get("indirect_because") or "").strip():
        return f"{where} is indirect but does not say why (indirect_because)"
    if not _one_of(row.get("comparator"), COMPARATORS):
        return (
            f"{where} has an unknown comparator {row.get('comparator')!r} "
            f"(one of {', '.join(COMPARATORS)})"
        )
    if row.get("certainty") is not None and not _one_of(row.get("certainty"), CERTAINTIES):
        return (
            f"{where} has an unknown certainty {row.get('certainty')!r} "
            f"(one of {', '.join(CERTAINTIES)})"
        )
    for name in _ROW_TEXT:
        if row.get(name) is not None and not isinstance(row[name], str):
            return f"{where} has a {name} that is not text"
    results = row.get("results")
    if not isinstance(results, list) or not results:
        return f"{where} has no results (one {{modality, finding}} per technique tested)"
    seen = set()
    for result in results:
        if not isinstance(result, dict):
            return f"{where} has a result that is not a {{modality, finding}} table"
        if result.get("modality") not in modalities:
            return f"{where} names an unknown modality {result.get('modality')!r}"
        if result["modality"] in seen:
            return f"{where} gives {result['modality']!r} two results"
        seen.add(result["modality"])
        if not _one_of(result.get("finding"), FINDINGS):
            return (
                f"{where} has an unknown finding {result.get('finding')!r} for "
                f"{result['modality']!r} (one of {', '.join(FINDINGS)})"
            )
    return None


def kb_problem(meta: Any, conditions: Collection[str], modalities: Collection[str]) -> str | None:
    """Return what is wrong with a record's ``kb`` block (design, size, rows), or None."""
    if meta is None:
        return None
    if not isinstance(meta, dict):
        return "has a 'kb' block that is not an object"
    if meta.get("n") is not None and (
        isinstance(meta["n"], bool) or not isinstance(meta["n"], int)
    ):
        return f"has a size n {meta['n']!r} that is not a whole number"
    supersedes = meta.get("supersedes")
    if supersedes is not None and not (
        isinstance(supersedes, list) and all(isinstance(k, str) and k for k in supersedes)
    ):
        return "has 'supersedes' that is not a list of citation keys"
    rows = meta.get("evidence")
    if rows is None:
        return None
    if not isinstance(rows, list):
        return "has 'evidence' that is not a list of rows"
    for row in rows:
        if problem := row_problem(row, conditions, modalities):
            return problem
    return None


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
    if meta.get("supersedes"):
        fields["supersedes"] = list(meta["supersedes"])
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
        if reference.supersedes:
            meta["supersedes"] = list(reference.supersedes)
        meta.update(copy.deepcopy(reference.curation or {}))
        if meta:
            record["kb"] = meta
    return record
