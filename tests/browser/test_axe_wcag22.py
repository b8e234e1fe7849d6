"""axe (WCAG 2.0-2.2, A and AA) on every page at desktop and phone width: 0 serious or critical.

Every violation axe finds, of any impact, is counted per page into
test-artifacts/axe/axe-<width>.json, so the figures can be read beside the screenshots.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe"
SCREENSHOTS = ARTIFACTS.parent / "screenshots"
PASTED = (
    "1. Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of therapeutic "
    "massage for chronic neck pain. Clin J Pain. 2008;25(3):233-238.\n\n"
    "2. Nobody A. An invented study of foot rubs in astronauts. J Imaginary Med. 2031;1:1-2.\n"
)
# Every page and state a person meets: each template, its filters, its errors.
PAGES = [
    "/",
    "/about",
    "/conditions",
    "/conditions/tmj-tmd",
    "/conditions/chronic-neck-pain?design=rct&style=american-medical-association",
    "/modalities",
    "/modalities/trigger-point",
    "/evidence-map",
    "/evidence-map/blood-pressure/trigger-point",
    "/references/sherman2009randomized",
    "/search?q=neck+pain+massage",
    "/search?q=massage&sort=newest&year_from=2010&year_to=2020",
    "/search?q=fibromialgia",
    "/search?q=zzzzqqqq",
    "/cite?keys=sherman2009randomized,kalamir2012intraoral&style=vancouver",
    "/cite",
    "/cite?keys=sherman2009randomized,no-such-key",
    "/check",
    "/conditions/no-such-thing",
    "/conditions/tmj-tmd?design=anecdote",
]


def test_axe_finds_nothing_serious_on_any_page(
    page, width, axe, landmark_rules, repeated_landmarks
) -> None:
    counts: dict[str, dict[str, int]] = {}
    problems: list[str] = []

    def scan(name: str) -> None:
        """Run axe's WCAG rules and the landmark checks; count every finding, keep serious ones."""
        found = axe(page)
        landmarks = axe(page, {"type": "rule", "values": landmark_rules})
        landmarks += [
            {"id": "landmark-repeated", "impact": "serious", "help": mark, "count": 1, "nodes": []}
            for mark in repeated_landmarks(page)
        ]
        tally: Counter[str] = Counter()
        for v in found + landmarks:
            tally[v["impact"]] += v["count"]
        counts[name] = {"violations": sum(tally.values()), **dict(tally)}
        serious = [v for v in found if v["impact"] in ("serious", "critical")] + landmarks
        problems.extend(
            f"{name}: {v['id']} ({v['impact']}) {v['help']} {v['nodes']}" for v in serious
        )

    def screenshot(name: str) -> None:
        if width == "phone":  # the phone pages, for reading beside the counts
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"phone-page-{name}.png"), full_page=True)

    for url in PAGES:
        page.goto(url)
        scan(url)
        screenshot(re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "home")
        panel = page.locator("details.filters-panel")
        if panel.count() and panel.get_attribute("open") is None:
            panel.locator("summary").click()  # the folded filters are checked unfolded too
            scan(f"{url} (filters open)")
    page.goto("/check")
    page.get_by_label("Your reference list").fill(PASTED)
    page.get_by_role("button", name="Check the list").click()
    page.wait_for_selector("#report-heading")
    scan("POST /check")
    screenshot("check-report")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{width}.json").write_text(json.dumps(counts, indent=2), encoding="utf-8")
    assert len(counts) >= len(PAGES) + 1
    assert not problems, "\n".join(problems)
