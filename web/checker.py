"""The reference checker: paste a list, see each entry against the library, get it corrected.

The pasted text lives only for the request: it is not stored, logged, or put in a URL.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, request

from kb import checking, evidence
from references import bibdoc
from references.checker import PasteTooLarge
from references.refreprint import reprint
from web import store
from web.citations import style_options
from web.params import Params, style_named
from web.responses import PageError, respond, wants_json

STATUS_LABELS = {
    "matched": "matched",
    "differs": "matched, with differences",
    "possible": "possible match: check it",
    "not-found": "not in the library",
}


def _submitted(api: bool = False) -> tuple[str, str]:
    """Return the pasted text and the style name from a form, a JSON or a plain-text body."""
    if api and (request.mimetype == "text/plain" or _raw_text_post()):
        # `curl --data-binary @refs.txt` (sent as a form without fields) or text/plain: the
        # body is the list; the style comes from ?style=.
        Params(request.args, ("style",))
        return request.get_data(as_text=True), request.args.get("style", "")
    Params(request.args, ())
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise PageError(400, 'send a JSON object: {"text": "...", "style": "apa"}')
        unknown = [k for k in body if k not in ("text", "style")]
        if unknown:
            raise PageError(400, f"unknown field {unknown[0]!r}; send text and style")
        text, style = body.get("text", ""), body.get("style") or ""
        if not isinstance(text, str) or not isinstance(style, str):
            raise PageError(400, "text and style must be strings")
        return text, style
    Params(request.form, ("text", "style"))
    return request.form.get("text", ""), request.form.get("style", "")


def _raw_text_post() -> bool:
    """Return whether a form-encoded body is really plain text (no field called text)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return False
    body = request.get_data(cache=True)  # read first: the form is then parsed from the cache
    return bool(body) and "text" not in request.form


def _entries(report_json: dict[str, Any]) -> list[dict[str, Any]]:
    """Add a display status and the library's short record to each checked entry."""
    entries = report_json["entries"]
    keys = [e["key"] for e in entries if e["key"]]
    keys += [c["key"] for e in entries for c in e["candidates"][:3]]
    records = evidence.reference_summaries(store.session(), keys)
    for entry in entries:
        shown = entry["status"]
        if shown == "matched" and entry["differences"]:
            shown = "differs"
        entry["shown_status"] = shown
        entry["status_label"] = STATUS_LABELS[shown]
        entry["library"] = records.get(entry["key"] or "")
        entry["candidate_records"] = [
            {**records[c["key"]], "agrees": c["agrees"], "differs": c["differs"]}
            for c in entry["candidates"][:3]
            if c["key"] in records
        ]
    return entries


def check_form() -> Response | tuple[str, int]:
    """Show the paste form, or check what was pasted."""
    if request.method == "GET":
        params = Params(request.args, ("style",))
        style = params.style()
        data: dict[str, Any] = {"style": style.name, "styles": style_options(style), "report": None}
        return respond("check/form.html", data)
    return _check("check/form.html")


def _check(template: str, api: bool = False) -> Response | tuple[str, int]:
    text, style_name = _submitted(api)
    style = style_named(style_name)
    if not text.strip():
        raise PageError(400, "paste at least one reference to check")
    try:
        report = checking.check(store.settings(), store.session(), text, style.name)
    except PasteTooLarge as error:
        raise PageError(413, str(error)) from error
    report_json = report.as_json()
    if not wants_json():
        # The same list with italics, for the page and the rich copy (citations are cached).
        rich = reprint([(c.status, c.entry, c.record) for c in report.entries], style.name, "html")
        report_json["formatted_html"] = [bibdoc.safe_entry(e) for e in rich.splitlines()]
    report_json["entries"] = _entries(report_json)
    data = {
        "style": style.name,
        "style_title": style.title,
        "styles": style_options(style),
        "report": report_json,
        "text": text,
    }
    return respond(template, data)


def check_api() -> Response | tuple[str, int]:
    """Check a pasted list sent as JSON, a form or plain text, and return the report."""
    return _check("check/form.html", api=True)


def init_app(app: Flask) -> None:
    """Register the checker page and its JSON twin."""
    # A fresh blueprint per app: the factory may build several apps in one process.
    blueprint = Blueprint("check", __name__)
    blueprint.add_url_rule("/check", "form", check_form, methods=["GET", "POST"])
    blueprint.add_url_rule("/api/check-references", "api", check_api, methods=["POST"])
    app.register_blueprint(blueprint)
