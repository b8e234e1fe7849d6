"""Benchmark citation formatting: citeproc-py (cold and warm cache) against citeproc-js.

Run: .venv/bin/python scripts/bench_cite.py [--size N]. Prints a summary, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from references import cite
from references.csl_engine import LOCALES_DIR
from references.styles import resolve_style

FAMILIES = [
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


def synthetic_records(size: int, seed: int = 20240601) -> list[dict[str, Any]]:
    """Return deterministic, realistic journal-article records."""
    rng = random.Random(seed)
    records = []
    for n in range(size):
        authors = [
            {"family": rng.choice(FAMILIES), "given": rng.choice(GIVENS)}
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


def citeproc_js(records: list[dict[str, Any]]) -> tuple[float, float]:
    """Return (render seconds, node start-up and I/O seconds) for an APA bibliography."""
    info = resolve_style("apa")
    job = {
        "items": [cite.csl_item(r) for r in records],
        "style": str(info.path),
        "locales": str(LOCALES_DIR),
        "lang": "en-US",
        "format": "text",
        "citations": False,
        "cluster": False,
    }
    driver = ROOT / "tests" / "citeproc_js" / "render.js"
    started = time.perf_counter()
    out = subprocess.run(
        ["node", str(driver)],
        input=json.dumps({"jobs": [job]}),
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    render_s = json.loads(out.stdout)["results"][0]["render_s"]
    return render_s, wall - render_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args()
    records = synthetic_records(args.size)

    started = time.perf_counter()
    citer = cite.Citer()
    cite._loaded_style.cache_clear()
    entries = citer.bibliography(records, "apa")
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = citer.bibliography(records, "apa")
    warm = time.perf_counter() - started
    assert entries == again and len(entries) == args.size

    js_render, js_startup = citeproc_js(records)
    summary = {
        "bench": "cite",
        "size": args.size,
        "cold_s": round(cold, 3),
        "warm_s": round(warm, 4),
        "citeproc_js_s": round(js_render, 3),
        "cold_ratio": round(cold / js_render, 3),
        "warm_ratio": round(warm / js_render, 4),
    }
    print(f"APA bibliography of {args.size} synthetic records")
    print(f"  citeproc-py, cold cache (style parse included): {cold:8.3f} s")
    print(f"  citeproc-py, warm cache:                         {warm:8.4f} s")
    print(f"  citeproc-js render (node 20, in-process timer):  {js_render:8.3f} s")
    print(f"  citeproc-js node start-up and I/O (not counted): {js_startup:8.3f} s")
    print(
        f"  cold/js {summary['cold_ratio']}  warm/js {summary['warm_ratio']}"
        f"  (targets: <= 1, <= 0.1)"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
