"""The bibliography basket, the cite API and formatted downloads of any set of references.

The basket lives in the URL: ``/cite?keys=a,b`` is the whole state, so it can be bookmarked and
shared. "Add to bibliography" links carry an ``add`` key (``/cite?add=c``; the page script adds
the basket's keys to every such link), removing a reference is a link without its key, and keys
the library does not hold are listed, never a reason to lose the rest.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, redirect, request, url_for

from kb import citing, evidence
from references import bibdoc
from references.styles import StyleInfo
from web import store
from web.params import Params, style_named
from web.responses import PageError, respond, twin, wants_json

MAX_KEYS = 1000
# Format -> (file extension, media type) of a download.
DOWNLOADS = {
    "text": ("txt", "text/plain; charset=utf-8"),
    "html": ("html", "text/html; charset=utf-8"),
    "rtf": ("rtf", "application/rtf"),
    "bibtex": ("bib", "application/x-bibtex; charset=utf-8"),
    "ris": ("ris", "application/x-research-info-systems; charset=utf-8"),
    "csl-json": ("json", "application/vnd.citationstyles.csl+json; charset=utf-8"),
}


def style_options(current: StyleInfo | None = None) -> list[dict[str, str]]:
    """Return the styles a chooser offers, with the current one included."""
    options = [{"name": s.name, "title": s.title} for s in citing.style_choices()]
    if current is not None and current.name not in {o["name"] for o in options}:
        options.insert(0, {"name": current.name, "title": current.title})
    return options


def formatted(keys: list[str], style: StyleInfo, fmt: str = "text") -> citing.Citation:
    """Format references, or answer 404 naming the keys the library does not hold."""
    try:
        return citing.cite(store.session(), keys, style.name, fmt)
    except citing.UnknownKeys as error:
        raise PageError(404, f"not in the library: {', '.join(error.keys)}") from error


def known_and_unknown(keys: list[str]) -> tuple[list[str], list[str]]:
    """Split keys into those the library holds and those it does not, order kept."""
    try:
        citing.load_references(store.session(), keys)
    except citing.UnknownKeys as error:
        missing = set(error.keys)
        return [k for k in keys if k not in missing], [k for k in keys if k in missing]
    return keys, []


def _numeric(style: StyleInfo) -> bool:
    return bool(getattr(style, "numeric", False))


def bibliography(keys: list[str], style: StyleInfo) -> dict[str, Any]:
    """Return a bibliography of some references in a style: text, safe HTML, download links."""
    citation = rich = None
    if keys:
        try:
            references = citing.load_references(store.session(), keys)
        except citing.UnknownKeys as error:
            raise PageError(404, f"not in the library: {', '.join(error.keys)}") from error
        # Loaded once for both formats; the in-text citation of them all is not shown here.
        citation = citing.cite_references(references, style.name, "text", in_text=False)
        rich = citing.cite_references(references, style.name, "html", in_text=False)
    joined = ",".join(keys)
    return {
        "keys": list(keys),
        "style": style.name,
        "style_title": style.title,
        "entries": citation.entries if citation else [],
        "html_entries": [bibdoc.safe_entry(e) for e in rich.entries] if rich else [],
        "text": citation.text if citation else "",
        "styles": style_options(style),
        "downloads": {
            fmt: url_for("cite.download", keys=joined, style=style.name, format=fmt)
            for fmt in DOWNLOADS
        },
    }


def _keys(params: Params, name: str = "keys") -> list[str]:
    keys = params.values(name)
    if len(keys) > MAX_KEYS:
        raise PageError(400, f"at most {MAX_KEYS} keys at a time, not {len(keys)}")
    return keys


def basket_url(keys: list[str], style: str | None = None, **extra: str) -> str:
    """Return the basket page for these keys (commas kept readable in the address)."""
    query: dict[str, str] = {}
    if keys:
        query["keys"] = ",".join(keys)
    if style:
        query["style"] = style
    query.update(extra)
    return url_for("cite.builder") + ("?" + urlencode(query, safe=",") if query else "")


def builder() -> Response | tuple[str, int] | Any:
    """Show the basket: its references formatted in the chosen style, with copy and downloads."""
    params = Params(request.args, ("keys", "add", "style", "format"))
    keys = _keys(params)
    adding = _keys(params, "add")
    added = [k for k in adding if k not in keys]
    if adding and not wants_json():
        # /cite?keys=a,b&add=c -> /cite?keys=a,b,c: the address is the basket.
        extra = {"format": params.text("format")} if params.text("format") else {}
        return redirect(basket_url(keys + added, params.text("style") or None, **extra), 303)
    keys += added
    fmt = params.choice("format", citing.FORMATS, "text")
    style = params.style()
    if wants_json():
        data = bibliography(keys, style)  # the API still answers 404 for an unknown key
        data.update({"keys": keys, "format": fmt, "unknown": []})
        if fmt != "text" and keys:
            data["text"] = formatted(keys, style, fmt).text
        return respond("cite/builder.html", data)
    known, unknown = known_and_unknown(keys)
    data = bibliography(known, style)
    data.update({"keys": keys, "known": known, "unknown": unknown, "format": fmt})
    if fmt not in ("text", "html") and known:
        data["text"] = formatted(known, style, fmt).text
    summaries = evidence.reference_summaries(store.session(), known)
    data["items"] = [
        {
            "key": k,
            "summary": summaries.get(k),
            "remove": basket_url([x for x in keys if x != k], style.name),
        }
        for k in keys
    ]
    data["numeric"] = _numeric(style)
    return respond("cite/builder.html", data)


def download() -> Response:
    """Send the chosen references as a file in the chosen style or format."""
    params = Params(request.args, ("keys", "style", "format"), strict=True)
    keys = _keys(params)
    if not keys:
        raise PageError(400, "choose at least one reference (keys=a,b) to download")
    fmt = params.choice("format", tuple(DOWNLOADS), "text")
    style = style_named(params.text("style"))
    extension, media_type = DOWNLOADS[fmt]
    name = f"bibliography-{style.name}" if fmt in ("text", "html", "rtf") else "references"
    if fmt in ("html", "rtf"):
        entries = formatted(keys, style, "html").entries
        if fmt == "html":
            body = bibdoc.html_document(
                entries, f"Bibliography ({style.title})", numbered=_numeric(style)
            )
        else:
            body = bibdoc.rtf_document(entries, numbered=_numeric(style))
    else:
        body = formatted(keys, style, fmt).text
    return attachment(body, f"{name}.{extension}", media_type)


def attachment(text: str, filename: str, media_type: str) -> Response:
    """Return text as a file download."""
    response = Response(text, mimetype=None, content_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def init_app(app: Flask) -> None:
    """Register the builder, its JSON twin and the download."""
    # A fresh blueprint per app: the factory may build several apps in one process.
    blueprint = Blueprint("cite", __name__)
    twin(blueprint, "/cite", "builder", builder)
    blueprint.add_url_rule("/cite/download", "download", download)
    app.register_blueprint(blueprint)
