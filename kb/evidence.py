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

from sqlalchemy import func
from sqlmodel import Session, select

from kb import grading
from kb.models import Condition, Evidence, EvidenceModalityLink, Modality, Reference
from kb.provenance import provenance

Json = dict[str, Any]


class NotFound(LookupError):
    """No condition, modality or reference has this slug or key."""

    def __init__(self, kind: str, name: str):
        self.kind = kind
        self.name = name
        super().__init__(f"no {kind} {name!r} in the library")


@dataclass(frozen=True)
class StudyRow:
    """One evidence row with what a table of studies shows about it and its reference."""

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
    population: str = ""
    direct: bool = True
    indirect_because: str = ""
    comparator: str = ""
    comparator_label: str = ""
    outcome: str = ""
    # One {modality, name, finding, finding_label} per technique tested, in the curator's order.
    results: list[dict[str, str]] = field(default_factory=list)
    modalities: list[dict[str, str]] = field(default_factory=list)
    finding: str = ""
    finding_label: str = ""
    certainty: str = ""
    certainty_label: str = ""
    summary: str = ""
    note: str = ""  # what the curators want a reader to see about the study
    superseded_by: str = ""

    def result_for(self, modality: str) -> str:
        """Return the row's finding for one technique ("" when it did not test it)."""
        return next((r["finding"] for r in self.results if r["modality"] == modality), "")

    def grading_row(self, modality: str | None = None) -> grading.Row:
        """Return what the rule needs; in a cell the finding is the technique's result."""
        return grading.Row(
            design=self.design,
            finding=self.result_for(modality) if modality else self.finding,
            key=self.key,
            direct=self.direct,
            indirect_because=self.indirect_because,
            comparator=self.comparator,
            certainty=self.certainty,
            superseded_by=self.superseded_by,
        )

    def as_json(self, modality: str | None = None) -> Json:
        data = asdict(self)
        row = self.grading_row(modality)
        data["group"] = row.group
        data["reason"] = row.reason()
        data["counts"] = row.counts
        if modality:
            data["result"] = row.finding
            data["result_label"] = grading.FINDING_LABELS.get(row.finding, row.finding)
        return data


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


def grade_of(rows: Iterable[StudyRow], modality: str | None = None) -> Json:
    """Grade study rows by the written rule, with its workings and the studies it rests on."""
    rows = list(rows)
    result = grading.grade(r.grading_row(modality) for r in rows).as_json()
    result["studies"] = len({r.key for r in rows})
    result["rests_on"] = len({w["key"] for w in result["counting"]})
    return result


def groups_of(rows: Sequence[StudyRow], modality: str | None = None) -> list[Json]:
    """Return the rows grouped as a page shows them: those that count, then each reason."""
    grouped: dict[str, list[Json]] = {}
    for row in rows:
        data = row.as_json(modality)
        grouped.setdefault(data["group"], []).append(data)
    return [
        {"group": name, "label": grading.GROUP_LABELS[name], "rows": grouped[name]}
        for name in grading.GROUP_ORDER
        if grouped.get(name)
    ]


def superseded_by(session: Session) -> dict[str, str]:
    """Return, for each superseded reference key, the key of the review that updates it."""
    query = select(Reference.key, Reference.supersedes).where(
        func.json_array_length(Reference.supersedes) > 0
    )
    return {old: new for new, olds in session.exec(query) for old in olds or []}


_COLUMNS = (
    Evidence.id,
    Evidence.finding,
    Evidence.population,
    Evidence.direct,
    Evidence.indirect_because,
    Evidence.comparator,
    Evidence.outcome,
    Evidence.certainty,
    Evidence.summary,
    Reference.key,
    Reference.title,
    Reference.authors,
    Reference.year,
    Reference.design,
    Reference.size,
    Reference.size_unit,
    Reference.curation,
    Condition.slug,
    Condition.name,
)


def _rows(session: Session, *where: Any) -> list[StudyRow]:
    """Load study rows with two column queries (no ORM objects: a page may load many rows)."""
    query = (
        select(*_COLUMNS)
        .join(Reference, Evidence.reference_id == Reference.id)  # type: ignore[arg-type]
        .join(Condition, Evidence.condition_id == Condition.id)  # type: ignore[arg-type]
        .where(*where)
        .order_by(Evidence.reference_id, Evidence.position)
    )
    found = list(session.exec(query))
    tested: dict[int, list[dict[str, str]]] = {}
    ids = [r[0] for r in found]
    for start in range(0, len(ids), 30_000):
        links = session.exec(
            select(
                EvidenceModalityLink.evidence_id,
                Modality.slug,
                Modality.name,
                EvidenceModalityLink.finding,
            )
            .join(Modality, EvidenceModalityLink.modality_id == Modality.id)  # type: ignore[arg-type]
            .where(EvidenceModalityLink.evidence_id.in_(ids[start : start + 30_000]))  # type: ignore[union-attr]
            .order_by(EvidenceModalityLink.evidence_id, EvidenceModalityLink.position)
        )
        for evidence_id, slug, name, finding in links:
            tested.setdefault(evidence_id, []).append(
                {
                    "modality": slug,
                    "name": name,
                    "finding": finding,
                    "finding_label": grading.FINDING_LABELS.get(finding, finding),
                }
            )
    newer = superseded_by(session) if found else {}
    rows = []
    for (
        ev_id,
        finding,
        population,
        direct,
        indirect_because,
        comparator,
        outcome,
        certainty,
        summary,
        key,
        title,
        authors,
        year,
        design,
        size,
        size_unit,
        curation,
        c_slug,
        c_name,
    ) in found:
        results = tested.get(ev_id, [])
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
                population=population,
                direct=bool(direct),
                indirect_because=indirect_because,
                comparator=comparator,
                comparator_label=grading.COMPARATOR_LABELS.get(comparator, comparator),
                outcome=outcome,
                results=results,
                modalities=[{"slug": r["modality"], "name": r["name"]} for r in results],
                finding=finding,
                finding_label=grading.FINDING_LABELS.get(finding, finding),
                certainty=certainty,
                certainty_label=grading.CERTAINTY_LABELS.get(certainty, certainty),
                summary=summary,
                note=str((curation or {}).get("notes") or ""),
                superseded_by=newer.get(key, ""),
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
    overview = []
    for condition in session.exec(select(Condition).order_by(Condition.name)):
        rows = by_condition.get(condition.slug, [])
        item = _vocabulary_item(condition)
        item["studies"] = len({r.key for r in rows})
        item["rows"] = len(rows)
        item["grade"] = grade_of(rows)
        item["harm"] = _harm(rows)
        overview.append(item)
    return overview


def rule() -> Json:
    """Return the grade rule as pages show it: the intro, the eight lines, the levels."""
    return {
        "intro": grading.RULE_INTRO,
        "lines": [
            {"grade": g, "slug": grading.grade_of_line(n), "when": w}
            for n, (g, w) in enumerate(grading.RULE_TEXT, 1)
        ],
        "levels": [{"level": n, "designs": d} for n, d in grading.LEVEL_TEXT],
    }


def _harm(rows: Sequence[StudyRow], modality: str | None = None) -> list[Json]:
    """Return the counting rows that found harm (for a technique, in a cell) as warnings."""
    warnings = []
    for row in rows:
        if not row.grading_row(modality).counts:
            continue
        harmed = [
            r for r in row.results if r["finding"] == "harm" and modality in (None, r["modality"])
        ]
        if row.finding == "harm" or harmed:
            warnings.append(
                {
                    "key": row.key,
                    "authors": row.authors,
                    "year": row.year,
                    "techniques": [r["name"] for r in harmed],
                    "summary": row.summary,
                }
            )
    return warnings


def condition_page(
    session: Session,
    slug: str,
    *,
    design: Sequence[str] = (),
    modality: Sequence[str] = (),
    finding: Sequence[str] = (),
) -> Json:
    """Return a condition, its grade with its workings, counts, and its rows grouped by reason.

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
        "harm": _harm(rows),
        "selection_grade": grade_of(shown) if filtered else None,
        "rule": rule(),
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
        "total_rows": len(rows),
        "groups": groups_of(shown),
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


def _cell(condition: Json, modality: Json, rows: Sequence[StudyRow]) -> Json:
    """Return one condition x technique cell: its own grade, harm, and grouped rows."""
    ordered = _order(rows)
    slug = modality["slug"]
    return {
        "slug": condition["slug"],
        "name": condition["name"],
        "modality": slug,
        "modality_name": modality["name"],
        "grade": grade_of(ordered, slug),
        "harm": _harm(ordered, slug),
        "groups": groups_of(ordered, slug),
        "rows": [r.as_json(slug) for r in ordered],
        "keys": list(dict.fromkeys(r.key for r in ordered)),
    }


def modality_page(session: Session, slug: str) -> Json:
    """Return a technique and, per condition it was tested for, the cell's grade and rows."""
    modality = session.exec(select(Modality).where(Modality.slug == slug)).first()
    if modality is None:
        raise NotFound("modality", slug)
    tested = select(EvidenceModalityLink.evidence_id).where(
        EvidenceModalityLink.modality_id == modality.id
    )
    rows = _rows(session, Evidence.id.in_(tested))  # type: ignore[union-attr]
    by_condition: dict[str, list[StudyRow]] = {}
    for row in rows:
        by_condition.setdefault(row.condition, []).append(row)
    item = _vocabulary_item(modality)
    conditions = [
        _cell({"slug": c, "name": r[0].condition_name}, item, r)
        for c, r in sorted(by_condition.items(), key=lambda pair: pair[1][0].condition_name)
    ]
    return {
        "modality": item,
        "studies": len({r.key for r in rows}),
        "rule": rule(),
        "conditions": conditions,
        "keys": list(dict.fromkeys(r.key for r in _order(rows))),
    }


def cell_page(session: Session, condition_slug: str, modality_slug: str) -> Json:
    """Return one evidence-map cell: the technique's grade for the condition, with its rows."""
    condition = session.exec(select(Condition).where(Condition.slug == condition_slug)).first()
    if condition is None:
        raise NotFound("condition", condition_slug)
    modality = session.exec(select(Modality).where(Modality.slug == modality_slug)).first()
    if modality is None:
        raise NotFound("modality", modality_slug)
    tested = select(EvidenceModalityLink.evidence_id).where(
        EvidenceModalityLink.modality_id == modality.id
    )
    rows = _rows(
        session,
        Evidence.condition_id == condition.id,
        Evidence.id.in_(tested),  # type: ignore[union-attr]
    )
    cell = _cell(_vocabulary_item(condition), _vocabulary_item(modality), rows)
    cell["condition"] = _vocabulary_item(condition)
    cell["technique"] = _vocabulary_item(modality)
    cell["rule"] = rule()
    return cell


def reference_page(session: Session, key: str) -> Json:
    """Return a reference's full record, its links, its evidence rows and its provenance."""
    reference = session.exec(select(Reference).where(Reference.key == key)).first()
    if reference is None:
        raise NotFound("reference", key)
    record = reference.model_dump(exclude={"id", "created", "updated", "extra"})
    record["design_label"] = grading.DESIGN_LABELS.get(reference.design, reference.design or "")
    record["level"] = grading.level_of(reference.design)
    record["authors_short"] = short_authors(reference.authors or [])
    record["superseded_by"] = superseded_by(session).get(reference.key, "")
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
        "provenance": provenance(reference.curation),
        "rows": [r.as_json() for r in _rows(session, Evidence.reference_id == reference.id)],
    }


def evidence_map(session: Session) -> Json:
    """Return the conditions x techniques grid: per cell the studies, results and own grade."""
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
            slug = modality["slug"]
            cell_rows = cells.get((condition.slug, slug), [])
            findings = Counter(r.result_for(slug) for r in cell_rows)
            line.append(
                {
                    "modality": slug,
                    "count": len({r.key for r in cell_rows}),
                    "findings": {f: findings[f] for f in grading.FINDINGS if findings[f]},
                    "grade": grade_of(cell_rows, slug) if cell_rows else None,
                    "harm": bool(_harm(cell_rows, slug)),
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
    "cell_page",
    "condition_named",
    "condition_page",
    "conditions_overview",
    "evidence_map",
    "grade_of",
    "modalities_overview",
    "modality_page",
    "reference_page",
    "reference_summaries",
    "rule",
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
    for condition in conditions_overview(session):
        short = condition["name"].split("(")[0]
        names = [
            condition["name"],
            short,
            condition["slug"].replace("-", " "),
            *condition["aliases"],
        ]
        folded = {" ".join(n.casefold().split()) for n in names}
        # A query that holds a condition's name or alias as whole words ("TMJ massage") names it.
        if any(n and f" {n} " in f" {words} " for n in folded):
            return condition
    return None
