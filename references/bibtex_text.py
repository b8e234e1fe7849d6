"""BibTeX value text: resolve @string macros and `#`, decode LaTeX to Unicode, encode it back."""

from __future__ import annotations

import re

from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.latexencode import UnicodeToLatexEncoder

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# BibTeX predefines these macros in every style file.
MONTH_MACROS = {name[:3].lower(): name for name in MONTH_NAMES}


class UnreadableValue(Exception):
    """A field value that cannot be resolved (an undefined macro, a stray delimiter)."""


def _decoder() -> LatexNodes2Text:
    db = get_default_latex_context_db()
    db.add_context_category(
        "massage-kb",
        prepend=True,
        macros=[
            MacroTextSpec("url", simplify_repl="%s"),
            # pylatexenc turns these into nothing; the writer uses them for unbalanced braces.
            MacroTextSpec("textbraceleft", "{"),
            MacroTextSpec("textbraceright", "}"),
            MacroTextSpec("textasciicircum", "^"),
            MacroTextSpec("textquotedbl", '"'),
        ],
    )
    return LatexNodes2Text(latex_context=db, math_mode="verbatim")


_DECODER = _decoder()
_ENCODER = UnicodeToLatexEncoder(
    non_ascii_only=True, replacement_latex_protection="braces-all", unknown_char_warning=False
)
_NEEDS_DECODING = re.compile(r"[\\{}$~%&]|--|''|``")
# BibTeX values are not LaTeX paragraphs: a bare % or & is text, not a comment or a column.
_BARE_SPECIAL = re.compile(r"(?<!\\)([%&])")


def decode(value: str) -> str:
    """Return the Unicode text a LaTeX value stands for."""
    if not _NEEDS_DECODING.search(value):
        return value
    return _DECODER.latex_to_text(_BARE_SPECIAL.sub(r"\\\1", value))


def collapse(text: str) -> str:
    """Return text with runs of white space (line wraps in the file) made one space."""
    return re.sub(r"\s+", " ", text).strip()


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


_ASCII_SPECIALS = {
    "\\": "{\\textbackslash}",
    "&": "\\&",
    "%": "\\%",
    "$": "\\$",
    "#": "\\#",
    "_": "\\_",
    "~": "{\\textasciitilde}",
    "^": "{\\textasciicircum}",
    '"': "{\\textquotedbl}",
}


def encode(text: str, protect_case: bool = False) -> str:
    """Return text as a BibTeX value body: specials escaped, accents as LaTeX, braces balanced."""
    braces = ("\\{", "\\}") if _balanced(text) else ("{\\textbraceleft}", "{\\textbraceright}")
    words = re.split(r"(\s+)", text)
    out: list[str] = []
    for word in words:
        if not word or word.isspace():
            out.append(word)
            continue
        body = _encode_word(word, braces)
        # BibTeX styles lower-case titles; braces keep acronyms and names like PEDro or McGill.
        if protect_case and any(c.isupper() for c in word[1:]):
            body = "{" + body + "}"
        out.append(body)
    return "".join(out)


def _encode_word(word: str, braces: tuple[str, str]) -> str:
    parts: list[str] = []
    for char in word:
        if char == "{":
            parts.append(braces[0])
        elif char == "}":
            parts.append(braces[1])
        elif char in _ASCII_SPECIALS:
            parts.append(_ASCII_SPECIALS[char])
        elif ord(char) > 127:
            parts.append(_ENCODER.unicode_to_latex(char))
        else:
            parts.append(char)
    body = "".join(parts)
    # Ligatures LaTeX would make of plain ASCII: -- and --- become dashes, `` and '' quotes.
    for pair, broken in (("--", "-{}-"), ("``", "`{}`"), ("''", "'{}'")):
        while pair in body:
            body = body.replace(pair, broken)
    return body


def split_concatenation(raw: str) -> list[str]:
    """Return the parts of a value joined by top-level `#`."""
    parts: list[str] = []
    depth = 0
    in_quotes = False
    start = 0
    for i, char in enumerate(raw):
        if char == "\\":
            continue
        if char == "{" and (i == 0 or raw[i - 1] != "\\"):
            depth += 1
        elif char == "}" and (i == 0 or raw[i - 1] != "\\"):
            depth -= 1
        elif char == '"' and depth == 0:
            in_quotes = not in_quotes
        elif char == "#" and depth == 0 and not in_quotes:
            parts.append(raw[start:i].strip())
            start = i + 1
    parts.append(raw[start:].strip())
    return parts


def resolve(raw: str, strings: dict[str, str], month_field: bool = False) -> str:
    """Return a raw field value with delimiters removed, macros expanded and `#` joined."""
    pieces: list[str] = []
    for part in split_concatenation(raw):
        if not part:
            raise UnreadableValue("has an empty part around '#'")
        if (part[0], part[-1]) in (("{", "}"), ('"', '"')) and len(part) >= 2:
            pieces.append(part[1:-1])
        elif part.isdigit():
            pieces.append(part)
        elif re.fullmatch(r"[^\s{}\"#,=]+", part):
            name = part.lower()
            # The month field always means the month, even where a file renames the macros.
            if month_field and name in MONTH_MACROS:
                pieces.append(MONTH_MACROS[name])
            elif name in strings:
                pieces.append(strings[name])
            elif name in MONTH_MACROS:
                pieces.append(MONTH_MACROS[name])
            else:
                raise UnreadableValue(f"uses the undefined @string macro {part!r}")
        else:
            raise UnreadableValue(f"cannot be read: {collapse(part)[:60]!r}")
    return "".join(pieces)


def month_number(text: str) -> int | None:
    """Return the month 1-12 a month value names, or None."""
    value = collapse(text).strip(". ").lower()
    if value.isdigit() and 1 <= int(value) <= 12:
        return int(value)
    for number, name in enumerate(MONTH_NAMES, start=1):
        if value in (name.lower(), name[:3].lower(), name[:4].lower()):
            return number
    return None
