"""Server time of every page (HTML and its JSON twin) on the shipped library.

Usage: scripts/bench web [--repeat N] [--size N] [--dir DIR]

With --size N the store also holds the search benchmark's synthetic library of N references
(scripts/bench_corpus.py), each evidence row given the second-release shape (direct, a
comparator, one result per technique), so page cost can be seen against library size.

Builds a fresh store with `kb init` in a temporary folder, creates the app the way `kb serve`
does, and times each request through Flask's test client (server time: routing, queries,
search, citations and templates; no network). First the pages are requested once with empty
citation caches, as a visitor would meet them if the app did not warm its bibliographies at
start; then the index and the bibliographies are warmed (what the app does in the background
at start) and every page is
requested N times. The budget is 150 ms for any page. Ends with one line of JSON.

With --dir DIR the store is built in DIR (instead of a temporary folder) the first time and
reused by later runs with the same DIR, so before/after runs at a large size share one library
and skip minutes of building; delete DIR afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kb import citing, library
from kb import search as search_index
from kb.config import settings as make_settings
from references import cite
from web import create_app

BUDGET_MS = 150.0
PAGES = [
    "/",
    "/search?q=low+back+pain",
    "/search?q=fibromialgia",
    "/search?q=massage&design=rct&sort=newest",
    "/conditions",
    "/conditions/low-back-pain-sciatica",
    "/conditions/chronic-neck-pain?design=rct",
    "/conditions/tmj-tmd?style=american-medical-association",
    "/modalities",
    "/modalities/therapeutic-massage",
    "/modalities/trigger-point",
    "/references/sherman2009randomized",
    "/references/furlan2015massage?style=modern-language-association",
    "/references/sherman2009randomized.bib",
    "/evidence-map",
    "/cite?keys=sherman2009randomized,furlan2015massage,moyer2004meta&style=apa",
    "/about",
]


def twin(path: str) -> str | None:
    if path.endswith(".bib") or path == "/about":
        return None
    return "/api/conditions" if path == "/" else "/api" + path


def timed(client, path: str) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    return elapsed


def synthetic(settings, size: int) -> None:  # type: ignore[no-untyped-def]
    """Add the search benchmark's synthetic library, its rows in the new shape, in bulk."""
    import random

    from bench_corpus import synthetic_records
    from sqlalchemy import insert
    from sqlmodel import select

    from kb import db
    from kb.models import Condition, Evidence, EvidenceModalityLink, Modality, Reference, _now
    from kb.records import reference_fields

    rng = random.Random(13)
    comparators = ["sham", "usual-care", "waitlist", "various", "active", "other-massage", "none"]
    with db.session_scope(settings) as session:
        conditions = {c.slug: c.id for c in session.exec(select(Condition))}
        modalities = {m.slug: m.id for m in session.exec(select(Modality))}
        ref_id = (session.exec(select(Reference.id).order_by(Reference.id.desc())).first() or 0) + 1
        ev_id = (session.exec(select(Evidence.id).order_by(Evidence.id.desc())).first() or 0) + 1
        refs, rows, links, now = [], [], [], _now()
        for record in synthetic_records(size):
            fields = reference_fields(record)
            refs.append(
                {
                    "id": ref_id,
                    "key": record["id"],
                    "created": now,
                    "updated": now,
                    "version": 1,
                    "supersedes": [],
                    **fields,
                }
            )
            for position, row in enumerate(record["kb"]["evidence"]):
                direct = rng.random() > 0.15
                rows.append(
                    {
                        "id": ev_id,
                        "reference_id": ref_id,
                        "condition_id": conditions[row["condition"]],
                        "position": position,
                        "finding": row["finding"],
                        "population": "synthetic adults",
                        "direct": direct,
                        "indirect_because": "" if direct else "healthy volunteers",
                        "comparator": rng.choice(comparators),
                        "outcome": "pain",
                        "certainty": "",
                        "summary": row["summary"],
                    }
                )
                links.extend(
                    {
                        "evidence_id": ev_id,
                        "modality_id": modalities[m],
                        "position": n,
                        "finding": row["finding"],
                        "condition_id": conditions[row["condition"]],
                    }
                    for n, m in enumerate(row["modalities"])
                )
                ev_id += 1
            ref_id += 1
        for table, batch in ((Reference, refs), (Evidence, rows), (EvidenceModalityLink, links)):
            for start in range(0, len(batch), 5000):
                session.execute(insert(table.__table__), batch[start : start + 5000])
        db.bump_generation(session)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="requests per page after warm-up")
    parser.add_argument("--size", type=int, default=0, help="synthetic references to add")
    parser.add_argument(
        "--dir", type=Path, help="build the store here once and reuse it in later runs"
    )
    args = parser.parse_args()
    paths = list(dict.fromkeys(p for page in PAGES for p in (page, twin(page)) if p))
    with tempfile.TemporaryDirectory() as tmp:
        store = make_settings(data_dir=(args.dir or Path(tmp)) / "instance")
        built = args.dir is not None and (args.dir / "built").exists()
        if not built:
            if args.dir is not None:
                args.dir.mkdir(parents=True, exist_ok=True)
            library.init(store)
            if args.size:
                synthetic(store, args.size)
            if args.dir is not None:
                (args.dir / "built").write_text(f"{args.size}\n")
        app = create_app(
            {
                "KB_DATA_DIR": str(store.data_dir),
                "KB_DATABASE_URL": store.database_url,
                "KB_WARM_CITATIONS": False,
            }
        )
        client = app.test_client()
        cite.clear_caches()
        cold = {path: timed(client, path) for path in paths}
        started = time.perf_counter()
        search_index.warm(store)  # what the app's start-up thread does (web.store._warm)
        if args.size:
            # citing.warm renders every single reference, hours at 100,000: instead the pages'
            # own bibliographies are rendered once by a first pass, as a visitor would.
            for path in paths:
                timed(client, path)
        else:
            cite.clear_caches()
            citing.warm(store)
        warm_s = time.perf_counter() - started
        warm = {path: [timed(client, path) for _ in range(args.repeat)] for path in paths}
    print(f"{'page':<66} {'cold':>8} {'p50':>8} {'p95':>8} {'max':>8}  (ms)")
    summary = {}
    for path in paths:
        times = sorted(warm[path])
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        summary[path] = {
            "cold": round(cold[path], 1),
            "p50": round(statistics.median(times), 1),
            "p95": round(p95, 1),
            "max": round(times[-1], 1),
        }
        row = summary[path]
        flag = "  over budget" if row["max"] > BUDGET_MS else ""
        print(f"{path:<66} {row['cold']:>8} {row['p50']:>8} {row['p95']:>8} {row['max']:>8}{flag}")
    worst = max(summary.values(), key=lambda r: r["max"])["max"]
    worst_cold = max(r["cold"] for r in summary.values())
    print(
        f"warm-up (index columns, citing.warm in APA): {warm_s:.2f} s; slowest warm page max {worst} ms; "
        f"slowest cold first request {worst_cold} ms; budget {BUDGET_MS:.0f} ms; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(
        json.dumps(
            {
                "bench": "web",
                "size": args.size,
                "p95_ms": {path: row["p95"] for path, row in summary.items()},
                "pages": len(paths),
                "repeat": args.repeat,
                "warm_up_s": round(warm_s, 2),
                "max_warm_ms": worst,
                "max_cold_ms": worst_cold,
                "budget_ms": BUDGET_MS,
                "load": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
