"""Differential test: every shipped reference in six styles, citeproc-py (mended) vs citeproc-js.

citeproc-js (npm ``citeproc``, the processor Zotero uses) runs under node from
``tests/citeproc_js``; ``tests/citeproc_js/setup.sh`` installs it. Without node the test fails:
the comparison is the point. Outputs are compared as text with whitespace normalised only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from references.cite import Citer, csl_item
from references.csl_engine import LOCALES_DIR
from references.styles import resolve_style

DRIVER_DIR = Path(__file__).parent / "citeproc_js"
DATA = Path(__file__).parent / "fixtures" / "shared-data"
STYLES = [
    "apa",
    "american-medical-association",
    "nlm-citation-sequence",
    "chicago-author-date",
    "harvard-cite-them-right",
    "modern-language-association",
]

# Differences that are citeproc-js's, not ours: (style, our text, citeproc-js's text, why).
_SAME_INITIALS = (
    "{key} lists two authors whose family name and initial agree; citeproc-js expands the "
    "first given name in the bibliography to tell them apart, though CSL disambiguation applies "
    "to cites, and the style's citation (by-cite rule) is unambiguous: ({family} et al., 2024)."
)
_HYPHEN_INITIALS = (
    "Issue 9: a hyphenated given name whose second part is lower case (Yan-hui, Jing-lan) "
    "initialises to both parts, 'YH' (NLM, AMA) and 'Y.-h.' (APA, Harvard), as those manuals "
    "write it; citeproc-js 2.4 prints the second part whole ('Li Y hui') or drops it ('Li, Y.')."
)
KNOWN_EXCEPTIONS = [
    (
        "apa",
        "Yang et al., 2023, 2012;",
        "Yang et al., 2012, 2023;",
        (
            "In the one cluster citing everything: Yang, J.-l. (2012) sorts after Yang, J. "
            "(2023), the initials differing (see the hyphenated names below)."
        ),
    ),
    (
        "harvard-cite-them-right",
        "Khan, S. et al. (2024)",
        "Khan, Shahid et al. (2024)",
        _SAME_INITIALS.format(key="khan2024deep (Shahid and Sargand Khan)", family="Khan"),
    ),
    (
        "harvard-cite-them-right",
        "Wang, Z. et al. (2024)",
        "Wang, Zhen et al. (2024)",
        _SAME_INITIALS.format(key="wang2024effect (Zhen and Zheng Wang)", family="Wang"),
    ),
    (
        "apa",
        "Li, Y.-h., Wang, F.-y., Feng, C.-q., Yang, X.-f., & Sun, Y.-h.",
        "Li, Y., Wang, F., Feng, C., Yang, X., & Sun, Y.",
        _HYPHEN_INITIALS,
    ),
    (
        "apa",
        "Yang, J.-l., Chen, S.-y., Hsieh, C.-L., & Lin, J.-j.",
        "Yang, J., Chen, S., Hsieh, C.-L., & Lin, J.",
        _HYPHEN_INITIALS,
    ),
    ("harvard-cite-them-right", "Li, Y.-h. et al.", "Li, Y. et al.", _HYPHEN_INITIALS),
    ("harvard-cite-them-right", "Yang, J.-l. et al.", "Yang, J. et al.", _HYPHEN_INITIALS),
    *(
        (
            style,
            ours,
            theirs,
            _HYPHEN_INITIALS,
        )
        for style in ("american-medical-association", "nlm-citation-sequence")
        for ours, theirs in (
            (
                "Li YH, Wang FY, Feng CQ, Yang XF, Sun YH",
                "Li Y hui, Wang F yun, Feng C qing, Yang X feng, Sun Y hua",
            ),
            ("Yang JL, Chen SY, Hsieh CL, Lin JJ", "Yang J lan, Chen S yee, Hsieh CL, Lin J jenq"),
        )
    ),
]
# Entries we order differently because of an exception above: (style, the entry we put
# first, the one citeproc-js puts first, why), both as they start after the exceptions apply.
KNOWN_ORDER = [
    (
        "harvard-cite-them-right",
        "Yang, J. et al. (2023)",
        "Yang, J. et al. (2012)",
        "Yang, J.-l. (2012) sorts after Yang, J. (2023): the initials differ (see above).",
    ),
]


def _records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for name in ("library.json", "seed-web.json"):
        with open(DATA / name, encoding="utf-8") as f:
            records.extend(json.load(f))
    return records


def _normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def citeproc_js() -> dict[str, dict[str, Any]]:
    """Render every record in every style with citeproc-js, once."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the differential test needs node 20 and npm")
    if not (DRIVER_DIR / "node_modules" / "citeproc").is_dir():
        setup = subprocess.run(
            ["sh", str(DRIVER_DIR / "setup.sh")], capture_output=True, text=True, check=False
        )
        if setup.returncode != 0:
            pytest.fail(f"cannot install citeproc-js (tests/citeproc_js/setup.sh):\n{setup.stderr}")
    items = [csl_item(r) for r in _records()]
    jobs = []
    for style in STYLES:
        info = resolve_style(style)
        jobs.append(
            {
                "items": items,
                "style": str(info.path),
                "locales": str(LOCALES_DIR),
                "lang": info.default_locale or "en-US",
                "format": "text",
            }
        )
    out = subprocess.run(
        [node, str(DRIVER_DIR / "render.js")],
        input=json.dumps({"jobs": jobs}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if out.returncode != 0:
        pytest.fail(f"citeproc-js failed:\n{out.stderr}")
    return dict(zip(STYLES, json.loads(out.stdout)["results"], strict=True))


def _excused(style: str, ours: str, theirs: str) -> bool:
    for exc_style, our_text, their_text, _why in KNOWN_EXCEPTIONS:
        same_place = exc_style == style and our_text in ours and their_text in theirs
        if same_place and _normalise(ours.replace(our_text, their_text)) == _normalise(theirs):
            return True
    return False


def _in_their_order(style: str, entries: list[str]) -> list[str]:
    """Swap the pairs of entries KNOWN_ORDER lists (after the text exceptions apply)."""
    entries = list(entries)
    for exc_style, ours_first, theirs_first, _why in KNOWN_ORDER:
        if exc_style != style:
            continue
        for i in range(len(entries) - 1):
            pair = [_excused_text(style, e) for e in entries[i : i + 2]]
            if pair[0].startswith(ours_first) and pair[1].startswith(theirs_first):
                entries[i], entries[i + 1] = entries[i + 1], entries[i]
    return entries


def _excused_text(style: str, text: str) -> str:
    for exc_style, our_text, their_text, _why in KNOWN_EXCEPTIONS:
        if exc_style == style:
            text = text.replace(our_text, their_text)
    return text


@pytest.mark.parametrize("style", STYLES)
def test_bibliography_matches_citeproc_js(style: str, citeproc_js: dict[str, Any]) -> None:
    ours = _in_their_order(style, Citer().bibliography(_records(), style))
    theirs = citeproc_js[style]["bibliography"]
    assert len(ours) == len(theirs) == 123
    differing = [
        (a, b)
        for a, b in zip(ours, theirs, strict=True)
        if _normalise(a) != _normalise(b) and not _excused(style, a, b)
    ]
    assert differing == []


@pytest.mark.parametrize("style", STYLES)
def test_citations_match_citeproc_js(style: str, citeproc_js: dict[str, Any]) -> None:
    citer = Citer()
    records = _records()
    ours = citer.citations(records, style)
    theirs = citeproc_js[style]["citations"]
    assert [_normalise(c) for c in ours] == [_normalise(c) for c in theirs]
    cluster = _excused_text(style, citer.citation(records, style))
    assert _normalise(cluster) == _normalise(citeproc_js[style]["cluster"])


def test_every_known_exception_still_occurs(citeproc_js: dict[str, Any]) -> None:
    """A listed exception that citeproc-js no longer shows must be removed from the list."""
    for style, our_text, their_text, _why in KNOWN_EXCEPTIONS:
        citer = Citer()
        ours = "\n".join(
            [*citer.bibliography(_records(), style), citer.citation(_records(), style)]
        )
        assert our_text in ours
        theirs = [*citeproc_js[style]["bibliography"], citeproc_js[style]["cluster"]]
        assert their_text in "\n".join(theirs)
    for style, ours_first, theirs_first, _why in KNOWN_ORDER:
        ours = [_excused_text(style, e) for e in Citer().bibliography(_records(), style)]
        theirs = citeproc_js[style]["bibliography"]
        pair = (ours_first, theirs_first)
        assert next(e for e in ours if e.startswith(pair)).startswith(ours_first)
        assert next(e for e in theirs if e.startswith(pair)).startswith(theirs_first)


# Issue 9's cases, each of which the comparison above covers in the shipped library.
ISSUE_9_CASES = [
    ("american-medical-association", "Li YH, Wang FY"),  # initials of a hyphenated name
    ("nlm-citation-sequence", "Li YH, Wang FY"),
    ("apa", "Li, Y.-h., Wang, F.-y."),
    ("american-medical-association", "Clin J Pain. 2009;25(3):233-238."),  # short journal title
    ("nlm-citation-sequence", "Clin J Pain. 2009 Mar–Apr;25(3):233–8."),
    ("apa", "International Journal of Neuroscience, 96(1–2), 1–11."),  # an issue range
    ("chicago-author-date", "International Journal of Neuroscience 96 (1–2): 1–11."),
]


@pytest.mark.parametrize(("style", "text"), ISSUE_9_CASES)
def test_issue_9_cases_are_in_the_compared_output(
    style: str, text: str, citeproc_js: dict[str, Any]
) -> None:
    ours = "\n".join(Citer().bibliography(_records(), style))
    assert text in ours
    theirs = "\n".join(citeproc_js[style]["bibliography"])
    excused = [t for s_, o, t, _ in KNOWN_EXCEPTIONS if s_ == style and text in o and t in theirs]
    assert text in theirs or excused


def test_title_case_of_hyphenated_compounds_matches_citeproc_js() -> None:
    """Chicago title-cases; a compound keeps its stop words lower case (citeproc-js 2.4.63
    prints this title so)."""
    record = {
        "id": "own2026proof",
        "type": "article-journal",
        "title": "A proof-of-concept trial of run-in massage for hospital care",
        "author": [{"family": "Own", "given": "Test"}],
        "issued": {"date-parts": [[2026]]},
    }
    (entry,) = Citer().bibliography([record], "chicago-author-date")
    assert "A Proof-of-Concept Trial of Run-in Massage for Hospital Care." in entry
