"""Page ranges as citeproc-js writes them: prefixed pages ("N110-N115"), odd ranges left alone.

A range is rewritten only when both ends carry the same letter prefix (or none) and the first
page is the lower one; anything else ("110-N6", "N110-P5", "23-22") is kept as written, with a
plain hyphen, since no rule can tell what it means. Without a page-range-format the pages are
not expanded, only joined with the range delimiter.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_RANGE = re.compile(
    r"(?<![\w-])(\d*[A-Za-z]+0*)?(\d+)\s*[-\u2013]\s*(\d*[A-Za-z]+0*)?(\d+)(?![\w-])"
)


def format_pages(
    text: str, range_format: str | None, delimiter: str, last_page: Callable[[str, str], str]
) -> str | None:
    """Return ``text`` with each range formatted, or None when it holds no range we read.

    ``last_page(first, last)`` abbreviates a last page (both in full digits) as the style says.
    """
    if not _RANGE.search(text):
        return None

    def one(match: re.Match[str]) -> str:
        prefix, first, second_prefix, last = match.groups()
        if (second_prefix or "") != (prefix or ""):
            return match.group(0).replace(" ", "").replace("\u2013", "-")
        prefix = prefix or ""
        if range_format is None:
            return f"{prefix}{first}{delimiter}{prefix if second_prefix else ''}{last}"
        if len(last) < len(first):  # "110-5" is 110 to 115
            last = first[: len(first) - len(last)] + last
        if int(first) >= int(last):
            return f"{prefix}{first}-{second_prefix or ''}{last}"
        shown = last_page(first, last)
        # Expanded ranges repeat the prefix on the last page; abbreviated ones do not.
        again = prefix if range_format == "expanded" else ""
        return f"{prefix}{first}{delimiter}{again}{shown}"

    return _RANGE.sub(one, text)
