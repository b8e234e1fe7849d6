"""The entities of the knowledge base: Reference, Condition, Modality and Evidence.

No `from __future__ import annotations` here: SQLModel resolves relationship annotations at
class creation.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, func
from sqlmodel import Field, Relationship, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class EvidenceModalityLink(SQLModel, table=True):
    """One technique an evidence row tested, and what the row found for that technique."""

    __table_args__ = (Index("ix_result_cell", "modality_id", "condition_id", "evidence_id"),)

    evidence_id: int | None = Field(default=None, foreign_key="evidence.id", primary_key=True)
    modality_id: int | None = Field(default=None, foreign_key="modality.id", primary_key=True)
    position: int = 0  # the order the curator listed the techniques in
    # The row's condition, repeated here so that a cell (condition x technique) finds its rows
    # by one index range, not by scanning every row of the condition or the technique.
    condition_id: int | None = Field(default=None, foreign_key="condition.id")
    # The finding for this technique (Swedish helped, trigger point did not): a cell's grade
    # reads it, not the row's overall finding.
    finding: str = ""

    evidence: "Evidence" = Relationship(
        back_populates="results", sa_relationship_kwargs={"overlaps": "modalities,evidence"}
    )
    modality: "Modality" = Relationship(sa_relationship_kwargs={"overlaps": "modalities,evidence"})


class ConditionBase(SQLModel):
    slug: str = Field(index=True, unique=True)
    name: str
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    body_region: str = ""
    description: str = ""


class Condition(ConditionBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    evidence: list["Evidence"] = Relationship(back_populates="condition")


class ModalityBase(SQLModel):
    slug: str = Field(index=True, unique=True)
    name: str
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str = ""


class Modality(ModalityBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    evidence: list["Evidence"] = Relationship(
        back_populates="modalities", link_model=EvidenceModalityLink
    )


class ReferenceBase(SQLModel):
    key: str = Field(index=True, unique=True)  # the citation key; stable once given
    type: str = "article-journal"  # the CSL type
    title: str = ""
    # Ordered CSL names: {"family", "given", ...} or {"literal"} for organisations.
    authors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    container_title: str = ""
    publisher: str = ""
    year: int | None = Field(default=None, index=True)
    issued: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    accessed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    volume: str = ""
    issue: str = ""
    page: str = ""
    doi: str | None = Field(default=None, index=True)  # as printed; compared lower-cased
    pmid: str | None = Field(default=None, index=True)
    pmcid: str | None = None
    url: str = ""
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    language: str = ""
    abstract: str = ""
    design: str = Field(default="", index=True)
    size: int | None = None
    size_unit: str = ""  # participants, or studies for a review
    # Every other CSL or source field, so that a merge or an export never loses one.
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # Keys of older versions of the same review that this one updates (a Cochrane update).
    supersedes: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    # Curation facts: verified_from, gaps, notes, seed, ship.
    curation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Reference(ReferenceBase, table=True):
    # DOIs are compared case-insensitively (kb.checking, de-duplication): index what is compared.
    __table_args__ = (Index("ix_reference_doi_lower", func.lower(Column("doi"))),)

    id: int | None = Field(default=None, primary_key=True)
    created: datetime = Field(default_factory=_now)
    updated: datetime = Field(default_factory=_now)
    version: int = 1  # bumped on every change; citation caches key on it
    evidence: list["Evidence"] = Relationship(
        back_populates="reference",
        sa_relationship_kwargs={"cascade": "all, delete-orphan", "order_by": "Evidence.position"},
    )


class Evidence(SQLModel, table=True):
    """One claim of one reference about one condition, as its authors conclude it.

    ``direct`` is false when the population, condition or intervention is not what the
    condition is about (``indirect_because`` says why); ``comparator`` is what massage was
    compared with; ``results`` hold one finding per technique tested; ``certainty`` is a
    review's stated GRADE certainty (high, moderate, low, very-low) or empty.
    """

    __table_args__ = (UniqueConstraint("reference_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    reference_id: int = Field(foreign_key="reference.id", index=True)
    condition_id: int = Field(foreign_key="condition.id", index=True)
    position: int = 0  # order of the rows within the reference
    finding: str  # supports, mixed, no-difference, insufficient, harm
    population: str = ""
    direct: bool = True
    indirect_because: str = ""
    comparator: str = ""  # no-treatment, waitlist, usual-care, sham, attention, active, ...
    outcome: str = ""
    certainty: str = ""
    summary: str = ""

    reference: Reference = Relationship(back_populates="evidence")
    condition: Condition = Relationship(back_populates="evidence")
    modalities: list[Modality] = Relationship(
        back_populates="evidence",
        link_model=EvidenceModalityLink,
        sa_relationship_kwargs={"order_by": "EvidenceModalityLink.position", "viewonly": True},
    )
    results: list[EvidenceModalityLink] = Relationship(
        back_populates="evidence",
        sa_relationship_kwargs={
            "order_by": "EvidenceModalityLink.position",
            "cascade": "all, delete-orphan",
            "overlaps": "modalities,evidence",
        },
    )


class StoreMeta(SQLModel, table=True):
    """Facts about the store itself, such as its generation (bumped on every write)."""

    name: str = Field(primary_key=True)
    value: str


class Change(SQLModel, table=True):
    """One reference a write changed, by the generation it made: hosts sharing a store catch up
    their own index from it (``kb.search.writer.catch_up``)."""

    generation: int = Field(primary_key=True)
    key: str = Field(primary_key=True)


class GradeSummary(SQLModel, table=True):
    """A grade computed once per store generation: a condition's (modality "") or a cell's.

    Pages read these instead of grading every row per request; the library service refreshes
    them in the same operation as the index (kb.summaries).
    """

    condition: str = Field(primary_key=True)  # "" for a technique's own totals
    modality: str = Field(primary_key=True)  # "" for a condition's own grade
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
