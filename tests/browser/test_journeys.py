"""Three people's journeys end to end in headless Chromium, at desktop and phone widths."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PASTED = (
    "1. Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of therapeutic "
    "massage for chronic neck pain. Clin J Pain. 2008;25(3):233-238.\n\n"
    "2. Nobody A. An invented study of foot rubs in astronauts. J Imaginary Med. 2031;1:1-2.\n"
)


def copied(page, textarea: str) -> str:  # type: ignore[no-untyped-def]
    """Return what the copy button put on the clipboard (the textarea it copies, if unreadable)."""
    try:
        return str(page.evaluate("navigator.clipboard.readText()"))
    except Exception:  # noqa: BLE001 - some headless builds refuse clipboard reads
        return str(page.input_value(textarea))


def unfold_filters(page) -> None:  # type: ignore[no-untyped-def]
    """Open a condition's filters where a phone shows them folded; a wide screen has them open."""
    panel = page.locator("details.filters-panel")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()


def test_therapist_downloads_tmj_trials_in_ama(
    page, shoot, assert_accessible, tmp_path: Path
) -> None:
    page.goto("/")
    assert_accessible(page)
    shoot("1-home")
    page.get_by_role("link", name="Temporomandibular joint pain (TMJ/TMD)").first.click()
    page.wait_for_url("**/conditions/tmj-tmd")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Temporomandibular")
    assert_accessible(page)
    unfold_filters(page)  # a phone folds them into one line above the studies
    page.get_by_role("link", name="Randomised controlled trial (3)").click()
    page.wait_for_url("**design=rct**")
    unfold_filters(page)
    page.get_by_role("link", name="supports (3)").click()
    page.wait_for_url("**finding=supports**")
    rows = page.locator("table.studies tbody tr")
    assert rows.count() == 1 and "Intraoral myofascial therapy" in rows.first.inner_text()
    page.get_by_label("Citation style").select_option("american-medical-association")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**style=american-medical-association**")
    assert "design=rct" in page.url  # the permalink keeps the filter
    shoot("2-tmj-trials-ama")
    assert_accessible(page)
    with page.expect_download() as info:
        page.locator(".bibliography .downloads a").first.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert saved.name == "bibliography-american-medical-association.txt"
    assert "Kalamir A" in text and "2012;35(1):26-37" in text
    assert "Herrera-Valencia" not in text  # the meta-analysis was filtered out


def test_writer_checks_a_list_and_copies_it_in_apa(page, shoot, assert_accessible) -> None:
    page.goto("/check")
    assert_accessible(page)
    page.get_by_label("Your reference list").fill(PASTED)
    page.get_by_label("Style for the corrected list").select_option("apa")
    page.get_by_role("button", name="Check the list").click()
    page.wait_for_selector("#report-heading")
    entries = page.locator(".checked-entry")
    assert entries.count() == 2
    assert "matched, with differences" in entries.nth(0).inner_text()
    assert "2008" in entries.nth(0).locator("table.differences").inner_text()
    assert "not in the library" in entries.nth(1).inner_text()
    shoot("1-checked")
    assert_accessible(page)
    page.get_by_role("button", name="Copy corrected list").click()
    page.wait_for_selector(".copy-status:has-text('Copied')")
    text = copied(page, "#corrected-text")
    assert "Sherman, K. J." in text and "(2009)" in text
    assert "2008" not in text.split("\n")[0]


def test_student_follows_did_you_mean_and_cites_a_study(page, shoot, assert_accessible) -> None:
    page.goto("/")
    page.get_by_label("Search studies, conditions and techniques").fill("fibromialgia")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector(".did-you-mean")
    shoot("1-did-you-mean")
    assert_accessible(page)
    page.locator(".did-you-mean a").click()
    page.wait_for_url("**q=fibromyalgia**")
    assert page.locator(".hit").count() > 0
    filters = page.locator("details.filters-panel")
    if filters.get_attribute("open") is None:  # folded on a phone: open the disclosure
        page.get_by_text("Filters", exact=True).click()
    design = page.locator(".facets .facet").filter(has_text="Design").get_by_role("link").first
    chosen = design.inner_text().split(" (")[0]
    design.click()
    page.wait_for_url("**design=**")
    shoot("2-filtered")
    assert_accessible(page)
    assert page.locator(".facets .toggle.selected").filter(has_text=chosen).count() == 1
    first = page.locator(".hit-reference .hit-title").first
    title = first.inner_text()
    first.click()
    page.wait_for_selector("#cite-heading")
    assert page.get_by_role("heading", level=1).inner_text() == title
    page.get_by_role("button", name="Copy citation").click()
    page.wait_for_selector(".copy-status:has-text('Copied')")
    shoot("3-reference")
    assert_accessible(page)
    assert title.split(":")[0][:30].lower() in copied(page, "#citation-text").lower()
    assert not page.console_errors  # type: ignore[attr-defined]


def test_therapist_reads_the_workings_of_a_grade(page, shoot, assert_accessible) -> None:
    page.goto("/conditions/blood-pressure")
    assert page.get_by_role("note", name="Harm reported").is_visible()
    assert page.get_by_role("heading", name="Indirect evidence (1)").is_visible()
    assert_accessible(page)
    shoot("1-blood-pressure")
    page.goto("/evidence-map")
    page.locator("a[href$='/evidence-map/blood-pressure/trigger-point']").first.click()
    page.wait_for_url("**/evidence-map/blood-pressure/trigger-point")
    assert "harm" in page.locator("table.studies").inner_text()
    assert_accessible(page)
    shoot("2-trigger-point-cell")
    page.goto("/references/sherman2009randomized")
    page.get_by_text("Provenance: where these details were checked").click()
    assert page.get_by_text("We could not confirm a PubMed ID for this paper.").is_visible()
    assert_accessible(page)
