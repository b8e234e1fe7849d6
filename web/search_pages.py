"""The search page: hits with snippets, facets that toggle, did-you-mean, sort and pages."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request

from kb import evidence, search
from web import store
from web.citations import style_options
from web.responses import PageError, respond, twin


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
    return respond("search/results.html", data)


def init_app(app: Flask) -> None:
    """Register the search page and its JSON twin."""
    # A fresh blueprint per app: the factory may build several apps in one process.
    blueprint = Blueprint("search", __name__)
    twin(blueprint, "/search", "search", search_page)
    app.register_blueprint(blueprint)
