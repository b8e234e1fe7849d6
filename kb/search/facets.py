"""Facet values per document number, as arrays for counting and filtering (no Whoosh here).

The handle (``kb.search.handle``) decodes each segment's packed facet column once into a
``Part`` (segments never change) and joins the parts of an open searcher into one ``Columns``. Every facet is held as
(document, value code) pairs, so counting a facet over a set of matches is one ``bincount``
over the pairs whose document is in the set: milliseconds at 100,000 references, where a
Python loop over the matches took seconds.

Sets of documents are boolean masks the length of the searcher's document count. ``allowed``
and ``counted`` apply one search's selections and count its facets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.grading import level_of

if TYPE_CHECKING:
    from kb.search.params import SearchParams

FACETS = ("design", "finding", "condition", "modality", "decade")
NO_YEAR = -(10**6)  # the year array's value for a document without one
KINDS = ("reference", "condition", "modality")


@dataclass
class Part:
    """One segment's columns: Python lists for the few hits a page shows, arrays for the rest."""

    kind: list[str]
    design: list[str]
    findings: list[tuple[str, ...]]
    conditions: list[tuple[str, ...]]
    modalities: list[tuple[str, ...]]
    year: list[int | None]
    key: list[str]
    # facet -> (values, document of each pair, value code of each pair)
    pairs: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = field(default_factory=dict)
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    years: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    levels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def decode(cls, packed: Iterable[bytes | None], keys: Iterable[str]) -> Part:
        """Read a segment's packed facet values (``kb.search.documents.packed``) and keys."""
        tuples: dict[str, tuple[str, ...]] = {"": ()}
        part = cls([], [], [], [], [], [], list(keys))
        for raw in packed:
            kind, design, findings, conditions, modalities, year = (
                (raw or b"|||||").decode().split("|")
            )
            part.kind.append(kind)
            part.design.append(design)
            for target, text in (
                (part.findings, findings),
                (part.conditions, conditions),
                (part.modalities, modalities),
            ):
                value = tuples.get(text)
                if value is None:
                    value = tuples[text] = tuple(text.split(","))
                target.append(value)
            part.year.append(int(year) if year else None)
        part.kinds = np.array(
            [KINDS.index(k) if k in KINDS else -1 for k in part.kind], dtype=np.int8
        ).reshape(-1)
        part.years = np.array(
            [NO_YEAR if y is None else y for y in part.year], dtype=np.int64
        ).reshape(-1)
        part.levels = np.array(
            [level_of(d) if k == "reference" else 0 for k, d in zip(part.kind, part.design)],
            dtype=np.int64,
        ).reshape(-1)
        decades = [() if y is None else (str(y // 10 * 10),) for y in part.year]
        for facet, column in (
            ("design", [(d,) if d else () for d in part.design]),
            ("finding", part.findings),
            ("condition", part.conditions),
            ("modality", part.modalities),
            ("decade", decades),
        ):
            part.pairs[facet] = _pairs(column)
        return part


def _pairs(column: Sequence[tuple[str, ...]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    codes: dict[str, int] = {}
    docs: list[int] = []
    values: list[int] = []
    for d, items in enumerate(column):
        for item in items:
            if item:
                docs.append(d)
                values.append(codes.setdefault(item, len(codes)))
    return list(codes), np.array(docs, dtype=np.int64), np.array(values, dtype=np.int64)


class Columns:
    """Per-document facet values of one open searcher, by document number."""

    def __init__(self, parts: Sequence[tuple[Part, int]], size: int, deleted: Iterable[int]):
        self.size = size
        self.kind: list[str] = []
        self.design: list[str] = []
        self.findings: list[tuple[str, ...]] = []
        self.conditions: list[tuple[str, ...]] = []
        self.modalities: list[tuple[str, ...]] = []
        self.year: list[int | None] = []
        self.key: list[str] = []
        for part, _ in parts:
            for name in ("kind", "design", "findings", "conditions", "modalities", "year", "key"):
                getattr(self, name).extend(getattr(part, name))
        self.live = np.ones(size, dtype=bool)
        self.live[np.fromiter(deleted, dtype=np.int64)] = False

        def joined(name: str, dtype: type) -> np.ndarray:
            arrays = [getattr(part, name) for part, _ in parts]
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)

        kinds = joined("kinds", np.int8)
        self.references = (kinds == 0) & self.live
        self.vocabulary = (kinds > 0) & self.live
        self.years = joined("years", np.int64)
        self.levels = joined("levels", np.int64)
        self.values: dict[str, list[str]] = {}
        self._docs: dict[str, np.ndarray] = {}
        self._codes: dict[str, np.ndarray] = {}
        for facet in FACETS:
            names: dict[str, int] = {}
            docs, codes = [], []
            for part, offset in parts:
                values, pdocs, pcodes = part.pairs[facet]
                remap = np.array([names.setdefault(v, len(names)) for v in values], dtype=np.int64)
                docs.append(pdocs + offset)
                codes.append(remap[pcodes] if len(values) else pcodes)
            self.values[facet] = list(names)
            self._docs[facet] = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
            self._codes[facet] = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
        self._having: dict[tuple[str, str], np.ndarray] = {}
        # Per field, filled by the engine when first scored: each document's length byte, and
        # BM25F's length norm for each of the 256 length bytes (it depends on the average).
        self.lengths: dict[str, np.ndarray] = {}
        self.norms: dict[str, np.ndarray] = {}
        self._totals: dict[str, dict[str, int]] = {}

    def count(self, facet: str, docs: np.ndarray) -> dict[str, int]:
        """Count a facet's values over the documents of a mask (each value once per document)."""
        inside = docs[self._docs[facet]]
        counts = np.bincount(self._codes[facet][inside], minlength=len(self.values[facet]))
        return {v: int(n) for v, n in zip(self.values[facet], counts.tolist()) if n}

    def having(self, facet: str, value: str) -> np.ndarray:
        """Return the mask of live references with this facet value (cached per searcher)."""
        found = self._having.get((facet, value))
        if found is None:
            found = np.zeros(self.size, dtype=bool)
            if value in self.values[facet]:
                code = self.values[facet].index(value)
                found[self._docs[facet][self._codes[facet] == code]] = True
            found &= self.references
            self._having[(facet, value)] = found
        return found

    def years_between(self, low: int | None, high: int | None) -> np.ndarray:
        """Return the mask of live references published between two years (inclusive)."""
        inside = self.references & (self.years != NO_YEAR)
        if low is not None:
            inside &= self.years >= low
        if high is not None:
            inside &= self.years <= high
        return inside

    def ordered(self, docs: np.ndarray, sort: str, limit: int) -> list[int]:
        """Return the first ``limit`` documents of a mask by year or evidence level.

        Conditions and modalities come first; then newest, oldest or strongest evidence
        (newest first within a level); ties by document number.
        """
        found = np.flatnonzero(docs)
        if not len(found):
            return []
        far = 10_000
        years = self.years[found]
        known = years != NO_YEAR
        is_ref = ~self.vocabulary[found]
        if sort == "newest":
            keys = (found, -np.where(known, years, -far), is_ref)
        elif sort == "oldest":
            keys = (found, np.where(known, years, far), is_ref)
        else:
            keys = (found, -np.where(known, years, -far), self.levels[found], is_ref)
        return found[np.lexsort(keys)[:limit]].tolist()


def best(scores: np.ndarray, docs: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """Return the ``limit`` best-scored documents of a mask, ties to the lower number."""
    found = np.flatnonzero(docs)
    if limit <= 0 or not len(found):
        return []
    values = scores[found]
    if len(found) > limit:
        # Everything scoring at least the limit-th best score, ties at the boundary included.
        kth = np.partition(values, len(values) - limit)[len(values) - limit]
        keep = values >= kth
        found, values = found[keep], values[keep]
    order = np.lexsort((found, -values))[:limit]
    return [(int(d), float(s)) for d, s in zip(found[order], values[order])]


# --- selections and counts of one search ---------------------------------------------------


def allowed(params: SearchParams, c: Columns) -> dict[str, np.ndarray]:
    """Return, per facet with a selection, the references it lets through (values OR-ed)."""
    masks: dict[str, np.ndarray] = {}
    for name in ("design", "finding", "condition", "modality"):
        chosen = getattr(params, name)
        if chosen:
            mask = np.zeros(c.size, dtype=bool)
            for value in chosen:
                mask |= c.having(name, value)
            masks[name] = mask
    if params.year_from is not None or params.year_to is not None:
        masks["decade"] = c.years_between(params.year_from, params.year_to)
    return masks


def counted(
    params: SearchParams,
    refs: np.ndarray,
    c: Columns,
    labels: dict[str, dict[str, str]],
) -> tuple[np.ndarray, dict[str, list[dict[str, Any]]]]:
    """Filter the matched references and count every facet (each ignoring its own selection)."""
    chosen_masks = allowed(params, c)
    out: dict[str, list[dict[str, Any]]] = {}
    for facet in FACETS:
        docs = refs
        for name, mask in chosen_masks.items():
            if name != facet:
                docs = docs & mask
        counts = c.count(facet, docs)
        if facet == "decade":
            chosen = (
                {str(params.year_from)}
                if params.year_from is not None and params.year_to == (params.year_from or 0) + 9
                else set()
            )
            order = sorted(counts, key=int, reverse=True)
        else:
            chosen = set(getattr(params, facet))
            order = sorted(
                set(counts) | chosen, key=lambda v: (-counts.get(v, 0), labels[facet].get(v, v))
            )
            if facet == "design":
                order.sort(key=lambda v: (level_of(v), -counts.get(v, 0)))
        names = labels.get(facet, {})
        out[facet] = [
            {
                "value": value,
                "label": f"{value}s" if facet == "decade" else names.get(value, value),
                "count": counts.get(value, 0),
                "selected": value in chosen,
                "toggle": params.toggled(facet, value).to_args(),
            }
            for value in order
        ]
    matched = refs
    for mask in chosen_masks.values():
        matched = matched & mask
    return matched, out


__all__ = ["FACETS", "NO_YEAR", "Columns", "Part", "allowed", "best", "counted"]
