"""Facet values per document number, held in memory for counting and filtering (no Whoosh here).

``kb.index`` fills one ``Columns`` per open searcher from each segment's packed facet column;
``kb.search`` counts facets over the matched documents with it and filters by facet value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Columns:
    """Per-document facet values by document number, cached per segment and per searcher."""

    kind: list[str] = field(default_factory=list)
    design: list[str] = field(default_factory=list)
    findings: list[tuple[str, ...]] = field(default_factory=list)
    conditions: list[tuple[str, ...]] = field(default_factory=list)
    modalities: list[tuple[str, ...]] = field(default_factory=list)
    year: list[int | None] = field(default_factory=list)
    level: list[int] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    # Per searcher: the live references, counts over all of them, and documents by facet value.
    references: frozenset[int] = frozenset()
    totals: dict[str, Counter[str]] = field(default_factory=dict)
    by_value: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)

    def extend(self, other: Columns) -> None:
        for name in COLUMN_NAMES:
            getattr(self, name).extend(getattr(other, name))

    def values(self, facet: str, d: int) -> Iterable[str]:
        """Return a document's values of one facet (its decade for "decade")."""
        if facet == "design":
            return (self.design[d],)
        if facet == "decade":
            y = self.year[d]
            return () if y is None else (str(y // 10 * 10),)
        return {
            "finding": self.findings,
            "condition": self.conditions,
            "modality": self.modalities,
        }[facet][d]

    def count(self, facet: str, docs: Iterable[int]) -> Counter[str]:
        """Count a facet's values over these documents."""
        if facet == "design":
            return Counter(map(self.design.__getitem__, docs))
        if facet == "decade":
            years = Counter(map(self.year.__getitem__, docs))
            out: Counter[str] = Counter()
            for y, n in years.items():
                if y is not None:
                    out[str(y // 10 * 10)] += n
            return out
        column = {
            "finding": self.findings,
            "condition": self.conditions,
            "modality": self.modalities,
        }[facet]
        # Count each distinct tuple once, then spread: far fewer than one update per value.
        out = Counter()
        for values, n in Counter(map(column.__getitem__, docs)).items():
            for value in values:
                out[value] += n
        return out

    def counts(self, facet: str, docs: set[int] | frozenset[int]) -> Counter[str]:
        """Count a facet over some references; over most of them, count what is left out."""
        if len(docs) * 2 <= len(self.references):
            return self.count(facet, docs)
        total = self.totals.get(facet)
        if total is None:
            total = self.totals[facet] = self.count(facet, self.references)
        out = total.copy()
        out.subtract(self.count(facet, self.references - docs))
        return +out

    def having(self, facet: str, value: str) -> frozenset[int]:
        """Return the references with this facet value (cached per searcher)."""
        found = self.by_value.get((facet, value))
        if found is None:
            if not self.by_value:
                index: dict[tuple[str, str], set[int]] = {}
                for name in ("design", "finding", "condition", "modality", "decade"):
                    for d in self.references:
                        for v in self.values(name, d):
                            index.setdefault((name, v), set()).add(d)
                self.by_value.update((k, frozenset(v)) for k, v in index.items())
                self.by_value.setdefault(("", ""), frozenset())
            found = self.by_value.get((facet, value), frozenset())
        return found


COLUMN_NAMES = ("kind", "design", "findings", "conditions", "modalities", "year", "level", "key")
