"""The search page: hits with snippets, facets that toggle, did-you-mean, sort and pages."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request, url_for

from kb import evidence, search
from web import store
from web.citations import DOWNLOADS, MAX_KEYS, attachment, formatted, style_options
from web.params import style_named
from web.responses import PageError, respond, twin

EXPORT_FORMATS = ("bibtex", "ris", "csl-json", "text")


def search_page() -> Response | tuple[str, int]:
    """Search the library with the query, filters, sort and page in the URL."""
    try:
        params = search.SearchParams.from_args(request.args)
    except search.BadSearch as error:
        raise PageError(400, str(error)) from error
    result = search.search(store.settings(), store.session(), params)
    data = result.as_json()
    data["styles"] = style_options()
    named = evidence.condition_named(store.session(), params.q) if params.page == 1 else None
    data["condition_card"] = named
    query = {k: v for k, v in params.to_args().items() if k not in ("page", "sort", "per_page")}
    data["exports"] = {
        fmt: url_for("search.export", format=fmt, **query) for fmt in EXPORT_FORMATS[:3]
    }
    return respond("search/results.html", data)


def export() -> Response:
    """Send every reference a search finds as BibTeX, RIS, CSL-JSON or formatted text."""
    args = request.args.copy()
    fmt = args.pop("format", "bibtex")
    style = style_named(args.pop("style", "apa"))
    if fmt not in EXPORT_FORMATS:
        raise PageError(400, f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    try:
        params = search.SearchParams.from_args(args)
    except search.BadSearch as error:
        raise PageError(400, str(error)) from error
    keys = search.keys(store.settings(), store.session(), params, MAX_KEYS)
    if not keys:
        raise PageError(404, "the search finds no references to export: try fewer words or filters")
    extension, media_type = DOWNLOADS[fmt]
    return attachment(formatted(keys, style, fmt).text, f"search-results.{extension}", media_type)


def init_app(app: Flask) -> None:
    """Register the search page and its JSON twin."""
    # A fresh blueprint per app: the factory may build several apps in one process.
    blueprint = Blueprint("search", __name__)
    twin(blueprint, "/search", "search", search_page)
    blueprint.add_url_rule("/search/export", "export", export)
    app.register_blueprint(blueprint)
