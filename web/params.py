"""Read a request's parameters: bad values are a 400 with the reason; unknown names depend.

A shared link picks up names a page never asked for (``utm_source`` from a newsletter,
``fbclid`` from a social post): tracking names are dropped everywhere, and an HTML page drops
any other name it does not know, so the link still opens. The JSON API and the downloads stay
strict about the rest, answering 400 with every unknown name, because a program that sends a
misspelt name wants to hear so. Dropped names never reach a link the page builds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from werkzeug.datastructures import MultiDict

from references.styles import StyleInfo, UnknownStyleError, resolve_style
from web.responses import PageError, wants_json

DEFAULT_STYLE = "apa"

# Click and campaign identifiers that sites, mailers and ad networks append to shared links.
TRACKING_PREFIXES = ("utm_", "mc_", "_hs", "oly_")
TRACKING_NAMES = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "li_fat_id",
        "mkt_tok",
        "vero_id",
        "_ga",
        "_gl",
    }
)


def is_tracking(name: str) -> bool:
    """Tell whether a parameter name is a tracking or campaign tag, not a request."""
    folded = name.lower()
    return folded in TRACKING_NAMES or folded.startswith(TRACKING_PREFIXES)


def known_args(
    args: MultiDict[str, str], allowed: Iterable[str], strict: bool | None = None
) -> MultiDict[str, str]:
    """Return the arguments a view takes; drop tracking names, and others unless strict.

    Strict (the default under /api/) answers 400 naming every unknown name that is not tracking.
    """
    allowed = tuple(allowed)
    strict = wants_json() if strict is None else strict
    unknown = [n for n in dict.fromkeys(args) if n not in allowed and not is_tracking(n)]
    if unknown and strict:
        takes = ", ".join(allowed) if allowed else "no parameters"
        names = ", ".join(repr(n) for n in unknown)
        noun = "parameter" if len(unknown) == 1 else "parameters"
        raise PageError(400, f"unknown {noun} {names}; this address takes {takes}")
    return MultiDict([(k, v) for k, v in args.items(multi=True) if k in allowed])


class Params:
    """The parameters of one request, checked against the names a view accepts."""

    def __init__(
        self, args: MultiDict[str, str], allowed: Iterable[str], strict: bool | None = None
    ):
        self.allowed = tuple(allowed)
        self.args = known_args(args, self.allowed, strict)

    def text(self, name: str, default: str = "") -> str:
        """Return one parameter's value, stripped."""
        return (self.args.get(name) or default).strip()

    def values(self, name: str, choices: Collection[str] | None = None) -> list[str]:
        """Return a repeated or comma-separated parameter, each value checked against choices."""
        found: list[str] = []
        for raw in self.args.getlist(name):
            found.extend(part.strip() for part in raw.split(",") if part.strip())
        found = list(dict.fromkeys(found))
        if choices is not None:
            for value in found:
                if value not in choices:
                    raise PageError(
                        400, f"unknown {name} {value!r}; use one of {', '.join(sorted(choices))}"
                    )
        return found

    def choice(self, name: str, choices: Collection[str], default: str) -> str:
        """Return a parameter that must be one of a few values."""
        value = self.text(name, default)
        if value not in choices:
            raise PageError(400, f"unknown {name} {value!r}; use one of {', '.join(choices)}")
        return value

    def number(self, name: str, default: int, minimum: int = 1, maximum: int = 10_000) -> int:
        """Return a whole-number parameter within bounds."""
        raw = self.text(name)
        if not raw:
            return default
        if not raw.isdigit() or not minimum <= int(raw) <= maximum:
            raise PageError(
                400, f"{name} must be a whole number from {minimum} to {maximum}, not {raw!r}"
            )
        return int(raw)

    def style(self, name: str = "style") -> StyleInfo:
        """Return the citation style asked for (APA when none), or a 400 naming close styles."""
        return style_named(self.text(name, DEFAULT_STYLE))


def style_named(name: str) -> StyleInfo:
    """Resolve a style name, or raise a 400 that names the closest styles."""
    try:
        return resolve_style(name or DEFAULT_STYLE)
    except UnknownStyleError as error:
        raise PageError(400, str(error)) from error
