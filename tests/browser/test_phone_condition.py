"""On a phone a condition's filters fold into one line, so its studies follow their heading."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_a_condition_page_folds_its_filters_on_a_phone(
    page, width, shoot, assert_accessible
) -> None:
    page.goto("/conditions/chronic-neck-pain")
    panel = page.locator("details.filters-panel")
    chip = panel.locator("a.toggle").first
    heading = page.get_by_role("heading", name="The studies")
    first_study = page.locator("table.studies tbody tr").first.locator("td.study a")
    heading.evaluate("e => e.scrollIntoView({block: 'start'})")
    gap = first_study.bounding_box()["y"] - heading.bounding_box()["y"]
    if width == "desktop":
        assert panel.get_attribute("open") is not None and chip.is_visible()
        return
    # Folded into one line, the filters leave the first study in the top half of the screen that
    # starts at the studies' heading (unfolded, the chips alone took some 450 px of 844).
    assert panel.get_attribute("open") is None and not chip.is_visible()
    assert panel.bounding_box()["height"] <= 48
    assert first_study.is_visible() and gap < page.viewport_size["height"] / 2, gap
    shoot("1-folded")
    assert_accessible(page)
    # Unfolded, a filter still works, and the folded line then says how many are chosen.
    panel.locator("summary").click()
    assert chip.is_visible()
    chip.click()
    page.wait_for_url("**/conditions/chronic-neck-pain?*")
    assert page.locator("details.filters-panel").get_attribute("open") is None
    assert "(1 chosen)" in page.locator("details.filters-panel summary").inner_text()
    assert_accessible(page)
