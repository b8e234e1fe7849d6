"""Guards for what a request brings: JSON bodies too deep or not text, and links to show.

A JSON body nested deeper than any request of this site needs, or holding a lone surrogate
(``"\\ud800"``: JSON allows the escape, but it is no text and cannot be written out again),
answers 400 before a view reads it. ``web_link`` is the one template filter that decides
whether a URL from a record becomes a link: only http(s) does; ``javascript:``, ``data:`` and
the rest are shown as text.
"""

from __future__ import annotations

import re

from flask import Flask, request

from references.csljson import nesting
from references.record import link_target
from web.responses import PageError

MAX_JSON_DEPTH = 32
# A high surrogate escape not followed by a low one, or a low one not preceded by a high one.
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def web_link(url: object) -> str | None:
    """Return the URL to put in an href when it is http(s); None means show it as text."""
    return link_target(url)


def check_json_body() -> None:
    """Refuse a JSON body nested too deep or holding a lone surrogate, with a 400."""
    if not request.is_json:
        return
    text = request.get_data(cache=True).decode("utf-8", errors="replace")
    depth, _ = nesting(text)
    if depth > MAX_JSON_DEPTH:
        raise PageError(
            400, f"The JSON sent nests {depth} levels deep; at most {MAX_JSON_DEPTH} are read."
        )
    lone = _LONE_SURROGATE.search(text)
    if lone:
        raise PageError(
            400, f"The JSON sent holds {lone.group(0)}, half of a character: send the text again."
        )


def init_app(app: Flask) -> None:
    """Register the JSON body guard and the web_link template filter."""
    app.before_request(check_json_body)
    app.add_template_filter(web_link)
