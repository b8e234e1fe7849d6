"""Study rows: one evidence row with its reference, as tables show it, loaded by column."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, select

from kb import grading
from kb.models import Condition, Evidence, EvidenceModalityLink, Modality, Reference
from kb.summaries import superseded_by

Json = dict[str, Any]


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
        # Shallow copies: asdict's deep copy dominated a page of a hundred rows.
        data = {name: getattr(self, name) for name in _FIELDS}
        data["results"] = [dict(r) for r in self.results]
        data["modalities"] = [dict(m) for m in self.modalities]
        row = self.grading_row(modality)
        data["group"] = row.group
        data["reason"] = row.reason()
        data["counts"] = row.counts
        if modality:
            data["result"] = row.finding
            data["result_label"] = grading.FINDING_LABELS.get(row.finding, row.finding)
        return data


_FIELDS = tuple(f.name for f in fields(StudyRow))


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


def group_rank(superseded: Collection[str]) -> Any:
    """Return a SQL expression: the row's place in GROUP_ORDER (counts first)."""
    rank = {name: n for n, name in enumerate(grading.GROUP_ORDER)}
    return case(
        (Reference.key.in_(list(superseded)), rank[grading.SUPERSEDED]),  # type: ignore[attr-defined]
        (Evidence.direct == False, rank[grading.INDIRECT]),
        (Evidence.comparator == "active", rank[grading.ACTIVE]),
        (Evidence.comparator == "other-massage", rank[grading.OTHER_MASSAGE]),
        (Evidence.comparator.in_(grading.COUNTING_COMPARATORS), rank["counts"]),  # type: ignore[attr-defined]
        else_=rank[grading.NO_COMPARATOR],
    )


def level_rank() -> Any:
    """Return a SQL expression: the evidence level of the row's design."""
    return case(grading.LEVELS, value=Reference.design, else_=grading.UNKNOWN_LEVEL)


def load_rows(
    session: Session,
    *where: Any,
    ordered: bool = False,
    limit: int | None = None,
    offset: int = 0,
    per_condition: int | None = None,
    newer: dict[str, str] | None = None,
) -> list[StudyRow]:
    """Load study rows with two column queries; ``ordered`` sorts in SQL as pages show them.

    Ordered: by group (counting rows first), level, newest year, key; so a page of rows is
    the same slice as the whole list would show. ``per_condition`` keeps the first N rows of
    each condition in that order (one query for a technique's every cell), by condition id.
    """
    newer = superseded_by(session) if newer is None else newer
    query = (
        select(*_COLUMNS)
        .join(Reference, Evidence.reference_id == Reference.id)  # type: ignore[arg-type]
        .join(Condition, Evidence.condition_id == Condition.id)  # type: ignore[arg-type]
        .where(*where)
    )
    order = (
        group_rank(newer),
        level_rank(),
        func.coalesce(Reference.year, 0).desc(),
        Reference.key,
        Condition.slug,
        Evidence.position,  # a total order, so pages of rows never repeat or skip a tie
        Evidence.id,
    )
    if per_condition is not None:
        # Number the rows on narrow columns only, then read the wide ones of the chosen few.
        place = func.row_number().over(partition_by=Evidence.condition_id, order_by=order)
        inner = query.with_only_columns(
            Evidence.id.label("chosen"),  # type: ignore[union-attr]
            Evidence.condition_id.label("chosen_condition"),  # type: ignore[attr-defined]
            place.label("place"),
        ).subquery()
        query = (
            select(*_COLUMNS)
            .join(Reference, Evidence.reference_id == Reference.id)  # type: ignore[arg-type]
            .join(Condition, Evidence.condition_id == Condition.id)  # type: ignore[arg-type]
            .join(inner, inner.c.chosen == Evidence.id)
            .where(inner.c.place <= per_condition)
            .order_by(inner.c.chosen_condition, inner.c.place)
        )
        found = list(session.exec(query))
    elif ordered and limit is not None:
        # Sort and slice on narrow columns, then read the wide ones of that page only.
        chosen = [
            row[0]
            for row in session.exec(
                query.with_only_columns(Evidence.id)  # type: ignore[arg-type]
                .order_by(*order)
                .offset(offset)
                .limit(limit)
            )
        ]
        slot = {evidence_id: n for n, evidence_id in enumerate(chosen)}
        query = query.where(Evidence.id.in_(chosen))  # type: ignore[union-attr]
        found = sorted(session.exec(query), key=lambda r: slot[r[0]])
    else:
        query = query.order_by(*(order if ordered else (Evidence.reference_id, Evidence.position)))
        if limit is not None:
            query = query.offset(offset).limit(limit)
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


def finding_design_counts(rows: Iterable[StudyRow]) -> Json:
    """Count rows by design (strongest first) x finding, with the labels a table needs."""
    return counts_table(Counter((r.design, r.finding) for r in rows))


def counts_table(counts: Mapping[tuple[str, str], int]) -> Json:
    """Lay out (design, finding) -> rows as a table: designs strongest first, with labels."""
    designs = sorted({d for d, _ in counts}, key=lambda d: (grading.level_of(d), d))
    return {
        "findings": [{"value": f, "label": grading.FINDING_LABELS[f]} for f in grading.FINDINGS],
        "designs": [
            {
                "value": d,
                "label": grading.DESIGN_LABELS.get(d, d or "not classified"),
                "level": grading.level_of(d),
                "counts": {f: counts.get((d, f), 0) for f in grading.FINDINGS},
                "total": sum(counts.get((d, f), 0) for f in grading.FINDINGS),
            }
            for d in designs
        ],
        "totals": {f: sum(counts.get((d, f), 0) for d in designs) for f in grading.FINDINGS},
    }
