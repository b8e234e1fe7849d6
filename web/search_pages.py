"""The search page: hits with snippets, facets that toggle, did-you-mean, sort and pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from flask import Blueprint, Flask, Response, redirect, request, url_for
from sqlmodel import func, select
from werkzeug.datastructures import MultiDict

from kb import evidence, search
from kb.models import Condition, Evidence, Reference
from web import store
from web.citations import DOWNLOADS, MAX_KEYS, attachment, formatted, style_options
from web.params import known_args, style_named
from web.responses import PageError, respond, twin, wants_json

EXPORT_FORMATS = ("bibtex", "ris", "csl-json", "text")
LAST_PAGE = 100_000  # the highest page kb.search accepts


def search_page() -> Response | tuple[str, int]:
    """Search the library with the query, filters, sort and page in the URL."""
    args = known_args(request.args, search.PARAMS)
    if not wants_json():
        _read_kindly(args)
    try:
        params = search.SearchParams.from_args(args)
    except search.BadSearch as error:
        raise PageError(400, str(error)) from error
    result = search.search(store.settings(), store.session(), params)
    if params.page > result.pages:
        # A page past the end (an old link, a hand-edited address) is never "page 99 of 14".
        if wants_json():
            raise PageError(
                404, f"page {params.page} is past the last page ({result.pages}) of this search"
            )
        last = replace(params, page=result.pages).to_args()
        return redirect(url_for("search.search", **last))
    data = result.as_json()
    data["styles"] = style_options()
    named = evidence.condition_named(store.session(), params.q) if params.page == 1 else None
    data["condition_card"] = named
    about = [*params.condition, *([named["slug"]] if named else [])]
    add_findings_by_condition(data["hits"], about)
    data["years"] = year_span()
    data["any_year"] = (
        url_for("search.search", **replace(params, year_from=None, year_to=None, page=1).to_args())
        if params.year_from is not None or params.year_to is not None
        else None
    )
    query = {k: v for k, v in params.to_args().items() if k not in ("page", "sort", "per_page")}
    data["exports"] = {
        fmt: url_for("search.export", format=fmt, **query) for fmt in EXPORT_FORMATS[:3]
    }
    return respond("search/results.html", data)


def _read_kindly(args: MultiDict[str, str]) -> None:
    """Mend what a person types: swap a reversed year range, bring a huge page number in range."""
    # The page then redirects a page past the end to the last one, however large the number.
    low, high = args.get("year_from", "").strip(), args.get("year_to", "").strip()
    if low.isdigit() and high.isdigit() and int(low) > int(high):
        args.setlist("year_from", [high])
        args.setlist("year_to", [low])
    page = args.get("page", "").strip()
    if page.isdigit() and int(page) > LAST_PAGE:
        args.setlist("page", [str(LAST_PAGE)])


def add_findings_by_condition(hits: list[dict[str, Any]], first: Sequence[str]) -> None:
    """Give each study hit its findings with the condition each is about, asked-for ones first.

    A study's "supports" is about one condition: a guideline that supports massage for neck pain
    says nothing about whiplash, so a badge never stands without its condition.
    """
    keys = [hit["key"] for hit in hits if hit["kind"] == "reference"]
    if not keys:
        return
    rows = store.session().exec(
        select(Reference.key, Condition.slug, Condition.name, Evidence.finding)
        .join(Evidence, Evidence.reference_id == Reference.id)  # type: ignore[arg-type]
        .join(Condition, Condition.id == Evidence.condition_id)  # type: ignore[arg-type]
        .where(Reference.key.in_(keys))  # type: ignore[attr-defined]
        .order_by(Reference.key, Evidence.position)
    )
    found: dict[str, list[dict[str, str]]] = {}
    for key, slug, name, finding in rows:
        pair = {"condition": slug, "condition_name": name, "finding": finding}
        if pair not in found.setdefault(key, []):
            found[key].append(pair)
    for hit in hits:
        if hit["kind"] == "reference":
            pairs = found.get(hit["key"], [])
            hit["evidence"] = sorted(pairs, key=lambda p: p["condition"] not in first)


def year_span() -> dict[str, int | None]:
    """Return the first and last publication year in the library, for the year control's hint."""
    first, last = (
        store.session().exec(select(func.min(Reference.year), func.max(Reference.year))).one()
    )
    return {"first": first, "last": last}


def result_keys(params: search.SearchParams) -> list[str]:
    """Return the keys of every reference a search finds, up to MAX_KEYS, in its order."""
    keys: list[str] = []
    page = 1
    while len(keys) < MAX_KEYS:
        found = search.search(
            store.settings(), store.session(), replace(params, page=page, per_page=100)
        ).as_json()
        keys += [hit["key"] for hit in found["hits"] if hit["kind"] == "reference"]
        if page >= found["pages"]:
            break
        page += 1
    return keys[:MAX_KEYS]


def export() -> Response:
    """Send every reference a search finds as BibTeX, RIS, CSL-JSON or formatted text."""
    args = known_args(request.args, (*search.PARAMS, "format", "style"), strict=True)
    fmt = args.pop("format", "bibtex")
    style = style_named(args.pop("style", "apa"))
    if fmt not in EXPORT_FORMATS:
        raise PageError(400, f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    try:
        params = search.SearchParams.from_args(args)
    except search.BadSearch as error:
        raise PageError(400, str(error)) from error
    keys = result_keys(params)
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
