"""Format citations and bibliographies from records, in any CSL style.

``format_bibliography(records, style, fmt, locale)`` returns the entries in the style's order
(sorted by its ``<sort>``, or in the order given for citation-sequence styles);
``format_citation`` returns the first in-text citation of the records as one cluster, and
``Citer.citations`` each record's own first citation, numbered and disambiguated in the context
of the whole list. ``fmt`` is ``"text"`` or ``"html"`` (``<i>``, ``<b>``, links for DOIs and URLs,
everything else escaped).

The processor is citeproc-py, mended in ``references.csl_engine`` (element-level defects) and
here (list-level ones): entries are sorted with locale-style keys, numbered styles get a space
after the number (``1. Sherman``, not ``1.Sherman``), ambiguous cites are disambiguated
(``references.csl_disambiguation``: more names, given names, ``disambiguate="true"``, year suffixes
in both cite and entry), and for locales whose punctuation goes inside quotes (en-US) a period or
comma after a closing quote moves in: ``“Title.”``.

Caching. A ``Citer`` keeps rendered pieces in an LRU (``references.citecache``), keyed by the
record's id and *version* together with the style file, locale and format:

- per record: the prepared reference, its sort keys, and its rendered cite for each
  disambiguation state;
- per record and list position: the bibliography entry (keyed also by its citation number and
  year suffix) and the in-text citation (keyed by number and disambiguation state).

Ordering, numbering and year suffixes are recomputed on every call from the (cached) pieces, so a
different list never reuses another list's numbers; that list-level work (sorting with lazily
rendered keys, collapsing cites, repeated-author dashes) lives in ``references.csl_list``. ``versions`` maps record ids to the caller's
version token (the knowledge base passes its last-change stamp); a record without one is keyed by
a hash of its content. Either way a changed record gets a new key, so stale output is never
returned; the caller only has to change the stamp whenever the record changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from citeproc import NAMES, VARIABLES
from citeproc.source import Date as CslDate
from citeproc.source import DateRange, VariableError
from citeproc.source import Name as CslName
from citeproc.source.json import CiteProcJSON
from citeproc.string import String

from references import csl_engine as engine
from references import csl_format, csl_list
from references.citecache import LRUCache
from references.csl_disambiguation import CiteState, Options, disambiguate
from references.csl_label import citation_label
from references.record import Record
from references.styles import StyleInfo, resolve_style

FORMATS = csl_format.FORMATS
_NAME_KEYS = ("family", "given", "dropping-particle", "non-dropping-particle", "suffix", "literal")
# Identifiers are copied exactly; other text gets typographic apostrophes, as citeproc-js does.
_VERBATIM = {"DOI", "URL", "PMID", "PMCID", "ISBN", "ISSN", "language", "page", "volume", "issue"}
_SKIPPED = {"abstract", "keyword", "note", "annote"}


@lru_cache(maxsize=32)
def _loaded_style(path: Path, locale: str) -> engine.LoadedStyle:
    return engine.load_style(path, locale)


def clear_caches() -> None:
    """Forget every parsed style and the default citer's renders (for cold-start benchmarks)."""
    _loaded_style.cache_clear()
    _default.cache.clear()


def record_version(record: Record) -> str:
    """Return a version token for a record from its content."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _typographic(value: Any) -> Any:
    return value.replace("'", "\u2019") if isinstance(value, str) else value


def csl_item(record: Record) -> dict[str, Any]:
    """Return the part of a record citeproc-py reads, with typographic apostrophes."""
    item: dict[str, Any] = {"id": str(record["id"]), "type": record.get("type") or "article"}
    for key, value in record.items():
        variable = key.replace("-", "_")
        if variable not in VARIABLES or variable in _SKIPPED or value in (None, "", [], {}):
            continue
        if variable in NAMES:
            # Every CSL name variable (composer, collection-editor ...), not only authors.
            value = [
                {k: _typographic(n[k]) for k in _NAME_KEYS if n.get(k)}
                for n in (value if isinstance(value, list) else [value])
                if isinstance(n, dict)
            ]
            value = [n for n in value if n]
        elif isinstance(value, dict):
            value = {
                k: v for k, v in value.items() if k in ("date-parts", "literal", "season", "circa")
            }
            if not value and record[key].get("raw"):
                value = {"literal": record[key]["raw"]}
        elif key not in _VERBATIM:
            value = _typographic(str(value))
        item[key] = value
    return item


def _punctuation_inside_quotes(text: str, close_quote: str) -> str:
    """Move a period or comma that follows a closing quote inside it (American usage)."""
    if not close_quote:
        return text

    def move(m: re.Match[str]) -> str:
        before, mark = m.group(1), m.group(2)
        if before in ".?!":  # "trial?”." is just "trial?”"
            return before + close_quote if before else mark + close_quote
        return before + mark + close_quote

    return re.sub(f"(.?){re.escape(close_quote)}([.,])", move, text)


@dataclass
class _Ref:
    key: str
    version: str
    record: Record
    reference: Any


class Citer:
    """Render records in CSL styles, caching per (record id, version, style, format, locale)."""

    def __init__(self, cache: LRUCache | None = None):
        self.cache = cache if cache is not None else LRUCache()

    # --- public --------------------------------------------------------------------------

    def bibliography(
        self,
        records: Iterable[Record],
        style: str = "apa",
        fmt: str = "text",
        locale: str | None = None,
        versions: Mapping[str, str] | None = None,
        margins: bool = False,
    ) -> list[str]:
        """Return the bibliography entries for records, in the style's order.

        With ``margins`` (HTML only), a style that aligns its second field (a numbered list)
        has each entry's first field and the rest in citeproc-js's ``csl-left-margin`` and
        ``csl-right-inline`` divs, for a page that lays the numbers out in a column.
        """
        job = self._job(records, style, fmt, locale, versions)
        if job.loaded.bibliography is None:
            return [self._citation_of(job, i) for i in job.order]
        entries = [self._entry(job, i) for i in job.order]
        substitute = job.loaded.bibliography.get("subsequent-author-substitute")
        if substitute is not None:
            entries = csl_list.substitute_authors(self, job, entries, substitute)
        if margins and fmt == "html" and job.loaded.bibliography.get("second-field-align"):
            firsts = [job.render_first_field(i) for i in job.order]
            entries = [_in_margins(e, first) for e, first in zip(entries, firsts, strict=True)]
        return entries

    def citations(
        self,
        records: Iterable[Record],
        style: str = "apa",
        fmt: str = "text",
        locale: str | None = None,
        versions: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Return each record's first in-text citation, in the order given."""
        job = self._job(records, style, fmt, locale, versions)
        return [self._citation_of(job, i) for i in range(len(job.refs))]

    def citation(
        self,
        records: Iterable[Record],
        style: str = "apa",
        fmt: str = "text",
        locale: str | None = None,
        versions: Mapping[str, str] | None = None,
    ) -> str:
        """Return one in-text citation citing all records, e.g. "(Sherman et al., 2009)"."""
        job = self._job(records, style, fmt, locale, versions)
        return csl_list.cluster(self, job)

    # --- one call ------------------------------------------------------------------------

    def _job(
        self,
        records: Iterable[Record],
        style: str,
        fmt: str,
        locale: str | None,
        versions: Mapping[str, str] | None,
    ) -> _Job:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use text or html")
        info = resolve_style(style)
        locale = locale or info.default_locale or "en-US"
        loaded = _loaded_style(info.path, locale)
        refs = []
        for record in records:
            key = str(record["id"])
            version = (versions or {}).get(key) or record_version(record)
            reference = self.cache.get(("ref", key, version), lambda r=record: _reference(r))
            refs.append(_Ref(key, version, record, reference))
        return _Job(self, info, loaded, fmt, refs)

    def _entry(self, job: _Job, i: int) -> str:
        ref = job.refs[i]
        cache_key = (
            "entry",
            ref.key,
            ref.version,
            job.style_key,
            job.fmt,
            job.numbers[i],
            job.entry_state(i),
        )
        return self.cache.get(cache_key, lambda: job.render_entry(i))

    def _citation_of(self, job: _Job, i: int) -> str:
        ref = job.refs[i]
        cache_key = (
            "citation",
            ref.key,
            ref.version,
            job.style_key,
            job.fmt,
            job.numbers[i],
            job.states[i],
        )
        return self.cache.get(
            cache_key,
            lambda: job.finish(
                engine.wrap_layout(
                    job.loaded.citation.layout, [job.cite(i, job.states[i], job.fmt)]
                )
            ),
        )


_NAME_VARIABLES = frozenset(v.replace("_", "-") for v in NAMES)
_PARTICLE = re.compile(r"^((?:[a-zà-ÿ][\w’']*\s+)+)(?=\S)")


def split_particles(name: Mapping[str, Any]) -> dict[str, Any]:
    """Split a family name's leading lower-case words off as its particle, as citeproc-js
    does: "van den Dolder" is "Dolder" with the particle "van den" (sorted under D where the
    style demotes particles)."""
    out = dict(name)
    given = out.get("given")
    if isinstance(given, str) and "," in given and not out.get("suffix"):
        # "John, III" carries its suffix in the given name ("John,! Jr." a comma suffix).
        given, _, suffix = given.rpartition(",")
        if suffix.startswith("!"):
            suffix, out["comma-suffix"] = suffix[1:], True
        if given.strip() and suffix.strip():
            out["given"], out["suffix"] = given.strip(), suffix.strip()
    family = out.get("family")
    if not isinstance(family, str) or out.get("non-dropping-particle") or "literal" in out:
        return out
    m = _PARTICLE.match(family)
    if m and family[m.end() :].strip():
        out["non-dropping-particle"] = m.group(1).strip()
        out["family"] = family[m.end() :].strip()
    return out


def _prepared(record: Record) -> dict[str, Any]:
    """Return the CSL item as citeproc-js reads it: particles split off family names, and
    the markup in a field's text (``<i>`` ...) as formatting."""
    item = csl_item(record)
    for key, value in item.items():
        if key in _NAME_VARIABLES and isinstance(value, list):
            item[key] = [split_particles(n) for n in value]
        elif isinstance(value, str) and key not in _VERBATIM:
            item[key] = csl_format.field_markup(csl_format.field_quotes(value))
    if "citation-label" not in item:
        label = citation_label(item)
        if label:
            item["citation-label"] = label
    return item


_DATE_KEYS = ("issued", "accessed", "event-date", "original-date", "submitted")


def _reference(record: Record) -> Any:
    item = _prepared(record)
    seasons = {key: _seasons(item[key]) for key in _DATE_KEYS if isinstance(item.get(key), dict)}
    reference = next(iter(CiteProcJSON([item]).values()))
    for key, found in seasons.items():
        value = dict.get(reference, key.replace("-", "_"))
        if isinstance(value, DateRange):
            dates = [value.begin, dict.get(value, "end")]
        else:
            dates = [value] if isinstance(value, CslDate) else []
        for date, season in zip(dates, found, strict=False):
            if season and date is not None:
                date["season"] = season
    return reference


def _seasons(value: dict[str, Any]) -> list[int]:
    """Read months 13-24 as seasons (CSL-JSON's way of writing Spring ... Winter, thrice),
    taking them out of the date parts; a month outside 1-12 otherwise is dropped, with its
    day. Returns each date's season (0: none)."""
    parts = value.get("date-parts")
    if not isinstance(parts, list):
        return []
    found, cleaned = [], []
    for date in parts:
        date = [
            int(p) if isinstance(p, str) and p.strip().lstrip("-").isdigit() else p for p in date
        ]
        season = 0
        if len(date) > 1 and isinstance(date[1], int) and not 1 <= date[1] <= 12:
            month = date[1]
            season = (month - 13) % 4 + 1 if 13 <= month <= 24 else 0
            date = date[:1]
        cleaned.append(date)
        found.append(season)
    value["date-parts"] = cleaned
    return found


class _Job:
    """One call: the records in a style, sorted, numbered and disambiguated."""

    def __init__(
        self, citer: Citer, info: StyleInfo, loaded: engine.LoadedStyle, fmt: str, refs: list[_Ref]
    ):
        self.citer, self.info, self.loaded, self.fmt, self.refs = citer, info, loaded, fmt, refs
        self.style_key = (str(info.path), loaded.locale)
        bib = loaded.bibliography
        self.order = self.sorted_indices(bib, range(len(refs)))
        self.numbers = [0] * len(refs)
        for rank, i in enumerate(self.order):
            self.numbers[i] = rank + 1
        self.states = self.disambiguated()

    def sorted_indices(self, element: Any, indices: Iterable[int]) -> list[int]:
        """Return indices sorted by an element's ``cs:sort`` (input order when it has none).

        Keys are rendered lazily: the second key of a reference only when its first ties with
        another's, and so on (with real names the first key nearly always decides)."""
        indices = list(indices)
        sort = element.find("cs:sort", element.nsmap) if element is not None else None
        if sort is None:
            return indices
        keys = sort.findall("cs:key", sort.nsmap)
        descending = [k.get("sort", "ascending") == "descending" for k in keys]
        which = "bib" if element is self.loaded.bibliography else "cite"
        numbered = bool(getattr(self, "numbers", None))
        known = {
            i: self.citer.cache.get(
                ("sort", which, self.refs[i].key, self.refs[i].version, self.style_key),
                lambda: [csl_list.UNSET] * len(keys),
            )
            for i in indices
        }

        def key_at(i: int, k: int) -> Any:
            values = known[i]
            value = values[k]
            if value is csl_list.UNSET:
                value = values[k] = self.sort_key(element, keys[k], i)
            if value == "#citation-number":
                return str(self.numbers[i] if numbered else i + 1)
            return value

        return csl_list.sort_lazily(indices, descending, key_at)

    def sort_key(self, element: Any, key: Any, i: int) -> Any:
        """Return one sort key of one reference (citation numbers as a placeholder)."""
        if key.get("variable") == "citation-number":
            return "#citation-number"
        with self.loaded.lock:
            self.loaded.root.formatter = csl_format.PlainFormat
            item = engine.RenderItem(self.refs[i].key, self.refs[i].reference, i + 1)
            self.loaded.root.__dict__["_sort_dates"] = True
            try:
                return csl_list.sort_text(key.sort_keys([item], element.layout)[0])
            except Exception:  # noqa: BLE001 - a key citeproc-py cannot build sorts last
                return None
            finally:
                self.loaded.root.__dict__["_sort_dates"] = False

    def item(self, i: int, state: CiteState) -> engine.RenderItem:
        ref = self.refs[i]
        reference = ref.reference
        names_var = "author" if "author" in reference else "editor"
        names = list(reference.get(names_var) or [])
        if state.year_suffix or any(state.givennames):
            reference = dict.__new__(type(reference))
            dict.update(reference, ref.reference)
            if state.year_suffix:
                reference["year_suffix"] = String(state.year_suffix)
            for pos, level in enumerate(state.givennames):
                if level and pos < len(names) and "literal" not in names[pos]:
                    names[pos] = CslName(literal=_expanded_name(names[pos], level))
            if any(state.givennames):
                reference[names_var] = names
        options = None
        if state.add_names:
            options = {"et-al-use-first": state.add_names}
            if state.add_names >= len(names):
                options["et-al-min"] = 10**6
        return engine.RenderItem(
            ref.key,
            reference,
            self.numbers[i],
            name_options=options,
            disambiguate=state.disambiguate,
        )

    def cite(self, i: int, state: CiteState, fmt: str = "text") -> str:
        """Return one cite (no layout affixes), rendered in a disambiguation state."""
        ref = self.refs[i]
        key = ("cite", ref.key, ref.version, self.style_key, fmt, self.numbers[i], state)

        def render() -> str:
            with self.loaded.lock:
                self.loaded.root.formatter = FORMATS[fmt]
                self.loaded.citation.cites = []  # every cite is a first cite
                text = engine.render_layout(
                    self.loaded, self.loaded.citation.layout, self.item(i, state)
                )
            return text or ""

        return self.citer.cache.get(key, render)

    def disambiguated(self) -> list[CiteState]:
        citation = self.loaded.citation
        get = citation.get
        options = Options(
            add_names=get("disambiguate-add-names") == "true",
            add_givenname=get("disambiguate-add-givenname") == "true",
            add_year_suffix=get("disambiguate-add-year-suffix") == "true",
            rule=get("givenname-disambiguation-rule", "by-cite"),
            et_al_min=int(self.loaded.option(citation, "et-al-min", "0") or 0),
            et_al_use_first=int(self.loaded.option(citation, "et-al-use-first", "1") or 1),
            uses_condition=bool(self.loaded.root.xpath_search(".//cs:*[@disambiguate='true']")),
        )
        if (
            not (
                options.add_names
                or options.add_givenname
                or options.add_year_suffix
                or options.uses_condition
            )
            or len(self.refs) < 2
            and options.rule == "by-cite"
        ):
            return [CiteState() for _ in self.refs]
        all_names = [r.record.get("author") or r.record.get("editor") or [] for r in self.refs]
        return disambiguate(all_names, self.order, options, lambda i, s: self.cite(i, s))

    def entry_state(self, i: int) -> CiteState:
        """Return what of a cite's disambiguation shows in its entry: the year suffix, and
        names added to tell cites apart when the entry would show fewer (as citeproc-js)."""
        state = self.states[i]
        shown = int(self.loaded.option(self.loaded.bibliography, "et-al-use-first", "1") or 1)
        add_names = state.add_names if state.add_names > shown else 0
        return CiteState(add_names=add_names, year_suffix=state.year_suffix)

    def render_entry(self, i: int) -> str:
        with self.loaded.lock:
            self.loaded.root.formatter = FORMATS[self.fmt]
            item = self.item(i, self.entry_state(i))
            layout = self.loaded.bibliography.layout
            item_layout = engine.render_bibliography_entry(
                layout, item, split_first=bool(self.loaded.bibliography.get("second-field-align"))
            )
        return self.finish(item_layout or "")

    def render_first_field(self, i: int) -> str:
        """Render the first child of an entry's layout alone (its number, or its label)."""
        with self.loaded.lock:
            self.loaded.root.formatter = FORMATS[self.fmt]
            item = self.item(i, self.entry_state(i))
            layout = self.loaded.bibliography.layout
            layout.repressed = {}
            first = next(layout.iterchildren(), None)
            try:
                text = None if first is None else first.render(item)
            except VariableError:
                text = None
        return "" if text is None else self.finish(str(text))

    def finish(self, text: str) -> str:
        """Apply the output-level fixes and turn markers into HTML."""
        text = csl_format.merge_punctuation(text)
        outer, inner = self.loaded.quotes
        text = csl_format.resolve_quotes(text, outer, inner)
        if self.loaded.punctuation_in_quote:
            text = _punctuation_inside_quotes(text, outer[1])
            if inner[1] != outer[1]:
                text = _punctuation_inside_quotes(text, inner[1])
        if self.fmt == "html":
            return csl_format.finish_html(text)
        return csl_format.strip_markers(text)


def _in_margins(entry: str, first: str) -> str:
    """Split an HTML entry into its first field and the rest, as citeproc-js's divs."""
    shown = first.rstrip()
    if not shown or not entry.startswith(shown):
        return entry
    rest = entry[len(shown) :].lstrip()
    return f'<div class="csl-left-margin">{first}</div><div class="csl-right-inline">{rest}</div>'


def _expanded_name(name: Any, level: int) -> str:
    given = str(name.get("given") or "")
    if level == 1:
        parts = [p for p in given.replace(".", " ").split() if p[:1].isupper()]
        given = " ".join(
            "-".join(f"{s[0]}." for s in p.split("-") if s[:1].isupper()) for p in parts
        )
    family = " ".join(str(name[p]) for p in ("non-dropping-particle", "family") if name.get(p))
    return f"{given} {family}".strip()


_default = Citer()


def format_bibliography(
    records: Iterable[Record],
    style: str = "apa",
    fmt: str = "text",
    locale: str | None = None,
    versions: Mapping[str, str] | None = None,
) -> list[str]:
    """Return the bibliography entries for records, in the style's order."""
    return _default.bibliography(records, style, fmt, locale, versions)


def format_citation(
    records: Iterable[Record],
    style: str = "apa",
    fmt: str = "text",
    locale: str | None = None,
    versions: Mapping[str, str] | None = None,
) -> str:
    """Return the first in-text citation of records, e.g. "(Sherman et al., 2009)"."""
    return _default.citation(records, style, fmt, locale, versions)
