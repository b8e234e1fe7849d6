"""Output formats for the mended citeproc-py: plain text, and HTML written as markers.

HTML markup travels through citeproc-py as private-use characters, so that text-casing and
affixes never touch real tags; ``finish_html`` then escapes all the text exactly once and turns
the markers into ``<i>``, ``<b>``, ``<sup>`` ... and ``<a href>`` links.
"""

from __future__ import annotations

import html
import re
from typing import Any

from citeproc.string import String

from references.record import link_target

_TAGS = {"i": "\ue000", "b": "\ue002", "u": "\ue004", "sup": "\ue006", "sub": "\ue008"}
_SMALL_CAPS = "\ue00a"
_LINK_OPEN, _LINK_MID, _LINK_CLOSE = "\ue010", "\ue011", "\ue012"


def _marker_tag(tag: str) -> type[str]:
    opening = _TAGS[tag]
    closing = chr(ord(opening) + 1)
    return type(
        tag, (str,), {"__new__": lambda cls, text: str.__new__(cls, f"{opening}{text}{closing}")}
    )


class PlainFormat:
    """Plain text: no markup."""

    name = "text"
    links = False
    Italic = Oblique = Bold = Light = Underline = Superscript = Subscript = SmallCaps = String

    @staticmethod
    def preformat(text: Any) -> str:
        return text


class HtmlFormat:
    """HTML, written as markers that ``finish_html`` turns into tags."""

    name = "html"
    links = True
    Italic = Oblique = _marker_tag("i")
    Bold = _marker_tag("b")
    Light = String
    Underline = _marker_tag("u")
    Superscript = _marker_tag("sup")
    Subscript = _marker_tag("sub")
    SmallCaps = type(
        "SmallCaps", (str,), {"__new__": lambda cls, t: str.__new__(cls, f"{_SMALL_CAPS}{t}\ue00b")}
    )

    @staticmethod
    def preformat(text: Any) -> str:
        return text

    @staticmethod
    def link(href: str, text: Any) -> str:
        return f"{_LINK_OPEN}{href}{_LINK_MID}{text}{_LINK_CLOSE}"


_MARKUP = {opening: f"<{tag}>" for tag, opening in _TAGS.items()}
_MARKUP.update({chr(ord(opening) + 1): f"</{tag}>" for tag, opening in _TAGS.items()})
_MARKUP.update({_SMALL_CAPS: '<span style="font-variant:small-caps;">', "\ue00b": "</span>"})
_LINK_RE = re.compile(f"{_LINK_OPEN}([^{_LINK_MID}]*){_LINK_MID}(.*?){_LINK_CLOSE}", re.DOTALL)
_MARKER_RE = re.compile("[\ue000-\ue00b]")


def finish_html(text: str) -> str:
    """Escape rendered text and turn the markup markers into HTML tags."""

    def link(m: re.Match[str]) -> str:
        href = html.escape(m.group(1), quote=True)
        return f"{_LINK_OPEN}{href}{_LINK_MID}{m.group(2)}{_LINK_CLOSE}"

    text = _LINK_RE.sub(link, text)
    text = html.escape(text, quote=False)
    # Only http(s) becomes a link: a record's javascript: or data: URL stays text.
    text = _LINK_RE.sub(
        lambda m: (
            f'<a href="{m.group(1)}">{m.group(2)}</a>'
            if link_target(html.unescape(m.group(1)))
            else m.group(2)
        ),
        text,
    )
    return _MARKER_RE.sub(lambda m: _MARKUP[m.group(0)], text)


def strip_markers(text: str) -> str:
    """Drop markup markers (for sort keys and comparisons)."""
    text = _LINK_RE.sub(lambda m: m.group(2), text)
    return _MARKER_RE.sub("", text)


FORMATS: dict[str, type] = {"text": PlainFormat, "html": HtmlFormat}
