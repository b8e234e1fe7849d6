"""Formatted bibliographies as documents: a complete HTML page, RTF, and safe HTML entries.

The CSL engine's HTML entries are escaped text with a few tags (<i>, <b>, <span>, <sup>, <sub>,
<a>). ``safe_entry`` keeps exactly those (a link only to an http(s) address), so an entry can be
shown in a page or put on the clipboard as rich text; the documents keep italics for word
processors and browsers.
"""

from __future__ import annotations

import html
import re

_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^<>]*)>")
_KEPT = {"i", "b", "em", "strong", "sup", "sub", "span"}
_HREF_RE = re.compile(r"""\bhref\s*=\s*"([^"]*)\"""")


def safe_entry(entry: str) -> str:
    """Return an HTML entry with only formatting tags and http(s) links kept."""

    def keep(m: re.Match[str]) -> str:
        closing, name, attributes = m.group(1), m.group(2).lower(), m.group(3)
        if name in _KEPT:
            return f"<{closing}{name}>"
        if name == "a":
            if closing:
                return "</a>"
            href = _HREF_RE.search(attributes)
            url = html.unescape(href.group(1)) if href else ""
            if re.match(r"https?://", url, re.IGNORECASE):
                return f'<a href="{html.escape(url, quote=True)}">'
            return "<a>"  # a link to anything else is shown as text
        return ""

    return _TAG_RE.sub(keep, entry)


def plain(entry: str) -> str:
    """Return an HTML entry as plain text."""
    return html.unescape(_TAG_RE.sub("", entry))


def html_document(entries: list[str], title: str, numbered: bool = False) -> str:
    """Return a complete, readable HTML document: one paragraph per entry, italics kept."""
    body = "\n".join(f'<p class="csl-entry">{safe_entry(e)}</p>' for e in entries)
    css = (
        "body{font-family:Georgia,serif;max-width:50em;margin:2em auto;padding:0 1em;"
        "line-height:1.5}"
        ".csl-entry{margin:0 0 .8em;"
        + ("" if numbered else "padding-left:2em;text-indent:-2em;")
        + "}"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _rtf_text(text: str) -> str:
    out = []
    for c in text:
        if c in "\\{}":
            out.append("\\" + c)
        elif ord(c) < 128:
            out.append(c)
        else:
            code = ord(c)
            if code > 0xFFFF:  # RTF \u takes 16-bit values: write the surrogate pair
                code -= 0x10000
                out.append(
                    f"\\u{0xD800 + (code >> 10) - 65536}?\\u{0xDC00 + (code & 0x3FF) - 65536}?"
                )
            else:
                out.append(f"\\u{code if code < 32768 else code - 65536}?")
    return "".join(out)


def _rtf_entry(entry: str) -> str:
    pieces: list[str] = []
    position = 0
    for m in _TAG_RE.finditer(entry):
        pieces.append(_rtf_text(html.unescape(entry[position : m.start()])))
        closing, name = m.group(1), m.group(2).lower()
        if name in ("i", "em", "b", "strong"):
            control = "\\i" if name in ("i", "em") else "\\b"
            pieces.append("}" if closing else "{" + control + " ")
        position = m.end()
    pieces.append(_rtf_text(html.unescape(entry[position:])))
    return "".join(pieces)


def rtf_document(entries: list[str], numbered: bool = False) -> str:
    """Return an RTF document for word processors: one paragraph per entry, italics kept."""
    indent = "" if numbered else "\\li720\\fi-720"
    paragraphs = "".join(f"{{\\pard{indent}\\sa180 {_rtf_entry(e)}\\par}}\n" for e in entries)
    return "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times New Roman;}}\\f0\\fs24\n" + paragraphs + "}\n"
