"""citeproc-py, mended: the CSL element classes with their known defects fixed, in one place.

citeproc-py maps each CSL element to a Python class. ``load_style`` parses a style (and its
locales) with subclasses of those classes, so every fix below applies to this library's
processor only and leaves citeproc-py itself untouched:

- names: ``initialize="false"`` is honoured; ``Yan-hui`` initialises to ``Y.`` (not ``Y.-. hui .``);
  et-al is left out of sort keys; a per-item ``name_options`` (set by disambiguation) adds names;
- dates: a range within one year renders (``2009`` for March-April 2009; ``2009 Mar-Apr``);
- title case capitalises each part of a hyphenated word (``Meta-Analysis``);
- the ``disambiguate="true"`` condition is evaluated (citeproc-py's TODO);
- DOIs and URLs become links in HTML (markup is written as markers, see ``csl_format``);
- the memoised look-ups (macros, terms, locale dates and options) make rendering several times
  faster, because citeproc-py runs an XPath query for each of them on every use; child elements
  reached as attributes, each element's root, the kind of a ``cs:text``, the tests of a ``cs:if``
  and whether an element has formatting, affixes or quotes at all are found once per parsed
  style too (with lazy sort keys, about 45 % off a cold bibliography: docs/benchmarks.md);
- a ``cs:names`` without a ``cs:name`` gets its default name once, at parse time (citeproc-py
  inserted a new one on every render, so a parsed style grew with every entry).

Rendering mutates the parsed style (layout state, the formatter), so a ``LoadedStyle`` is used
under its ``lock``. List-level fixes (sorting, numbering, year suffixes, the space after a
number) live in ``references.cite``.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import citeproc
from citeproc import LANGUAGE_NAMES, PRIMARY_DIALECTS, model, source
from citeproc.source import CitationItem, VariableError
from citeproc.string import MixedString, NoCase, String, join
from lxml import etree

from references.csl_format import QUOTE_CLOSE, QUOTE_OPEN, PlainFormat
from references.csl_pages import format_pages

CSL_NS = "http://purl.org/net/xbiblio/csl"
LOCALES_DIR = Path(os.path.dirname(citeproc.__file__)) / "data" / "locales"
EN_DASH = "\u2013"

# --- the element classes -------------------------------------------------------------------


class _Memo:
    """Memoise the look-ups citeproc-py repeats with an XPath query on every call."""

    def __getattr__(self, name: str) -> Any:
        # citeproc-py reaches child elements as attributes (``self.layout``, ``parent.sort``),
        # each a ``find`` on every use; the tree's shape is fixed, so keep the answer.
        if name.startswith("_"):
            raise AttributeError(name)
        found = super().__getattr__(name)  # type: ignore[misc]
        if found is not None:  # an absent child is looked for again, as citeproc-py does
            self.__dict__[name] = found
        return found

    def get_root(self) -> Any:
        root = self.__dict__.get("_root")
        if root is None:
            root = self.__dict__["_root"] = super().get_root()  # type: ignore[misc]
        return root

    def get_formatter(self) -> Any:
        # The formatter is set on the style before each render; a locale borrows its style's.
        root = self.get_root()
        if isinstance(root, model.Locale):
            return root.style.formatter
        return root.formatter

    # Fast paths for the formatting mix-ins: most elements have no formatting, no affixes and
    # no quotes, and citeproc-py asks for the formatter and each attribute every time anyway.

    def format(self, string: Any) -> Any:
        plain = self.__dict__.get("_plain_format")
        if plain is None:
            plain = self.__dict__["_plain_format"] = all(
                self.get(name, neutral) == neutral for name, neutral in _NEUTRAL_FORMATTING
            )
        if not plain:
            return super().format(string)  # type: ignore[misc]
        return str(string) if isinstance(string, (int, float)) else string

    def wrap(self, string: Any) -> Any:
        bare = self.__dict__.get("_no_affixes")
        if bare is None:
            bare = self.__dict__["_no_affixes"] = not self.get("prefix") and not self.get("suffix")
        # "" + s + "" is s for citeproc-py's String and MixedString (and for str).
        return string if bare else super().wrap(string)  # type: ignore[misc]

    def quote(self, string: Any) -> Any:
        quoted = self.__dict__.get("_quoted")
        if quoted is None:
            quoted = self.__dict__["_quoted"] = self.get("quotes", "false").lower() == "true"
        if not quoted:
            return string
        # Quote markers, written as the locale's quotes once nesting is known (cite.finish).
        return String(QUOTE_OPEN + str(string) + QUOTE_CLOSE)

    def xpath_search(self, expression: str) -> Any:
        # The style tree never changes shape after parsing, and every element proxy is kept
        # alive (see _parse), so a query's answer can be kept on the element.
        cache = self.__dict__.setdefault("_xpath", {})
        if expression not in cache:
            cache[expression] = super().xpath_search(expression)  # type: ignore[misc]
        return cache[expression]

    def calls_variable(self) -> Any:
        if "_calls_variable" not in self.__dict__:
            self.__dict__["_calls_variable"] = super().calls_variable()  # type: ignore[misc]
        return self.__dict__["_calls_variable"]

    def get_macro(self, name: str) -> Any:
        root = self.get_root()
        cache = root.__dict__.setdefault("_macros", {})
        if name not in cache:
            cache[name] = super().get_macro(name)  # type: ignore[misc]
        return cache[name]

    def get_term(
        self, name: str, form: Any = None, fallback_locale: bool = True, zero_padded: bool = False
    ) -> Any:
        root = self.get_root()
        if isinstance(root, model.Locale):
            return super().get_term(name, form)  # type: ignore[misc]
        cache = root.__dict__.setdefault("_terms", {})
        key = (name, form, fallback_locale, zero_padded)
        if key not in cache:
            cache[key] = super().get_term(name, form, fallback_locale, zero_padded)  # type: ignore[misc]
        return cache[key]

    def get_date(self, form: str) -> Any:
        root = self.get_root()
        cache = root.__dict__.setdefault("_dates", {})
        if form not in cache:
            cache[form] = super().get_date(form)  # type: ignore[misc]
        return cache[form]

    def get_locale_option(self, name: str) -> Any:
        root = self.get_root()
        cache = root.__dict__.setdefault("_locale_options", {})
        if name not in cache:
            cache[name] = super().get_locale_option(name)  # type: ignore[misc]
        return cache[name]


_NEUTRAL_FORMATTING = (
    ("font-style", "normal"),
    ("font-variant", "normal"),
    ("font-weight", "normal"),
    ("text-decoration", "none"),
    ("vertical-align", "baseline"),
)

# citeproc-js's list of words title case leaves in lower case (citeproc-py's is much shorter,
# so it wrote "After", "Within"); see CSL.SKIP_WORDS in citeproc-js.
_STOP_TEXT = """
a about above across afore after against al along alongside amid amidst among amongst an and
anenst apropos apud around as aside astride at athwart atop barring before behind below beneath
beside besides between beyond but by circa despite down during et except for forenenst from
given in inside into lest like modulo near next nor notwithstanding of off on onto or out over
per plus pro qua sans since so than the through thru throughout thruout till to toward towards
under underneath until unto up upon versus vs. v. vs v via vis-à-vis with within without yet
de d' von van c ca
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())


_SEPARATOR = re.compile("([\\s\u00a0]+|[\u2014\u2013/])")
_LEADING = re.compile("^[\"'\u201c\u2018(\\[\ue000-\ue00f]*")


def _latin_lower(c: str) -> bool:
    return c.islower() and (c.isascii() or unicodedata.name(c, "").startswith("LATIN"))


def _capitalise(word: str, first: bool = True) -> str:
    # Each lower-case part of a hyphenated word is capitalised except a stop word after the
    # first part, as citeproc-js does: "Meta-Analysis", "Proof-of-Concept", "Run-in".
    lead = _LEADING.match(word).group(0)  # type: ignore[union-attr]
    parts = word[len(lead) :].split("-")
    return lead + "-".join(
        p[:1].upper() + p[1:]
        if p[:1] and _latin_lower(p[0]) and (i == 0 and first or i and p not in _STOP_WORDS)
        else p
        for i, p in enumerate(parts)
    )


def title_case(text: Any, first: bool = True, last: bool = True) -> String:
    """Title-case a string the way citeproc-js does for English: words and the parts of
    hyphenated words, not stop words inside a title, not words that hold capitals, digits
    or letters outside the Latin script ("07-x", "β-carotine")."""
    pieces = _SEPARATOR.split(str(text))
    words = [n for n in range(0, len(pieces), 2) if pieces[n]]
    out = list(pieces)
    after_colon = first  # the first word is capitalised
    for rank, n in enumerate(words):
        word = pieces[n]
        core = word[len(_LEADING.match(word).group(0)) :]  # type: ignore[union-attr]
        final = last and rank == len(words) - 1
        bare = core.rstrip(":.?!,;")
        if not core or not core[0].isalpha():
            pass
        elif core.islower():
            if bare not in _STOP_WORDS or after_colon or final:
                word = _capitalise(word)
            elif "-" in core:
                word = _capitalise(word, first=False)
        elif "-" in core:
            word = _capitalise(word, first=False)
        out[n] = word
        after_colon = word[-1:] in (":", ".", "?", "!")
    return String("".join(out))


def _title_case_mixed(text: Any) -> Any:
    """Title-case text whose <span class="nocase"> parts must stay as written."""
    if not isinstance(text, MixedString):
        return title_case(text)
    parts = list(text)
    out = []
    for n, part in enumerate(parts):
        if isinstance(part, NoCase):
            out.append(part)
        else:
            out.append(title_case(part, first=n == 0, last=n == len(parts) - 1))
    return MixedString(out)


def _cased(text: Any, upper: bool) -> Any:
    """Lower- or upper-case a field's text but not its ``<span class="nocase">`` parts
    (citeproc-py's MixedString cased them too)."""
    if isinstance(text, NoCase):
        return text
    if isinstance(text, MixedString):
        return MixedString([_cased(part, upper) for part in text])
    return text.upper() if upper else text.lower()


_RANGED = frozenset(("volume", "issue", "number", "collection-number", "edition"))
_NUMBER_RANGE = re.compile(r"(?<=\d) ?- ?(?=\d)")


def _number_range(element: Any, text: str) -> String:
    """Join a number range ("1-2") with the locale's range delimiter, as citeproc-js does."""
    root = element.get_root()
    delimiter = root.__dict__.get("_range_delimiter")
    if delimiter is None:
        try:
            delimiter = str(element.get_single_term("page-range-delimiter"))
        except Exception:  # noqa: BLE001 - a locale without the term (CSL 1.0.1) uses a dash
            delimiter = EN_DASH
        root.__dict__["_range_delimiter"] = delimiter
    return String(_NUMBER_RANGE.sub(delimiter, text))


class Text(_Memo, model.Text):
    def process(
        self, item: Any, context: Any = None, sort_options: Any = None, **kwargs: Any
    ) -> Any:
        # citeproc-py's, with the kind of text found once, the item's language read without
        # raising, and the sort options passed on: citeproc-py dropped them when a macro calls
        # a macro, so nested names were sorted given-name first ("sherman karen j daniel").
        if context is None:
            context = self
        language = dict.get(item.reference, "language")
        if language is not None:
            language = language[:2]
        else:
            language = self.get_root().__dict__.get("_default_language")
            if language is None:
                language = self.get_root().get("default-locale", "en")[:2]
                self.get_root().__dict__["_default_language"] = language
        kind = self.__dict__.get("_kind")
        if kind is None:
            attrib = self.attrib
            kind = next((k for k in ("variable", "macro", "term", "value") if k in attrib), "")
            self.__dict__["_kind"] = kind
        if kind == "variable":
            text = self._variable(item, context)
            ranged = self.__dict__.get("_ranged")
            if ranged is None:
                ranged = self.__dict__["_ranged"] = self.get("variable") in _RANGED
            if ranged and text is not None and "-" in str(text):
                text = _number_range(self, str(text))
            elif text and self.get("variable") == "citation-label":
                text = _labelled_suffix(self, item, text)
        elif kind == "macro":
            text = self.get_macro(self.get("macro")).render(
                item, context, sort_options=sort_options
            )
        elif kind == "term":
            text = self._term(item)
        elif kind == "value":
            text = String(self.preformat(self.get("value")))
        else:
            text = None
        return text, language

    def case(self, text: Any, language: Any = None) -> Any:
        text_case = self.get("text-case")
        if text_case == "title" and language in (None, "en"):
            return _title_case_mixed(text)
        if text_case in ("lowercase", "uppercase") and isinstance(text, MixedString):
            return _cased(text, text_case == "uppercase")
        return super().case(text, language)

    def markup(self, text: Any, language: Any) -> Any:
        variable = self.get("variable")
        formatter = self.get_formatter()
        if not text or variable not in ("DOI", "URL") or not getattr(formatter, "links", False):
            return super().markup(text, language)
        shown = self.quote(self.format(self.case(self.strip_periods(text), language)))
        href = str(text) if variable == "URL" else "https://doi.org/" + str(text)
        prefix, suffix = self.get("prefix", ""), self.get("suffix", "")
        # A URL-shaped prefix (APA's "https://doi.org/") is part of the link, "doi:" is not.
        if prefix.startswith("http"):
            return String(formatter.link(href, prefix + str(shown)) + suffix)
        return String(prefix + formatter.link(href, str(shown)) + suffix)

    def _process(self, value: Any, variable: str) -> Any:
        if variable != "page":
            return super()._process(value, variable)
        root = self.get_root()
        delimiter = root.__dict__.get("_page_delimiter")
        if delimiter is None:
            try:
                delimiter = str(self.get_single_term("page-range-delimiter") or EN_DASH)
            except Exception:  # noqa: BLE001 - a locale without the term uses a dash
                delimiter = EN_DASH
            root.__dict__["_page_delimiter"] = delimiter
        text = str(value)
        pages = format_pages(
            text, root.get_option("page-range-format"), delimiter, self._format_last_page
        )
        return super()._process(value, variable) if pages is None else String(pages)

    def _format_last_page(self, first: str, last: str) -> str:
        if len(last) > len(first):  # 3-18: nothing to abbreviate (citeproc-py printed "3–8")
            return last
        if len(last) < len(first) and first.isdigit() and last.isdigit():
            # An abbreviated last page ("110-5") is read in full (115), then written as the
            # style says.
            last = first[: len(first) - len(last)] + last
        # chicago-16 dropped the 15th edition's four-digit rule: 1896-1910 is "1896–910".
        chicago_16 = self.get_root().get_option("page-range-format") == "chicago-16"
        digits = first.isdigit() and last.isdigit() and len(first) == len(last) >= 4
        if chicago_16 and digits and int(first) % 100 and first[:-2] != last[:-2]:
            common = next((i for i, (a, b) in enumerate(zip(first, last)) if a != b), 0)
            return last[min(common, len(first) - 2) :]
        return super()._format_last_page(first, last)


class Name(_Memo, model.Name):
    def format(self, string: Any) -> Any:
        # form="count" is a number, summed over the variables of a cs:names (citeproc-py's
        # formatting made it text first, so 3 authors and 2 editors counted "32").
        return string if isinstance(string, int) else super().format(string)

    def wrap(self, string: Any) -> Any:
        return string if isinstance(string, int) else super().wrap(string)

    def process(
        self, item: Any, variable: str, context: Any = None, sort_options: Any = None, **kwargs: Any
    ) -> Any:
        if self.get("form") == "count" and sort_options is None:
            return self._count(item, variable, context)
        options = dict(sort_options or {})
        # initialize="false": keep full given names, only tidy those already initials.
        self.__dict__["_keep_given"] = self.get("initialize", "true") == "false"
        overrides = item.get("name_options") if sort_options is None else None
        if overrides:
            options.update(overrides)
        self.__dict__["_sorting"] = sort_options is not None
        for option in ("delimiter-precedes-last", "delimiter-precedes-et-al"):
            if self.get_option(option, context) == "after-inverted-name":
                options[option] = self._after_inverted(item, variable, context, options, option)
        if sort_options is not None:
            options["and"] = None  # "and" has no place in a sort key
            # "sort-only": "van den Dolder" prints so but sorts under D (citeproc-py never
            # told sorting from display).
            if self.get_root().get("demote-non-dropping-particle") == "sort-only":
                options["demote-non-dropping-particle"] = "display-and-sort"
        return super().process(
            item, variable, context=context, sort_options=options or None, **kwargs
        )

    def _after_inverted(
        self, item: Any, variable: str, context: Any, options: dict[str, Any], option: str
    ) -> str:
        """Resolve "after-inverted-name": a delimiter only after a name written family first."""
        names = dict.get(item.reference, variable) or []
        minimum = int(options.get("et-al-min") or self.get_option("et-al-min", context) or 0)
        first = int(
            options.get("et-al-use-first") or self.get_option("et-al-use-first", context) or 1
        )
        shown = min(len(names), first) if minimum and len(names) >= minimum else len(names)
        before = shown - 2 if option == "delimiter-precedes-last" else shown - 1
        order = self.get_option("name-as-sort-order", context)
        inverted = order == "all" or order == "first" and before == 0
        if before < 0 or before >= len(names) or "literal" in names[before]:
            return "never"  # an organisation's name is never inverted
        return "always" if inverted else "never"

    def _count(self, item: Any, variable: str, context: Any) -> int:
        """form="count": the number of names shown (all of them unless et-al truncates)."""
        names = dict.get(item.reference, variable) or []
        overrides = item.get("name_options") or {}
        minimum = int(overrides.get("et-al-min") or self.get_option("et-al-min", context) or 0)
        first = int(
            overrides.get("et-al-use-first") or self.get_option("et-al-use-first", context) or 1
        )
        truncated = minimum and len(names) >= minimum and len(names) > 1
        return min(len(names), first) if truncated else len(names)

    def get_option(self, name: str, context: Any = None, sort_options: Any = None) -> Any:
        # Unless a sort key or disambiguation overrides it, an option depends only on this
        # element and the citation or bibliography it is rendered for (an XPath query each time).
        if sort_options and name in sort_options:
            return super().get_option(name, context, sort_options)
        cache = self.__dict__.setdefault("_options", {})
        key = (name, context)
        if key not in cache:
            cache[key] = super().get_option(name, context)
        return cache[key]

    def et_al(self) -> Any:
        # citeproc-js leaves "et al." out of sort keys; so must we, or "Ezzo, J." sorts
        # before "Ezzo, J. et al." whatever the years say.
        if self.__dict__.get("_sorting") or self.get_root().__dict__.get("_no_et_al"):
            return String("")
        return super().et_al()

    def initialize(self, given: str, mark: str, context: Any) -> str:
        hyphen = str(self.get_option("initialize-with-hyphen", context)).lower() != "false"
        return initials(str(given), mark, hyphen, whole=bool(self.__dict__.get("_keep_given")))


_TOKEN = re.compile(r"([^\s.\-]+)(\.?)|(-)|(\s+)|\.")


def initials(given: str, mark: str, hyphen: bool = True, whole: bool = False) -> str:
    """Initialise a given name as citeproc-js does: "John" is "J.", "Yan-hui" is "Y.-h."
    ("YH" with an empty mark, as NLM and AMA write it); a part written with a period is an
    abbreviation kept as it is ("Ph.", "Me."); a lower-case word ("de") is a particle, kept.
    With ``whole`` (``initialize="false"``) full names stay and only initials are tidied."""
    period = mark.rstrip()
    compact = not mark  # NLM's "YH": capitals, no periods, no spaces, no hyphens
    out: list[tuple[str, str]] = []  # (kind, text): initial, word, particle
    joiner = ""  # what joins the next token to the last: "-" or " "
    for m in _TOKEN.finditer(given):
        word, dot, dash, space = m.group(1), m.group(2), m.group(3), m.group(4)
        if dash:
            joiner = "-" if joiner != " " else " "
            continue
        if space:
            joiner = " "
            continue
        if word is None:
            continue
        after_hyphen = joiner == "-"
        if word[:1].islower() and not after_hyphen:
            token = ("particle", word + dot)
        elif dot and len(word) > 1:
            token = ("initial", word)  # an abbreviation: "Ph.", "Me.", "ME."
        elif len(word) == 1 or not whole:
            token = ("initial", word[0])
        else:
            token = ("word", word)
        if compact and token[0] == "initial":
            token = ("initial", token[1].upper() if len(token[1]) == 1 else token[1])
        glue = "-" if after_hyphen and (hyphen or whole) and not compact else ""
        out.append((glue, *token))
        joiner = ""
    text = ""
    for n, (glue, kind, value) in enumerate(out):
        if kind == "initial":
            value += period
        if n:
            before = out[n - 1][1]
            if glue == "-":
                text += "-"
            elif kind == "initial" and before == "initial":
                text += mark[len(period) :]
            else:
                text += " "
        text += value
    return text


class Names(_Memo, model.Names):
    def render(self, *args: Any, **kwargs: Any) -> Any:
        root = self.get_root()
        if root.__dict__.get("_suppress_names"):
            # suppress-author: the first names a cite shows are left out, substitutes too.
            text = super().render(*args, **kwargs)
            if text:
                root.__dict__["_suppress_names"] = False
                return None
            return text
        text = super().render(*args, **kwargs)
        # render_names asks which names a layout showed first (for subsequent-author-substitute
        # and for collapsing cites by author).
        seen = self.get_root().__dict__.get("_names_seen")
        if seen is not None and text and not seen:
            seen.append(str(text))
            raise _NamesFound  # the rest of the layout is not needed (see render_names)
        return text


class _NamesFound(Exception):
    """Stops a layout render once its first names are known."""


class Date(_Memo, model.Date):
    def process(self, item: Any, variable: Any = None, **kwargs: Any) -> Any:
        # In a macro used as a sort key a date sorts by the parts it shows, as a number, as
        # citeproc-js does (a range sorts after a single date of the same year).
        if self.get_root().__dict__.get("_sort_dates") and not self.is_locale_date():
            value = item.reference.get((variable or self.get("variable") or "").replace("-", "_"))
            return None if value is None else String(_date_sort_key(self, value))
        text = super().process(item, variable, **kwargs)
        if text and _implicit_year_suffix(self, item, variable or self.get("variable")):
            text, suffix = str(text), str(item.reference["year_suffix"])
            affix = self.get("suffix", "")
            at = len(text) - len(affix) if affix and text.endswith(affix) else len(text)
            text = String(text[:at] + suffix + text[at:])  # "(1980a)", inside the affixes
        return text

    def render_single_date(self, date: Any, show_parts: Any = None, context: Any = None) -> Any:
        # A locale's date form carries its own delimiter ("2006 Jan"); citeproc-py joined its
        # parts with the calling element's, which has none ("2006Jan").
        if context is None or context is self or not self.is_locale_date():
            return super().render_single_date(date, show_parts, context)
        parts = self.parts(date, show_parts, context)
        return self.join(parts) if parts else None

    def render_date_range(
        self, date_range: Any, show_parts: Any = None, context: Any = None
    ) -> Any:
        begin, end = date_range.begin, date_range.get("end")
        if end is None or end.is_nil():
            return self.render_single_date(begin, show_parts, context)
        order = [p.get("name") for p in self.iterchildren() if p.get("name") in show_parts]
        differ = [n for n in order if _date_part(begin, n) != _date_part(end, n)]
        if not differ:
            return self.render_single_date(begin, show_parts, context)
        first, last = order.index(differ[0]), order.index(differ[-1])
        left = self.render_single_date(begin, order[: last + 1], context)
        right = self.render_single_date(end, order[first:], context)
        if not left or not right:
            return left or right
        return String(str(left).rstrip() + EN_DASH + str(right).lstrip())


def _date_part(date: Any, name: str) -> Any:
    """Return a part of a date; a season stands in for a missing month."""
    value = date.get(name)
    if name == "month" and value is None and date.get("season"):
        return ("season", date.get("season"))
    return value


def _implicit_year_suffix(element: Any, item: Any, variable: str | None) -> bool:
    """Return whether this date carries the item's year suffix: a style that never prints
    the year-suffix variable gets it after the first issued date of a cite, as citeproc-js."""
    if variable != "issued" or element.is_locale_date():
        return False
    if "year_suffix" not in item.reference or item.get("_suffix_placed"):
        return False
    if _suffix_home(element) != "date":
        return False
    item["_suffix_placed"] = True
    return True


def _suffix_home(element: Any) -> str:
    """Return where a style's year suffix goes: its own ``year-suffix`` text ("explicit"),
    after the citation label of a trigraph style ("label"), or after the issued date."""
    root = element.get_root()
    home = root.__dict__.get("_year_suffix_home")
    if home is None:
        if root.xpath_search(".//cs:text[@variable='year-suffix']"):
            home = "explicit"
        elif root.xpath_search(".//cs:text[@variable='citation-label']"):
            home = "label"
        else:
            home = "date"
        root.__dict__["_year_suffix_home"] = home
    return home


def _labelled_suffix(element: Any, item: Any, text: Any) -> Any:
    """Return a citation label with the item's year suffix after it ("Kell09a")."""
    suffix = dict.get(item.reference, "year_suffix")
    if suffix is None or _suffix_home(element) != "label":
        return text
    return String(str(text) + str(suffix))


def _date_sort_key(element: Any, value: Any) -> str:
    """Return a date's sort key from the parts a cs:date shows: year, month, day."""
    if element.get("form") is not None:
        shown = element.get("date-parts", "year-month-day").split("-")
    else:
        shown = [p.get("name") for p in element.iterchildren()] or ["year", "month", "day"]

    def key(date: Any) -> str:
        if not isinstance(date, source.Date):  # a literal date sorts by its text
            return str(date.sort_key())
        text = f"{date.year + 10000:05}"
        for part in ("month", "day"):
            if part in shown:
                text += f"{date.get(part, 0):02}"
        return text

    if isinstance(value, source.DateRange):
        end = value.get("end")
        return key(value.begin) + ("" if end is None or end.is_nil() else "-" + key(end))
    return key(value)


class _Disambiguating:
    """Evaluate ``disambiguate="true"`` (citeproc-py never does) from the item's flag."""

    def render(self, item: Any, context: Any = None, delimiter: str = "", **kwargs: Any) -> Any:
        if "disambiguate" not in self.attrib:  # type: ignore[attr-defined]
            return super().render(item, context=context, delimiter=delimiter, **kwargs)  # type: ignore[misc]
        wanted = bool(item.get("disambiguate"))
        others = {k: v for k, v in self.attrib.items() if k != "disambiguate"}  # type: ignore[attr-defined]
        if len(others) == (1 if "match" in others else 0):
            if not wanted:
                raise model.ConditionFailed
            return self.render_children(item, context=context, delimiter=delimiter, **kwargs)  # type: ignore[attr-defined]
        match = self.get("match", "all")  # type: ignore[attr-defined]
        try:
            rest = True
            super().render(item, context=context, delimiter=delimiter, **kwargs)  # type: ignore[misc]
        except model.ConditionFailed:
            rest = False
        ok = {"any": wanted or rest, "none": not (wanted or rest)}.get(match, wanted and rest)
        if not ok:
            raise model.ConditionFailed
        return self.render_children(item, context=context, delimiter=delimiter, **kwargs)  # type: ignore[attr-defined]


_FIRST = frozenset({"first"})

_CONDITIONS = (
    ("type", "_type"),
    ("variable", "_variable"),
    ("is-numeric", "_is_numeric"),
    ("is-uncertain-date", "_is_uncertain_date"),
    ("locator", "_locator"),
)


class _Condition:
    """``cs:if``/``cs:else-if`` with its tests found once (citeproc-py looks up every possible
    attribute, and splits its type and variable lists, on each evaluation)."""

    def render(self, item: Any, context: Any = None, delimiter: str = "", **kwargs: Any) -> Any:
        spec = self.__dict__.get("_spec")  # type: ignore[attr-defined]
        if spec is None:
            attrib = self.attrib  # type: ignore[attr-defined]
            tests = tuple(getattr(self, method) for name, method in _CONDITIONS if name in attrib)
            spec = (tests, "position" in attrib, self.get("match"))  # type: ignore[attr-defined]
            self.__dict__["_spec"] = spec  # type: ignore[attr-defined]
        tests, position, match = spec
        results: list[Any] = []
        for test in tests:
            results += test(item)
        if position:
            results += self._position(item, context)  # type: ignore[attr-defined]
        if match == "any":
            result = any(results)
        elif match == "none":
            result = not any(results)
        else:
            result = all(results)
        if not result:
            raise model.ConditionFailed
        return self.render_children(item, context=context, delimiter=delimiter, **kwargs)  # type: ignore[attr-defined]

    def _position(self, item: Any, context: Any = None) -> list[bool]:
        # Positions are computed over a document's clusters (references.clusters) and carried
        # by the item; in a bibliography, or without them, every cite is a first cite.
        positions = item.get("positions") or _FIRST
        in_bibliography = self.__dict__.get("_in_bibliography")
        if in_bibliography is None:
            in_bibliography = bool(self.xpath_search("./ancestor::cs:bibliography"))
            self.__dict__["_in_bibliography"] = in_bibliography
        if in_bibliography:
            return [False]
        return [p in positions for p in self.get("position").split()]

    def _type(self, item: Any) -> list[bool]:
        types = self.__dict__.get("_types")  # type: ignore[attr-defined]
        if types is None:
            types = [t.lower() for t in self.get("type").split()]  # type: ignore[attr-defined]
            self.__dict__["_types"] = types  # type: ignore[attr-defined]
        actual = item.reference.type
        return [t == actual for t in types]

    def _variable(self, item: Any) -> list[bool]:
        variables = self.__dict__.get("_variables")  # type: ignore[attr-defined]
        if variables is None:
            variables = [v.replace("-", "_") for v in self.get("variable").split()]  # type: ignore[attr-defined]
            self.__dict__["_variables"] = variables  # type: ignore[attr-defined]
        reference = item.reference
        return [("locator" in item) if v == "locator" else (v in reference) for v in variables]


class If(_Disambiguating, _Condition, _Memo, model.If):
    pass


class Else_If(_Disambiguating, _Condition, _Memo, model.Else_If):
    pass


class Style(_Memo, model.Style):
    def set_locale_list(self, output_locale: str, validate: bool = False) -> None:
        """Set up the locales in citeproc-py's order, parsed with the mended classes."""
        self.locales: list[Any] = []
        seen: set[str] = set()

        def in_style(lang: str | None) -> None:
            expr = f'./cs:locale[@xml:lang="{lang}"]' if lang else "./cs:locale[not(@xml:lang)]"
            self.locales.extend(self.xpath_search(expr)[:1])

        def system(lang: str) -> None:
            if lang not in seen:
                seen.add(lang)
                self.locales.append(_parse(LOCALES_DIR / f"locales-{lang}.xml"))

        language = output_locale.split("-")[0]
        in_style(output_locale)
        in_style(language)
        in_style(None)
        if output_locale in LANGUAGE_NAMES:
            system(output_locale)
        if language in PRIMARY_DIALECTS:
            system(PRIMARY_DIALECTS[language])
        system("en-US")
        for locale in self.locales:
            locale.style = self


_MENDED = {cls.__name__: cls for cls in (Text, Name, Names, Date, If, Else_If, Style)}


def _element_classes() -> dict[str, type]:
    classes: dict[str, type] = {}
    for cls in model.CitationStylesElement.__subclasses__():
        # A locale answers its own look-ups; memoising there would shadow them.
        plain = cls is model.Locale
        mended = _MENDED.get(cls.__name__) or (
            cls if plain else type(cls.__name__, (_Memo, cls), {})
        )
        classes[cls.__name__.replace("_", "-").lower()] = mended
    return classes


# The default name of a cs:names without one (see _parse), mended like any other.
_DefaultName = type("Name", (Name,), {})

_LOOKUP = etree.ElementNamespaceClassLookup()
_NAMESPACE = _LOOKUP.get_namespace(CSL_NS)
_NAMESPACE[None] = model.CitationStylesElement
_NAMESPACE.update(_element_classes())
_PARSER = etree.XMLParser(remove_comments=True, encoding="UTF-8", no_network=True)
_PARSER.set_element_class_lookup(_LOOKUP)


def _parse(path: Path) -> Any:
    root = etree.parse(str(path), _PARSER).getroot()
    # A cs:names without a cs:name renders with a default one, which citeproc-py creates (a
    # fresh, unnamespaced ``Name()``) and inserts into the style on *every* render, because it
    # never finds it again: a parsed style grew by an element per entry. Create each default
    # once, here, and let the cs:names find it (not in a cs:substitute: those borrow the
    # enclosing cs:names' name, and citeproc-py tells them by having none).
    all_names = list(root.iter(f"{{{CSL_NS}}}names"))  # alive until _all_elements holds them
    for names in all_names:
        in_substitute = names.getparent().tag == f"{{{CSL_NS}}}substitute"
        if not in_substitute and names.find(f"{{{CSL_NS}}}name") is None:
            default = _DefaultName()
            names.insert(0, default)
            names.__dict__["name"] = default
    # lxml drops a Python element proxy (and the attributes cached on it) when nothing refers
    # to it; holding every proxy keeps citeproc-py's per-element state alive.
    root.__dict__["_all_elements"] = list(root.iter())
    return root


@dataclass
class LoadedStyle:
    """A parsed style bound to one locale, with what the list-level code needs to know."""

    path: Path
    locale: str
    root: Any
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def citation(self) -> Any:
        return self.root.citation

    @property
    def bibliography(self) -> Any:
        return self.root.bibliography

    def option(self, element: Any, name: str, default: str | None = None) -> str | None:
        """Return an option set on an element or, failing that, on the style."""
        if element is not None and element.get(name) is not None:
            return element.get(name)
        return self.root.get(name, default)

    @property
    def punctuation_in_quote(self) -> bool:
        return str(self.root.get_locale_option("punctuation-in-quote")).lower() == "true"

    def term(self, name: str) -> str:
        return str(self.root.get_single_term(name))

    @property
    def quotes(self) -> tuple[tuple[str, str], tuple[str, str]]:
        """The locale's outer and inner quotation marks."""
        found = self.root.__dict__.get("_quote_terms")
        if found is None:
            found = (
                (self.term("open-quote"), self.term("close-quote")),
                (self.term("open-inner-quote"), self.term("close-inner-quote")),
            )
            self.root.__dict__["_quote_terms"] = found
        return found


def load_style(path: Path, locale: str) -> LoadedStyle:
    """Parse a style file and bind it to a locale."""
    root = _parse(path)
    root.set_locale_list(locale)
    root.formatter = PlainFormat
    return LoadedStyle(path=path, locale=locale, root=root)


class RenderItem(CitationItem):
    """One cite: a reference with its number, disambiguation state, and (in a document's
    clusters) its locator and positions."""

    def __init__(
        self,
        key: str,
        reference: Any,
        number: int = 1,
        locator: tuple[str, str] | None = None,
        **state: Any,
    ):
        super().__init__(key)
        if locator is not None:
            self["locator"] = source.Locator(locator[0], locator[1])
        self.key = key  # citeproc-py lower-cases keys; ours are already canonical
        self["_reference"] = reference
        self["_number"] = number
        self.update(state)

    @property
    def reference(self) -> Any:
        return dict.__getitem__(self, "_reference")

    @property
    def number(self) -> int:
        return int(dict.__getitem__(self, "_number"))

    @property
    def bibliography(self) -> Any:
        return self  # citeproc-py reaches the formatter through item.bibliography.formatter

    @property
    def formatter(self) -> Any:
        return PlainFormat


def render_layout(
    style: LoadedStyle, layout: Any, item: RenderItem, suppress_author: bool = False
) -> str | None:
    """Render one item through a citation or bibliography layout (without its affixes)."""
    layout.repressed = {}
    style.root.__dict__["_suppress_names"] = suppress_author
    try:
        text = layout.render_children(item)
    except VariableError:
        return None
    finally:
        style.root.__dict__["_suppress_names"] = False
    # The layout's own formatting (AMA's superscript) is applied once, by wrap_layout.
    return None if text is None else str(text)


def render_bibliography_entry(layout: Any, item: RenderItem, split_first: bool) -> str | None:
    """Render one bibliography entry; with ``split_first`` its first field (the number of a
    numbered style) is followed by a space, as citeproc-js does (citeproc-py prints "1.Sherman")."""
    if not split_first:
        text = render_layout_children(layout, item)
        return None if text is None else str(layout.format(layout.wrap(text)))
    layout.repressed = {}
    rendered = []
    for child in layout.iterchildren():
        try:
            rendered.append(child.render(item))
        except VariableError:
            rendered.append(None)
    first, rest = rendered[0], [r for r in rendered[1:] if r is not None]
    body = join(rest) if rest else None
    if first is None or body is None:
        text = first if body is None else body
    else:
        text = String(str(first).rstrip() + " ") + body
    return None if text is None else str(layout.format(layout.wrap(text)))


def render_layout_children(layout: Any, item: RenderItem) -> Any:
    layout.repressed = {}
    try:
        return layout.render_children(item)
    except VariableError:
        return None


def render_names(layout: Any, item: RenderItem, et_al: bool = True) -> str | None:
    """Render the first names a layout shows for an item (with or without "et al."); the
    render stops there, so this costs the layout up to its first names, not a whole entry."""
    root = layout.get_root()
    seen: list[str] = []
    root.__dict__.update(_names_seen=seen, _no_et_al=not et_al)
    try:
        render_layout_children(layout, item)  # stopped by _NamesFound at the first names
    except _NamesFound:
        pass
    finally:
        root.__dict__.update(_names_seen=None, _no_et_al=False)
    return seen[0] if seen else None


def wrap_layout(layout: Any, parts: list[str]) -> str:
    """Join rendered cites with the layout's delimiter and add its affixes and formatting."""
    return str(layout.format(layout.wrap(layout.join([String(p) for p in parts]))))
