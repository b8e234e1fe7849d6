"""The bibliography builder, the cite API and formatted downloads of any set of references."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, request, url_for

from kb import citing
from references.styles import StyleInfo
from web import store
from web.params import Params, style_named
from web.responses import PageError, respond, twin

MAX_KEYS = 1000
# Format -> (file extension, media type) of a download.
DOWNLOADS = {
    "text": ("txt", "text/plain; charset=utf-8"),
    "html": ("html", "text/html; charset=utf-8"),
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


def bibliography(keys: list[str], style: StyleInfo) -> dict[str, Any]:
    """Return a bibliography of some references in a style, with its download links."""
    citation = formatted(keys, style) if keys else None
    joined = ",".join(keys)
    return {
        "style": style.name,
        "style_title": style.title,
        "entries": citation.entries if citation else [],
        "text": citation.text if citation else "",
        "styles": style_options(style),
        "downloads": {
            fmt: url_for("cite.download", keys=joined, style=style.name, format=fmt)
            for fmt in DOWNLOADS
        },
    }


def _keys(params: Params) -> list[str]:
    keys = params.values("keys")
    if len(keys) > MAX_KEYS:
        raise PageError(400, f"at most {MAX_KEYS} keys at a time, not {len(keys)}")
    return keys


def builder() -> Response | tuple[str, int]:
    """Show (or return) the chosen references formatted in the chosen style."""
    params = Params(request.args, ("keys", "style", "format"))
    keys = _keys(params)
    fmt = params.choice("format", citing.FORMATS, "text")
    style = params.style()
    data = bibliography(keys, style)
    data.update({"keys": keys, "format": fmt})
    if fmt != "text" and keys:
        data["text"] = formatted(keys, style, fmt).text
    return respond("cite/builder.html", data)


def download() -> Response:
    """Send the chosen references as a file in the chosen style or format."""
    params = Params(request.args, ("keys", "style", "format"), strict=True)
    keys = _keys(params)
    if not keys:
        raise PageError(400, "choose at least one reference (keys=a,b) to download")
    fmt = params.choice("format", tuple(DOWNLOADS), "text")
    style = style_named(params.text("style"))
    citation = formatted(keys, style, fmt)
    extension, media_type = DOWNLOADS[fmt]
    name = f"bibliography-{style.name}" if fmt in ("text", "html") else "references"
    return attachment(citation.text, f"{name}.{extension}", media_type)


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
