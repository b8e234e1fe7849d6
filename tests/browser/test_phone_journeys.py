"""Journeys on a 390x844 phone in headless Debian Chromium.

A shared link with tracking tags, a search whose first result shows without scrolling, sorting
by year and by design, and the year control.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser

TRACKING = "utm_source=newsletter&utm_medium=email&utm_campaign=spring&fbclid=IwAR0abc&gclid=x1"


@pytest.fixture
def width() -> str:
    """These journeys are a phone's: 390x844 CSS px."""
    return "phone"


def hrefs(page: Any) -> list[str]:
    """Return every link and form target on the page, as written in its HTML."""
    return page.eval_on_selector_all(
        "a[href], form[action]", "els => els.map(e => e.getAttribute('href') || e.action)"
    )


def open_filters(page: Any) -> None:
    """Unfold the filters, which a phone shows as one closed line above the results."""
    panel = page.locator("details.filters-panel")
    assert panel.get_attribute("open") is None
    panel.locator("summary").click()
    assert panel.get_attribute("open") is not None


def test_a_shared_link_with_tracking_parameters_opens_the_page(page, shoot, assert_accessible):
    page.goto(f"/conditions/tmj-tmd?{TRACKING}")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Temporomandibular"), heading
    assert "could not be understood" not in page.content()
    assert not [h for h in hrefs(page) if re.search(r"utm_|fbclid|gclid", h)]
    shoot("1-condition-from-newsletter")
    assert_accessible(page)
    # The same tags on a filtered page keep the filter and drop the tags from its links.
    page.goto(f"/conditions/tmj-tmd?design=rct&{TRACKING}&ref=feed")
    assert page.locator("table.studies tbody tr").count() == 1
    assert not [h for h in hrefs(page) if re.search(r"utm_|fbclid|gclid|ref=feed", h)]
    page.goto("/references/sherman2009randomized?fbclid=abc")
    assert "massage for chronic neck pain" in page.get_by_role("heading", level=1).inner_text()
    page.goto("/?utm_source=x")
    assert page.get_by_role("heading", level=1).inner_text().startswith("What does the research")
    page.get_by_label("Search studies, conditions and techniques").fill("massage")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?q=massage")  # the tag did not follow into the search
    # An old link past the last page lands on the last page, not on "page 99 of 3".
    page.goto(f"/search?q=massage&page=99&{TRACKING}")
    heading = page.locator("#results-heading").inner_text()
    last = re.search(r"page (\d+) of (\d+)", heading)
    assert last and last.group(1) == last.group(2), heading
    assert "utm_" not in page.url


def test_a_phone_search_shows_the_first_result_without_scrolling(
    page, shoot, assert_accessible
) -> None:
    page.goto("/")
    page.get_by_label("Search studies, conditions and techniques").fill("neck pain massage")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector(".hit")
    assert page.evaluate("window.scrollY") == 0
    first = page.locator(".hit").first.locator(".hit-title")
    box = first.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 844, box
    # The filters are one folded line above the results, not a screenful of links.
    filters = page.locator("details.filters-panel")
    assert filters.get_attribute("open") is None
    assert not page.get_by_role("link", name=re.compile(r"^Meta-analysis")).is_visible()
    shoot("1-results")
    assert_accessible(page)
    open_filters(page)
    page.get_by_role("link", name=re.compile(r"^Randomised controlled trial \(\d+\)")).click()
    page.wait_for_url("**design=rct**")
    assert page.locator(".hit").count() > 0
    assert "(1 chosen)" in page.locator("details.filters-panel summary").inner_text()
    first = page.locator(".hit").first.bounding_box()
    assert first is not None and first["y"] < 844
    shoot("2-filtered")
    assert_accessible(page)
    # Each finding says which condition it is about.
    badge = page.locator(".hit-findings .finding").first.inner_text()
    assert re.match(r"^(supports|mixed|no difference|insufficient|harm\w*) — \w", badge), badge


def test_sorting_by_year_sorts_the_studies(page, shoot, assert_accessible) -> None:
    page.goto("/search?q=massage")
    page.get_by_label("Sort by").select_option("newest")
    page.get_by_role("button", name="Sort", exact=True).click()
    page.wait_for_url("**sort=newest**")
    hits = page.locator("ol.hits > li")
    assert hits.count() == 20
    assert hits.evaluate_all("els => els.every(e => e.classList.contains('hit-reference'))")
    lines = hits.locator("p.muted").all_inner_texts()
    years = [int(re.findall(r"· ((?:19|20)\d\d)", line)[0]) for line in lines]
    assert years == sorted(years, reverse=True) and years[0] >= years[-1]
    # The condition and technique pages the words match stand apart, above the studies.
    topics = page.get_by_role("group", name="Condition and technique pages")
    assert topics.get_by_role("link", name="Swedish massage").count() == 1
    assert topics.bounding_box()["y"] < hits.first.bounding_box()["y"]  # type: ignore[index]
    heading = page.locator("#results-heading").inner_text()
    assert re.match(r"^\d+ studies, page 1 of \d+$", heading), heading
    shoot("1-newest")
    assert_accessible(page)
    page.get_by_label("Sort by").select_option("level")
    page.get_by_role("button", name="Sort", exact=True).click()
    page.wait_for_url("**sort=level**")
    levels = [
        int(re.findall(r"\(level (\d)\)", line)[0])
        for line in page.locator("ol.hits > li p.muted").all_inner_texts()
    ]
    assert levels == sorted(levels) and len(levels) == 20


def test_the_year_control_narrows_the_search(page, shoot, assert_accessible) -> None:
    page.goto("/search?q=massage&sort=oldest")
    open_filters(page)
    years = page.get_by_role("group", name="Years published")
    years.get_by_label("From", exact=True).fill("2010")
    years.get_by_label("To", exact=True).fill("2015")
    shoot("1-years-typed")
    years.get_by_role("button", name="Apply years").click()
    page.wait_for_url("**year_from=2010**")
    assert "year_to=2015" in page.url and "sort=oldest" in page.url and "q=massage" in page.url
    shown = [
        int(y)
        for line in page.locator("ol.hits > li p.muted").all_inner_texts()
        for y in re.findall(r"· ((?:19|20)\d\d)", line)
    ]
    assert shown and all(2010 <= y <= 2015 for y in shown) and shown == sorted(shown)
    assert page.get_by_label("From", exact=True).input_value() == "2010"
    assert page.get_by_label("To", exact=True).input_value() == "2015"
    assert "(1 chosen)" in page.locator("details.filters-panel summary").inner_text()
    shoot("2-years-applied")
    assert_accessible(page)
    open_filters(page)
    page.get_by_role("link", name="Any year").click()
    page.wait_for_url(re.compile(r"/search\?q=massage&sort=oldest$"))
