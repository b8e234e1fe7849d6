"""Time `kb init` on the shipped library and the import of a 5,000-entry BibTeX file.

Usage: scripts/bench import [--size N]

Both run through the library service exactly as the `kb` command does, into a fresh store under
a temporary folder: init (schema, content, index build), then one BibTeX file of N synthetic
references (scripts/bench_corpus.py, seeded) imported into that store (read, de-duplicate, write,
index). A second import of the same file measures the all-duplicates path. Ends with one line
of JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_corpus import synthetic_records

from kb import library
from kb.config import settings as make_settings
from references import bibtex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000, help="references in the BibTeX file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = make_settings(data_dir=folder / "instance")
        started = time.perf_counter()
        library.init(settings)
        init_s = time.perf_counter() - started

        records = [
            {k: v for k, v in r.items() if k != "kb"} for r in synthetic_records(args.size, seed=5)
        ]
        path = folder / "synthetic.bib"
        path.write_text(bibtex.write(records), encoding="utf-8")
        size_mb = path.stat().st_size / 1e6

        started = time.perf_counter()
        first = library.import_paths(settings, [path])
        import_s = time.perf_counter() - started
        started = time.perf_counter()
        second = library.import_paths(settings, [path])
        again_s = time.perf_counter() - started

    print(f"kb init (shipped library, 55 references): {init_s:.2f} s")
    print(
        f"import {args.size} BibTeX entries ({size_mb:.1f} MB): {import_s:.2f} s — {first.summary()}"
    )
    print(f"import the same file again: {again_s:.2f} s — {second.summary()}")
    print(
        json.dumps(
            {
                "bench": "import",
                "size": args.size,
                "init_s": round(init_s, 3),
                "import_s": round(import_s, 3),
                "reimport_s": round(again_s, 3),
                "added": len(first.added),
                "duplicates_second": len(second.duplicates),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
