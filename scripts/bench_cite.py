"""Benchmark citation formatting: citeproc-py (cold and warm cache) against citeproc-js.

Run: .venv/bin/python scripts/bench_cite.py [--size N] [--ambiguous] [--style apa] [--repeat 3]
[--records FILE.json].

The default corpus is realistic: the search benchmark's library (``scripts/bench_corpus.py``,
~2,800 syllable-built family names, 1-6 authors, years 1990-2026), with volume, issue, pages,
DOI and a month added deterministically, so cites that need disambiguation are about as rare as
in a real library. ``--ambiguous`` is the old stress case: 17 family names, so nearly every cite
needs more names, given names or a year suffix.

Both processors render the same items in the same run, interleaved ``--repeat`` times (medians
reported). "Cold" is a fresh parse of the style and an empty render cache for us, and a new
``CSL.Engine`` in a fresh node process for citeproc-js (its in-process timers; node's start-up
and the JSON I/O are reported separately, not counted). Each is split into style parsing and
rendering, and citeproc-js is also timed a second time in the same process (JIT warm). Prints a
summary, then one JSON line ending in ``cold_ratio`` and ``warm_ratio`` (warm cache / citeproc-js
cold).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_corpus

from references import cite
from references.csl_engine import LOCALES_DIR
from references.styles import resolve_style

_AMBIGUOUS_FAMILIES = [
    "Sherman",
    "Cherkin",
    "Moraska",
    "Field",
    "Furlan",
    "Ezzo",
    "Yang",
    "Li",
    "Wang",
    "Smith",
    "García",
    "Müller",
    "van der Berg",
    "O'Brien",
    "Nguyen",
    "Kim",
    "Rossi",
]
GIVENS = [
    "Karen J.",
    "Daniel",
    "Albert F.",
    "Tiffany",
    "Andrea D.",
    "Jeanette",
    "Juan",
    "Yan-hui",
    "Maria",
    "Lars",
    "Aoife",
    "Minh",
    "Ji-woo",
    "Giulia",
]
WORDS = [
    "massage",
    "therapy",
    "randomized",
    "trial",
    "chronic",
    "neck",
    "pain",
    "low-back",
    "myofascial",
    "release",
    "anxiety",
    "cancer",
    "fibromyalgia",
    "outcomes",
    "effects",
    "systematic",
    "review",
    "of",
    "for",
    "in",
    "and",
    "with",
    "the",
    "pilot",
    "study",
]
JOURNALS = [
    "The Clinical Journal of Pain",
    "Spine",
    "Pain Medicine",
    "BMC Complementary Medicine",
    "Journal of Bodywork and Movement Therapies",
    "Manual Therapy",
    "PLoS ONE",
]


def ambiguous_records(size: int, seed: int = 20240601) -> list[dict[str, Any]]:
    """Return deterministic journal articles by 17 families: nearly all need disambiguation."""
    rng = random.Random(seed)
    records = []
    for n in range(size):
        authors = [
            {"family": rng.choice(_AMBIGUOUS_FAMILIES), "given": rng.choice(GIVENS)}
            for _ in range(rng.randint(1, 6))
        ]
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize()
        first = rng.randint(1, 900)
        records.append(
            {
                "id": f"item{n:06d}",
                "type": "article-journal",
                "title": title,
                "author": authors,
                "container-title": rng.choice(JOURNALS),
                "issued": {"date-parts": [[rng.randint(1985, 2025), rng.randint(1, 12)]]},
                "volume": str(rng.randint(1, 60)),
                "issue": str(rng.randint(1, 12)),
                "page": f"{first}-{first + rng.randint(3, 20)}",
                "DOI": f"10.{rng.randint(1000, 9999)}/bench.{n}",
            }
        )
    return records


def realistic_records(size: int, seed: int = 42) -> list[dict[str, Any]]:
    """Return the search benchmark's records with the journal details a citation prints."""
    rng = random.Random(seed + 1)
    records = []
    for n, record in enumerate(bench_corpus.synthetic_records(size, seed)):
        record = {k: v for k, v in record.items() if k not in ("abstract", "kb")}
        year = record["issued"]["date-parts"][0][0]
        first = rng.randint(1, 900)
        record.update(
            {
                "issued": {"date-parts": [[year, rng.randint(1, 12)]]},
                "volume": str(rng.randint(1, 60)),
                "issue": str(rng.randint(1, 12)),
                "page": f"{first}-{first + rng.randint(3, 20)}",
                "DOI": f"10.{rng.randint(1000, 9999)}/bench.{n}",
            }
        )
        records.append(record)
    return records


# Times citeproc-js's phases in one node process: engine construction (style and locale
# parsing), then updateItems + makeBibliography; twice, the second time with node's JIT warm.
_JS_DRIVER = r"""
const fs = require("fs");
const path = require("path");
const CSL = require(process.argv[1]);
const job = JSON.parse(fs.readFileSync(0, "utf8"));
const byId = new Map(job.items.map((item) => [String(item.id), item]));
const sys = {
  retrieveItem: (id) => byId.get(String(id)),
  retrieveLocale: (lang) => {
    const file = path.join(job.locales, `locales-${lang}.xml`);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : false;
  },
};
const styleXml = fs.readFileSync(job.style, "utf8");
const seconds = (a, b) => Number(b - a) / 1e9;
const runs = [];
let bibliography = [];
for (let round = 0; round < 2; round++) {
  const a = process.hrtime.bigint();
  const engine = new CSL.Engine(sys, styleXml, job.lang, true);
  engine.setOutputFormat("text");
  const b = process.hrtime.bigint();
  engine.updateItems(job.items.map((item) => String(item.id)));
  const bib = engine.makeBibliography();
  const c = process.hrtime.bigint();
  bibliography = bib ? bib[1].map((entry) => entry.trim()) : [];
  runs.push({ setup_s: seconds(a, b), render_s: seconds(b, c) });
}
process.stdout.write(JSON.stringify({ runs, bibliography }));
"""


def citeproc_js(records: list[dict[str, Any]], style: str) -> dict[str, Any]:
    """Return citeproc-js's phase times (cold and JIT-warm), node's start-up and its entries."""
    info = resolve_style(style)
    job = {
        "items": [cite.csl_item(r) for r in records],
        "style": str(info.path),
        "locales": str(LOCALES_DIR),
        "lang": info.default_locale or "en-US",
    }
    module = ROOT / "tests" / "citeproc_js" / "node_modules" / "citeproc"
    started = time.perf_counter()
    out = subprocess.run(
        ["node", "-e", _JS_DRIVER, str(module)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    result = json.loads(out.stdout)
    cold, hot = result["runs"]
    timed = sum(r["setup_s"] + r["render_s"] for r in result["runs"])
    return {
        "setup_s": cold["setup_s"],
        "render_s": cold["render_s"],
        "total_s": cold["setup_s"] + cold["render_s"],
        "hot_total_s": hot["setup_s"] + hot["render_s"],
        "hot_render_s": hot["render_s"],
        "startup_s": wall - timed,
        "bibliography": result["bibliography"],
    }


def citeproc_py(records: list[dict[str, Any]], style: str) -> dict[str, Any]:
    """Return our processor's cold (style parse, then rendering) and warm times, and entries."""
    cite.clear_caches()
    info = resolve_style(style)
    started = time.perf_counter()
    cite._loaded_style(info.path, info.default_locale or "en-US")
    setup = time.perf_counter() - started
    citer = cite.Citer()
    entries = citer.bibliography(records, style)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = citer.bibliography(records, style)
    warm = time.perf_counter() - started
    assert entries == again and len(entries) == len(records)
    job = citer._job(records, style, "text", None, None)
    disambiguated = sum(
        1 for s in job.states if s.add_names or any(s.givennames) or s.disambiguate or s.year_suffix
    )
    return {
        "setup_s": setup,
        "render_s": cold - setup,
        "total_s": cold,
        "warm_s": warm,
        "disambiguated": disambiguated,
        "bibliography": entries,
    }


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--style", default="apa")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians reported")
    parser.add_argument(
        "--ambiguous", action="store_true", help="17 family names: the disambiguation stress case"
    )
    parser.add_argument("--records", type=Path, help="a CSL-JSON file to render instead")
    args = parser.parse_args()
    if args.records:
        with open(args.records, encoding="utf-8") as f:
            records = json.load(f)
    else:
        records = (ambiguous_records if args.ambiguous else realistic_records)(args.size)
    n = len(records)
    load_before = _load()
    py_runs, js_runs = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same load
        py_runs.append(citeproc_py(records, args.style))
        js_runs.append(citeproc_js(records, args.style))
    load_after = _load()
    py, js = py_runs[0], js_runs[0]
    corpus = args.records.name if args.records else "ambiguous" if args.ambiguous else "realistic"
    same = sum(1 for a, b in zip(py["bibliography"], js["bibliography"], strict=False) if a == b)

    def ms(seconds: float) -> float:
        return round(1000 * seconds / n, 3)

    py_total, py_render = _median(py_runs, "total_s"), _median(py_runs, "render_s")
    py_setup, warm = _median(py_runs, "setup_s"), _median(py_runs, "warm_s")
    js_total, js_render = _median(js_runs, "total_s"), _median(js_runs, "render_s")
    js_setup, js_hot = _median(js_runs, "setup_s"), _median(js_runs, "hot_total_s")
    js_hot_render = _median(js_runs, "hot_render_s")
    summary = {
        "bench": "cite",
        "corpus": corpus,
        "style": args.style,
        "size": n,
        "repeat": args.repeat,
        "disambiguated": py["disambiguated"],
        "same_as_js": same,
        "py_cold_s": round(py_total, 3),
        "py_setup_s": round(py_setup, 3),
        "py_render_ms_per_ref": ms(py_render),
        "py_warm_s": round(warm, 4),
        "js_cold_s": round(js_total, 3),
        "js_setup_s": round(js_setup, 3),
        "js_render_ms_per_ref": ms(js_render),
        "js_jit_warm_s": round(js_hot, 3),
        "js_jit_warm_render_ms_per_ref": ms(js_hot_render),
        "node_startup_s": round(_median(js_runs, "startup_s"), 3),
        "load": load_after,
        "per_ref_ratio": round(py_render / js_render, 3),
        "cold_ratio": round(py_total / js_total, 3),
        "warm_ratio": round(warm / js_total, 4),
    }
    print(f"{args.style} bibliography of {n} records, {corpus} corpus,")
    print(f"medians of {args.repeat} interleaved runs; nproc {os.cpu_count()}")
    print(f"  load average before {load_before}, after {load_after}")
    print(f"  cites needing disambiguation: {py['disambiguated']}")
    print(f"  entries identical to citeproc-js: {same}/{n}")
    rows = [
        ("citeproc-py cold: style parse", py_setup, None),
        ("citeproc-py cold: rendering", py_render, py_render),
        ("citeproc-py cold: total", py_total, py_total),
        ("citeproc-py warm cache", warm, warm),
        ("citeproc-js: engine (style parse)", js_setup, None),
        ("citeproc-js: rendering", js_render, js_render),
        ("citeproc-js: total", js_total, js_total),
        ("citeproc-js, JIT warm, new engine", js_hot, js_hot),
        ("node start-up and I/O (not counted)", _median(js_runs, "startup_s"), None),
    ]
    for label, seconds, per in rows:
        per_text = f"{1000 * per / n:8.3f} ms/ref" if per is not None else ""
        print(f"  {label:38} {seconds:8.3f} s {per_text}")
    print(
        f"  cold/js {summary['cold_ratio']}  rendering per ref/js {summary['per_ref_ratio']}"
        f"  warm/js {summary['warm_ratio']}  (targets: <= 1, <= 1, <= 0.1)"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
