"""Read a request's parameters strictly: unknown names and bad values are a 400 with the reason."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from werkzeug.datastructures import MultiDict

from references.styles import StyleInfo, UnknownStyleError, resolve_style
from web.responses import PageError

DEFAULT_STYLE = "apa"


class Params:
    """The parameters of one request, checked against the names a view accepts."""

    def __init__(self, args: MultiDict[str, str], allowed: Iterable[str]):
        self.args = args
        self.allowed = tuple(allowed)
        unknown = [name for name in args if name not in self.allowed]
        if unknown:
            takes = ", ".join(self.allowed) if self.allowed else "no parameters"
            raise PageError(400, f"unknown parameter {unknown[0]!r}; this page takes {takes}")

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
