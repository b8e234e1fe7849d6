"""BibTeX value text: resolve @string macros and `#`, decode LaTeX to Unicode, encode it back."""

from __future__ import annotations

import re

from pylatexenc import latexwalker, macrospec
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
# Month names JabRef and Zotero read in the files of German, French, Spanish, Italian and Dutch
# users, besides the English names and their abbreviations.
LOCAL_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "januar janvier enero gennaio januari",
            "februar février febrero febbraio februari",
            "märz mars marzo maart",
            "avril abril aprile",
            "mai mayo maggio mei",
            "juni juin junio giugno",
            "juli juillet julio luglio",
            "août agosto augustus",
            "septembre septiembre settembre",
            "oktober octobre octubre ottobre",
            "novembre noviembre",
            "dezember décembre diciembre dicembre",
        ),
        start=1,
    )
    for name in names.split()
}
# Deeper braces than this are no title or name anyone writes; pylatexenc recurses per level.
MAX_BRACE_DEPTH = 32
# pylatexenc's time grows faster than the text: a longer value is refused, not decoded for
# seconds (abstracts, the longest fields of real entries, are a few thousand characters).
MAX_DECODED = 50_000


class UnreadableValue(Exception):
    """A field value that cannot be resolved (an undefined macro, a stray delimiter)."""


def brace_depth(text: str) -> int:
    """Return how deep braces nest in text."""
    depth = deepest = 0
    for char in re.findall(r"(?<!\\)[{}]", text):
        depth += 1 if char == "{" else -1
        deepest = max(deepest, depth)
    return deepest


def check_size(text: str, decoded: bool = True) -> None:
    """Raise UnreadableValue when a value is too long to decode or nests braces too deep."""
    if decoded and len(text) > MAX_DECODED:
        raise UnreadableValue(
            f"is {len(text):,} characters long; a field is read up to {MAX_DECODED:,}"
        )
    depth = brace_depth(text)
    if depth > MAX_BRACE_DEPTH:
        raise UnreadableValue(f"nests braces {depth} deep; at most {MAX_BRACE_DEPTH} are read")


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
            # The BibTeX idiom for sorting ("{\\noopsort{1973b}}1973", xampl.bib): prints nothing.
            MacroTextSpec("noopsort", ""),
        ],
    )
    return LatexNodes2Text(latex_context=db, math_mode="verbatim")


def _parser_context() -> macrospec.LatexContextDb:
    db = latexwalker.get_default_latex_context_db()
    # hyperref's \href{url}{text}, common in notes: without its two arguments pylatexenc's
    # own text rule for it reads past the end of its argument list.
    db.add_context_category(
        "massage-kb",
        prepend=True,
        macros=[macrospec.MacroSpec("href", "{{"), macrospec.MacroSpec("noopsort", "{")],
    )
    return db


_DECODER = _decoder()
_PARSER_CONTEXT = _parser_context()
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
    check_size(value)
    walker = latexwalker.LatexWalker(
        _BARE_SPECIAL.sub(r"\\\1", value), latex_context=_PARSER_CONTEXT, tolerant_parsing=True
    )
    try:
        nodes, _, _ = walker.get_latex_nodes()
        return _DECODER.nodelist_to_text(nodes)
    except (latexwalker.LatexWalkerError, IndexError, KeyError, ValueError, RecursionError) as e:
        # pylatexenc's rules for a macro used otherwise than LaTeX defines it.
        raise UnreadableValue(f"has LaTeX that cannot be read ({type(e).__name__})") from None


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
            # The month field always means the month, even where a file renames the macros;
            # JabRef and Zotero also read a bare `november` or `Nov.` there.
            if month_field and name in MONTH_MACROS:
                pieces.append(MONTH_MACROS[name])
            elif month_field and name not in strings and month_number(part):
                pieces.append(MONTH_NAMES[(month_number(part) or 1) - 1])
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
    return LOCAL_MONTHS.get(value)
