"""Evidence levels and grades: the one place where the rule is written down.

A level follows from a study's design; a grade follows from a set of evidence rows
(one condition, or one condition x modality cell). The rule is ARCHITECTURE.md's with one
change, and ``RULE_TEXT`` is what pages show beside a grade.

The change: "consistent support" also needs the supporting level 1-2 rows to outnumber the
level 1-2 rows that found mixed results. A trial that helped on some outcomes and not others
is not support, and a page should not call the evidence consistent when most of its strong
studies say "it depends" (chronic neck pain: a guideline and a crossover study in healthy
adults support, three trials and a meta-analysis are mixed — that reads as mixed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

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
    "web-article": "Web article",
}

# A design we do not know (an imported record nobody has classified yet) weighs no more
# than the weakest known design: it can never lift a grade.
UNKNOWN_LEVEL = 5

GRADES = ("consistent-support", "mixed", "limited", "no-benefit-shown", "insufficient")

GRADE_LABELS = {
    "consistent-support": "consistent support",
    "mixed": "mixed",
    "limited": "limited",
    "no-benefit-shown": "no benefit shown",
    "insufficient": "insufficient",
}

RULE_TEXT: list[tuple[str, str]] = [
    (
        "consistent support",
        (
            "at least two level 1-2 rows find supports, they outnumber the level 1-2 rows with"
            " mixed results, and no level 1-2 row finds no difference or harm"
        ),
    ),
    ("mixed", "level 1-2 rows disagree (one finds mixed results, or some support and some do not)"),
    ("limited", "support only from level 3-5 rows, or from a single level 1-2 row"),
    ("no benefit shown", "level 1-2 rows find no difference (or harm) and none finds supports"),
    (
        "insufficient",
        "nothing above applies (including reviews that call the evidence insufficient)",
    ),
]

LEVEL_TEXT: list[tuple[int, str]] = [
    (1, "guideline, Cochrane review, systematic review, meta-analysis"),
    (2, "randomised controlled trial, crossover trial"),
    (3, "pilot randomised trial, cohort, controlled before/after"),
    (4, "case series, uncontrolled before/after"),
    (5, "narrative review, web article (and designs not yet classified)"),
]


def level_of(design: str | None) -> int:
    """Return the evidence level (1 strongest .. 5) of a study design."""
    return LEVELS.get(design or "", UNKNOWN_LEVEL)


@dataclass(frozen=True)
class Row:
    """What the grade rule needs of one evidence row."""

    design: str
    finding: str

    @property
    def level(self) -> int:
        return level_of(self.design)


@dataclass(frozen=True)
class Grade:
    """A grade, the sentence that says why, and what it rests on."""

    grade: str
    reason: str
    rows: int
    findings: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return GRADE_LABELS[self.grade]

    def as_json(self) -> dict[str, object]:
        return {
            "grade": self.grade,
            "label": self.label,
            "reason": self.reason,
            "rows": self.rows,
            "findings": self.findings,
        }


def grade(rows: Iterable[Row]) -> Grade:
    """Grade a set of evidence rows by the written rule."""
    rows = list(rows)
    strong = Counter(r.finding for r in rows if r.level <= 2)
    weak = Counter(r.finding for r in rows if r.level > 2)
    findings = dict(Counter(r.finding for r in rows))
    negative = strong["no-difference"] + strong["harm"]
    n = len(rows)

    def result(name: str, reason: str) -> Grade:
        return Grade(grade=name, reason=reason, rows=n, findings=findings)

    if strong["supports"] >= 2 and negative == 0 and strong["supports"] > strong["mixed"]:
        return result(
            "consistent-support",
            f"{strong['supports']} level 1-2 studies find support and none finds no difference or harm",
        )
    if strong["mixed"] or (strong["supports"] and negative):
        return result(
            "mixed",
            f"level 1-2 studies disagree: {strong['supports']} support, {strong['mixed']} mixed, "
            f"{negative} no difference or harm",
        )
    if negative and not strong["supports"]:
        return result(
            "no-benefit-shown",
            f"{negative} level 1-2 {'study finds' if negative == 1 else 'studies find'} "
            "no difference and none finds support",
        )
    if strong["supports"] == 1 or weak["supports"]:
        if strong["supports"] == 1:
            why = "support rests on a single level 1-2 study"
        else:
            weak_studies = "study" if weak["supports"] == 1 else "studies"
            why = f"support comes only from {weak['supports']} level 3-5 {weak_studies}"
        return result("limited", why)
    return result("insufficient", "no study in the library shows support or its absence clearly")
