"""One way to answer: a view's dict as an HTML page or as JSON, and one shape for errors.

A request under ``/api/`` (or ``/healthz``) gets JSON; any other gets the page's template with
the same dict. Errors answer ``{"ok": false, "error": "...", "status": N}`` or the one error
template, which says what to do next. Every answer carries the security headers.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, make_response, render_template, request
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from kb import grading
from kb.search import IndexBuilding

# No inline scripts or styles anywhere: every script and stylesheet is a static file.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# What a person can do next, by status, on the HTML error page.
NEXT_STEPS = {
    400: "Check the address or the form: the message above names the value that was not understood.",
    404: "Search the library, or start from the list of conditions.",
    405: "Use the form on the page instead of typing the address.",
    413: "Send a shorter list: split it into parts and check each part.",
    503: "Wait a few seconds and reload the page: the library is getting ready.",
    500: "Try again in a moment; if it keeps happening, tell whoever runs this library.",
}
TITLES = {
    400: "That request could not be understood",
    404: "Not found",
    405: "Not allowed here",
    413: "Too much text",
    503: "Getting ready",
    500: "Something went wrong",
}


class PageError(Exception):
    """A request the app answers with an error status and a reason a person can act on."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


def wants_json() -> bool:
    """Tell whether this request is for the JSON twin of a page."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def respond(template: str, data: dict[str, Any], status: int = 200) -> Response | tuple[str, int]:
    """Render a view's dict with its template, or return it as JSON under /api/."""
    if wants_json():
        response = jsonify({"ok": True, **data})
        response.status_code = status
        return response
    return render_template(template, **data), status


def error_response(status: int, message: str) -> Response | tuple[str, int]:
    """Answer an error in the one JSON shape or with the one error template."""
    if wants_json():
        response = jsonify({"ok": False, "error": message, "status": status})
        response.status_code = status
        return response
    title = TITLES.get(status, "Something went wrong")
    next_step = NEXT_STEPS.get(status, NEXT_STEPS[500])
    return (
        render_template(
            "errors/error.html", status=status, title=title, message=message, next_step=next_step
        ),
        status,
    )


def _page_error(error: PageError) -> Response | tuple[str, int]:
    return error_response(error.status, error.message)


def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    if status == 413:
        limit = request.max_content_length or 0
        message = f"The text sent is larger than this site accepts ({limit // 1024} KB at most)."
    elif status == 404:
        message = f"Nothing lives at {request.path}."
    else:
        message = error.description or TITLES.get(status, "error")
    return error_response(status, message)


def _index_building(error: IndexBuilding) -> Response:
    # Built at start-up by a background thread; answering now beats holding the request.
    response = make_response(error_response(503, str(error)))
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _unexpected(error: Exception) -> Response | tuple[str, int]:
    # Logged with its traceback for whoever runs the site; the visitor gets no internals.
    from flask import current_app

    current_app.logger.exception("unexpected error on %s", request.path)
    return error_response(500, "The library could not answer this request.")


def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def marked(hit: dict[str, Any]) -> Markup:
    """Return a hit's snippet as HTML: its plain text escaped, its marked spans in <mark>."""
    text = str(hit.get("snippet") or "")
    out, at = [], 0
    for start, end in hit.get("marks") or ():
        if at <= start < end <= len(text):
            out.append(escape(text[at:start]))
            out.append(Markup("<mark>%s</mark>") % text[start:end])
            at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def plural(noun: str) -> str:
    """Return the plural of an English noun phrase's last word ("level 1-2 study" -> "...ies")."""
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", noun):
        return noun + "es"
    return noun + "s"


def counted(number: int, noun: str, many: str | None = None) -> str:
    """Return a count with its noun picked by the number: "1 study", "1,000 studies"."""
    word = noun if number == 1 else (many or plural(noun))
    return f"{number:,} {word}"


def _labels() -> dict[str, Any]:
    return {"design_labels": grading.DESIGN_LABELS, "finding_labels": grading.FINDING_LABELS}


def init_app(app: Flask) -> None:
    """Register the error handlers, the security headers and the template helpers."""
    app.add_template_filter(marked)
    app.add_template_filter(counted)
    app.context_processor(_labels)
    app.register_error_handler(PageError, _page_error)
    app.register_error_handler(IndexBuilding, _index_building)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(_security_headers)


def twin(
    blueprint: Blueprint, rule: str, endpoint: str, view: Any, methods: list[str] | None = None
) -> None:
    """Register a page and its JSON twin under /api/ with the same view."""
    blueprint.add_url_rule(rule, endpoint, view, methods=methods)
    blueprint.add_url_rule("/api" + rule, "api_" + endpoint, view, methods=methods)
