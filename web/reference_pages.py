"""A reference's page, its cite box, and its downloads as BibTeX, RIS and CSL-JSON."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request, url_for
from sqlmodel import select

from kb import citing, evidence
from kb.models import Reference
from web import store
from web.citations import attachment, formatted, style_options
from web.params import Params, style_named
from web.responses import PageError, respond, twin

# Extension -> (kb.citing format, media type).
EXPORTS = {
    "bib": ("bibtex", "application/x-bibtex; charset=utf-8"),
    "ris": ("ris", "application/x-research-info-systems; charset=utf-8"),
    "json": ("csl-json", "application/vnd.citationstyles.csl+json; charset=utf-8"),
}


def reference(key: str) -> Response | tuple[str, int]:
    """Show a reference's full record, links, evidence rows and its citation in a style."""
    params = Params(request.args, ("style", "page"))
    style = params.style()
    page = params.text("page")
    try:
        data = evidence.reference_page(store.session(), key)
    except evidence.NotFound as error:
        raise PageError(404, str(error)) from error
    citation = formatted([key], style)
    try:  # the in-text citation (or note) at the writer's page, beside the entry
        (in_text,) = citing.cite_in_text(formatted_refs(key), style.name, [page or None])
    except ValueError as error:
        raise PageError(400, str(error)) from error
    data["cite"] = {
        "style": style.name,
        "style_title": style.title,
        "text": citation.text.strip(),
        "in_text": in_text.citation,
        "next_note": in_text.next_note,
        "page": page,
        "styles": style_options(style),
    }
    data["downloads"] = {ext: url_for("refs.export", key=key, ext=ext) for ext in EXPORTS}
    return respond("references/page.html", data)


def formatted_refs(key: str) -> list[citing.Reference]:
    """Return the one reference a page cites (the page has already found it)."""
    return citing.load_references(store.session(), [key])


def export(key: str, ext: str) -> Response | tuple[str, int]:
    """Send one reference as a BibTeX, RIS or CSL-JSON file."""
    if not _held(key) and _held(f"{key}.{ext}"):
        return reference(f"{key}.{ext}")  # a key that itself ends in ".bib", ".ris" or ".json"
    Params(request.args, (), strict=True)
    fmt, media_type = EXPORTS[ext]
    citation = formatted([key], style_named(""), fmt)
    return attachment(citation.text, f"{key.replace('/', '-')}.{ext}", media_type)


def _held(key: str) -> bool:
    """Tell whether the library holds a reference with this key."""
    found = store.session().exec(select(Reference.key).where(Reference.key == key)).first()
    return found is not None


def init_app(app: Flask) -> None:
    """Register the reference page, its JSON twin and the exports."""
    # A fresh blueprint per app: the factory may build several apps in one process.
    blueprint = Blueprint("refs", __name__)
    # The export rule is listed first and is more specific, so "key.bib" reaches it.
    blueprint.add_url_rule("/references/<path:key>.<any(bib, ris, json):ext>", "export", export)
    twin(blueprint, "/references/<path:key>", "reference", reference)
    app.register_blueprint(blueprint)
