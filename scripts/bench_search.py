"""Benchmark search at library scale: Whoosh (the product's path) against SQLite FTS5, same run.

Usage: scripts/bench search [--size N] [--dir DIR] [--queries N] [--cache DIR]

Builds a synthetic library of N references (bulk-inserted into a fresh store: the library
service's duplicate checks are not what is measured here), builds the index, times 100
one-reference updates, the first search in a new process, then runs a fixed seeded set of
queries three ways: (a) top 10, (b) + highlights,
(c) + facet counts (design, finding, condition, modality, decade) + highlights. FTS5 (bm25, porter)
does the same work on the same corpus. Then /search under 20 concurrent clients (gunicorn, 2
workers) beside a bare Flask "hello" on the same server (``bench_web_load``; ``--no-web`` skips
it). Ends with one line of JSON holding every figure. The temporary data folder is removed at
the end unless ``--dir`` was given.

With ``--cache DIR`` the generated records (a pickle) and the bulk-inserted store (a copy of the
SQLite file) are kept in DIR and reused by later runs of the same size; the JSON then says
``"store_from_cache": true`` and the generation and insert times are those of the run that
filled the cache. The index build, updates and queries are always measured afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_corpus import queries as make_queries
from bench_corpus import synthetic_records
from bench_web_load import run as web_load
from sqlalchemy import insert
from sqlmodel import select

from kb import config, db, library, search
from kb.models import Condition, Evidence, EvidenceModalityLink, Modality, Reference, _now
from kb.records import reference_fields
from kb.search import engine
from kb.search import handle as index_handle


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50": round(statistics.median(ordered) * 1000, 2),
        "p95": round(p95 * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
    }


def timed(run: Callable[[str], Any], qs: list[str]) -> dict[str, float]:
    times = []
    for q in qs:
        started = time.perf_counter()
        run(q)
        times.append(time.perf_counter() - started)
    return percentiles(times)


def bulk_insert(settings: config.Settings, records: list[dict[str, Any]]) -> None:
    """Insert synthetic references, evidence and links in bulk (one transaction)."""
    with db.session_scope(settings) as session:
        conditions = {c.slug: c.id for c in session.exec(select(Condition))}
        modalities = {m.slug: m.id for m in session.exec(select(Modality))}
        next_ref = (
            session.exec(select(Reference.id).order_by(Reference.id.desc())).first() or 0
        ) + 1
        next_ev = (session.exec(select(Evidence.id).order_by(Evidence.id.desc())).first() or 0) + 1
        refs, evidence, links = [], [], []
        now = _now()
        for record in records:
            fields = reference_fields(record)
            refs.append(
                {
                    "id": next_ref,
                    "key": record["id"],
                    "created": now,
                    "updated": now,
                    "version": 1,
                    **fields,
                }
            )
            for position, row in enumerate(record["kb"]["evidence"]):
                evidence.append(
                    {
                        "id": next_ev,
                        "reference_id": next_ref,
                        "condition_id": conditions[row["condition"]],
                        "position": position,
                        "finding": row["finding"],
                        "outcome": "",
                        "summary": row["summary"],
                    }
                )
                links.extend(
                    {"evidence_id": next_ev, "modality_id": modalities[m]}
                    for m in row["modalities"]
                )
                next_ev += 1
            next_ref += 1
        for table, rows in ((Reference, refs), (Evidence, evidence), (EvidenceModalityLink, links)):
            for start in range(0, len(rows), 5000):
                session.execute(insert(table.__table__), rows[start : start + 5000])
        db.bump_generation(session)


UPDATES = 100  # one-reference updates timed (four folds of small segments among them)
FIRST_SEARCH = """
import sys, time
started = time.perf_counter()
from kb import config, db, search
imported = time.perf_counter()
settings = config.settings(data_dir=sys.argv[1], database_url=sys.argv[2])
with db.session_scope(settings) as session:
    search.search(settings, session, search.SearchParams(q=sys.argv[3], per_page=10))
done = time.perf_counter()
print(round((done - imported) * 1000, 1), round((imported - started) * 1000, 1))
"""


def first_search(settings: config.Settings, q: str) -> dict[str, float]:
    """Time the first search of a new process (after its imports), and the imports apart."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", FIRST_SEARCH, str(settings.data_dir), settings.database_url, q],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    return {"search_ms": float(out[0]), "imports_ms": float(out[1])}


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def whoosh_runs(settings: config.Settings, qs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with db.session_scope(settings) as session:
        started = time.perf_counter()
        search.search(settings, session, search.SearchParams(q="massage", per_page=10))
        out["first_search_same_process_ms"] = round((time.perf_counter() - started) * 1000, 1)
        # What ``kb search`` and a fresh web worker meet: the first search of a new process.
        runs = [first_search(settings, q) for q in ("massage", "neck pain", "anxiety")]
        out["first_search_ms"] = max(r["search_ms"] for r in runs)
        out["first_search_imports_ms"] = max(r["imports_ms"] for r in runs)
        view = search.view(settings, session)

        def plain(q: str) -> Any:
            parsed = view.parse(q)
            return [view.columns.key[d] for d, _ in view.ranked(parsed, None, 10)]

        def highlighted(q: str) -> Any:
            parsed = view.parse(q)
            return view.hits(view.ranked(parsed, None, 10), parsed, session)

        def faceted(q: str) -> Any:
            return search.search(settings, session, search.SearchParams(q=q, per_page=10))

        # (c) once with no posting list decoded yet (each query's terms read from disk the
        # first time they occur), then the three runs as a running server meets them.
        index_handle.of(settings).postings.clear()
        out["c_facets_first_pass"] = timed(faceted, qs)
        cache = engine.posting_cache_stats(settings)
        out["posting_cache_after_first_pass"] = cache
        out["a_top10"] = timed(plain, qs)
        out["b_highlights"] = timed(highlighted, qs)
        out["c_facets"] = timed(faceted, qs)
        # The array path must rank as Whoosh's own matcher tree does (slow: a sample).
        agree = 0
        sample = qs[::30]
        for q in sample:
            parsed = view.parse(q)
            fast = [(d, round(s, 6)) for d, s in view.ranked(parsed, None, 10)]
            full = [(d, round(s, 6)) for d, s in view.ranked_by_matcher(parsed, None, 10)]
            agree += fast == full
        out["top10_agrees_with_whoosh_scoring"] = f"{agree} of {len(sample)}"
        totals = [faceted(q).total for q in qs[::6]]
        out["broad_share"] = round(
            statistics.mean(totals) / max(1, search.view(settings).count("reference")), 3
        )
    return out


def fts_build(path: Path, records: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE VIRTUAL TABLE docs USING fts5(title, authors, journal, abstract, conditions, tokenize='porter unicode61 remove_diacritics 2');
        CREATE TABLE meta(rowid INTEGER PRIMARY KEY, design TEXT, year INTEGER);
        CREATE TABLE finding(rowid INTEGER, value TEXT);
        CREATE TABLE condition(rowid INTEGER, value TEXT);
    """)
    rows, meta, findings, conditions = [], [], [], []
    for rowid, r in enumerate(records, 1):
        ev = r["kb"]["evidence"]
        rows.append(
            (
                rowid,
                r["title"],
                "; ".join(f"{a['given']} {a['family']}" for a in r["author"]),
                r["container-title"],
                r["abstract"] + "\n" + "\n".join(e["summary"] for e in ev),
                " ".join(e["condition"] for e in ev),
            )
        )
        meta.append((rowid, r["kb"]["design"], r["issued"]["date-parts"][0][0]))
        findings.extend((rowid, f) for f in {e["finding"] for e in ev})
        conditions.extend((rowid, e["condition"]) for e in ev)
    con.executemany(
        "INSERT INTO docs(rowid, title, authors, journal, abstract, conditions) VALUES (?,?,?,?,?,?)",
        rows,
    )
    con.executemany("INSERT INTO meta VALUES (?,?,?)", meta)
    con.executemany("INSERT INTO finding VALUES (?,?)", findings)
    con.executemany("INSERT INTO condition VALUES (?,?)", conditions)
    con.executescript(
        "CREATE INDEX f_row ON finding(rowid); CREATE INDEX c_row ON condition(rowid);"
    )
    con.commit()
    con.close()
    return time.perf_counter() - started


def fts_runs(path: Path, qs: list[str]) -> dict[str, Any]:
    con = sqlite3.connect(path)
    weights = "bm25(docs, 3.0, 2.0, 1.2, 1.0, 2.5)"
    top = f"SELECT rowid, {weights} AS score FROM docs WHERE docs MATCH ? ORDER BY score LIMIT 10"
    snip = (
        f"SELECT rowid, {weights} AS score, highlight(docs, 0, '<mark>', '</mark>'), "
        "snippet(docs, 3, '<mark>', '</mark>', '…', 24) FROM docs WHERE docs MATCH ? ORDER BY score LIMIT 10"
    )
    matched = "SELECT rowid FROM docs WHERE docs MATCH ?"
    facets = [
        f"SELECT design, count(*) FROM meta WHERE rowid IN ({matched}) GROUP BY design",
        f"SELECT year / 10 * 10, count(*) FROM meta WHERE rowid IN ({matched}) GROUP BY 1",
        f"SELECT value, count(*) FROM finding WHERE rowid IN ({matched}) GROUP BY value",
        f"SELECT value, count(*) FROM condition WHERE rowid IN ({matched}) GROUP BY value",
        "SELECT count(*) FROM docs WHERE docs MATCH ?",
    ]

    def faceted(q: str) -> Any:
        hits = con.execute(snip, (q,)).fetchall()
        return hits, [con.execute(sql, (q,)).fetchall() for sql in facets]

    out = {
        "a_top10": timed(lambda q: con.execute(top, (q,)).fetchall(), qs),
        "b_highlights": timed(lambda q: con.execute(snip, (q,)).fetchall(), qs),
        "c_facets": timed(faceted, qs),
    }
    con.close()
    return out


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(
                line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(ram, 1),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", type=int, default=100_000, help="references in the synthetic library"
    )
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time only the queries, on the store, index and FTS5 table an earlier run left in --dir",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep the generated records and the filled store here, and reuse them",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="data folder, kept (default: a temporary folder, removed at the end)",
    )
    parser.add_argument("--no-web", action="store_true", help="skip the gunicorn load test")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-data-"))
    try:
        measure(args, folder)
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)  # ~1.3 GB at 100,000 references


def measure(args: argparse.Namespace, folder: Path) -> None:
    """Build, update, query and serve the synthetic library in ``folder``; print the figures."""
    settings = config.settings(data_dir=folder, database_url=f"sqlite:///{folder / 'kb.sqlite3'}")
    figures: dict[str, Any] = {"size": args.size, "machine": machine()}
    figures["load_average_start"] = os.getloadavg()
    if args.reuse:
        queries_only(args, folder, settings, figures)
        return
    shutil.rmtree(folder, ignore_errors=True)

    cached_records = args.cache / f"records-{args.size}.pickle" if args.cache else None
    cached_store = args.cache / f"store-{args.size}.sqlite3" if args.cache else None
    cached_times = args.cache / f"times-{args.size}.json" if args.cache else None
    if cached_records and cached_store and cached_records.exists() and cached_store.exists():
        with cached_records.open("rb") as handle:
            records = pickle.load(handle)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached_store, folder / "kb.sqlite3")
        figures["store_from_cache"] = True
        if cached_times and cached_times.exists():
            figures.update(json.loads(cached_times.read_text()))
    else:
        started = time.perf_counter()
        records = synthetic_records(args.size)
        figures["generate_s"] = round(time.perf_counter() - started, 1)
        library.init(settings)
        started = time.perf_counter()
        bulk_insert(settings, records)
        figures["store_insert_s"] = round(time.perf_counter() - started, 1)
        figures["store_from_cache"] = False
        if args.cache:
            args.cache.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(folder / "kb.sqlite3") as con:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(folder / "kb.sqlite3", cached_store)
            with cached_records.open("wb") as handle:
                pickle.dump(records, handle, protocol=5)
            cached_times.write_text(
                json.dumps({k: figures[k] for k in ("generate_s", "store_insert_s")})
            )
    print(
        f"{args.size} references generated in {figures.get('generate_s')} s, bulk-inserted in "
        f"{figures.get('store_insert_s')} s (from cache: {figures['store_from_cache']})",
        flush=True,
    )

    with db.session_scope(settings) as session:
        started = time.perf_counter()
        documents = search.rebuild(settings, session)
        figures["whoosh_build_s"] = round(time.perf_counter() - started, 1)
    figures["whoosh_documents"] = documents
    figures["whoosh_size_mb"] = round(folder_size(settings.index_dir) / 2**20, 1)
    print(
        f"whoosh: built {documents} documents in {figures['whoosh_build_s']} s, {figures['whoosh_size_mb']} MB",
        flush=True,
    )

    index_handle.of(settings).searcher()  # the web app keeps one open; updates refresh it
    # Enough one-reference updates to include folds of small segments (one in writer.FOLD_AT).
    update_times = []
    for attempt in range(UPDATES):
        with db.session_scope(settings) as session:
            reference = session.exec(
                select(Reference).where(Reference.key == records[attempt * 7]["id"])
            ).one()
            reference.title = reference.title + " revised"
            db.bump_generation(session)
            session.flush()
            started = time.perf_counter()
            search.sync(settings, session, [reference.key])
            update_times.append(time.perf_counter() - started)
    slowest = sorted(range(len(update_times)), key=update_times.__getitem__)[-3:]
    figures["whoosh_update"] = {
        **percentiles(update_times),
        "updates": len(update_times),
        # which updates were slowest (1-based): the first pays for compiling the store's
        # statements; every writer.FOLD_AT-th folds the small segments in
        "slowest": {i + 1: round(update_times[i] * 1000, 1) for i in reversed(slowest)},
    }
    print(f"whoosh: one-reference update {figures['whoosh_update']} ms", flush=True)

    # An import of 5,000 references re-indexes them in one sync: one writer, one commit.
    batch = [r["id"] for r in records[1:5001]]
    with db.session_scope(settings) as session:
        db.bump_generation(session)
        session.flush()
        started = time.perf_counter()
        search.sync(settings, session, batch)
        figures["whoosh_sync_batch"] = {
            "references": len(batch),
            "s": round(time.perf_counter() - started, 1),
        }
    print(f"whoosh: one sync of {figures['whoosh_sync_batch']}", flush=True)

    qs = make_queries(records, args.queries)
    figures["whoosh"] = whoosh_runs(settings, qs)
    print(f"whoosh: {json.dumps(figures['whoosh'])}", flush=True)
    if not args.no_web:
        figures["web"] = web_load(folder, qs)
        print(f"web: {json.dumps(figures['web'])}", flush=True)

    fts_path = folder / "fts.sqlite3"
    figures["fts5_build_s"] = round(fts_build(fts_path, records), 1)
    figures["fts5_size_mb"] = round(fts_path.stat().st_size / 2**20, 1)
    compare(figures, fts_path, qs)


def queries_only(
    args: argparse.Namespace, folder: Path, settings: config.Settings, figures: dict[str, Any]
) -> None:
    """Time the queries on what an earlier run left in the folder (no build, no updates)."""
    with (args.cache / f"records-{args.size}.pickle").open("rb") as handle:
        records = pickle.load(handle)
    figures["reused"] = str(folder)
    qs = make_queries(records, args.queries)
    figures["whoosh"] = whoosh_runs(settings, qs)
    print(f"whoosh: {json.dumps(figures['whoosh'])}", flush=True)
    fts_path = folder / "fts.sqlite3"
    if not fts_path.exists():
        figures["fts5_build_s"] = round(fts_build(fts_path, records), 1)
        figures["fts5_size_mb"] = round(fts_path.stat().st_size / 2**20, 1)
    compare(figures, fts_path, qs)


def compare(figures: dict[str, Any], fts_path: Path, qs: list[str]) -> None:
    """Run FTS5 on the same queries, then print the table and the JSON line."""
    figures["fts5"] = fts_runs(fts_path, qs)
    print(
        f"fts5: built in {figures.get('fts5_build_s')} s, {figures.get('fts5_size_mb')} MB; {json.dumps(figures['fts5'])}",
        flush=True,
    )

    figures["ratio_whoosh_over_fts5"] = {
        run: {
            p: round(figures["whoosh"][run][p] / max(figures["fts5"][run][p], 0.001), 2)
            for p in ("p50", "p95", "max")
        }
        for run in ("a_top10", "b_highlights", "c_facets")
    }
    print(f"{'run':<14}{'whoosh p50/p95/max ms':>28}{'fts5 p50/p95/max ms':>28}{'ratio p95':>11}")
    for run in ("a_top10", "b_highlights", "c_facets"):
        w, f = figures["whoosh"][run], figures["fts5"][run]
        print(
            f"{run:<14}{w['p50']:>10}{w['p95']:>9}{w['max']:>9}{f['p50']:>10}{f['p95']:>9}{f['max']:>9}"
            f"{figures['ratio_whoosh_over_fts5'][run]['p95']:>11}"
        )
    figures["load_average_end"] = os.getloadavg()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
