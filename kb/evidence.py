"""The read side of the knowledge base: what the condition, modality, reference and map pages show.

Every function takes a session and returns plain dictionaries (JSON-ready) built from the store.
Grades come from ``kb.grading.grade``, computed once per store generation and kept in the store
(``kb.summaries``); study lists are paged in SQL, with totals and facet counts from aggregates,
so a page costs what it shows. Rows are grouped (counting first, then each reason a row does not
count), then ordered by evidence level (strongest first), year (newest first) and key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from kb import grading, summaries
from kb.models import Condition, Evidence, EvidenceModalityLink, Modality, Reference
from kb.provenance import provenance
from kb.studies import StudyRow, counts_table, group_rank, groups_of, load_rows, short_authors
from kb.summaries import superseded_by

Json = dict[str, Any]


class NotFound(LookupError):
    """No condition, modality or reference has this slug or key."""

    def __init__(self, kind: str, name: str):
        self.kind = kind
        self.name = name
        super().__init__(f"no {kind} {name!r} in the library")


def _vocabulary_item(item: Condition | Modality) -> Json:
    data: Json = {"slug": item.slug, "name": item.name, "aliases": list(item.aliases or [])}
    data["description"] = item.description
    if isinstance(item, Condition):
        data["body_region"] = item.body_region
    return data


def _empty_grade() -> Json:
    return summaries.summarise([], {})


def conditions_overview(session: Session) -> list[Json]:
    """Return every condition with its number of studies and its grade, by name."""
    stored = summaries.load(session)
    overview = []
    for condition in session.exec(select(Condition).order_by(Condition.name)):
        grade = stored.get((condition.slug, "")) or _empty_grade()
        item = _vocabulary_item(condition)
        item["studies"] = grade["studies"]
        item["rows"] = grade["rows"]
        item["grade"] = grade
        item["harm"] = sorted(grade["harm_techniques"])
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


def _harm(session: Session, condition_id: int, grade: Json) -> list[Json]:
    """Return the harm warnings of a grade: who found harm, with which technique, in a sentence."""
    return _harms(session, {condition_id: grade}).get(condition_id, [])


def _harms(session: Session, grades: dict[int, Json]) -> dict[int, list[Json]]:
    """Return the harm warnings of several conditions' grades (by condition id) in one query."""
    harmed: dict[int, dict[str, list[str]]] = {
        c: g["harm_techniques"] for c, g in grades.items() if g.get("harm_techniques")
    }
    if not harmed:
        return {}
    names = dict(session.exec(select(Modality.slug, Modality.name)).all())
    keys = sorted({k for found in harmed.values() for k in found})
    query = (
        select(
            Evidence.condition_id,
            Reference.key,
            Reference.authors,
            Reference.year,
            Evidence.summary,
        )
        .join(Evidence, Evidence.reference_id == Reference.id)  # type: ignore[arg-type]
        .where(
            Evidence.condition_id.in_(list(harmed)),  # type: ignore[union-attr]
            Reference.key.in_(keys),  # type: ignore[attr-defined]
        )
        .order_by(Evidence.condition_id, Reference.key, Evidence.position)
    )
    warnings: dict[int, list[Json]] = defaultdict(list)
    for condition_id, key, authors, year, summary in session.exec(query):
        techniques = harmed[condition_id].get(key)
        if techniques is None:  # a study that found harm for another of these conditions
            continue
        warnings[condition_id].append(
            {
                "key": key,
                "authors": short_authors(authors or []),
                "year": year,
                "techniques": [names.get(m, m) for m in techniques],
                "summary": summary,
            }
        )
    return dict(warnings)


def _tested(modality: Sequence[str], condition_id: int | None = None) -> Any:
    """Return the evidence ids that tested any of these techniques (a subquery)."""
    ids = select(Modality.id).where(Modality.slug.in_(list(modality)))  # type: ignore[attr-defined]
    query = select(EvidenceModalityLink.evidence_id).where(
        EvidenceModalityLink.modality_id.in_(ids)  # type: ignore[union-attr]
    )
    if condition_id is not None:  # a cell: one range of the (technique, condition) index
        query = query.where(EvidenceModalityLink.condition_id == condition_id)
    return query


def _listing(
    session: Session, where: list[Any], modality: str | None, page: int, per_page: int
) -> Json:
    """Return one page of rows, grouped, with each group's total from a store aggregate."""
    newer = superseded_by(session)
    rank = group_rank(newer)
    totals = dict(
        session.exec(
            select(rank, func.count())
            .select_from(Evidence)
            .join(Reference, Evidence.reference_id == Reference.id)  # type: ignore[arg-type]
            .where(*where)
            .group_by(rank)
        ).all()
    )
    total = sum(totals.values())
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = load_rows(
        session, *where, ordered=True, limit=per_page, offset=(page - 1) * per_page, newer=newer
    )
    return _listed(rows, totals, modality, page, per_page)


def _listed(
    rows: list[StudyRow], totals: dict[int, int], modality: str | None, page: int, per_page: int
) -> Json:
    """Return a page of loaded rows, grouped, with the totals of each group (by rank)."""
    total = sum(totals.values())
    pages = max(1, -(-total // per_page))
    groups = groups_of(rows, modality)
    for group in groups:
        group["total"] = totals.get(grading.GROUP_ORDER.index(group["group"]), len(group["rows"]))
    return {
        "groups": groups,
        "rows": [r.as_json(modality) for r in rows],
        "keys": list(dict.fromkeys(r.key for r in rows)),
        "shown_rows": total,
        "paging": {"page": page, "pages": pages, "per_page": per_page, "total": total},
    }


def _counts(session: Session, where: list[Any]) -> Json:
    """Count rows by design (strongest first) x finding, from one GROUP BY."""
    found = session.exec(
        select(Reference.design, Evidence.finding, func.count())
        .select_from(Evidence)
        .join(Reference, Evidence.reference_id == Reference.id)  # type: ignore[arg-type]
        .where(*where)
        .group_by(Reference.design, Evidence.finding)
    ).all()
    return counts_table({(d, f): n for d, f, n in found})


def _facet(pairs: Iterable[tuple[str, str, int]], selected: Sequence[str]) -> list[Json]:
    return [
        {"value": v, "label": label, "count": n, "selected": v in selected}
        for v, label, n in sorted(pairs, key=lambda p: (-p[2], p[1]))
        if n
    ]


def condition_page(
    session: Session,
    slug: str,
    *,
    design: Sequence[str] = (),
    modality: Sequence[str] = (),
    finding: Sequence[str] = (),
    page: int = 1,
    per_page: int = 100,
) -> Json:
    """Return a condition, its grade with its workings, counts, and a page of its rows, grouped.

    The grade is always the condition's own (over every row, kept in the store per
    generation); filters narrow the rows, and a filtered view carries the grade of what it
    shows as ``selection_grade``. Totals and facet counts come from store aggregates.
    """
    condition = session.exec(select(Condition).where(Condition.slug == slug)).first()
    if condition is None:
        raise NotFound("condition", slug)
    grade = summaries.load_one(session, slug) or _empty_grade()
    mine = [Evidence.condition_id == condition.id]
    where = list(mine)
    if design:
        where.append(Reference.design.in_(list(design)))  # type: ignore[attr-defined]
    if finding:
        where.append(Evidence.finding.in_(list(finding)))  # type: ignore[attr-defined]
    if modality:
        where.append(Evidence.id.in_(_tested(modality)))  # type: ignore[union-attr]
    filtered = bool(design or modality or finding)
    counts = _counts(session, mine)
    tested = session.exec(
        select(Modality.slug, Modality.name, func.count())
        .select_from(EvidenceModalityLink)
        .join(Modality, EvidenceModalityLink.modality_id == Modality.id)  # type: ignore[arg-type]
        .join(Evidence, EvidenceModalityLink.evidence_id == Evidence.id)  # type: ignore[arg-type]
        .where(*mine)
        .group_by(Modality.slug, Modality.name)
    ).all()
    listing = _listing(session, where, None, page, per_page)
    return {
        "condition": _vocabulary_item(condition),
        "grade": grade,
        "harm": _harm(session, condition.id or 0, grade),
        "selection_grade": (
            summaries.summarise([r for _, r, _ in summaries.lean_rows(session, *where)], {})
            if filtered
            else None
        ),
        "rule": rule(),
        "counts": counts,
        "filters": {"design": list(design), "modality": list(modality), "finding": list(finding)},
        "facets": {
            "design": _facet(
                ((d["value"], d["label"], d["total"]) for d in counts["designs"]), design
            ),
            "modality": _facet(tested, modality),
            "finding": _facet(
                (
                    (f["value"], f["label"], counts["totals"][f["value"]])
                    for f in counts["findings"]
                ),
                finding,
            ),
        },
        "studies": grade["studies"],
        "total_rows": grade["rows"],
        **listing,
    }


def modalities_overview(session: Session) -> list[Json]:
    """Return every modality with the number of studies and conditions it has evidence for."""
    stored = summaries.load(session)
    overview = []
    for modality in session.exec(select(Modality).order_by(Modality.name)):
        totals = stored.get(("", modality.slug)) or {"studies": 0, "conditions": 0}
        item = _vocabulary_item(modality)
        item["studies"] = totals["studies"]
        item["conditions"] = totals["conditions"]
        overview.append(item)
    return overview


# How many rows of each condition a technique page lists before linking to the cell's page.
TECHNIQUE_PAGE_ROWS = 10


def modality_page(session: Session, slug: str) -> Json:
    """Return a technique and, per condition it was tested for, the cell's grade and rows."""
    modality = session.exec(select(Modality).where(Modality.slug == slug)).first()
    if modality is None:
        raise NotFound("modality", slug)
    stored = summaries.load(session)
    item = _vocabulary_item(modality)
    # One aggregate and one windowed query for every cell of the technique, not one per cell.
    newer = superseded_by(session)
    rank = group_rank(newer)
    tested = Evidence.id.in_(_tested([slug]))  # type: ignore[union-attr]
    totals: dict[int, dict[int, int]] = defaultdict(dict)
    for condition_id, place, count in session.exec(
        select(Evidence.condition_id, rank, func.count())
        .select_from(Evidence)
        .join(Reference, Evidence.reference_id == Reference.id)  # type: ignore[arg-type]
        .where(tested)
        .group_by(Evidence.condition_id, rank)
    ):
        totals[condition_id][place] = count
    rows: dict[str, list[StudyRow]] = defaultdict(list)
    for row in load_rows(session, tested, per_condition=TECHNIQUE_PAGE_ROWS, newer=newer):
        rows[row.condition].append(row)
    cells = [
        (condition, stored[(condition.slug, slug)])
        for condition in session.exec(select(Condition).order_by(Condition.name))
        if (condition.slug, slug) in stored
    ]
    harms = _harms(session, {condition.id or 0: grade for condition, grade in cells})
    conditions = []
    keys: list[str] = []
    for condition, grade in cells:
        listing = _listed(
            rows[condition.slug], totals[condition.id or 0], slug, 1, TECHNIQUE_PAGE_ROWS
        )
        keys.extend(listing["keys"])
        conditions.append(
            {
                "slug": condition.slug,
                "name": condition.name,
                "modality": slug,
                "modality_name": modality.name,
                "grade": grade,
                "harm": harms.get(condition.id or 0, []),
                **listing,
            }
        )
    totals = stored.get(("", slug)) or {"studies": 0}
    return {
        "modality": item,
        "studies": totals["studies"],
        "rule": rule(),
        "conditions": conditions,
        "keys": list(dict.fromkeys(keys)),
    }


def cell_page(
    session: Session, condition_slug: str, modality_slug: str, *, page: int = 1, per_page: int = 100
) -> Json:
    """Return one evidence-map cell: the technique's grade for the condition, with its rows."""
    condition = session.exec(select(Condition).where(Condition.slug == condition_slug)).first()
    if condition is None:
        raise NotFound("condition", condition_slug)
    modality = session.exec(select(Modality).where(Modality.slug == modality_slug)).first()
    if modality is None:
        raise NotFound("modality", modality_slug)
    grade = summaries.load_one(session, condition_slug, modality_slug) or _empty_grade()
    where = [
        Evidence.condition_id == condition.id,
        Evidence.id.in_(_tested([modality_slug], condition.id)),  # type: ignore[union-attr]
    ]
    return {
        "slug": condition.slug,
        "name": condition.name,
        "modality": modality.slug,
        "modality_name": modality.name,
        "condition": _vocabulary_item(condition),
        "technique": _vocabulary_item(modality),
        "grade": grade,
        "harm": _harm(session, condition.id or 0, grade),
        "rule": rule(),
        **_listing(session, where, modality_slug, page, per_page),
    }


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
        "rows": [r.as_json() for r in load_rows(session, Evidence.reference_id == reference.id)],
    }


def evidence_map(session: Session) -> Json:
    """Return the conditions x techniques grid: per cell the studies, results and own grade."""
    stored = summaries.load(session)
    used = {m for c, m in stored if c and m}
    modalities = [
        {"slug": m.slug, "name": m.name}
        for m in session.exec(select(Modality).order_by(Modality.name))
        if m.slug in used
    ]
    grid = []
    for condition in session.exec(select(Condition).order_by(Condition.name)):
        line = []
        for modality in modalities:
            cell = stored.get((condition.slug, modality["slug"]))
            findings = (cell or {}).get("result_findings") or {}
            line.append(
                {
                    "modality": modality["slug"],
                    "count": cell["studies"] if cell else 0,
                    "findings": {f: findings[f] for f in grading.FINDINGS if findings.get(f)},
                    "grade": cell,
                    "harm": bool(cell and cell["harm_techniques"]),
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
