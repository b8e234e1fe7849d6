"""Say, in a reader's words, where a reference's facts were checked and what could not be."""

from __future__ import annotations

import re
from typing import Any

# (pattern in a curator's gap note, the sentence a reader sees); the first match wins.
_SENTENCES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^(pmid and nlm|pmid\b.*and.*abbreviation)", re.IGNORECASE),
        "We could not confirm a PubMed ID or the journal's standard abbreviation for this paper.",
    ),
    (re.compile(r"^pmid\b", re.IGNORECASE), "We could not confirm a PubMed ID for this paper."),
    (re.compile(r"^doi\b", re.IGNORECASE), "We could not confirm a DOI for this paper."),
    (
        re.compile(r"^(nlm|the nlm)\b.*abbreviation|^nlm abbreviation", re.IGNORECASE),
        "We could not confirm the journal's standard (NLM) abbreviation.",
    ),
    (re.compile(r"^issue\b", re.IGNORECASE), "We could not confirm the issue number."),
    (re.compile(r"^volume\b", re.IGNORECASE), "We could not confirm the volume."),
    (re.compile(r"^page range\b", re.IGNORECASE), "We could not confirm the page range."),
    (
        re.compile(r"^(number of participants|sample size|total sample size)\b", re.IGNORECASE),
        "We could not confirm how many people took part.",
    ),
    (
        re.compile(r"(author|co-authors').*given names", re.IGNORECASE),
        "We could confirm only the initials of some authors, not their full given names.",
    ),
    (
        re.compile(r"^author list incomplete", re.IGNORECASE),
        "The list of authors may be incomplete.",
    ),
    (
        re.compile(r"^grade certainty", re.IGNORECASE),
        "We could not see how certain the review's authors rated their evidence.",
    ),
    (
        re.compile(r"^no stored copy of", re.IGNORECASE),
        "We could not find a copy of this web page, so its address and date are not confirmed.",
    ),
    (
        re.compile(r"^full journal title not seen", re.IGNORECASE),
        "We could not confirm the journal's full title.",
    ),
]


def gap_sentence(gap: str) -> str:
    """Return the sentence a reader sees for one curator's gap note."""
    for pattern, sentence in _SENTENCES:
        if pattern.search(gap.strip()):
            return sentence
    return f"Not confirmed when we checked this record: {gap.strip().rstrip('.')}."


def provenance(curation: dict[str, Any] | None) -> dict[str, Any]:
    """Return what a reader's "Provenance" section shows: sources checked and gaps, in words."""
    curation = curation or {}
    gaps = [str(g) for g in curation.get("gaps") or []]
    sentences = list(dict.fromkeys(gap_sentence(g) for g in gaps))
    return {
        "checked_at": [str(u) for u in curation.get("verified_from") or []],
        "not_confirmed": sentences,
        "gaps": gaps,
    }
