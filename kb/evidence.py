"""The read side of the knowledge base: what the condition, modality, reference and map pages show.

Every function takes a session and returns plain dictionaries (JSON-ready) built from the store;
grades come from ``kb.grading.grade`` over the rows shown, so a page and its rule never disagree.
Rows are ordered by evidence level (strongest first), then by year (newest first), then by key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import Session, select

from kb import grading
from kb.models import Condition, Evidence, EvidenceModalityLink, Modality, Reference

Json = dict[str, Any]


class NotFound(LookupError):
    """No condition, modality or reference has this slug or key."""

    def __init__(self, kind: str, name: str):
        self.kind = kind
        self.name = name
        super().__init__(f"no {kind} {name!r} in the library")


@dataclass(frozen=True)
class StudyRow:
    """One evidence row with what a table of studies shows about its reference."""

    key: str
    title: str
    authors: str
    year: int | None
    design: str
    design_label: str
    level: int
    size: int | None
    size_unit: str
    condition: str
    condition_name: str
    modalities: list[dict[str, str]] = field(default_factory=list)
    finding: str = ""
    finding_label: str = ""
    outcome: str = ""
    summary: str = ""

    def as_json(self) -> Json:
        return asdict(self)


def short_authors(authors: Sequence[dict[str, Any]]) -> str:
    """Return "Family", "Family and Family" or "Family et al." for a list of CSL names."""
    names = [str(a.get("family") or a.get("literal") or "").strip() for a in authors]
    names = [n for n in names if n]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


def _order(rows: Iterable[StudyRow]) -> list[StudyRow]:
    # Strongest design first; within a level the newest study first, as a reader scans.
    return sorted(rows, key=lambda r: (r.level, -(r.year or 0), r.key, r.condition))


def grade_of(rows: Iterable[StudyRow]) -> Json:
    """Grade study rows by the written rule and say how many studies it rests on."""
    rows = list(rows)
    result = grading.grade(grading.Row(design=r.design, finding=r.finding) for r in rows).as_json()
    result["studies"] = len({r.key for r in rows})
    return result


def _rows(session: Session, *where: Any) -> list[StudyRow]:
    """Load study rows with two column queries (no ORM objects: a page loads every row)."""
    query = (
        select(
            Evidence.id,
            Evidence.finding,
            Evidence.outcome,
            Evidence.summary,
            Evidence.position,
            Reference.key,
            Reference.title,
            Reference.authors,
            Reference.year,
            Reference.design,
            Reference.size,
            Reference.size_unit,
            Condition.slug,
            Condition.name,
        )
        .join(Reference, Evidence.reference_id == Reference.id)  # type: ignore[arg-type]
        .join(Condition, Evidence.condition_id == Condition.id)  # type: ignore[arg-type]
        .where(*where)
        .order_by(Evidence.reference_id, Evidence.position)
    )
    found = list(session.exec(query))
    ids = [r[0] for r in found]
    tested: dict[int, list[dict[str, str]]] = {}
    if ids:
        links = session.exec(
            select(EvidenceModalityLink.evidence_id, Modality.slug, Modality.name)
            .join(Modality, EvidenceModalityLink.modality_id == Modality.id)  # type: ignore[arg-type]
            .where(EvidenceModalityLink.evidence_id.in_(ids))  # type: ignore[union-attr]
            .order_by(Modality.name)
        )
        for evidence_id, slug, name in links:
            tested.setdefault(evidence_id, []).append({"slug": slug, "name": name})
    rows = []
    for (
        ev_id,
        finding,
        outcome,
        summary,
        _position,
        key,
        title,
        authors,
        year,
        design,
        size,
        size_unit,
        c_slug,
        c_name,
    ) in found:
        rows.append(
            StudyRow(
                key=key,
                title=title,
                authors=short_authors(authors or []),
                year=year,
                design=design,
                design_label=grading.DESIGN_LABELS.get(design, design or "not classified"),
                level=grading.level_of(design),
                size=size,
                size_unit=size_unit,
                condition=c_slug,
                condition_name=c_name,
                modalities=tested.get(ev_id, []),
                finding=finding,
                finding_label=grading.FINDING_LABELS.get(finding, finding),
                outcome=outcome,
                summary=summary,
            )
        )
    return rows


def _all_rows(session: Session) -> list[StudyRow]:
    return _rows(session)


def finding_design_counts(rows: Iterable[StudyRow]) -> Json:
    """Count rows by design (strongest first) x finding, with the labels a table needs."""
    rows = list(rows)
    counts = Counter((r.design, r.finding) for r in rows)
    designs = sorted({r.design for r in rows}, key=lambda d: (grading.level_of(d), d))
    return {
        "findings": [{"value": f, "label": grading.FINDING_LABELS[f]} for f in grading.FINDINGS],
        "designs": [
            {
                "value": d,
                "label": grading.DESIGN_LABELS.get(d, d or "not classified"),
                "level": grading.level_of(d),
                "counts": {f: counts[(d, f)] for f in grading.FINDINGS},
                "total": sum(counts[(d, f)] for f in grading.FINDINGS),
            }
            for d in designs
        ],
        "totals": {f: sum(counts[(d, f)] for d in designs) for f in grading.FINDINGS},
    }


def _facet(rows: Sequence[StudyRow], value_of, label_of, selected: Sequence[str]) -> list[Json]:  # type: ignore[no-untyped-def]
    counts: Counter[str] = Counter()
    labels: dict[str, str] = {}
    for row in rows:
        for value, label in zip(value_of(row), label_of(row), strict=True):
            counts[value] += 1
            labels[value] = label
    return [
        {"value": v, "label": labels[v], "count": n, "selected": v in selected}
        for v, n in sorted(counts.items(), key=lambda item: (-item[1], labels[item[0]]))
    ]


def _filtered(
    rows: Sequence[StudyRow], design: Sequence[str], modality: Sequence[str], finding: Sequence[str]
) -> list[StudyRow]:
    return [
        r
        for r in rows
        if (not design or r.design in design)
        and (not finding or r.finding in finding)
        and (not modality or any(m["slug"] in modality for m in r.modalities))
    ]


def _vocabulary_item(item: Condition | Modality) -> Json:
    data: Json = {"slug": item.slug, "name": item.name, "aliases": list(item.aliases or [])}
    data["description"] = item.description
    if isinstance(item, Condition):
        data["body_region"] = item.body_region
    return data


def conditions_overview(session: Session) -> list[Json]:
    """Return every condition with its number of studies and its grade, by name."""
    by_condition: dict[str, list[StudyRow]] = {}
    for row in _all_rows(session):
        by_condition.setdefault(row.condition, []).append(row)
    return [
        _overview_item(condition, by_condition.get(condition.slug, []))
        for condition in session.exec(select(Condition).order_by(Condition.name))
    ]


def _overview_item(condition: Condition, rows: list[StudyRow]) -> Json:
    item = _vocabulary_item(condition)
    item["studies"] = len({r.key for r in rows})
    item["rows"] = len(rows)
    item["grade"] = grade_of(rows)
    return item


def condition_page(
    session: Session,
    slug: str,
    *,
    design: Sequence[str] = (),
    modality: Sequence[str] = (),
    finding: Sequence[str] = (),
) -> Json:
    """Return a condition, its grade and the rule behind it, counts, and its study rows.

    The grade is always the condition's own (over every row); filters narrow the table, and
    a filtered view carries the grade of what it shows as ``selection_grade``.
    """
    condition = session.exec(select(Condition).where(Condition.slug == slug)).first()
    if condition is None:
        raise NotFound("condition", slug)
    rows = _order(_rows(session, Evidence.condition_id == condition.id))
    shown = _filtered(rows, design, modality, finding)
    filtered = bool(design or modality or finding)
    return {
        "condition": _vocabulary_item(condition),
        "grade": grade_of(rows),
        "selection_grade": grade_of(shown) if filtered else None,
        "rule": [{"grade": g, "when": w} for g, w in grading.RULE_TEXT],
        "levels": [{"level": n, "designs": d} for n, d in grading.LEVEL_TEXT],
        "counts": finding_design_counts(rows),
        "filters": {"design": list(design), "modality": list(modality), "finding": list(finding)},
        "facets": {
            "design": _facet(rows, lambda r: [r.design], lambda r: [r.design_label], design),
            "modality": _facet(
                rows,
                lambda r: [m["slug"] for m in r.modalities],
                lambda r: [m["name"] for m in r.modalities],
                modality,
            ),
            "finding": _facet(rows, lambda r: [r.finding], lambda r: [r.finding_label], finding),
        },
        "studies": len({r.key for r in rows}),
        "rows": [r.as_json() for r in shown],
        "keys": list(dict.fromkeys(r.key for r in shown)),
    }


def modalities_overview(session: Session) -> list[Json]:
    """Return every modality with the number of studies and conditions it has evidence for."""
    by_modality: dict[str, list[StudyRow]] = {}
    for row in _all_rows(session):
        for m in row.modalities:
            by_modality.setdefault(m["slug"], []).append(row)
    overview = []
    for modality in session.exec(select(Modality).order_by(Modality.name)):
        rows = by_modality.get(modality.slug, [])
        item = _vocabulary_item(modality)
        item["studies"] = len({r.key for r in rows})
        item["conditions"] = len({r.condition for r in rows})
        overview.append(item)
    return overview


def modality_page(session: Session, slug: str) -> Json:
    """Return a modality and, for each condition it has evidence for, the grade and the rows."""
    modality = session.exec(select(Modality).where(Modality.slug == slug)).first()
    if modality is None:
        raise NotFound("modality", slug)
    rows = [r for r in _all_rows(session) if any(m["slug"] == slug for m in r.modalities)]
    by_condition: dict[str, list[StudyRow]] = {}
    for row in rows:
        by_condition.setdefault(row.condition, []).append(row)
    conditions = []
    for condition_slug, condition_rows in sorted(
        by_condition.items(), key=lambda item: item[1][0].condition_name
    ):
        ordered = _order(condition_rows)
        conditions.append(
            {
                "slug": condition_slug,
                "name": ordered[0].condition_name,
                "grade": grade_of(ordered),
                "rows": [r.as_json() for r in ordered],
                "keys": list(dict.fromkeys(r.key for r in ordered)),
            }
        )
    return {
        "modality": _vocabulary_item(modality),
        "studies": len({r.key for r in rows}),
        "conditions": conditions,
        "keys": list(dict.fromkeys(r.key for r in _order(rows))),
    }


def reference_page(session: Session, key: str) -> Json:
    """Return a reference's full record, its links, and the evidence rows it carries."""
    reference = session.exec(select(Reference).where(Reference.key == key)).first()
    if reference is None:
        raise NotFound("reference", key)
    record = reference.model_dump(exclude={"id", "created", "updated", "extra"})
    record["design_label"] = grading.DESIGN_LABELS.get(reference.design, reference.design or "")
    record["level"] = grading.level_of(reference.design)
    record["authors_short"] = short_authors(reference.authors or [])
    links = {
        "doi": f"https://doi.org/{reference.doi}" if reference.doi else None,
        "pubmed": f"https://pubmed.ncbi.nlm.nih.gov/{reference.pmid}/" if reference.pmid else None,
        "pmc": (
            f"https://www.ncbi.nlm.nih.gov/pmc/articles/{reference.pmcid}/"
            if reference.pmcid
            else None
        ),
        "url": reference.url or None,
    }
    return {
        "reference": record,
        "links": links,
        "rows": [r.as_json() for r in _rows(session, Evidence.reference_id == reference.id)],
    }


def evidence_map(session: Session) -> Json:
    """Return the conditions x modalities grid: per cell the studies, findings balance and grade."""
    rows = _all_rows(session)
    cells: dict[tuple[str, str], list[StudyRow]] = {}
    for row in rows:
        for m in row.modalities:
            cells.setdefault((row.condition, m["slug"]), []).append(row)
    used = {m for _, m in cells}
    modalities = [
        {"slug": m.slug, "name": m.name}
        for m in session.exec(select(Modality).order_by(Modality.name))
        if m.slug in used
    ]
    grid = []
    for condition in session.exec(select(Condition).order_by(Condition.name)):
        line = []
        for modality in modalities:
            cell_rows = cells.get((condition.slug, modality["slug"]), [])
            findings = Counter(r.finding for r in cell_rows)
            line.append(
                {
                    "modality": modality["slug"],
                    "count": len({r.key for r in cell_rows}),
                    "findings": {f: findings[f] for f in grading.FINDINGS if findings[f]},
                    "grade": grade_of(cell_rows) if cell_rows else None,
                    "keys": list(dict.fromkeys(r.key for r in _order(cell_rows))),
                }
            )
        grid.append({"slug": condition.slug, "name": condition.name, "cells": line})
    return {
        "modalities": modalities,
        "conditions": grid,
        "finding_labels": dict(grading.FINDING_LABELS),
        "grade_labels": dict(grading.GRADE_LABELS),
    }


__all__ = [
    "NotFound",
    "StudyRow",
    "condition_named",
    "condition_page",
    "conditions_overview",
    "evidence_map",
    "grade_of",
    "modalities_overview",
    "modality_page",
    "reference_page",
    "reference_summaries",
]


def reference_summaries(session: Session, keys: Sequence[str]) -> dict[str, Json]:
    """Return the short record (authors, title, journal, year, volume, pages, DOI) of each key."""
    wanted = [k for k in dict.fromkeys(keys) if k]
    if not wanted:
        return {}
    rows = session.exec(select(Reference).where(Reference.key.in_(wanted)))  # type: ignore[attr-defined]
    return {
        r.key: {
            "key": r.key,
            "authors": short_authors(r.authors or []),
            "title": r.title,
            "container_title": r.container_title,
            "year": r.year,
            "volume": r.volume,
            "issue": r.issue,
            "page": r.page,
            "doi": r.doi,
        }
        for r in rows
    }


def condition_named(session: Session, text: str) -> Json | None:
    """Return the overview of the condition a query names (by name, slug or alias), if any."""
    words = " ".join(text.casefold().split())
    if not words:
        return None
    # Names are matched on the conditions table and only the named condition's rows are read:
    # the search page asks this on every request (reading every row cost ~1 s at 5,000).
    for condition in session.exec(select(Condition).order_by(Condition.name)):
        short = condition.name.split("(")[0]
        names = [
            condition.name,
            short,
            condition.slug.replace("-", " "),
            *(condition.aliases or []),
        ]
        folded = {" ".join(n.casefold().split()) for n in names}
        # A query that holds a condition's name or alias as whole words ("TMJ massage") names it.
        if any(n and f" {n} " in f" {words} " for n in folded):
            return _overview_item(condition, _rows(session, Condition.id == condition.id))
    return None
