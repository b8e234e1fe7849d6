"""Read what a person types into the parser's language: PubMed's habits and bounded work.

``prepare`` takes a query as typed and returns what the parser should read, the identifiers
(DOI, PMID) to look up exactly before any full-text matching, and notices saying what was
changed or limited. No Whoosh here: the output is a query string and plain values.

What is understood, beyond the parser's own language (words, quotes, AND/OR/NOT, ``field:``):

- a DOI (``10.1097/AJP.0b013e31818b7912``, ``doi:…``, ``https://doi.org/…``) or a PMID (a bare
  number of five to eight digits, ``pmid:…``, ``…[pmid]``) is an identifier, never words;
- ``-word`` excludes, as ``NOT word`` does; ``+word`` is the word;
- PubMed's field tags after a word or a quoted phrase: ``[ti]``, ``[tiab]``, ``[au]``, ``[ta]``,
  ``[dp]`` (a year or a range: ``2005:2015[dp]``), ``[mh]``, ``[pt]``, ``[pmid]``, ``[doi]``;
  as in PubMed, a tag applies to the words before it back to an operator, a parenthesis or a
  scoped term (``neck pain[ti]`` is ``title:neck title:pain``);
- the scoped forms ``ti:``, ``au:``, ``year:2005-2015``, ``dp:…``, ``design:``, ``finding:``.

Work per query is bounded: at most ``MAX_CHARS`` characters and ``MAX_WORDS`` words, fuzzy terms
(``word~2``) at most ``MAX_EDITS`` edits and ``MAX_LOOSE`` of them, and wildcards need
``WILDCARD_PREFIX`` letters before the first ``*`` or ``?``; each limit applied says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from kb.grading import DESIGN_LABELS, LEVELS

MAX_CHARS = 500  # characters of a query read (PubMed's own box is similar in practice)
MAX_WORDS = 32  # words and terms searched; more are dropped with a notice
MAX_EDITS = 2  # edit distance of a fuzzy term (word~N)
MAX_LOOSE = 3  # fuzzy and wildcard terms per query; more are searched as typed words
WILDCARD_PREFIX = 3  # letters a wildcard needs before its first * or ? (PubMed asks for four)
MAX_FUZZY_CHARS = 30  # longer words are never matched loosely nor corrected (the cost grows fast)
MAX_EXPANSIONS = 600  # index words one fuzzy or wildcard term may stand for (PubMed: 600)

_DOI = re.compile(
    r"(?:(?:https?://)?(?:dx\.)?doi\.org/|\bdoi:\s*|(?<![\w/.]))(10\.\d{4,9}/[^\s\"<>\[\]]+)",
    re.IGNORECASE,
)
_PMID = re.compile(
    r"(?:\bpmid:\s*(\d{1,9})\b)|(?:\b(\d{1,9})\[(?:pmid|uid|pm)\])|(?:(?<![\w:.\-/\[])(\d{5,8})(?![\w:.\-/\]]))",
    re.IGNORECASE,
)
_TRAILING = ".,;:]}'"


def _trimmed(doi: str) -> str:
    """Drop punctuation after a DOI in prose; a closing parenthesis only when unbalanced."""
    while doi and (doi[-1] in _TRAILING or (doi[-1] == ")" and doi.count("(") < doi.count(")"))):
        doi = doi[:-1]
    return doi


_TAG = re.compile(r"\[([a-z0-9 ]{1,12})\]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"}
_YEAR_RANGE = re.compile(r"\b(?:year|dp):(\d{1,4})?-(\d{1,4})?(?=\s|\)|$)", re.IGNORECASE)
_SCOPED = re.compile(r'\b(design|finding|pt):("[^"]*"|[^\s()]+)', re.IGNORECASE)
_MINUS = re.compile(r"(?:(?<=\s)|(?<=\()|^)([-+])(?=[\w\"(])")
_FUZZY = re.compile(r"(?<![\s~])~(\d+)?(?:/(\d+))?(?=\s|\)|$)")
_TOKEN = re.compile(r'"[^"]*"(?:~\d+|\[[^\]\s]*\])?|\S+')

# PubMed's tags, and the field of ours each stands for (None: every searched field).
TAGS: dict[str, str | None] = {
    "ti": "title",
    "title": "title",
    "tiab": "text",
    "tw": "text",
    "ab": "text",
    "all": None,
    "au": "authors",
    "auth": "authors",
    "fau": "authors",
    "1au": "authors",
    "lastau": "authors",
    "author": "authors",
    "ta": "journal",
    "jour": "journal",
    "journal": "journal",
    "so": "journal",
    "dp": "year",
    "pdat": "year",
    "yr": "year",
    "year": "year",
    "mh": "keywords",
    "mesh": "keywords",
    "majr": "keywords",
    "ot": "keywords",
    "kw": "keywords",
    "pt": "design",
}
ID_TAGS = {"pmid": "pmid", "uid": "pmid", "pm": "pmid", "doi": "doi", "aid": "doi", "lid": "doi"}


@dataclass(frozen=True)
class Identifier:
    """A DOI or PMID found in a query, and where it stood in the typed text."""

    kind: str  # "doi" or "pmid"
    value: str  # as the index holds it: lower-case DOI, digits of a PMID
    start: int
    end: int


@dataclass
class Prepared:
    """A query made ready: the parser's text, identifiers to look up, and what was changed."""

    typed: str
    text: str
    identifiers: list[Identifier] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # the plain words typed (no identifiers)

    def words_typed(self) -> str:
        """Return the typed query with its identifiers blanked (for "did you mean")."""
        out = self.typed
        for ident in sorted(self.identifiers, key=lambda i: -i.start):
            out = out[: ident.start] + " " * (ident.end - ident.start) + out[ident.end :]
        return out


def identifiers(text: str) -> list[Identifier]:
    """Return the DOIs and PMIDs in a query, in the order typed."""
    found: list[Identifier] = []
    for m in _DOI.finditer(text):
        value = _trimmed(m.group(1))
        end = m.start(1) + len(value)
        tag = _TAG.match(text, end)
        if tag and ID_TAGS.get(tag.group(1).lower()) == "doi":
            end = tag.end()
        found.append(Identifier("doi", unquote(value).lower(), m.start(), end))
    taken = [(i.start, i.end) for i in found]
    for m in _PMID.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        digits = next(g for g in m.groups() if g)
        found.append(Identifier("pmid", str(int(digits)), m.start(), m.end()))
    return sorted(found, key=lambda i: i.start)


def _design_values(text: str) -> list[str]:
    wanted = text.strip('"').lower().replace(" ", "-")
    if wanted in LEVELS:
        return [wanted]
    loose = wanted.replace("-", " ")
    aliases = {
        "randomized controlled trial": "rct",
        "randomised controlled trial": "rct",
        "clinical trial": "rct",
        "review": "systematic-review",
    }
    if loose in aliases and aliases[loose] in LEVELS:
        return [aliases[loose]]
    return [d for d in LEVELS if loose in d.replace("-", " ") or loose in DESIGN_LABELS[d].lower()]


def _scoped(name: str, value: str) -> str:
    """Return ``design:``/``finding:``/``pt:`` scoped values in the parser's terms."""
    name = name.lower()
    if name == "finding":
        return f"finding:{value.strip(chr(34)).lower().replace(' ', '-')}"
    values = _design_values(value)
    if not values:
        return f"design:{value.strip(chr(34)).lower().replace(' ', '-')}"
    if len(values) == 1:
        return f"design:{values[0]}"
    return "(" + " OR ".join(f"design:{v}" for v in values) + ")"


def _year_range(value: str) -> str | None:
    """Return ``year:[a TO b]`` for PubMed's date forms: 2009, 2005:2015, 2009/03, 2005-2015."""
    years = re.findall(r"(?<!\d)(\d{4})(?!\d)", value)
    if not years or len(years) > 2:
        return None
    if len(years) == 1:
        if re.search(r"[:\-]\s*$", value.strip()):
            return f"year:[{years[0]} TO]"
        if re.match(r"^\s*[:\-]", value):
            return f"year:[TO {years[0]}]"
        return f"year:{years[0]}"
    low, high = sorted(int(y) for y in years)
    return f"year:[{low} TO {high}]"


def _tagged(words: list[str], tag: str, notices: list[str]) -> list[str]:
    """Scope the words a PubMed tag applies to (see the module docstring)."""
    target = TAGS.get(tag)
    if tag not in TAGS:
        known = "ti, tiab, au, ta, dp, mh, pt, pmid, doi"
        notices.append(
            f"[{tag}] is not a field tag this library knows ({known}): searched it everywhere"
        )
        return words
    if target is None:
        return words
    if target == "year":
        year = _year_range(" ".join(words))
        if year is None:
            notices.append(f"[{tag}] needs a year or a range (2009, 2005:2015): searched the words")
            return words
        return [year]
    if target == "design":
        return [_scoped("design", '"' + " ".join(w.strip('"') for w in words) + '"')]
    if target == "authors":
        # "sherman kj[au]": a family name then initials, which the index does not keep.
        plain = [w for w in words if not w.startswith('"')]
        if len(plain) == len(words) and len(words) == 2 and len(words[1]) <= 3:
            words = words[:1]
    return [f"{target}:{w}" for w in words]


def _apply_tags(text: str, notices: list[str]) -> str:
    """Rewrite ``words[tag]`` into scoped terms, the tag reaching back to an operator."""
    out: list[str] = []
    run: list[str] = []  # the plain words since the last operator, parenthesis or scoped term
    for token in _TOKEN.findall(text):
        core = token.lstrip("(")
        opening = token[: len(token) - len(core)]
        closing = ""
        if not core.startswith('"'):
            stripped = core.rstrip(")")
            closing, core = core[len(stripped) :], stripped
        if opening:
            out.extend(run)
            out.append(opening)
            run = []
        tag = _TAG.search(core)
        if tag and tag.end() == len(core) and tag.start() > 0:
            run.append(core[: tag.start()])
            out.extend(_tagged(run, tag.group(1).lower().strip(), notices))
            run = []
        elif core in _OPERATORS or ":" in core or core.endswith("]") or not core:
            out.extend(run)
            if core:
                out.append(core)
            run = []
        else:
            run.append(core)
        if closing:
            out.extend(run)
            out.append(closing)
            run = []
    out.extend(run)
    return " ".join(out)


def _bound_terms(text: str, notices: list[str]) -> str:
    """Keep fuzzy and wildcard terms within what a search may cost, and the number of words."""
    tokens = _TOKEN.findall(text)
    loose = 0
    kept: list[str] = []
    edits_cut = wild_cut = loose_cut = long_cut = False
    for token in tokens:
        fuzzy = _FUZZY.search(token)
        wild = not token.startswith('"') and ("*" in token or "?" in token)
        if fuzzy:
            loose += 1
            if len(token[: fuzzy.start()].split(":")[-1]) > MAX_FUZZY_CHARS:
                token = token[: fuzzy.start()] + token[fuzzy.end() :]
                long_cut = True
            elif loose > MAX_LOOSE:
                token = token[: fuzzy.start()] + token[fuzzy.end() :]
                loose_cut = True
            elif fuzzy.group(1) and int(fuzzy.group(1)) > MAX_EDITS:
                prefix = f"/{fuzzy.group(2)}" if fuzzy.group(2) else ""
                token = token[: fuzzy.start()] + f"~{MAX_EDITS}{prefix}" + token[fuzzy.end() :]
                edits_cut = True
        elif wild:
            body = token.split(":", 1)[1] if ":" in token else token
            body = body.lstrip("(")
            literal = re.match(r"[^*?]*", body)
            prefix = len(literal.group(0)) if literal else 0
            loose += 1
            if prefix < WILDCARD_PREFIX or loose > MAX_LOOSE:
                token = token.replace("*", "").replace("?", "")
                if prefix < WILDCARD_PREFIX:
                    wild_cut = True
                else:
                    loose_cut = True
                if not re.search(r"\w", token):
                    continue
        kept.append(token)
    words = [t for t in kept if t not in _OPERATORS]
    if len(words) > MAX_WORDS:
        notices.append(
            f"Searched the first {MAX_WORDS} of the query's {len(words)} words and terms "
            "(a search reads at most that many)"
        )
        count, cut = 0, []
        for token in kept:
            if token not in _OPERATORS:
                count += 1
                if count > MAX_WORDS:
                    break
            cut.append(token)
        while cut and cut[-1] in _OPERATORS:
            cut.pop()
        kept = cut
    if edits_cut:
        notices.append(
            f"A fuzzy term (~) allows at most {MAX_EDITS} edits: searched with {MAX_EDITS}"
        )
    if long_cut:
        notices.append(
            f"A fuzzy term (~) may have at most {MAX_FUZZY_CHARS} letters: searched it as typed"
        )
    if wild_cut:
        notices.append(
            f"A wildcard (* or ?) needs at least {WILDCARD_PREFIX} letters before it: "
            "searched the letters as a word"
        )
    if loose_cut:
        notices.append(
            f"At most {MAX_LOOSE} fuzzy (~) or wildcard (*) terms per search: "
            "the others were searched as typed words"
        )
    return " ".join(kept)


def _balanced(text: str) -> str:
    """Drop parentheses left unbalanced by the rewriting (or by the person)."""
    depth = 0
    out = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                continue
            depth -= 1
        out.append(ch)
    return "".join(out) + ")" * depth


def prepare(typed: str) -> Prepared:
    """Turn a typed query into the parser's text, identifiers and notices."""
    notices: list[str] = []
    text = typed.strip()
    if len(text) > MAX_CHARS:
        cut = text[:MAX_CHARS]
        cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
        notices.append(
            f"The query is {len(text):,} characters long: searched its first {len(cut):,} "
            f"(the limit is {MAX_CHARS})"
        )
        text = cut
    found = identifiers(text)
    rest = text
    for ident in sorted(found, key=lambda i: -i.start):
        rest = rest[: ident.start] + " " + rest[ident.end :]
    rest = _MINUS.sub(lambda m: "NOT " if m.group(1) == "-" else "", rest)
    rest = _apply_tags(rest, notices)

    def year(match: re.Match[str]) -> str:
        low, high = match.group(1) or "", match.group(2) or ""
        return f"year:[{low} TO {high}]".replace("[ TO", "[TO").replace("TO ]", "TO]")

    rest = _YEAR_RANGE.sub(year, rest)
    rest = re.sub(r"\b(?:dp|pdat):", "year:", rest, flags=re.IGNORECASE)
    rest = _SCOPED.sub(lambda m: _scoped(m.group(1), m.group(2)), rest)
    rest = _bound_terms(rest, notices)
    rest = _balanced(" ".join(rest.split()))
    # Operators left with nothing to join (the identifiers they joined were taken out).
    rest = re.sub(r"^(?:(?:AND|OR)\s+)+|(?:\s+(?:AND|OR|NOT))+$", "", rest).strip()
    if rest in _OPERATORS:
        rest = ""
    prepared = Prepared(typed, rest, found, notices)
    prepared.words = plain_words(prepared.words_typed())
    return prepared


def plain_words(text: str) -> list[str]:
    """Return the plain words of a query: no identifiers, field scopes, tags, operators."""
    for ident in sorted(identifiers(text), key=lambda i: -i.start):
        text = text[: ident.start] + " " + text[ident.end :]
    unscoped = re.sub(r"\b\w+:(\"[^\"]*\"|\[[^\]]*\]|\S+)", " ", text)
    unscoped = _TAG.sub(" ", unscoped)
    return [w for w in _WORD.findall(unscoped) if w not in _OPERATORS]


__all__ = [
    "MAX_CHARS",
    "MAX_EDITS",
    "MAX_EXPANSIONS",
    "MAX_FUZZY_CHARS",
    "MAX_LOOSE",
    "MAX_WORDS",
    "Identifier",
    "Prepared",
    "identifiers",
    "plain_words",
    "prepare",
]
