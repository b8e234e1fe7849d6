"""Grades, workings and map cells computed once per store generation and kept in the store.

Every write through the library service calls ``refresh`` in the same transaction as it
bumps the generation and updates the index; pages read the stored summaries, so a page's cost
follows what it shows, not the library's size. A store written another way (an old store, a
bulk load) is refreshed the first time a page finds its summaries stale.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, select

from kb import db, grading
from kb.models import (
    Condition,
    Evidence,
    EvidenceModalityLink,
    GradeSummary,
    Modality,
    Reference,
    StoreMeta,
)

Json = dict[str, Any]
_MARK = "summaries"  # StoreMeta name: the generation the summaries were computed for


def _superseded_scan(session: Session) -> dict[str, str]:
    from sqlalchemy import func

    query = select(Reference.key, Reference.supersedes).where(
        func.json_array_length(Reference.supersedes) > 0
    )
    return {old: new for new, olds in session.exec(query) for old in olds or []}


def superseded_by(session: Session) -> dict[str, str]:
    """Return, for each superseded reference key, the key of the review that updates it.

    Kept with the summaries (one row) so a page does not scan every reference for it.
    """
    if _fresh(session):
        found = session.get(GradeSummary, ("", ""))
        if found is not None:
            return dict(found.data.get("superseded_by") or {})
    return _superseded_scan(session)


def _fresh(session: Session) -> bool:
    mark = session.get(StoreMeta, _MARK)
    return mark is not None and mark.value == str(db.generation(session))


def lean_rows(
    session: Session, *where: Any, newer: dict[str, str] | None = None
) -> list[tuple[str, grading.Row, list[tuple[str, str]]]]:
    """Load what the rule needs of rows: (condition, row, [(technique, finding)])."""
    newer = superseded_by(session) if newer is None else newer
    query = (
        select(
            Evidence.id,
            Condition.slug,
            Evidence.finding,
            Evidence.direct,
            Evidence.indirect_because,
            Evidence.comparator,
            Evidence.certainty,
            Reference.key,
            Reference.design,
        )
        .join(Reference, Evidence.reference_id == Reference.id)  # type: ignore[arg-type]
        .join(Condition, Evidence.condition_id == Condition.id)  # type: ignore[arg-type]
        .where(*where)
    )
    links = select(
        EvidenceModalityLink.evidence_id, Modality.slug, EvidenceModalityLink.finding
    ).join(Modality, EvidenceModalityLink.modality_id == Modality.id)  # type: ignore[arg-type]
    if where:
        chosen = query.with_only_columns(Evidence.id)  # type: ignore[arg-type]
        links = links.where(EvidenceModalityLink.evidence_id.in_(chosen))  # type: ignore[union-attr]
    results: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for evidence_id, slug, finding in session.exec(
        links.order_by(EvidenceModalityLink.evidence_id, EvidenceModalityLink.position)
    ):
        results[evidence_id].append((slug, finding))
    rows = []
    for (
        ev_id,
        condition,
        finding,
        direct,
        because,
        comparator,
        certainty,
        key,
        design,
    ) in session.exec(query):
        row = grading.Row(
            design=design,
            finding=finding,
            key=key,
            direct=bool(direct),
            indirect_because=because,
            comparator=comparator,
            certainty=certainty,
            superseded_by=newer.get(key, ""),
        )
        rows.append((condition, row, results.get(ev_id, [])))
    return rows


def summarise(rows: list[grading.Row], harm: dict[str, list[str]]) -> Json:
    """Return a stored summary: the grade without its per-row lists, with totals and harm."""
    graded = grading.grade(rows).as_json()
    groups = Counter(w["group"] for w in graded.pop("counting") + graded.pop("not_counting"))
    graded["groups"] = dict(groups)
    graded["studies"] = len({r.key for r in rows})
    graded["rests_on"] = len({r.key for r in rows if r.counts})
    graded["harm_techniques"] = harm
    return graded


def compute(session: Session) -> dict[tuple[str, str], Json]:
    """Grade every condition and every condition x technique cell of the store."""
    newer = _superseded_scan(session)
    by_condition: dict[str, list[grading.Row]] = defaultdict(list)
    by_cell: dict[tuple[str, str], list[grading.Row]] = defaultdict(list)
    harm: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(dict)
    technique: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for condition, row, results in lean_rows(session, newer=newer):
        by_condition[condition].append(row)
        harmed = [slug for slug, finding in results if finding == "harm"]
        if row.counts and (row.finding == "harm" or harmed):
            harm[(condition, "")].setdefault(row.key, []).extend(harmed)
        for slug, finding in results:
            cell = replace(row, finding=finding)
            by_cell[(condition, slug)].append(cell)
            if cell.counts and finding == "harm":
                harm[(condition, slug)].setdefault(row.key, []).append(slug)
            keys, conditions = technique[slug]
            keys.add(row.key)
            conditions.add(condition)
    out: dict[tuple[str, str], Json] = {}
    for condition, rows in by_condition.items():
        out[(condition, "")] = summarise(rows, harm.get((condition, ""), {}))
    for (condition, slug), rows in by_cell.items():
        out[(condition, slug)] = summarise(rows, harm.get((condition, slug), {}))
        out[(condition, slug)]["result_findings"] = dict(Counter(r.finding for r in rows))
    for slug, (keys, conditions) in technique.items():
        out[("", slug)] = {"studies": len(keys), "conditions": len(conditions)}
    out[("", "")] = {"superseded_by": newer}
    return out


def refresh(session: Session) -> None:
    """Recompute every summary for the store's current generation (inside the write)."""
    session.flush()
    computed = compute(session)
    session.execute(delete(GradeSummary))
    items = [{"condition": c, "modality": m, "data": d} for (c, m), d in computed.items()]
    for start in range(0, len(items), 5000):
        session.execute(insert(GradeSummary.__table__), items[start : start + 5000])  # type: ignore[attr-defined]
    mark = session.get(StoreMeta, _MARK)
    value = str(db.generation(session))
    if mark is None:
        session.add(StoreMeta(name=_MARK, value=value))
    else:
        mark.value = value
    session.flush()


def load(session: Session) -> dict[tuple[str, str], Json]:
    """Return every stored summary, refreshing them first when the store has moved on."""
    if not _fresh(session):
        refresh(session)
        session.commit()
    return {(s.condition, s.modality): s.data for s in session.exec(select(GradeSummary))}


def load_one(session: Session, condition: str, modality: str = "") -> Json | None:
    """Return one stored summary (a condition's, a cell's, or a technique's totals)."""
    if not _fresh(session):
        return load(session).get((condition, modality))
    found = session.get(GradeSummary, (condition, modality))
    return found.data if found else None
