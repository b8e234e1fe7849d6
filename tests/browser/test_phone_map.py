"""The evidence map keeps its condition column and header row in view while it scrolls."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_the_map_keeps_its_condition_column_and_header_row_in_view(
    page, shoot, width, assert_accessible
) -> None:
    page.goto("/evidence-map")
    box = page.get_by_role("region", name="Evidence map")
    box.scroll_into_view_if_needed()
    first_column = page.locator(".evidence-map tbody th").first.bounding_box()
    assert first_column is not None
    # Scroll the map as far right and down as it goes, inside its own box.
    scrolled = box.evaluate(
        "e => { e.scrollLeft = e.scrollWidth; e.scrollTop = e.scrollHeight;"
        " return [e.scrollLeft, e.scrollTop]; }"
    )
    assert scrolled[0] > 100 and scrolled[1] > 100, scrolled  # it does scroll both ways
    frame = box.bounding_box()
    last_row = page.locator(".evidence-map tbody tr").last
    row_head = last_row.locator("th").bounding_box()
    col_head = page.locator(".evidence-map thead th").last.bounding_box()
    corner = page.locator(".evidence-map thead th").first.bounding_box()
    assert frame and row_head and col_head and corner
    # The condition column stays at the box's left edge, the header row at its top.
    assert abs(row_head["x"] - first_column["x"]) <= 1 and row_head["x"] <= frame["x"] + 2
    assert abs(col_head["y"] - frame["y"]) <= 2 and abs(corner["y"] - frame["y"]) <= 2
    assert abs(corner["x"] - first_column["x"]) <= 1
    # The last condition's name is on top where it is drawn, not covered by a scrolled cell.
    name = last_row.locator("th a").bounding_box()
    assert name is not None and name["y"] > col_head["y"] + col_head["height"] - 1
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('tbody th') !== null",
        [name["x"] + 3, name["y"] + name["height"] / 2],
    )
    assert on_top
    shoot("1-scrolled")
    assert_accessible(page)


# For each cell link: how much of it the sticky header row and condition column hide, and how
# much of it shows beside them ([hidden height, shown height, hidden width, shown width]).
LINKS_UNDER_STICKY_PARTS = """e => {
  const head = e.querySelector('thead').getBoundingClientRect();
  const column = e.querySelector('tbody th').getBoundingClientRect();
  return [...e.querySelectorAll('td a')].map((a) => {
    const r = a.getBoundingClientRect();
    const clip = (lo, hi) => Math.max(0, Math.min(hi, r.bottom) - Math.max(lo, r.top));
    const clipX = (lo, hi) => Math.max(0, Math.min(hi, r.right) - Math.max(lo, r.left));
    return [a.getAttribute('href'), clip(-1e6, head.bottom), clip(head.bottom, 1e6),
            clipX(-1e6, column.right), clipX(column.right, 1e6)];
  });
}"""


@pytest.mark.parametrize("stop", [(0.37, 0.41), (0.63, 0.77), (1.0, 1.0)])
def test_a_scrolled_map_never_rests_with_a_link_half_under_its_sticky_parts(
    page, width, stop, assert_accessible
) -> None:
    page.goto("/evidence-map")
    box = page.get_by_role("region", name="Evidence map")
    box.scroll_into_view_if_needed()
    # Ask for an arbitrary point of the scroll; the box comes to rest at the nearest stop.
    rested = box.evaluate(
        "(e, [x, y]) => { e.scrollTo({left: x * (e.scrollWidth - e.clientWidth),"
        " top: y * (e.scrollHeight - e.clientHeight)}); return [e.scrollLeft, e.scrollTop]; }",
        list(stop),
    )
    assert rested[0] > 100 and rested[1] > 100, rested
    half_hidden = [
        (href, round(up, 1), round(down, 1), round(left, 1), round(right, 1))
        for href, up, down, left, right in box.evaluate(LINKS_UNDER_STICKY_PARTS)
        if (up > 0.05 and down > 0.05) or (left > 0.05 and right > 0.05)
    ]
    assert not half_hidden, half_hidden
    assert_accessible(page)
