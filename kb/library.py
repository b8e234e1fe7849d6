"""The library service: the one way records get into and out of the store.

Import reads every file first, checks every record and every duplicate before writing, and
writes all or nothing (unless asked to skip bad records). What Zotero and JabRef would read with
a shrug (an entry without a key or a title, a key used twice) is imported with one warning line
each, and a biblatex @set is listed as skipped; ``strict`` refuses them instead. Duplicates are found by DOI, then
PMID, then folded title + year + first author (fuzzy). A merge fills what the store lacks and
never drops a field; a citation key, once given, never changes. Every write bumps the store's
generation and logs the keys it changed (for other hosts on the same store), commits, and then
updates the search index: the index may fall behind the store, never run ahead of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from kb import content as content_files
from kb import db, summaries
from kb import search as search_index
from kb.config import CONTENT_DIR, Settings
from kb.dedupe import DuplicateFinder
from kb.keys import is_valid_key, make_key, unique_key
from kb.models import Condition, Evidence, EvidenceModalityLink, Modality, Reference, _now
from kb.records import kb_problem, record_of, reference_fields
from references import formats
from references.identifiers import fold
from references.record import Failure, FormatError, ReadResult, Record

Progress = Callable[[int], None]


class ImportRejected(Exception):
    """An import that wrote nothing because some records could not be read or checked."""

    def __init__(self, report: ImportReport):
        self.report = report
        first = report.rejected[0].message() if report.rejected else "nothing to import"
        more = len(report.rejected) - 1
        tail = (
            f" (and {more} more rejected; nothing was imported)"
            if more > 0
            else " (nothing was imported)"
        )
        super().__init__(first + tail)


@dataclass(frozen=True)
class Conflict:
    """A field where an imported duplicate disagrees with the library, which kept its value."""

    key: str
    field: str
    library: str
    incoming: str

    def as_json(self) -> dict[str, str]:
        return {
            "key": self.key,
            "field": self.field,
            "library": self.library,
            "incoming": self.incoming,
        }


@dataclass
class ImportReport:
    """What an import did, or would do on a dry run."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[Failure] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    dry_run: bool = False
    warnings: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        return (
            f"{verb}: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.duplicates)} duplicates, {len(self.rejected)} rejected"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "duplicates": len(self.duplicates),
            "rejected": [f.as_json() for f in self.rejected],
            "conflicts": [c.as_json() for c in self.conflicts],
            "warnings": [f.as_json() for f in self.warnings],
            "skipped": [f.as_json() for f in self.skipped],
            "dry_run": self.dry_run,
            "keys": {"added": self.added, "updated": self.updated, "duplicates": self.duplicates},
        }


# --- reading -----------------------------------------------------------------------------


@dataclass
class Reading:
    """What reading the files gave: records (with their file), failures, warnings, skips."""

    records: list[tuple[Record, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)


def read_all(paths: Sequence[str | Path]) -> Reading:
    """Read every file; each record has passed the one CSL-JSON validation."""
    reading = Reading()
    for path in paths:
        try:
            result: ReadResult = formats.read_path(path)
        except FormatError as error:
            reading.failures.append(error.failure)
            continue
        reading.records.extend((record, str(path)) for record in result.records)
        reading.failures.extend(result.failures)
        reading.warnings.extend(result.warnings)
        reading.skipped.extend(result.skipped)
    return reading


def read_files(paths: Sequence[str | Path]) -> tuple[list[tuple[Record, str]], list[Failure]]:
    """Read every file; return the records (with the file each came from) and the failures."""
    reading = read_all(paths)
    return reading.records, reading.failures


def _line_of(file: str, key: str | None) -> int:
    """Find the line where an entry with this key starts, for a message; 1 when unknown."""
    if not key:
        return 1
    try:
        for number, line in enumerate(Path(file).read_text(encoding="utf-8-sig").splitlines(), 1):
            if key in line:
                return number
    except (OSError, UnicodeDecodeError):
        pass
    return 1


# --- checking ----------------------------------------------------------------------------


class Vocabulary:
    """The conditions and modalities of the store, by slug."""

    def __init__(self, session: Session):
        self.conditions = {c.slug: c for c in session.exec(select(Condition))}
        self.modalities = {m.slug: m for m in session.exec(select(Modality))}


def check_record(record: Record, vocabulary: Vocabulary) -> str | None:
    """Return why a record cannot be imported, or None."""
    return kb_problem(record.get("kb"), vocabulary.conditions, vocabulary.modalities)


# --- writing -----------------------------------------------------------------------------


def _apply_evidence(
    session: Session, reference: Reference, rows: list[dict[str, Any]], vocabulary: Vocabulary
) -> bool:
    """Add the evidence rows the reference does not carry yet; return whether any was added."""
    have = {(e.condition.slug, e.finding, e.outcome) for e in reference.evidence}
    added = False
    for row in rows:
        ident = (row["condition"], row["finding"], row.get("outcome", ""))
        if ident in have:
            continue
        evidence = Evidence(
            condition=vocabulary.conditions[row["condition"]],
            position=len(reference.evidence),
            finding=row["finding"],
            population=row.get("population") or "",
            direct=row.get("direct", True),
            indirect_because=row.get("indirect_because") or "",
            comparator=row.get("comparator") or "",
            outcome=row.get("outcome") or "",
            certainty=row.get("certainty") or "",
            summary=row.get("summary") or "",
        )
        reference.evidence.append(evidence)
        session.flush()  # the result rows need the evidence id
        for position, result in enumerate(row.get("results") or []):
            modality_id = vocabulary.modalities[result["modality"]].id
            session.add(
                EvidenceModalityLink(
                    evidence_id=evidence.id,
                    modality_id=modality_id,
                    position=position,
                    finding=result["finding"],
                    condition_id=evidence.condition_id,
                )
            )
        have.add(ident)
        added = True
    return added


# Fields whose stored and incoming values are compared to report a conflict.
_COMPARED = ("title", "container_title", "volume", "issue", "page", "doi", "pmid", "year")


def _same(stored: Any, incoming: Any) -> bool:
    if isinstance(stored, str) and isinstance(incoming, str):
        return fold(stored) == fold(incoming)
    return bool(stored == incoming)


def merge_into(reference: Reference, fields: dict[str, Any]) -> tuple[bool, list[Conflict]]:
    """Fill what the stored reference lacks from an incoming record.

    The stored value wins where both have one (the library's record is the curated one); each
    such disagreement is returned as a conflict so the report can show it. Returns whether the
    reference changed, and the conflicts.
    """
    changed = False
    conflicts = [
        Conflict(reference.key, name, str(getattr(reference, name)), str(fields[name]))
        for name in _COMPARED
        if getattr(reference, name) not in (None, "")
        and fields.get(name) not in (None, "")
        and not _same(getattr(reference, name), fields[name])
    ]
    for name, value in fields.items():
        if value in (None, "", [], {}):
            continue
        current = getattr(reference, name)
        if name == "keywords":
            merged = list(dict.fromkeys([*current, *value]))
            if merged != current:
                reference.keywords = merged
                changed = True
        elif name in ("extra", "curation"):
            merged = {**value, **(current or {})}
            if merged != current:
                setattr(reference, name, merged)
                changed = True
        elif current in (None, "", [], {}):
            setattr(reference, name, value)
            changed = True
    return changed, conflicts


def import_records(
    settings: Settings,
    records: Sequence[tuple[Record, str]],
    failures: Sequence[Failure] = (),
    *,
    dry_run: bool = False,
    skip_bad: bool = False,
    progress: Progress | None = None,
    warnings: Sequence[Failure] = (),
    skipped: Sequence[Failure] = (),
    strict: bool = False,
) -> ImportReport:
    """Import records read from files: all or nothing unless ``skip_bad``.

    ``strict`` refuses what is otherwise imported with a warning (or skipped): an entry without
    a key or a title, a key used twice, a field given twice, a biblatex @set.
    """
    report = ImportReport(dry_run=dry_run, rejected=list(failures))
    (report.rejected if strict else report.warnings).extend(warnings)
    (report.rejected if strict else report.skipped).extend(skipped)
    # Duplicates are checked against the store as it is when the lock is held: a second import
    # waits for the first, then finds its records.
    with db.import_lock(settings):
        with db.session_scope(settings) as session:
            vocabulary = Vocabulary(session)
            finder = DuplicateFinder.from_store(session)
            taken = set(session.exec(select(Reference.key)))
            planned: list[tuple[str, Record, Reference | None]] = []
            for record, file in records:
                problem = check_record(record, vocabulary)
                key = record.get("id")
                if problem:
                    report.rejected.append(Failure(file, _line_of(file, key), key, problem))
                    continue
                if not str(record.get("title") or "").strip():
                    untitled = Failure(file, _line_of(file, key), key, "has no title")
                    if strict:
                        report.rejected.append(untitled)
                        continue
                    report.warnings.append(
                        replace(untitled, error="has no title; imported without one")
                    )
                match = finder.find(record)
                planned.append(("merge" if match is not None else "add", record, match))
                if match is None:
                    wanted = record["id"] if is_valid_key(record.get("id")) else make_key(record)
                    key = unique_key(wanted, taken)
                    taken.add(key)
                    record = {**record, "id": key}
                    planned[-1] = ("add", record, None)
                    finder.add(record, key)
            if report.rejected and not skip_bad:
                raise ImportRejected(report)
            changed: list[str] = []
            for done, (action, record, match_key) in enumerate(planned, 1):
                fields = reference_fields(record)
                rows = (record.get("kb") or {}).get("evidence") or []
                if action == "add":
                    reference = Reference(key=record["id"], **fields)
                    session.add(reference)
                    _apply_evidence(session, reference, rows, vocabulary)
                    report.added.append(reference.key)
                    changed.append(reference.key)
                else:
                    reference = _load(session, match_key)
                    if reference is None:  # a duplicate of a record earlier in this same import
                        report.duplicates.append(str(match_key))
                        continue
                    touched, conflicts = merge_into(reference, fields)
                    report.conflicts.extend(conflicts)
                    touched = _apply_evidence(session, reference, rows, vocabulary) or touched
                    if touched:
                        reference.version += 1
                        reference.updated = _now()
                        report.updated.append(reference.key)
                        changed.append(reference.key)
                    else:
                        report.duplicates.append(reference.key)
                if progress:
                    progress(done)
            if dry_run:
                session.flush()  # what the store would refuse, a dry run refuses too
                session.rollback()
                return report
            if changed:
                db.bump_generation(session, changed)
                session.flush()
                summaries.refresh(session)
        # The store commits first, then the index: a process killed between the two leaves the
        # index behind the store (``status`` says so, ``ensure_current`` rebuilds), never ahead
        # of it with references the store lacks.
        if changed:
            with db.session_scope(settings) as session:
                search_index.sync(settings, session, changed)
    return report


def _load(session: Session, key: object) -> Reference | None:
    if not isinstance(key, str):
        return None
    return session.exec(select(Reference).where(Reference.key == key)).first()


def import_paths(
    settings: Settings,
    paths: Sequence[str | Path],
    *,
    dry_run: bool = False,
    skip_bad: bool = False,
    progress: Progress | None = None,
    strict: bool = False,
) -> ImportReport:
    """Read files and import their records (see ``import_records``)."""
    reading = read_all(paths)
    return import_records(
        settings,
        reading.records,
        reading.failures,
        dry_run=dry_run,
        skip_bad=skip_bad,
        progress=progress,
        warnings=reading.warnings,
        skipped=reading.skipped,
        strict=strict,
    )


# --- the vocabulary and the content folder ------------------------------------------------


def load_vocabulary(
    session: Session, conditions: Iterable[dict[str, Any]], modalities: Iterable[dict[str, Any]]
) -> None:
    """Add or update conditions and modalities by slug."""
    for model, items in ((Condition, conditions), (Modality, modalities)):
        existing = {row.slug: row for row in session.exec(select(model))}
        for item in items:
            row = existing.get(item["slug"])
            values = {k: v for k, v in item.items() if k in model.model_fields}
            if row is None:
                session.add(model(**values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)


def init(
    settings: Settings,
    *,
    reset: bool = False,
    folder: Path = CONTENT_DIR,
    progress: Progress | None = None,
) -> ImportReport:
    """Create the store, load a content folder into it and build the index."""
    if reset:
        db.drop_schema(settings)
    db.create_schema(settings)
    loaded = content_files.load(folder)
    if loaded.failures:
        report = ImportReport(rejected=list(loaded.failures))
        raise ImportRejected(report)
    with db.session_scope(settings) as session:
        load_vocabulary(session, loaded.conditions, loaded.modalities)
        db.bump_generation(session)
        summaries.refresh(session)
    records = [(r, str(folder / content_files.LIBRARY)) for r in loaded.records]
    report = import_records(settings, records, progress=progress)
    with db.session_scope(settings) as session:
        search_index.rebuild(settings, session)
    return report


def all_references(session: Session) -> list[Reference]:
    """Return every reference in key order."""
    return list(session.exec(select(Reference).order_by(Reference.key)))


def export_records(session: Session, *, with_kb: bool = False) -> list[Record]:
    """Return every reference as a CSL-JSON record, in key order."""
    records = []
    for reference in all_references(session):
        record = record_of(reference, with_kb=with_kb)
        if with_kb and reference.evidence:
            record.setdefault("kb", {})["evidence"] = [evidence_row(e) for e in reference.evidence]
        records.append(record)
    return records


def evidence_row(evidence: Evidence) -> dict[str, Any]:
    """Return one evidence row in content-file shape (shared/data's field order)."""
    row: dict[str, Any] = {"condition": evidence.condition.slug}
    if evidence.population:
        row["population"] = evidence.population
    row["direct"] = evidence.direct
    if not evidence.direct:
        row["indirect_because"] = evidence.indirect_because
    row["comparator"] = evidence.comparator
    if evidence.outcome:
        row["outcome"] = evidence.outcome
    row["results"] = [
        {"modality": result.modality.slug, "finding": result.finding} for result in evidence.results
    ]
    row["finding"] = evidence.finding
    if evidence.certainty:
        row["certainty"] = evidence.certainty
    if evidence.summary:
        row["summary"] = evidence.summary
    return row


def export_content(session: Session, folder: Path) -> list[Path]:
    """Write the store into a content folder (library.bib, evidence.toml, ...)."""
    conditions = [
        {
            "slug": c.slug,
            "name": c.name,
            "aliases": c.aliases,
            "body_region": c.body_region,
            "description": c.description,
        }
        for c in session.exec(select(Condition).order_by(Condition.id))
    ]
    modalities = [
        {"slug": m.slug, "name": m.name, "aliases": m.aliases, "description": m.description}
        for m in session.exec(select(Modality).order_by(Modality.id))
    ]
    content = content_files.Content(
        records=export_records(session, with_kb=True), conditions=conditions, modalities=modalities
    )
    return content_files.dump(folder, content)
