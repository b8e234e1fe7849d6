"""Turn store rows into index documents, and load the rows a page of hits shows (no Whoosh here).

A reference's document holds one full-text ``text`` field (title, abstract, evidence summaries and
outcomes, keywords, journal, authors), small fields for scopes and boosts (``title``, ``authors``,
``journal``, ``keywords``), and ``topics``: the slugs of its conditions and modalities only. Names
and aliases of conditions and modalities live once, in the vocabulary's own documents; a query
word is expanded to the slugs whose names or aliases hold it (``kb.search.parser``), so aliases are not
copied into every reference. Nothing but ``key`` and ``kind`` is stored in the index: titles,
years and snippet text come from the store by key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from kb.models import Condition, Evidence, EvidenceModalityLink, Modality, Reference


@dataclass(frozen=True)
class Term:
    """A condition or modality as the index sees it."""

    slug: str
    name: str
    aliases: tuple[str, ...]
    description: str

    def words(self) -> str:
        return " ; ".join([self.slug.replace("-", " "), self.name, *self.aliases])


def vocabulary(session: Session) -> tuple[dict[int, Term], dict[int, Term]]:
    """Return the conditions and the modalities by row id."""

    def load(model: type[Condition | Modality]) -> dict[int, Term]:
        rows = session.exec(
            select(model.id, model.slug, model.name, model.aliases, model.description)
        )
        return {i: Term(s, n, tuple(a or ()), d or "") for i, s, n, a, d in rows}

    return load(Condition), load(Modality)


def vocabulary_signature(session: Session) -> str:
    """Return a hash of every name, alias and description (the vocabulary documents' content)."""
    conditions, modalities = vocabulary(session)
    lines = sorted(
        f"{kind}|{t.words()}|{t.description}"
        for kind, terms in (("c", conditions), ("m", modalities))
        for t in terms.values()
    )
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()


def packed(
    kind: str,
    design: str,
    findings: Iterable[str],
    conditions: Iterable[str],
    modalities: Iterable[str],
    year: int | None,
) -> bytes:
    """Pack a document's facet values into one column value."""
    parts = [
        kind,
        design,
        ",".join(sorted(set(findings))),
        ",".join(sorted(set(conditions))),
        ",".join(sorted(set(modalities))),
        str(year if year is not None else ""),
    ]
    return "|".join(parts).encode()


def author_names(authors: list[dict[str, Any]] | None) -> str:
    """Join CSL names as a person reads them ("Karen J Sherman; …")."""
    names = []
    for a in authors or []:
        parts = (a.get(p) for p in ("given", "non-dropping-particle", "family"))
        names.append(a.get("literal") or " ".join(str(p) for p in parts if p))
    return "; ".join(n for n in names if n)


_REFERENCE_COLUMNS = (
    Reference.id,
    Reference.key,
    Reference.title,
    Reference.authors,
    Reference.container_title,
    Reference.year,
    Reference.abstract,
    Reference.keywords,
    Reference.design,
    Reference.doi,
    Reference.pmid,
)


def _rows(session: Session, statement: Any) -> Any:
    """Run a select of columns in the session's transaction, without the ORM's row handling."""
    return session.connection().execute(statement)


def _evidence(
    session: Session, reference_ids: Sequence[int]
) -> tuple[dict[int, list[tuple[int, int, str, str, str]]], dict[int, list[int]]]:
    rows: dict[int, list[tuple[int, int, str, str, str]]] = {}
    for e in _rows(
        session,
        select(
            Evidence.id,
            Evidence.reference_id,
            Evidence.condition_id,
            Evidence.finding,
            Evidence.outcome,
            Evidence.summary,
        )
        .where(Evidence.reference_id.in_(list(reference_ids)))
        .order_by(Evidence.reference_id, Evidence.position),
    ):
        rows.setdefault(e[1], []).append((e[0], e[2], e[3], e[4] or "", e[5] or ""))
    evidence_ids = [e[0] for group in rows.values() for e in group]
    tested: dict[int, list[int]] = {}
    for start in range(0, len(evidence_ids), 30_000):
        for link in _rows(
            session,
            select(EvidenceModalityLink.evidence_id, EvidenceModalityLink.modality_id).where(
                EvidenceModalityLink.evidence_id.in_(evidence_ids[start : start + 30_000])
            ),
        ):
            tested.setdefault(link[0], []).append(link[1])
    return rows, tested


def reference_docs(
    session: Session,
    keys: Sequence[str] | None = None,
    chunk: int = 2000,
    *,
    ids: tuple[int | None, int | None] = (None, None),
) -> Iterable[dict[str, Any]]:
    """Yield the index documents of these references (all when ``keys`` is None), in chunks.

    ``ids`` narrows "all" to the row ids from ``ids[0]`` up to ``ids[1]`` (excluded), in id
    order (either end None: unbounded).
    """
    conditions, modalities = vocabulary(session)
    wanted = None if keys is None else list(keys)
    start, stop = ids
    last_id = -1 if start is None else start - 1
    while True:
        statement = select(*_REFERENCE_COLUMNS).order_by(Reference.id).limit(chunk)
        if wanted is not None:
            if not wanted:
                return
            statement = statement.where(Reference.key.in_(wanted[:chunk]))
            wanted = wanted[chunk:]
        else:
            statement = statement.where(Reference.id > last_id)
            if stop is not None:
                statement = statement.where(Reference.id < stop)
        rows = list(_rows(session, statement))
        if not rows:
            if wanted:
                continue
            return
        last_id = rows[-1][0]
        evidence, tested = _evidence(session, [r[0] for r in rows])
        for rid, key, title, authors, journal, year, abstract, keywords, design, doi, pmid in rows:
            group = evidence.get(rid, [])
            conds = [conditions[c].slug for _, c, _, _, _ in group if c in conditions]
            mods = [
                modalities[m].slug for e in group for m in tested.get(e[0], []) if m in modalities
            ]
            findings = [f for _, _, f, _, _ in group]
            names = author_names(authors)
            words = " ".join(keywords or [])
            text = [
                title or "",
                abstract or "",
                *(s for *_, s in group),
                *(o for *_, o, _ in group),
            ]
            doc = {
                "kind": "reference",
                "key": key,
                "title": title or "",
                "text": "\n".join(t for t in (*text, words, journal or "", names) if t),
                "authors": names,
                "journal": journal or "",
                "keywords": words,
                "topics": " ".join(dict.fromkeys([*conds, *mods])),
                "design": design or "",
                "finding": ",".join(dict.fromkeys(findings)),
                "ids": ",".join(i for i in (doi, pmid) if i),
                "spell": title or "",
                "facets": packed("reference", design or "", findings, conds, mods, year),
            }
            if year is not None:
                doc["year"] = int(year)
            yield doc


def vocabulary_docs(session: Session) -> list[dict[str, Any]]:
    """Return the documents of the conditions and modalities themselves."""
    conditions, modalities = vocabulary(session)
    docs = []
    for kind, terms in (("condition", conditions), ("modality", modalities)):
        for term in terms.values():
            docs.append(
                {
                    "kind": kind,
                    "key": f"{kind}:{term.slug}",
                    "title": term.name,
                    "text": f"{term.words()}\n{term.description}",
                    "topics": term.slug,
                    "spell": f"{term.name} {' '.join(term.aliases)}",
                    "facets": packed(kind, "", (), (), (), None),
                }
            )
    return docs


@dataclass(frozen=True)
class Shown:
    """What a hit shows, loaded from the store by key."""

    title: str
    year: int | None
    authors: str
    journal: str
    texts: tuple[str, ...]  # the texts a snippet is cut from (abstract, summaries, outcomes)


def shown(session: Session, keys: Sequence[str]) -> dict[str, Shown]:
    """Load titles, years, authors, journals and snippet text for a page of hits."""
    out: dict[str, Shown] = {}
    refs = [k for k in keys if ":" not in k]
    if refs:
        rows = list(
            session.exec(
                select(
                    Reference.id,
                    Reference.key,
                    Reference.title,
                    Reference.year,
                    Reference.authors,
                    Reference.container_title,
                    Reference.abstract,
                ).where(Reference.key.in_(refs))
            )
        )
        evidence, _ = _evidence(session, [r[0] for r in rows])
        for rid, key, title, year, authors, journal, abstract in rows:
            group = evidence.get(rid, [])
            text = [abstract or "", *(s for *_, s in group), *(o for *_, o, _ in group)]
            out[key] = Shown(
                title or "",
                year,
                author_names(authors),
                journal or "",
                tuple(t for t in text if t),
            )
    for model, kind in ((Condition, "condition"), (Modality, "modality")):
        slugs = [k.split(":", 1)[1] for k in keys if k.startswith(kind + ":")]
        if slugs:
            for slug, name, description in session.exec(
                select(model.slug, model.name, model.description).where(model.slug.in_(slugs))
            ):
                out[f"{kind}:{slug}"] = Shown(name, None, "", "", (description or "",))
    return out
