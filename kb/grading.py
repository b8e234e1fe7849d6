"""Evidence levels and grades: the one place where the rule is written down.

How a grade is given (ARCHITECTURE.md's rule v2, in the words the pages use):

1. Only some studies count. A study counts when it looked at the people, the condition and the
   kind of massage the page is about (it is *direct*), it is not an older version of a review
   that has been updated, and it compared massage with no massage: no treatment, a waiting
   list, usual care (also massage added to a treatment everyone got), a sham or an attention
   control, or a review of such comparisons; or it had no comparison group at all (a
   before/after study, level 3-4 by its design). Studies that compared massage with another
   real treatment, or one massage technique with another, and indirect or superseded studies
   are shown in their own place with the reason, never hidden, but they do not move the grade.
2. A level follows from the design (1: guidelines and systematic reviews, 2: randomised and
   crossover trials, 3: pilot trials, cohorts, controlled before/after studies, 4: case series
   and uncontrolled before/after studies, 5: narrative and scoping reviews, web pages). A review
   that rates its own evidence as very low certainty counts as level 3.
3. Among the counting studies of level 1-2, count F (found massage helped), A (found no
   difference, or harm), M (mixed: helped on some outcomes or times, not others) and
   I (the authors call the evidence insufficient). The first line of ``RULE_TEXT`` that applies
   gives the grade.
4. A counting study that found harm is shown as a warning beside the grade, whatever the grade.

For a condition x technique cell, a study's finding is what it found for that technique
(Cambron 2006: trigger point raised blood pressure, so the trigger-point cell sees harm).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FINDINGS = ("supports", "mixed", "no-difference", "insufficient", "harm")

FINDING_LABELS = {
    "supports": "supports",
    "mixed": "mixed",
    "no-difference": "no difference",
    "insufficient": "insufficient",
    "harm": "harm",
}

LEVELS: dict[str, int] = {
    "guideline": 1,
    "cochrane-review": 1,
    "systematic-review": 1,
    "meta-analysis": 1,
    "rct": 2,
    "crossover": 2,
    "pilot-rct": 3,
    "cohort": 3,
    "controlled-before-after": 3,
    "case-series": 4,
    "uncontrolled-before-after": 4,
    "narrative-review": 5,
    "scoping-review": 5,
    "web-article": 5,
}

DESIGN_LABELS: dict[str, str] = {
    "guideline": "Clinical guideline",
    "cochrane-review": "Cochrane review",
    "systematic-review": "Systematic review",
    "meta-analysis": "Meta-analysis",
    "rct": "Randomised controlled trial",
    "crossover": "Crossover trial",
    "pilot-rct": "Pilot randomised trial",
    "cohort": "Cohort study",
    "controlled-before-after": "Controlled before/after study",
    "case-series": "Case series",
    "uncontrolled-before-after": "Uncontrolled before/after study",
    "narrative-review": "Narrative review",
    "scoping-review": "Scoping review",
    "web-article": "Web article",
}

# A design we do not know (an imported record nobody has classified yet) weighs no more
# than the weakest known design: it can never lift a grade.
UNKNOWN_LEVEL = 5

# Comparators that compare massage with no massage (or a review of such comparisons), and
# "none": a before/after study with no comparison group. Rows with these count.
NO_MASSAGE = ("no-treatment", "waitlist", "usual-care", "sham", "attention", "various")
COUNTING_COMPARATORS = (*NO_MASSAGE, "none")

COMPARATOR_LABELS = {
    "no-treatment": "no treatment",
    "waitlist": "waiting list",
    "usual-care": "usual care",
    "sham": "sham treatment",
    "attention": "attention control",
    "active": "another treatment",
    "other-massage": "another massage technique",
    "none": "no comparison group (before and after)",
    "various": "various comparisons (a review)",
}

CERTAINTY_LABELS = {
    "high": "high",
    "moderate": "moderate",
    "low": "low",
    "very-low": "very low",
}

GRADES = (
    "consistent-support",
    "no-benefit-shown",
    "mixed",
    "limited-support",
    "limited-no-benefit",
    "insufficient",
)

GRADE_LABELS = {
    "consistent-support": "consistent support",
    "no-benefit-shown": "no benefit shown",
    "mixed": "mixed",
    "limited-support": "limited support",
    "limited-no-benefit": "limited: no benefit found",
    "insufficient": "insufficient",
}

# Why a row does not count; the first that applies is the one shown.
SUPERSEDED, INDIRECT, ACTIVE, OTHER_MASSAGE, NO_COMPARATOR = (
    "superseded",
    "indirect",
    "active",
    "other-massage",
    "unknown-comparator",
)
GROUP_LABELS = {
    "counts": "Studies that count",
    INDIRECT: "Indirect evidence",
    ACTIVE: "Compared with other treatments",
    OTHER_MASSAGE: "Comparisons between techniques",
    SUPERSEDED: "Superseded versions",
    NO_COMPARATOR: "Comparison not recorded",
}
GROUP_ORDER = ("counts", INDIRECT, ACTIVE, OTHER_MASSAGE, SUPERSEDED, NO_COMPARATOR)

# The rule, line by line, in the order it is applied: (grade label, when).
RULE_TEXT: list[tuple[str, str]] = [
    (
        "consistent support",
        (
            "at least two strong studies found massage helped, none found no difference or harm, "
            "and those that helped outnumber the mixed and inconclusive ones together"
        ),
    ),
    (
        "no benefit shown",
        (
            "at least two strong studies found no difference (or harm), none found massage helped, "
            "and they outnumber the mixed and inconclusive ones together"
        ),
    ),
    ("mixed", "strong studies disagree: at least one found it helped and one found it did not"),
    ("limited support", "strong studies found it helped, none found otherwise, none was mixed"),
    (
        "limited: no benefit found",
        "strong studies found no difference (or harm), none found it helped, none was mixed",
    ),
    ("mixed", "a strong study found it helped on some outcomes or at some times, not others"),
    (
        "limited support",
        "no strong study counts, and a weaker study (level 3-4) found massage helped",
    ),
    ("insufficient", "anything else: the library holds too little to say"),
]

RULE_INTRO = (
    "Strong studies are the counting studies of level 1-2. A study counts when it is about this "
    "condition and this kind of massage (direct), is the latest version of its review, and "
    "compared massage with no massage (no treatment, a waiting list, usual care, a sham or "
    "attention control) or had no comparison group. A review that rates its own evidence as "
    "very low certainty counts as level 3. The first line that applies gives the grade; a "
    "counting study that found harm is shown as a warning whatever the grade."
)

LEVEL_TEXT: list[tuple[int, str]] = [
    (1, "guideline, Cochrane review, systematic review, meta-analysis"),
    (2, "randomised controlled trial, crossover trial"),
    (3, "pilot randomised trial, cohort, controlled before/after"),
    (4, "case series, uncontrolled before/after"),
    (5, "narrative review, scoping review, web article (and designs not yet classified)"),
]


def level_of(design: str | None) -> int:
    """Return the evidence level (1 strongest .. 5) of a study design."""
    return LEVELS.get(design or "", UNKNOWN_LEVEL)


@dataclass(frozen=True)
class Row:
    """What the grade rule needs of one evidence row (for a cell: its finding for the technique)."""

    design: str
    finding: str
    key: str = ""
    direct: bool = True
    indirect_because: str = ""
    comparator: str = "various"
    certainty: str = ""
    superseded_by: str = ""

    @property
    def level(self) -> int:
        """Return the level the rule uses: a very-low-certainty review weighs as level 3."""
        level = level_of(self.design)
        if self.certainty == "very-low":
            return max(level, 3)
        return level

    @property
    def group(self) -> str:
        """Return "counts", or why the row does not count."""
        if self.superseded_by:
            return SUPERSEDED
        if not self.direct:
            return INDIRECT
        if self.comparator == "active":
            return ACTIVE
        if self.comparator == "other-massage":
            return OTHER_MASSAGE
        if self.comparator not in COUNTING_COMPARATORS:
            return NO_COMPARATOR
        return "counts"

    @property
    def counts(self) -> bool:
        return self.group == "counts"

    def reason(self) -> str:
        """Say, for a reader, why this row counts or does not."""
        group = self.group
        if group == SUPERSEDED:
            return f"superseded by {self.superseded_by}"
        if group == INDIRECT:
            return f"indirect: {self.indirect_because or 'not about this condition as such'}"
        if group == ACTIVE:
            return "compared with another treatment"
        if group == OTHER_MASSAGE:
            return "compared two techniques"
        if group == NO_COMPARATOR:
            return "what it compared massage with is not recorded"
        if self.level <= 2:
            return f"counts as level {self.level}"
        if self.certainty == "very-low" and level_of(self.design) <= 2:
            return "counts as level 3: the review rates its evidence as very low certainty"
        if self.level <= 4:
            return f"counts as level {self.level}: weighs only when no strong study counts"
        return f"level {self.level}: too weak to move a grade"


@dataclass(frozen=True)
class Grade:
    """A grade, the sentence that says why, and its workings."""

    grade: str
    reason: str
    rows: int
    findings: dict[str, int] = field(default_factory=dict)
    tally: dict[str, int] = field(default_factory=dict)  # F, A, M, I of the strong rows
    line: int = 0  # the line of the rule that gave the grade (1-8)
    counting: list[dict[str, Any]] = field(default_factory=list)
    not_counting: list[dict[str, Any]] = field(default_factory=list)
    harm: list[str] = field(default_factory=list)  # keys of counting rows that found harm

    @property
    def label(self) -> str:
        return GRADE_LABELS[self.grade]

    def as_json(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "label": self.label,
            "reason": self.reason,
            "line": self.line,
            "rows": self.rows,
            "findings": self.findings,
            "tally": self.tally,
            "counting": self.counting,
            "not_counting": self.not_counting,
            "harm": self.harm,
        }


def _working(row: Row) -> dict[str, Any]:
    return {
        "key": row.key,
        "level": row.level,
        "finding": row.finding,
        "group": row.group,
        "reason": row.reason(),
    }


def _studies(n: int) -> str:
    return f"{n} {'study' if n == 1 else 'studies'}"


def grade(rows: Iterable[Row]) -> Grade:
    """Grade a set of evidence rows by the written rule and return the grade with its workings."""
    rows = list(rows)
    counting = [r for r in rows if r.counts]
    strong = Counter(r.finding for r in counting if r.level <= 2)
    f = strong["supports"]
    a = strong["no-difference"] + strong["harm"]
    m = strong["mixed"]
    i = strong["insufficient"]
    weak_support = [r for r in counting if 3 <= r.level <= 4 and r.finding == "supports"]
    strong_n = f + a + m + i

    def result(line: int, reason: str) -> Grade:
        return Grade(
            grade=_GRADE_OF_LINE[line],
            reason=reason,
            rows=len(rows),
            findings=dict(Counter(r.finding for r in rows)),
            tally={"F": f, "A": a, "M": m, "I": i},
            line=line,
            counting=[_working(r) for r in counting],
            not_counting=[_working(r) for r in rows if not r.counts],
            harm=list(dict.fromkeys(r.key for r in counting if r.finding == "harm")),
        )

    if f >= 2 and a == 0 and f > m + i:
        return result(1, f"{f} strong studies found massage helped and none found otherwise")
    if a >= 2 and f == 0 and a > m + i:
        return result(2, f"{a} strong studies found no difference or harm and none found it helped")
    if f >= 1 and a >= 1:
        return result(
            3, f"strong studies disagree: {f} found massage helped, {a} found no difference or harm"
        )
    if f >= 1 and a == 0 and m == 0:
        return result(
            4,
            f"{_studies(f)} of level 1-2 found massage helped and none found otherwise, too few "
            "(or outnumbered by inconclusive ones) to call the support consistent",
        )
    if a >= 1 and f == 0 and m == 0:
        return result(
            5,
            f"{_studies(a)} of level 1-2 found no difference and none found massage helped, too "
            "few (or outnumbered by inconclusive ones) to say no benefit was shown",
        )
    if m >= 1:
        return result(6, f"the strong studies found mixed results ({m} mixed, {f} helped)")
    if strong_n == 0 and weak_support:
        n = len({r.key for r in weak_support}) or len(weak_support)
        return result(7, f"no strong study counts; {_studies(n)} of level 3-4 found massage helped")
    if not counting:
        return result(8, "no study counts towards a grade")
    if i:
        return result(8, f"the strong studies that count ({i}) call the evidence inconclusive")
    return result(8, "no strong study counts, and no weaker study found massage helped")


_GRADE_OF_LINE = {
    1: "consistent-support",
    2: "no-benefit-shown",
    3: "mixed",
    4: "limited-support",
    5: "limited-no-benefit",
    6: "mixed",
    7: "limited-support",
    8: "insufficient",
}


def grade_of_line(line: int) -> str:
    """Return the grade that line ``line`` (1-8) of the rule gives."""
    return _GRADE_OF_LINE[line]
