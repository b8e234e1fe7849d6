"""Split a pasted reference list into entries, mending what copying from PDFs and web pages breaks.

A list may be numbered (``1.``, ``1)``, ``[1]``, ``(1)``), bulleted (``-``, ``*``, ``•``),
separated by blank lines, or one entry a line; lines may be hard-wrapped. A heading line
("References", "Works Cited", ...) is dropped, and so are PDF artefacts: page numbers alone on a
line, running headers repeated down the page, words hyphenated at line ends and ligatures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PASTE = 1_000_000

_HEADING_RE = re.compile(
    r"^\s*(?:\d+\.?\s*)?(?:(?:linked\s+|cited\s+)?references?(?:\s+list|\s+cited)?|bibliography|works\s+cited|"
    r"literature(?:\s+cited)?|sources|citations|further\s+reading|reading\s+list)\s*:?\s*$",
    re.IGNORECASE,
)
_PAGE_NUMBER_RE = re.compile(
    r"^\s*(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?(?:\s*\|\s*page)?\s*$|^\s*page\s*\|?\s*\d{1,4}\s*$",
    re.IGNORECASE,
)
_MARKER_RE = re.compile(
    r"^\s*(?:\[(?P<bracket>\d{1,4})\]|\((?P<paren>\d{1,4})\)|(?P<num>\d{1,4})[.)](?!\d)"
    r"|(?P<bullet>[-*•·‣▪◦●○■➢►])(?=\s))\s*"
)
# A line of link labels a publisher page puts between entries ("Google Scholar | Crossref |
# Medline", "[PubMed] [Google Scholar]", "View at Publisher · View at Scopus"): an entry ends there.
_LINK_WORDS = (
    r"(?:view\s+at\s+)?(?:google\s+scholar|cross\s?ref|medline|pubmed(?:\s+central)?|scopus|"
    r"web\s+of\s+science|isi|publisher|full\s+text|pdf|abstract|article|find\s+it[\w\s@]*|"
    r"pmc\s+free\s+article|free\s+full\s+text|cas|ref\s+list|doi)"
)
_LINK_LINE_RE = re.compile(
    rf"^\s*(?:\[?{_LINK_WORDS}\]?\s*(?:[|·•,/]\s*)?)+$",
    re.IGNORECASE,
)
_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
_YEAR_RE = re.compile(r"(?<!\d)(?:1[89]\d\d|20\d\d)(?!\d)")
_ID_RE = re.compile(r"\b10\.\d{4,9}/|https?://|\bPMID\b", re.IGNORECASE)
# How a line that begins a new, unnumbered entry starts: "Sherman KJ," / "Elliott, R." /
# "Elliott, Rex" / an organisation followed by a colon or full stop.
_ENTRY_START_RE = re.compile(
    r"^(?:[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+(?:\s[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+)?,\s*[A-Z]"
    r"|[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+(?:\s[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+)*\s[A-Z]{1,3}[,.]"
    r"|[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+(?:\s[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+){0,3}[:.]\s)"
)
_TERMINAL_RE = re.compile(r"(?:[.?!)\]]|\d|https?://\S+)$")
_ANY_TAG_RE = re.compile(r"<[A-Za-z/!][^<>]{0,500}>")
_BLOCK_TAG_RE = re.compile(r"(?=<(?:li|p|br|div|tr|dd|dt)\b[^<>]{0,200}>)", re.IGNORECASE)
_EDGE_TAGS_RE = re.compile(
    r"^(?:\s*</?(?:ol|ul|li|p|br|div|tr|td|dd|dt|dl|body|html)\b[^<>]{0,200}>)+|(?:</?(?:ol|ul|li|p|br|div|tr|td|dd|dt|dl|body|html)\b[^<>]{0,200}>\s*)+$",
    re.IGNORECASE,
)


def _plain(line: str) -> str:
    """Return a line without tags, for deciding where entries start (the text keeps them)."""
    return _ANY_TAG_RE.sub("", line).strip() if "<" in line else line.strip()


class PasteTooLarge(ValueError):
    """The pasted text is longer than the checker reads."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(
            f"The pasted list is {size:,} characters long; the checker reads at most "
            f"{MAX_PASTE:,} characters. Check the list in parts."
        )


@dataclass(frozen=True)
class RawEntry:
    """One entry as cut from the paste: its list marker and its text with lines joined."""

    text: str
    number: str | None = None


def fix_ligatures(text: str) -> str:
    """Return text with typographic ligatures spelt out."""
    return (
        "".join(_LIGATURES.get(c, c) for c in text) if any(c in text for c in _LIGATURES) else text
    )


_URL_TAIL_RE = re.compile(
    r"(?:https?://|www\.|doi:\s?|\b10\.\d{4,9}/)\S*[-/._=?&#]$", re.IGNORECASE
)


def join_lines(lines: list[str]) -> str:
    """Join hard-wrapped lines into one, mending words hyphenated at a line end."""
    pieces: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        tail = pieces[-1][-80:] if pieces else ""  # only the end matters; keeps long pastes linear
        if not pieces:
            pieces.append(line)
        elif _URL_TAIL_RE.search(tail) and not line[0].isspace():
            # "https://www.apta.org/.../dry-" + "needling": a URL or DOI broken at a line end
            # keeps its hyphen and has no space put in.
            pieces.append(line)
        elif re.search(r"[a-z]-$", tail) and re.match(r"[a-z]", line):
            # "thera-\npeutic": a word broken by the typesetter, not a hyphenated compound.
            pieces[-1] = pieces[-1][:-1]
            pieces.append(line)
        elif tail.endswith(("-", "–")) or re.search(r"(?:https?://|doi:|\b10\.)\S*[/._=?&]$", tail):
            pieces.append(line)  # page ranges, double-barrelled names and URLs broken at a line end
        else:
            pieces.append(" " + line)
    return "".join(pieces)


def _artefact_free_lines(text: str) -> list[str]:
    """Return the paste's lines without headings, page numbers and repeated running headers."""
    text = fix_ligatures(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\xa0", " ")
    if "<" in text and _ANY_TAG_RE.search(text):
        # Pasted HTML: list items and paragraphs are entries; the tags stay in the text.
        text = _BLOCK_TAG_RE.sub("\n", text)
    lines = [_EDGE_TAGS_RE.sub("", line.replace("\t", " ")).rstrip() for line in text.split("\n")]
    lines = ["" if _LINK_LINE_RE.match(line) else line for line in lines]
    counts: dict[str, int] = {}
    for line in lines:
        key = line.strip()
        if key and len(key) < 100 and not _MARKER_RE.match(key):
            counts[key] = counts.get(key, 0) + 1
    kept: list[str] = []
    for line in lines:
        key = line.strip()
        if key and (_HEADING_RE.match(key) or _PAGE_NUMBER_RE.match(key)):
            continue
        if key and counts.get(key, 0) >= 2 and not _ENTRY_START_RE.match(_plain(key)):
            continue  # a running header or footer repeated on every page (not a pasted-twice entry)
        kept.append(line)
    return kept


def _marker_number(match: re.Match[str]) -> int | None:
    for group in ("bracket", "paren", "num"):
        if match.group(group):
            return int(match.group(group))
    return None


def _numbered_starts(lines: list[str]) -> dict[int, str]:
    """Return {line index: marker} for lines that begin a numbered entry, numbers in sequence."""
    starts: dict[int, str] = {}
    last: int | None = None
    for i, line in enumerate(lines):
        m = _MARKER_RE.match(line)
        number = _marker_number(m) if m else None
        if number is None:
            continue
        # A year or volume that wraps to the start of a line ("2013. Title") is not a marker:
        # markers count up one at a time (allowing one gap).
        if last is None or number in (last + 1, last + 2):
            starts[i] = str(number)
            last = number
    return starts


def _bullet_starts(lines: list[str]) -> dict[int, str]:
    starts = {
        i: "" for i, line in enumerate(lines) if (m := _MARKER_RE.match(line)) and m.group("bullet")
    }
    # A bulleted list of journal names on a copied page is not the reference list: bullets
    # mark entries only when most bulleted lines (with the line after) carry a year or a link.
    dated = sum(1 for i in starts if _is_dated(" ".join(lines[i : i + 2])))
    return starts if dated * 2 >= len(starts) else {}


def _looks_complete(line: str) -> bool:
    line = _plain(line)
    return bool((_YEAR_RE.search(line) or _ID_RE.search(line)) and _TERMINAL_RE.search(line))


_LINK_IN_RE = re.compile(r"https?://|\bdoi:|\b10\.\d{4,9}/", re.IGNORECASE)
_LINK_ONLY_RE = re.compile(r"^\s*(?:https?://|doi:\s*|10\.\d{4,9}/)\S+\s*$", re.IGNORECASE)


def _split_unmarked(block: list[str]) -> list[list[str]]:
    """Split lines with no markers into entries; a line that is only a link joins the one above."""
    groups: list[list[str]] = []
    for group in _group_unmarked(block):
        if (
            groups
            and len(group) == 1
            and _LINK_ONLY_RE.match(_plain(group[0]))
            and not _LINK_IN_RE.search(_plain(" ".join(groups[-1])))
        ):
            groups[-1].append(group[0])  # "Bishop et al. (2015). ..." then its PubMed link
        else:
            groups.append(group)
    return groups


def _group_unmarked(block: list[str]) -> list[list[str]]:
    """Split lines with no markers into entries: one a line, or wrapped lines grouped."""
    lines = [line for line in block if line.strip()]
    if not lines:
        return []
    complete = sum(1 for line in lines if _looks_complete(line.strip()))
    if len(lines) > 1 and complete >= 0.8 * len(lines):
        return [[line] for line in lines]
    # Undated web pages, one a line: every line ends a sentence and starts like an entry.
    # (Hard-wrapped lines mostly end mid-sentence.)
    plain = [_plain(line) for line in lines]
    ended = sum(1 for p in plain if _TERMINAL_RE.search(p))
    started = sum(1 for p in plain if _ENTRY_START_RE.match(p))
    if len(lines) > 1 and ended >= 0.9 * len(lines) and started >= 0.9 * len(lines):
        return [[line] for line in lines]
    groups: list[list[str]] = [[lines[0]]]
    dated = _is_dated(lines[0])  # whether the entry being built has a year or an identifier yet
    for line in lines[1:]:
        prev = _plain(join_lines(groups[-1][-2:]))  # a URL broken over two lines still ends one
        if dated and _TERMINAL_RE.search(prev) and _ENTRY_START_RE.match(_plain(line)):
            groups.append([line])
            dated = _is_dated(line)
        else:
            groups[-1].append(line)
            dated = dated or _is_dated(line)
    return groups


def _is_dated(line: str) -> bool:
    line = _plain(line)
    return bool(_YEAR_RE.search(line) or _ID_RE.search(line))


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def split_entries(text: str, skipped: list[str] | None = None) -> list[RawEntry]:
    """Return the entries of a pasted reference list, in the order pasted.

    Introduction and heading lines before the first entry are left out; pass ``skipped`` to
    have them appended to it, so the writer can be told.
    """
    if len(text) > MAX_PASTE:
        raise PasteTooLarge(len(text))
    entries = []
    for entry in _split(text, skipped):
        # "... 2007. View at Publisher · View at Google Scholar": link labels are not the entry.
        trimmed = _TRAILING_LINKS_RE.sub("", entry.text) if "View at" in entry.text else entry.text
        entries.append(RawEntry(trimmed, entry.number) if trimmed != entry.text else entry)
    return entries


_TRAILING_LINKS_RE = re.compile(
    r"(?:\s*[·|]?\s*View at (?:Publisher|Google Scholar|Scopus|PubMed|Web of Science|MathSciNet))+"
    r"\s*$"
)


def _split(text: str, skipped: list[str] | None) -> list[RawEntry]:
    lines = _without_introduction(_artefact_free_lines(text), skipped)
    starts = _numbered_starts(lines)
    if len(starts) < 2 and not (starts and _first_nonblank(lines) in starts):
        starts = _bullet_starts(lines)
        if len(starts) < 2 and not (starts and _first_nonblank(lines) in starts):
            starts = {}
    if not starts:
        entries, left_out = [], []
        for block in _blocks(lines):
            for group in _split_unmarked(block):
                joined = join_lines(group)
                if joined and _is_prose_or_heading(joined, len(group)):
                    left_out.append(joined)
                elif joined:
                    entries.append(RawEntry(joined))
        if not entries:  # nothing looked like a reference: check it all rather than nothing
            return [RawEntry(text) for text in left_out]
        if skipped is not None:
            skipped.extend(_plain(text) for text in left_out)
        return entries
    entries: list[RawEntry] = []
    first = min(starts)
    # Text before the first marker is a stray entry or two (or an introduction): keep it visible.
    for block in _blocks(lines[:first]):
        entries.extend(RawEntry(join_lines(g)) for g in _split_unmarked(block))
    indexes = sorted(starts)
    for n, start in enumerate(indexes):
        end = indexes[n + 1] if n + 1 < len(indexes) else len(lines)
        marker = _MARKER_RE.match(lines[start])
        body = [lines[start][marker.end() :] if marker else lines[start], *lines[start + 1 : end]]
        joined = join_lines(body)
        if not joined:
            continue
        glued = _GLUED_ENTRY_RE.search(joined)
        if glued and _YEAR_RE.search(joined[: glued.start()]):
            # "(2012). Stud health technol inform. 176, 411-4. Furlan, A., ... (2009). ...": the
            # tail of an entry cut by a page break, with the next, unnumbered entry glued on.
            entries.append(RawEntry(joined[: glued.start()].strip(), starts[start] or None))
            entries.append(RawEntry(joined[glued.end() :].strip()))
        else:
            entries.append(RawEntry(joined, starts[start] or None))
    return entries


# After an entry's closing page numbers, an APA author list ("Furlan, A., Imamura, M.,") that
# reaches a year in brackets starts another entry.
_GLUED_ENTRY_RE = re.compile(
    r"(?<=\d\.)\s+(?=[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]+,\s(?:[A-Z]\.\s?)+,[^()]{0,300}?\((?:1[89]|20)\d\d[a-z]?\))"
)


def _is_prose_or_heading(text: str, lines: int) -> bool:
    """Return whether unmarked text with no year or link is a heading, prose or a list of names."""
    text = _plain(text)
    if _YEAR_RE.search(text) or _ID_RE.search(text):
        return False
    words = len(text.split())
    if text.endswith(":") or (words <= 4 and not re.search(r"[.?!]$", text)):
        return True  # "PAIN SCIENCE", "Open Access Resources for Massage Therapists:"
    if text.isupper():
        return True  # "THIS POST IS PART OF A NEW SERIES OF BLOG POSTS ..."
    # A paragraph of prose, or several short lines of names (a list of journals).
    return words > 25 or (lines >= 3 and not _ENTRY_START_RE.match(text))


def _is_introduction(line: str) -> bool:
    """Return whether a line before the first entry is a heading or an introduction."""
    line = _plain(line)
    if _YEAR_RE.search(line) or _ID_RE.search(line):
        return False
    if line.endswith(":"):
        return True  # "Yes we do. Please see references below:"
    if _ENTRY_START_RE.match(line) or line.endswith(","):
        return False  # "Kumar, S., Beaton, K. and Hughes, T.," wrapped before its year
    return len(line.split()) <= 8 and not re.search(r"[.?!]$", line)  # a page title


def _without_introduction(lines: list[str], skipped: list[str] | None = None) -> list[str]:
    """Drop the heading and introduction lines a copied list starts with."""
    for i, line in enumerate(lines):
        if line.strip() and not _is_introduction(line):
            if skipped is not None:
                skipped.extend(_plain(x) for x in lines[:i] if x.strip())
            return lines[i:]
    return lines  # nothing but such lines: check them rather than report an empty list


def _first_nonblank(lines: list[str]) -> int:
    return next((i for i, line in enumerate(lines) if line.strip()), -1)
