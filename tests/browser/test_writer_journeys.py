"""A writer builds a bibliography across pages, then copies and downloads it (headless Chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def clipboard(page, kind: str) -> str:  # type: ignore[no-untyped-def]
    """Return one type of what is on the clipboard ("" when the browser will not say)."""
    script = """async (kind) => {
        for (const item of await navigator.clipboard.read()) {
            if (item.types.includes(kind)) { return await (await item.getType(kind)).text(); }
        }
        return "";
    }"""
    return str(page.evaluate(script, kind))


def test_writer_adds_from_two_pages_and_copies_the_basket(
    page, shoot, assert_accessible, tmp_path: Path
) -> None:
    page.goto("/cite")
    assert page.get_by_role("heading", name="Nothing in it yet").is_visible()
    assert_accessible(page)

    # From search results: Moyer 2004.
    page.goto("/search?q=meta-analysis+of+massage+therapy+research")
    page.locator("a.add-to-basket[data-keys='moyer2004meta']").first.click()
    page.wait_for_url("**/cite?keys=moyer2004meta**")
    assert page.locator(".basket-items li").count() == 1
    shoot("1-one-reference")

    # From a reference page: Sherman 2009 joins it, nothing replaced.
    page.goto("/references/sherman2009randomized")
    link = page.locator("a.add-to-basket")
    assert "keys=moyer2004meta" in (link.get_attribute("href") or "")
    link.click()
    page.wait_for_url("**/cite?keys=moyer2004meta,sherman2009randomized**")
    items = page.locator(".basket-items li")
    assert items.count() == 2
    assert page.get_by_role("link", name="Bibliography (2)").is_visible()
    entries = page.locator("#bibliography-html .csl-entry")
    assert entries.count() == 2
    assert entries.nth(0).inner_text().startswith("Moyer, C. A.")  # APA: by author
    assert page.locator("#bibliography-html i").count() >= 2  # journal names in italics
    shoot("2-two-references")
    assert_accessible(page)

    # Back on the reference page, the link says the study is already in.
    page.goto("/references/sherman2009randomized")
    assert page.locator("a.add-to-basket").inner_text() == "In your bibliography"
    page.locator("a.add-to-basket").click()
    page.wait_for_url("**/cite?keys=moyer2004meta,sherman2009randomized")

    # Another style, then copy: rich text and plain text together.
    page.get_by_label("Citation style").select_option("american-medical-association")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**style=american-medical-association**")
    assert "keys=moyer2004meta,sherman2009randomized" in page.url.replace("%2C", ",")
    page.get_by_role("button", name="Copy list").click()
    page.wait_for_selector(".copy-status:has-text('Copied')")
    plain = clipboard(page, "text/plain")
    rich = clipboard(page, "text/html")
    assert "Moyer CA" in plain and "Sherman KJ" in plain and "<" not in plain
    assert "<i>" in rich and "Moyer CA" in rich

    # The HTML download is a document a browser shows entry by entry.
    with page.expect_download() as info:
        page.get_by_role("link", name="web page (HTML)").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    page.goto(saved.as_uri())
    assert page.locator("p.csl-entry").count() == 2
    assert page.locator("p.csl-entry i").count() >= 2

    # Remove one: the other stays.
    page.goto("/cite?keys=moyer2004meta,sherman2009randomized")
    page.get_by_role("link", name="Remove A meta-analysis of massage therapy research").click()
    page.wait_for_url("**/cite?keys=sherman2009randomized**")
    assert page.locator(".basket-items li").count() == 1
    assert not page.console_errors  # type: ignore[attr-defined]


def test_unknown_key_keeps_the_rest(page, assert_accessible) -> None:
    page.goto("/cite?keys=sherman2009randomized,nobody2099nothing")
    assert page.locator(".unknown-keys li").inner_text().startswith("nobody2099nothing")
    assert page.locator("#bibliography-html .csl-entry").count() == 1
    assert page.get_by_label("Citation keys, separated by commas").input_value() == (
        "sherman2009randomized, nobody2099nothing"
    )
    assert_accessible(page)
