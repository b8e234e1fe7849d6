"""The content folder's files: library.bib, evidence.toml, conditions.toml, modalities.toml.

``load`` reads a folder into records (each with its ``kb`` block: design, size, curation and
evidence) plus the vocabularies; ``dump`` writes the same shape back, so that
``kb/content`` -> store -> ``kb export DIR`` gives the same files.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from references import bibtex
from references.record import Failure, FormatError, Record

LIBRARY = "library.bib"
EVIDENCE = "evidence.toml"
CONDITIONS = "conditions.toml"
MODALITIES = "modalities.toml"

_HEADERS = {
    LIBRARY: "% The references of the massage evidence library, as plain BibTeX (Zotero and JabRef\n"
    "% read it). Loaded by `kb init`; written back by `kb export DIR`. Curation facts (design,\n"
    "% size, evidence rows, where each reference was verified) live in evidence.toml.\n\n",
    EVIDENCE: "# Curation of each reference, by citation key: its design and size, where its facts\n"
    "# were verified, known gaps, and its evidence rows (one claim about one condition).\n"
    "# Loaded by `kb init`; written back by `kb export DIR`.\n\n",
    CONDITIONS: "# The conditions of the knowledge base, one table per slug. Loaded by `kb init`;\n"
    "# written back by `kb export DIR`.\n\n",
    MODALITIES: "# The modalities of the knowledge base, one table per slug. Loaded by `kb init`;\n"
    "# written back by `kb export DIR`.\n\n",
}

# Order of a reference's keys in evidence.toml, so the file diffs cleanly.
_CURATION_ORDER = (
    "design",
    "n",
    "n_unit",
    "supersedes",
    "seed",
    "ship",
    "verified_from",
    "gaps",
    "notes",
    "evidence",
)


@dataclass
class Content:
    """A content folder read into memory."""

    records: list[Record] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    modalities: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormatError(str(path), "is missing from the content folder") from None
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None) or 1
        raise FormatError(str(path), f"is not valid TOML: {error}", line=line) from None


def _vocabulary(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"slug": slug, **values} for slug, values in table.items()]


def load(folder: Path) -> Content:
    """Read a content folder; failures in library.bib are returned, not raised."""
    bib_path = folder / LIBRARY
    try:
        text = bib_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormatError(str(bib_path), "is missing from the content folder") from None
    result = bibtex.read(text, file=str(bib_path))
    curation = _read_toml(folder / EVIDENCE)
    content = Content(
        conditions=_vocabulary(_read_toml(folder / CONDITIONS)),
        modalities=_vocabulary(_read_toml(folder / MODALITIES)),
        failures=list(result.failures),
    )
    for record in result.records:
        meta = curation.get(record["id"])
        if meta:
            record["kb"] = dict(meta)
        content.records.append(record)
    return content


def _curation_table(record: Record) -> dict[str, Any]:
    meta = record.get("kb") or {}
    return {k: meta[k] for k in _CURATION_ORDER if meta.get(k) not in (None, "", [])}


def dump(folder: Path, content: Content) -> list[Path]:
    """Write a content folder; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    bib_records = [{k: v for k, v in r.items() if k != "kb"} for r in content.records]
    curation = {r["id"]: table for r in content.records if (table := _curation_table(r))}
    texts = {
        LIBRARY: bibtex.write(bib_records),
        EVIDENCE: tomli_w.dumps(curation),
        CONDITIONS: tomli_w.dumps({c["slug"]: _without_slug(c) for c in content.conditions}),
        MODALITIES: tomli_w.dumps({m["slug"]: _without_slug(m) for m in content.modalities}),
    }
    written = []
    for name, text in texts.items():
        path = folder / name
        path.write_text(_HEADERS[name] + text, encoding="utf-8")
        written.append(path)
    return written


def _without_slug(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "slug" and v not in (None,)}
