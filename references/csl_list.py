"""List-level CSL work on rendered pieces: sorting, collapsing cites, repeated-author dashes.

``references.cite`` renders each reference's pieces (sort keys, cites, entries) and caches them;
the functions here put a list together from those pieces, so none of them re-renders a
reference that is already cached:

- ``sort_lazily`` sorts by a style's ``cs:sort`` keys, asking for a reference's k-th key only
  when its earlier keys tie with another's (with real names the first key nearly always decides);
- ``cluster`` joins cites into one citation, collapsing number runs (``1–3``) and one author's
  years (``Sherman et al., 2009, 2010``);
- ``substitute_authors`` applies ``subsequent-author-substitute`` (MLA's ``———``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import cmp_to_key
from typing import TYPE_CHECKING, Any

from references import csl_engine as engine
from references import csl_format
from references.csl_disambiguation import CiteState

if TYPE_CHECKING:
    from references.cite import Citer, _Job


def sort_text(value: Any) -> str | None:
    """Return a sort key: unmarked, unaccented, case-folded, punctuation as spaces."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKD", csl_format.strip_markers(str(value)))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.translate(_UNDECOMPOSED)
    text = " ".join(re.sub(r"[^\w\s]", " ", text).split())
    return text or None


# Letters NFKD leaves whole, sorted as the letter they are written on (as Intl.Collator does).
_UNDECOMPOSED = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe"})

UNSET = object()  # a sort key not rendered yet


def compare_values(a: Any, b: Any, desc: bool) -> int:
    """Compare one sort key of two references: empty keys last, digit strings as numbers."""
    if a == b:
        return 0
    if a is None or b is None:
        return 1 if a is None else -1  # empty keys sort last, ascending or not
    if isinstance(a, str) and isinstance(b, str) and a.isdigit() and b.isdigit():
        a, b = int(a), int(b)
    result = (a > b) - (a < b)
    return -result if desc else result


def sort_lazily(
    indices: Sequence[int], descending: Sequence[bool], key_at: Callable[[int, int], Any]
) -> list[int]:
    """Return indices sorted by their keys; ``key_at(i, k)`` is called only when needed."""

    def compare(a: int, b: int) -> int:
        for k, desc in enumerate(descending):
            result = compare_values(key_at(a, k), key_at(b, k), desc)
            if result:
                return result
        return 0

    return sorted(indices, key=cmp_to_key(compare))


def names(citer: Citer, job: _Job, i: int, element: Any, state: CiteState) -> tuple[str, str]:
    """Return the names an entry or cite starts with, as shown and without "et al."."""
    ref = job.refs[i]
    which = "bib" if element is job.loaded.bibliography else "cite"
    key = ("names", which, ref.key, ref.version, job.style_key, job.fmt, state)

    def render() -> tuple[str, str]:
        with job.loaded.lock:
            job.loaded.root.formatter = csl_format.FORMATS[job.fmt]
            job.loaded.citation.cites = []
            item = job.item(i, state)
            shown = engine.render_names(element.layout, item) or ""
            bare = engine.render_names(element.layout, item, et_al=False) or ""
        return shown, bare

    return citer.cache.get(key, render)


def substitute_authors(citer: Citer, job: _Job, entries: list[str], substitute: str) -> list[str]:
    """Replace an entry's names by ``subsequent-author-substitute`` when they repeat the last
    entry's ("complete-all": the names shown, ignoring "et al.", must all match)."""
    bib = job.loaded.bibliography
    out, previous = [], None
    for entry, i in zip(entries, job.order, strict=True):
        shown, bare = names(citer, job, i, bib, job.entry_state(i))
        if job.fmt == "html":
            shown = csl_format.finish_html(shown)
        if bare and bare == previous and shown and entry.startswith(shown):
            # "et al." lends its period to the delimiter that follows: "———. Title".
            entry = substitute + entry[len(shown) - shown.endswith(".") :]
        out.append(entry)
        previous = bare
    return out


def cluster(citer: Citer, job: _Job) -> str:
    citation = job.loaded.citation
    order = job.sorted_indices(citation, range(len(job.refs)))
    cites = [job.cite(i, job.states[i], job.fmt) for i in order]
    numbers = [job.numbers[i] for i in order]
    collapse = citation.get("collapse") or ""
    if collapse == "citation-number" and cites == [str(n) for n in numbers]:
        cites = _collapse_numbers(numbers)
    elif collapse.startswith("year"):
        cites = _collapse_years(citer, job, order, cites)
    return job.finish(engine.wrap_layout(citation.layout, cites))


def _collapse_years(citer: Citer, job: _Job, order: list[int], cites: list[str]) -> list[str]:
    """Cite one author's works once: "(Sherman et al., 2009, 2010, 2014)"."""
    citation = job.loaded.citation
    joiner = citation.get("cite-group-delimiter", ", ")
    out: list[str] = []
    last_names = None
    for i, cite in zip(order, cites, strict=True):
        shown, _ = names(citer, job, i, citation, job.states[i])
        if out and shown and shown == last_names and cite.startswith(shown):
            out[-1] += joiner + re.sub(r"^[\s,;:]+", "", cite[len(shown) :])
        else:
            out.append(cite)
        last_names = shown
    return out


def _collapse_numbers(numbers: list[int]) -> list[str]:
    """Collapse runs of three or more consecutive numbers into ranges: 1, 2, 3, 5 -> 1–3, 5."""
    out: list[str] = []
    run: list[int] = []
    for n in [*numbers, -1]:
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if len(run) >= 3:
            out.append(f"{run[0]}{engine.EN_DASH}{run[-1]}")
        else:
            out.extend(str(r) for r in run)
        run = [n]
    return out
