"""A seeded synthetic library for benchmarks: CSL-JSON records shaped like the shipped ones.

Titles of ~12 words and abstracts of 150-210 words drawn from a Zipf-like vocabulary of about
20,000 words (a few hundred real domain words at the head, so that broad queries such as
"massage" or "pain" match a large share of the library), 1-6 authors, ~250 journals, years
1990-2026, 1-3 of the shipped conditions with their modalities and findings, and a design.
"""

from __future__ import annotations

import random
from itertools import accumulate
from typing import Any

DOMAIN = [
    "massage",
    "therapy",
    "pain",
    "patients",
    "study",
    "treatment",
    "effect",
    "trial",
    "group",
    "randomized",
    "outcome",
    "chronic",
    "muscle",
    "neck",
    "back",
    "low",
    "function",
    "session",
    "week",
    "control",
    "therapist",
    "clinical",
    "evidence",
    "tissue",
    "relief",
    "anxiety",
    "stress",
    "sleep",
    "quality",
    "improvement",
    "significant",
    "intervention",
    "review",
    "manual",
    "soft",
    "technique",
    "pressure",
    "health",
    "care",
    "women",
    "adults",
    "older",
    "cancer",
    "shoulder",
    "headache",
    "recovery",
    "exercise",
    "soreness",
    "lymphatic",
    "drainage",
    "scar",
    "swedish",
    "myofascial",
    "release",
    "trigger",
    "point",
    "sports",
    "deep",
    "fibromyalgia",
    "sciatica",
    "carpal",
    "tunnel",
    "jaw",
    "tension",
    "depression",
    "blood",
    "hypertension",
    "range",
    "motion",
    "disability",
    "questionnaire",
    "baseline",
    "follow",
    "months",
    "placebo",
    "sham",
    "usual",
    "compared",
    "reduced",
    "increased",
    "measured",
    "score",
    "scale",
    "analysis",
    "meta",
    "systematic",
    "included",
    "bias",
    "risk",
    "quality",
]
CONDITIONS = (
    "repetitive-strain-injury",
    "insomnia",
    "headache-migraine",
    "fibromyalgia",
    "whiplash",
    "tmj-tmd",
    "low-back-pain-sciatica",
    "frozen-shoulder-hip",
    "carpal-tunnel-syndrome",
    "lymphedema",
    "post-surgical-scar-tissue",
    "chronic-neck-pain",
    "cancer-symptoms",
    "blood-pressure",
    "stress-anxiety-depression",
    "musculoskeletal-pain-general",
    "sports-recovery-doms",
)
MODALITIES = (
    "therapeutic-massage",
    "swedish",
    "deep-tissue",
    "myofascial-release",
    "trigger-point",
    "sports-massage",
    "structural-integration",
    "manual-lymphatic-drainage",
    "deep-transverse-friction",
    "aromatherapy-massage",
    "tuina",
    "scar-massage",
    "self-massage",
)
DESIGNS = (
    ("rct", 30),
    ("systematic-review", 12),
    ("meta-analysis", 8),
    ("cochrane-review", 2),
    ("guideline", 1),
    ("crossover", 5),
    ("pilot-rct", 10),
    ("cohort", 8),
    ("case-series", 10),
    ("narrative-review", 10),
    ("uncontrolled-before-after", 4),
)
FINDINGS = (
    ("supports", 45),
    ("mixed", 25),
    ("no-difference", 15),
    ("insufficient", 13),
    ("harm", 2),
)
_ONSETS = [
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "j",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "w",
    "z",
    "br",
    "ch",
    "cl",
    "cr",
    "dr",
    "fl",
    "gr",
    "pl",
    "pr",
    "sh",
    "sl",
    "st",
    "th",
    "tr",
]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ie", "io", "ou"]
_CODAS = ["", "", "n", "r", "s", "l", "m", "t", "nd", "st", "x"]


def vocabulary(size: int = 20_000, seed: int = 7) -> list[str]:
    """Return ``size`` distinct words, domain words first (the head of the Zipf curve)."""
    rng = random.Random(seed)
    words = list(dict.fromkeys(DOMAIN))
    seen = set(words)
    while len(words) < size:
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 4))
        ) + rng.choice(_CODAS)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_weights(size: int, exponent: float = 1.0) -> list[float]:
    """Return cumulative Zipf weights for ranks 1..size."""
    return list(accumulate(1.0 / (rank**exponent) for rank in range(1, size + 1)))


def _weighted(pairs: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [p[0] for p in pairs], list(accumulate(p[1] for p in pairs))


def synthetic_records(n: int, seed: int = 42) -> list[dict[str, Any]]:
    """Return ``n`` deterministic CSL-JSON records with a ``kb`` block (design, evidence)."""
    rng = random.Random(seed)
    words = vocabulary()
    cumulative = zipf_weights(len(words))
    surnames = [w.capitalize() for w in vocabulary(3000, seed=11)[200:3000]]
    givens = [
        "Anna",
        "Ben",
        "Chen",
        "Dana",
        "Eli",
        "Fatima",
        "Goran",
        "Hana",
        "Ivan",
        "Júlia",
        "Kenji",
        "Lena",
        "Marta",
        "Noor",
        "Olu",
        "Pia",
        "Rui",
        "Sara",
        "Tomás",
        "Una",
    ]
    journals = [
        f"Journal of {' '.join(w.capitalize() for w in rng.sample(words[:2000], 2))}"
        for _ in range(250)
    ]
    designs, design_weights = _weighted(DESIGNS)
    findings, finding_weights = _weighted(FINDINGS)
    records = []
    for number in range(n):
        title_words = rng.choices(words, cum_weights=cumulative, k=rng.randint(9, 15))
        abstract_words = rng.choices(words, cum_weights=cumulative, k=rng.randint(150, 210))
        year = rng.randint(1990, 2026)
        authors = [
            {"family": rng.choice(surnames), "given": rng.choice(givens)}
            for _ in range(rng.randint(1, 6))
        ]
        evidence = []
        for condition in rng.sample(CONDITIONS, rng.randint(1, 3)):
            evidence.append(
                {
                    "condition": condition,
                    "modalities": rng.sample(MODALITIES, rng.randint(1, 2)),
                    "finding": rng.choices(findings, cum_weights=finding_weights)[0],
                    "summary": " ".join(
                        rng.choices(words, cum_weights=cumulative, k=18)
                    ).capitalize()
                    + ".",
                }
            )
        records.append(
            {
                "id": f"{authors[0]['family'].lower()}{year}synthetic{number}",
                "type": "article-journal",
                "title": " ".join(title_words).capitalize(),
                "author": authors,
                "container-title": rng.choice(journals),
                "issued": {"date-parts": [[year]]},
                "abstract": " ".join(abstract_words).capitalize() + ".",
                "kb": {
                    "design": rng.choices(designs, cum_weights=design_weights)[0],
                    "evidence": evidence,
                },
            }
        )
    return records


def queries(records: list[dict[str, Any]], count: int = 300, seed: int = 1) -> list[str]:
    """Return a fixed set of 1-3 word queries and phrases: broad, middling and rare."""
    rng = random.Random(seed)
    words = vocabulary()
    out = []
    for i in range(count):
        kind = i % 6
        if kind == 0:  # broad: the head of the curve, matching a large share of the library
            out.append(rng.choice(words[20:45]))
        elif kind == 1:
            out.append(" ".join(rng.sample(words[:300], 2)))
        elif kind == 2:
            out.append(rng.choice(words[300:5000]))
        elif kind == 3:  # a phrase lifted from a title, so it matches something
            title = rng.choice(records)["title"].lower().split()
            start = rng.randrange(0, max(1, len(title) - 1))
            out.append('"' + " ".join(title[start : start + 2]) + '"')
        elif kind == 4:
            out.append(" ".join(rng.sample(words[:3000], 3)))
        else:
            out.append(
                rng.choice(["massage", "pain", "neck pain", "low back", "anxiety", "fibromyalgia"])
            )
    return out
