"""Run the official CSL processor test suite's fixtures with our engine and plain citeproc-py.

Usage: scripts/bench csl-suite DIR [--only PREFIX] [--failures] [--show NAME]

DIR holds the suite's ``processor-tests/humans/*.txt`` fixtures (citation-style-language/
test-suite). They carry no licence, so they are read from where they are and never copied into
the project. Each fixture is rendered by ``references.clusters`` (our engine) and by plain
citeproc-py in the same run, and compared strictly with the fixture's expected result (which is
citeproc-js's): only whitespace at line ends is ignored. Prints passes per mode and per name
prefix, and ends with one JSON line:
{"fixtures", "passed", "citeproc_py_passed", "by_prefix": {prefix: [fixtures, ours, theirs]}}.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from references import cite as csl
from references.clusters import CiteItem, Cluster, cite_document
from references.styles import inline_style

SECTION = re.compile(r">>=+ ([A-Z-]+) =+>>\n(.*?)\n<<=+ \1 =+<<", re.DOTALL)
TIMEOUT_S = 10


class Timeout(Exception):
    """A fixture took longer than TIMEOUT_S."""


def parse(path: Path) -> dict[str, Any]:
    """Return a fixture's sections: mode, result, csl, input, citation-items, citations."""
    text = path.read_text(encoding="utf-8")
    sections = {name.lower(): body for name, body in SECTION.findall(text)}
    for name in ("input", "citation-items", "citations", "bibentries"):
        if name in sections:
            sections[name] = json.loads(sections[name])
    sections["mode"] = sections.get("mode", "").strip()
    return sections


def normalise(text: str) -> str:
    """Strip whitespace at line ends (the only difference the comparison forgives)."""
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def js_entities(text: str) -> str:
    """Write HTML entities as citeproc-js does (``&#38;`` for ``&amp;``)."""
    return text.replace("&amp;", "&#38;").replace("&lt;", "&#60;").replace("&gt;", "&#62;")


_LINK = re.compile(r'<a href="[^"]*">(.*?)</a>', re.DOTALL)


def unlinked(text: str) -> str:
    """Drop the links our HTML puts round DOIs and URLs (a feature of ours; citeproc-js's
    HTML output, which the fixtures hold, has none)."""
    return _LINK.sub(r"\1", text)


def bib_body(entries: list[str]) -> str:
    # citeproc-js puts an entry's margin divs on a line of their own.
    laid = [
        f"\n    {e}\n  " if e.startswith('<div class="csl-left-margin">') else e for e in entries
    ]
    rows = "".join(f'  <div class="csl-entry">{e}</div>\n' for e in laid)
    return f'<div class="csl-bib-body">\n{rows}</div>'


# --- our engine ---------------------------------------------------------------------------


def _cite_item(raw: dict[str, Any]) -> CiteItem:
    label = raw.get("label") or "page"
    locator = raw.get("locator")
    return CiteItem(
        key=str(raw["id"]),
        locator=None if locator in (None, "") else str(locator),
        label=label,
        prefix=raw.get("prefix", ""),
        suffix=raw.get("suffix", ""),
        suppress_author=bool(raw.get("suppress-author")),
        author_only=bool(raw.get("author-only")),
    )


def _cluster(citation: dict[str, Any]) -> Cluster:
    note = (citation.get("properties") or {}).get("noteIndex")
    return Cluster([_cite_item(i) for i in citation["citationItems"]], note=note or None)


def documents(fixture: dict[str, Any]) -> tuple[list[Cluster], list[Cluster] | None]:
    """Return a fixture's clusters in document order, and (for CITATIONS, which the
    processor receives one call at a time) the document before the last call."""
    if "citations" in fixture:
        latest: dict[str, dict[str, Any]] = {}
        orders: list[list[str]] = []
        for entry in fixture["citations"]:
            citation, pre, post = entry if isinstance(entry, list) else (entry, [], [])
            cid = citation.get("citationID") or str(len(latest))
            latest[cid] = citation
            orders.append([p[0] for p in pre] + [cid] + [p[0] for p in post])
        snapshots = []
        seen: dict[str, dict[str, Any]] = {}
        for entry, order in zip(fixture["citations"], orders, strict=True):
            citation = entry[0] if isinstance(entry, list) else entry
            seen[citation.get("citationID") or str(len(seen))] = citation
            snapshots.append([(cid, seen[cid]) for cid in order if cid in seen])
        last = [_cluster(c) for _, c in snapshots[-1]]
        before = [_cluster(c) for _, c in snapshots[-2]] if len(snapshots) > 1 else []
        return last, before
    if "citation-items" in fixture:
        return [Cluster([_cite_item(i) for i in c]) for c in fixture["citation-items"]], None
    return [Cluster([CiteItem(str(i["id"])) for i in fixture["input"]])], None


def _numbered(lines: list[str], before: list[str]) -> str:
    """Mark each citation as citeproc-js's test harness does: ">>" when the last call
    changed it (the last one, and any other whose text changed), ".." otherwise."""
    last = len(lines) - 1
    out = []
    for i, text in enumerate(lines):
        changed = i == last or text not in before
        out.append(f"{'>>' if changed else '..'}[{i}] {text}")
    return "\n".join(out)


def ours(fixture: dict[str, Any], style_path: Path) -> str:
    style = fixture["csl"]
    records = fixture["input"]
    citer = csl.Citer()
    if fixture["mode"] == "bibliography":
        entries = citer.bibliography(records, style, "html", margins=True)
        return bib_body([unlinked(js_entities(e)) for e in entries])
    clusters, before = documents(fixture)
    lines = [
        unlinked(js_entities(c)) for c in cite_document(records, clusters, style, "html").citations
    ]
    if before is None:
        return "\n".join(lines)
    earlier = cite_document(records, before, style, "html").citations if before else []
    return _numbered(lines, [unlinked(js_entities(c)) for c in earlier])


# --- plain citeproc-py --------------------------------------------------------------------


def theirs(fixture: dict[str, Any], style_path: Path) -> str:
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source import Locator
    from citeproc.source.json import CiteProcJSON

    style = CitationStylesStyle(str(style_path), validate=False)
    source = CiteProcJSON(fixture["input"])
    bib = CitationStylesBibliography(style, source, formatter.html)
    clusters, before = documents(fixture)
    citations = []
    for cluster in clusters:
        items = []
        for item in cluster.items:
            extra: dict[str, Any] = {}
            if item.locator is not None:
                extra["locator"] = Locator(item.label, item.locator)
            if item.prefix:
                extra["prefix"] = item.prefix
            if item.suffix:
                extra["suffix"] = item.suffix
            items.append(CitationItem(item.key, **extra))
        citation = Citation(items)
        bib.register(citation)
        citations.append(citation)
    if fixture["mode"] == "bibliography":
        return bib_body([js_entities(str(e)) for e in bib.bibliography()])
    lines = [js_entities(str(bib.cite(c, lambda _: None))) for c in citations]
    return "\n".join(lines) if before is None else _numbered(lines, [])


# --- the run ------------------------------------------------------------------------------


def _alarm(_signum: int, _frame: Any) -> None:
    raise Timeout


def attempt(render: Callable[..., str], fixture: dict[str, Any], path: Path) -> str | None:
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return render(fixture, path)
    except Exception:  # noqa: BLE001 - a crash is a failed fixture
        return None
    finally:
        signal.alarm(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="the suite's processor-tests/humans folder")
    parser.add_argument("--only", default="", help="run fixtures whose name starts so")
    parser.add_argument("--failures", action="store_true", help="list our failing fixtures")
    parser.add_argument("--show", default="", help="print one fixture's expected and our output")
    parser.add_argument("--no-citeproc-py", action="store_true", help="skip the baseline")
    args = parser.parse_args()
    files = sorted(args.dir.glob("*.txt"))
    if not files:
        print(f"{args.dir}: no fixtures (*.txt) here", file=sys.stderr)
        return 2
    if args.show:
        files = [f for f in files if f.stem == args.show]
    elif args.only:
        files = [f for f in files if f.stem.startswith(args.only)]
    by_prefix: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_mode: dict[str, Counter[str]] = defaultdict(Counter)
    failures: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            fixture = parse(path)
            mode = fixture["mode"]
            if mode not in ("citation", "bibliography") or "csl" not in fixture:
                continue
            style_path = Path(tmp) / f"{path.stem}.csl"
            style_path.write_text(fixture["csl"], encoding="utf-8")
            inline_style(fixture["csl"])  # parsed once, by content
            expected = normalise(fixture["result"])
            got = attempt(ours, fixture, style_path)
            passed = got is not None and normalise(got) == expected
            base = None if args.no_citeproc_py else attempt(theirs, fixture, style_path)
            base_passed = base is not None and normalise(base) == expected
            prefix = path.stem.split("_")[0]
            row = by_prefix[prefix]
            row[0] += 1
            row[1] += passed
            row[2] += base_passed
            by_mode[mode].update(fixtures=1, passed=passed, citeproc_py=base_passed)
            if not passed:
                failures.append(path.stem)
            if args.show:
                print(f"expected:\n{expected}\n\nours:\n{got}\n\nciteproc-py:\n{base}")
    total = sum(r[0] for r in by_prefix.values())
    passed_total = sum(r[1] for r in by_prefix.values())
    base_total = sum(r[2] for r in by_prefix.values())
    elapsed = time.perf_counter() - started

    def pct(n: int, d: int) -> str:
        return f"{100 * n / d:5.1f} %" if d else "    -"

    print(f"{'mode':<14}{'fixtures':>9}{'ours':>7}{'':>9}{'citeproc-py':>13}")
    for mode, c in sorted(by_mode.items()):
        f, p, b = c["fixtures"], c["passed"], c["citeproc_py"]
        print(f"{mode:<14}{f:>9}{p:>7}{pct(p, f):>9}{b:>13}{pct(b, f):>9}")
    print(f"\n{'prefix':<18}{'fixtures':>9}{'ours':>7}{'failing':>9}{'citeproc-py':>13}")
    for prefix, (f, p, b) in sorted(by_prefix.items(), key=lambda kv: (kv[1][1] - kv[1][0], kv[0])):
        print(f"{prefix:<18}{f:>9}{p:>7}{f - p:>9}{b:>13}")
    print(
        f"\ntotal: ours {passed_total}/{total} ({pct(passed_total, total).strip()}), "
        f"citeproc-py {base_total}/{total} ({pct(base_total, total).strip()}), {elapsed:.0f} s"
    )
    if args.failures:
        print("failing:", " ".join(failures))
    summary = {
        "fixtures": total,
        "passed": passed_total,
        "citeproc_py_passed": base_total,
        "by_prefix": {k: v for k, v in sorted(by_prefix.items())},
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
