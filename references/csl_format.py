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


_NODECOR = "\ue00c"  # <span class="nodecor">: undoes the decoration around it
_OPENING = {opening: f"<{tag}>" for tag, opening in _TAGS.items()}
_OPENING.update({_SMALL_CAPS: '<span style="font-variant:small-caps;">', _NODECOR: ""})
_CLOSING = {chr(ord(opening) + 1): opening for opening in _OPENING}
# Inside the same decoration, a decoration flips back to normal (citeproc-js's flip-flop).
_FLIPPED = {
    _TAGS["i"]: '<span style="font-style:normal;">',
    _TAGS["b"]: '<span style="font-weight:normal;">',
    _SMALL_CAPS: '<span style="font-variant:normal;">',
}
_LINK_RE = re.compile(f"{_LINK_OPEN}([^{_LINK_MID}]*){_LINK_MID}(.*?){_LINK_CLOSE}", re.DOTALL)
_MARKER_RE = re.compile("[\ue000-\ue00f]")
QUOTE_OPEN, QUOTE_CLOSE = "\ue00e", "\ue00f"  # quotes, outer or inner as they nest

_DOUBLE = re.compile('"([^"]*)"|\u201c([^\u201c\u201d]*)\u201d')
# A single quote opens after a space or at the start and closes before one; an apostrophe
# inside a word (l’Égypte, don’t) or before a year (’09) is left alone.
_SINGLE = re.compile(
    "(?<![\\w\u2019'])[\u2018\u2019']((?=\\w)[^\u2018\u2019']*?(?<=[\\w.,!?]))[\u2019'](?![\\w])"
)


_ANY_TAG = re.compile(r"<[^<>]+>")
_TAG_SLOT = "\ue03f"


def field_quotes(text: str) -> str:
    """Turn the quotation marks in a field's text into quote markers, so that they become
    the locale's quotes and flip inside other quotes ("friend" in a quoted title: ‘friend’)."""
    if not any(q in text for q in "\"\u201c\u2018\u2019'"):
        return text
    tags = _ANY_TAG.findall(text)
    if tags:  # a tag's attributes keep their quotes: set the tags aside meanwhile
        text = _ANY_TAG.sub(_TAG_SLOT, text)
    for _ in range(3):  # nested quotes: the inner ones first
        changed = _DOUBLE.sub(
            lambda m: QUOTE_OPEN + (m.group(1) or m.group(2) or "") + QUOTE_CLOSE, text
        )
        changed = _SINGLE.sub(lambda m: QUOTE_OPEN + m.group(1) + QUOTE_CLOSE, changed)
        if changed == text:
            break
        text = changed
    if tags:
        pieces = text.split(_TAG_SLOT)
        text = pieces[0] + "".join(t + p for t, p in zip(tags, pieces[1:], strict=True))
    return text


_SEAM = re.compile("([.;:!?])([\ue000-\ue00f]*)([.;:!?])")


def merge_punctuation(text: str) -> str:
    """Merge punctuation where two pieces meet, as citeproc-js does: "Life?" and ". " give
    "Life? ", ";" and ":" give ";", ":" and "!" give "!"; a period and a comma stay."""

    def merge(m: re.Match[str]) -> str:
        first, between, second = m.group(1), m.group(2), m.group(3)
        if first in ";:!?" and second in ".:" or first == "." == second:
            return first + between
        if first in ";:" and second in "!?":
            return between + second
        return m.group(0)

    return _SEAM.sub(merge, text)


def resolve_quotes(text: str, outer: tuple[str, str], inner: tuple[str, str]) -> str:
    """Write quote markers as the locale's quotes, alternating outer and inner as they nest."""
    if QUOTE_OPEN not in text and QUOTE_CLOSE not in text:
        return text
    out: list[str] = []
    depth = 0
    for part in re.split(f"([{QUOTE_OPEN}{QUOTE_CLOSE}])", text):
        if part == QUOTE_OPEN:
            out.append((outer, inner)[depth % 2][0])
            depth += 1
        elif part == QUOTE_CLOSE:
            depth = max(depth - 1, 0)
            out.append((outer, inner)[depth % 2][1])
        else:
            out.append(part)
    return "".join(out)


# Markup inside a field's text, as citeproc-js reads it (its other tags stay text).
_FIELD_TAGS = {
    "<i>": _TAGS["i"],
    "<b>": _TAGS["b"],
    "<sup>": _TAGS["sup"],
    "<sub>": _TAGS["sub"],
    '<span style="font-variant:small-caps;">': _SMALL_CAPS,
    '<span style="font-variant: small-caps;">': _SMALL_CAPS,
    '<span class="nodecor">': _NODECOR,
    '<span class="nocase">': None,  # kept: citeproc-py's reader protects it from casing
}
_FIELD_TAG_RE = re.compile(r"<(?:i|b|sup|sub|span[^>]*)>|</(?:i|b|sup|sub|span)>", re.IGNORECASE)


def field_markup(text: str) -> str:
    """Turn the markup citeproc-js reads in a field (``<i>``, ``<b>``, ``<sup>``, ``<sub>``,
    small-caps and nodecor spans) into markers; an unmatched tag stays text."""
    if "<" not in text:
        return text
    tokens = list(_FIELD_TAG_RE.finditer(text))
    if not tokens:
        return text
    replace: dict[int, str] = {}
    stack: list[tuple[int, str]] = []
    for n, m in enumerate(tokens):
        tag = m.group(0).lower()
        if not tag.startswith("</"):
            stack.append((n, tag))
            continue
        name = tag[2:-1]
        for depth in range(len(stack) - 1, -1, -1):
            opened_at, opened = stack[depth]
            if opened[1:].startswith(name):
                del stack[depth:]
                marker = _FIELD_TAGS.get(opened, "")
                if opened in _FIELD_TAGS and marker is not None:
                    replace[opened_at] = marker
                    replace[n] = chr(ord(marker) + 1)
                break
    out, pos = [], 0
    for n, m in enumerate(tokens):
        if n in replace:
            out.append(text[pos : m.start()] + replace[n])
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _tags(text: str) -> str:
    """Turn markers into HTML tags, flipping a decoration nested in the same one."""
    out: list[str] = []
    open_kinds: list[str] = []  # each marker's opening, as opened
    shown: list[str] = []  # what each opened as: a tag, a flipped span, or nothing
    for part in re.split("([\ue000-\ue00d])", text):
        if not part:
            continue
        if part in _OPENING:
            if part == _NODECOR:
                decorated = [k for k in open_kinds if k in _FLIPPED]
                tag = _FLIPPED[decorated[-1]] if decorated else ""
            elif part in open_kinds and part in _FLIPPED:
                tag = _FLIPPED[part]
            else:
                tag = _OPENING[part]
            open_kinds.append(part)
            shown.append(tag)
            out.append(tag)
        elif part in _CLOSING:
            if not open_kinds:
                continue
            open_kinds.pop()
            tag = shown.pop()
            out.append("" if not tag else "</span>" if tag.startswith("<span") else "</" + tag[1:])
        else:
            out.append(part)
    return "".join(out)


# Superscript characters, written in HTML as <sup> of their letter (as citeproc-js does):
# the ordinals of French, Spanish and Portuguese ("1ʳᵉ", "1.ª").
_SUPERSCRIPTS = dict(
    zip(
        "ªºʰʲʳʷʸˡˢˣᵃᵇᵈᵉᵍᵏᵐᵒᵖᵗᵘᵛᶜᶠᶻⁱⁿ¹²³⁰⁴⁵⁶⁷⁸⁹",
        "aohjrwylsxabdegkmoptuvcfzin1230456789",
        strict=True,
    )
)
_SUPERSCRIPT_RE = re.compile(f"[{''.join(_SUPERSCRIPTS)}]")


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
    text = _SUPERSCRIPT_RE.sub(lambda m: f"<sup>{_SUPERSCRIPTS[m.group(0)]}</sup>", text)
    return _tags(text)


def strip_markers(text: str) -> str:
    """Drop markup markers (for sort keys and comparisons)."""
    text = _LINK_RE.sub(lambda m: m.group(2), text)
    return _MARKER_RE.sub("", text)


_RTF_TAGS = {
    "i": r"{\i ",
    "b": r"{\b ",
    "u": r"{\ul ",
    "sup": r"{\super ",
    "sub": r"{\sub ",
    'span style="font-variant:small-caps;"': r"{\scaps ",
}
_HTML_TAG = re.compile(r"<(/?)(i|b|u|sup|sub|span[^>]*|a [^>]*|a)>")


def html_to_rtf(text: str) -> str:
    """Turn a rendered HTML citation into RTF: italics, bold, super- and subscript, small
    capitals; links keep their text; characters past ASCII as ``\\uN?``."""
    out: list[str] = []
    pos = 0
    for m in _HTML_TAG.finditer(text):
        out.append(_rtf_escape(html.unescape(text[pos : m.start()])))
        closing, tag = m.group(1), m.group(2)
        if not tag.startswith("a"):
            out.append("}" if closing else _RTF_TAGS.get(tag, "{"))
        pos = m.end()
    out.append(_rtf_escape(html.unescape(text[pos:])))
    return "".join(out)


def _rtf_escape(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
    out = []
    for c in text:
        code = ord(c)
        if code < 128:
            out.append(c)
        elif code < 0x10000:
            out.append(f"\\u{code if code < 32768 else code - 65536}?")
        else:  # RTF writes a character past the BMP as its UTF-16 surrogate pair
            code -= 0x10000
            for unit in (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)):
                out.append(f"\\u{unit - 65536}?")
    return "".join(out)


FORMATS: dict[str, type] = {"text": PlainFormat, "html": HtmlFormat}
