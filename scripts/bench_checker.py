"""Benchmark the reference-list checker: a 100-entry pasted list against N synthetic references.

The pasted list mixes AMA, APA, Harvard and MLA entries rendered from library records with
deliberate faults (a misspelt author, a wrong year, a missing subtitle, a wrong first page, an
abbreviated journal), a few carrying their DOI, entries that are not in the library, and near
misses that must never be matched: another paper by the same first author in the same year, the
journal report of a Cochrane review in the library, and the protocol paper of a trial in the
library. "wrong matches" counts entries matched to a record they are not.
``find_candidates`` stands in for the knowledge base's index: a DOI table, then an inverted index
over title words (no scan of the library per entry). Target: <= 5 s for 100 entries against
100,000 references.

With ``--store DIR`` the library is a knowledge base's data folder instead (``kb.sqlite3`` and its
Whoosh ``index/``, e.g. the one ``scripts/bench_search.py --dir DIR`` builds at 100,000 references),
and candidates come from ``kb.checking`` exactly as ``kb check-refs`` finds them: identifiers in the
store, then the index's rarest-words query. Opening the index (decoding its columns) is timed
apart from the check.

Run: .venv/bin/python scripts/bench_checker.py [--size N] [--entries N] [--store DIR]. Ends with
one JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from references.checker import PastedEntry, check_references
from references.identifiers import doi_key, fold

try:
    from bench_corpus import synthetic_records  # type: ignore[import-not-found]
except ImportError:  # the shared corpus generator is not there: a small one of our own

    def synthetic_records(n: int, seed: int = 42) -> list[dict[str, Any]]:
        """Return n deterministic journal-article records."""
        rng = random.Random(seed)
        words = [
            f"{a}{b}"
            for a in ("ma", "ther", "pa", "ne", "ba", "sle", "fi", "tri")
            for b in (
                "ssage",
                "apy",
                "in",
                "ck",
                "ck",
                "ep",
                "bro",
                "gger",
                "lax",
                "sor",
                "dex",
                "min",
            )
        ]
        families = ["Sherman", "Cherkin", "Moraska", "Field", "Furlan", "Ezzo", "Yang", "Nguyen"]
        return [
            {
                "id": f"syn{number}",
                "type": "article-journal",
                "title": " ".join(rng.choices(words, k=rng.randint(9, 15))).capitalize(),
                "author": [
                    {"family": rng.choice(families), "given": "A."}
                    for _ in range(rng.randint(1, 5))
                ],
                "container-title": f"Journal of {rng.choice(words).capitalize()} {rng.choice(words).capitalize()}",
                "issued": {"date-parts": [[rng.randint(1990, 2026)]]},
            }
            for number in range(n)
        ]


COMMON_SHARE = 0.05  # words in more than this share of titles do not narrow the search


class TitleIndex:
    """An inverted index over title words: the stand-in for the knowledge base's search index."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.by_doi = {doi_key(r["DOI"]): r for r in records if r.get("DOI")}
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, record in enumerate(records):
            for word in set(fold(record["title"]).split()):
                self.postings[word].append(i)
        self.common = COMMON_SHARE * len(records)

    def find_candidates(self, entry: PastedEntry, limit: int = 8) -> list[dict[str, Any]]:
        """Return the records sharing the rarest title words with the entry, identifiers first."""
        found = []
        if entry.doi and (record := self.by_doi.get(doi_key(entry.doi))):
            found.append(record)
        weights: Counter[int] = Counter()
        for word in set(fold(entry.title or entry.clean).split()):
            posting = self.postings.get(word)
            if posting and len(posting) <= self.common:
                idf = math.log(len(self.records) / len(posting))
                for i in posting:
                    weights[i] += idf
        found.extend(self.records[i] for i, _ in weights.most_common(limit))
        return found


def _journal_abbreviation(name: str) -> str:
    return " ".join(w[:4] if len(w) > 4 else w for w in name.replace("Journal of", "J").split())


def _render(record: dict[str, Any], style: str, fault: str) -> str:
    """Return a record as a writer would paste it in a style, with one deliberate fault."""
    families = [a["family"] for a in record["author"]]
    title, journal = record["title"], record["container-title"]
    year, volume, issue, page = (
        record["issued"]["date-parts"][0][0],
        record["volume"],
        record["issue"],
        record["page"],
    )
    if fault == "author":
        families[0] = families[0][:-1] + ("e" if families[0][-1] != "e" else "a")
    elif fault == "year":
        year += 1
    elif fault == "subtitle":
        title = " ".join(title.split()[:-3])
    elif fault == "page":
        first, last = page.split("-")
        page = f"{int(first) + 9}-{last}"
    elif fault == "journal":
        journal = _journal_abbreviation(journal)
    doi = f" doi:{record['DOI']}" if fault == "doi" else ""
    if style == "ama":
        names = ", ".join(f"{f} A" for f in families[:6])
        return f"{names}. {title}. {journal}. {year};{volume}({issue}):{page}.{doi}"
    if style == "apa":
        names = ", ".join(f"{f}, A." for f in families)
        return f"{names} ({year}). {title}. {journal}, {volume}({issue}), {page}.{doi}"
    if style == "harvard":
        names = ", ".join(f"{f}, A." for f in families)
        return f"{names}, {year}. {title}. {journal}, {volume}({issue}), pp.{page}.{doi}"
    names = f"{families[0]}, Anna" + (", et al" if len(families) > 1 else "")
    return f'{names}. "{title}." {journal}, vol. {volume}, no. {issue}, {year}, pp. {page}.{doi}'


NEAR_MISSES = ("same-author-year", "journal-report", "protocol")
COCHRANE = "Cochrane Database of Systematic Reviews"


def near_miss(record: dict[str, Any], kind: str, stranger: dict[str, Any]) -> dict[str, Any]:
    """Return another paper that resembles a library record: it must never be matched to it.

    same-author-year: another paper by the same first author in the same year;
    journal-report: the journal report of a Cochrane review (same title and authors, another
    journal, year, volume and pages); protocol: the protocol paper of a trial in the library.
    """
    year = record["issued"]["date-parts"][0][0]
    if kind == "same-author-year":
        return {
            **stranger,
            "author": [record["author"][0], *stranger["author"][1:]],
            "issued": {"date-parts": [[year]]},
            "volume": "7",
            "issue": "2",
            "page": "101-109",
        }
    if kind == "journal-report":
        return {
            **record,
            "container-title": "Spine",
            "issued": {"date-parts": [[year - 3]]},
            "volume": "34",
            "issue": "16",
            "page": "1669-1684",
        }
    return {
        **record,
        "title": f"{record['title']}: protocol for a randomized controlled trial",
        "container-title": "Trials",
        "issued": {"date-parts": [[year - 2]]},
        "volume": "12",
        "issue": "1",
        "page": "158-166",
    }


def pasted_list(
    records: list[dict[str, Any]], entries: int, seed: int = 3
) -> tuple[str, list[str | None], list[str | None]]:
    """Return a numbered pasted list, the key each entry should match (None: not in library),
    and which entries are near misses (their kind, else None)."""
    rng = random.Random(seed)
    strangers = synthetic_records(entries, seed=seed + 1000)
    cochrane = [r for r in records if r.get("container-title") == COCHRANE]
    lines, expected, misses = [], [], []
    faults = ["none", "author", "year", "subtitle", "page", "journal", "doi"]
    styles = ["ama", "apa", "harvard", "mla"]
    for n in range(entries):
        if n % 5 == 4:  # one in five is not in the library
            stranger = dict(strangers[n], volume="1", issue="1", page="1-9")
            lines.append(_render(stranger, styles[n % 4], "none"))
            expected.append(None)
            misses.append(None)
            continue
        if n % 10 == 2:  # one in ten resembles a library record but is another paper
            kind = NEAR_MISSES[(n // 10) % len(NEAR_MISSES)]
            original = rng.choice(cochrane if kind == "journal-report" and cochrane else records)
            lines.append(_render(near_miss(original, kind, strangers[n]), styles[n % 4], "none"))
            expected.append(None)
            misses.append(kind)
            continue
        record = rng.choice(records)
        lines.append(_render(record, styles[n % 4], faults[n % len(faults)]))
        expected.append(record["id"])
        misses.append(None)
    text = "References\n" + "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))
    return text, expected, misses


def near_miss_counts(report: Any, misses: list[str | None]) -> dict[str, int]:
    """Return how many near misses there were and how many of them were (wrongly) matched."""
    listed = [(e.status, kind) for e, kind in zip(report.entries, misses) if kind]
    return {
        "near_misses": len(listed),
        "near_misses_matched": sum(1 for status, _ in listed if status == "matched"),
        "near_misses_possible": sum(1 for status, _ in listed if status == "possible"),
    }


def judge(report: Any, expected: list[str | None]) -> tuple[int, int]:
    """Return how many entries the checker got right, and how many it matched to a wrong key."""
    got = [(e.status, e.key) for e in report.entries]
    correct = sum(
        1
        for (status, key), want in zip(got, expected)
        if (key == want if want else status != "matched")
    )
    wrong = sum(
        1 for (status, key), want in zip(got, expected) if status == "matched" and key != want
    )
    return correct, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="references in the library")
    parser.add_argument("--entries", type=int, default=100, help="entries in the pasted list")
    parser.add_argument("--store", type=Path, help="a kb data folder to check against (its index)")
    args = parser.parse_args()
    if args.store:
        main_store(args.store, args.entries)
        return

    started = time.perf_counter()
    rng = random.Random(5)
    records = synthetic_records(args.size, seed=42)
    for i, record in enumerate(records):  # the synthetic corpus has no locators: give it some
        first = rng.randint(1, 900)
        record.update(
            volume=str(rng.randint(1, 60)),
            issue=str(rng.randint(1, 12)),
            page=f"{first}-{first + rng.randint(3, 20)}",
            DOI=f"10.5555/bench.{i}",
        )
        if i % 200 == 0:  # some Cochrane reviews, whose journal reports are near misses
            record.update({"container-title": COCHRANE, "page": f"CD{i:06d}"})
    generated = time.perf_counter() - started
    started = time.perf_counter()
    index = TitleIndex(records)
    indexed = time.perf_counter() - started

    text, expected, misses = pasted_list(records, args.entries)
    started = time.perf_counter()
    report = check_references(text, index.find_candidates, style="apa")
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    check_references(text, index.find_candidates, style="apa")
    warm = time.perf_counter() - started

    correct, wrong_matches = judge(report, expected)
    counts = report.summary()
    result = {
        "bench": "checker",
        "records": args.size,
        "entries": len(report.entries),
        "seconds": round(seconds, 3),
        "warm_seconds": round(warm, 3),
        "per_entry_ms": round(1000 * warm / max(1, len(report.entries)), 2),
        "target_seconds": 5.0,
        "within_target": seconds <= 5.0,
        "matched": counts["matched"],
        "possible": counts["possible"],
        "not_found": counts["not-found"],
        "correct": correct,
        "wrong_matches": wrong_matches,
        **near_miss_counts(report, misses),
        "generate_seconds": round(generated, 2),
        "index_seconds": round(indexed, 2),
        "load": round(os.getloadavg()[0], 2),
    }
    print(
        f"{args.entries} pasted entries against {args.size:,} references: {seconds:.2f} s "
        f"(warm {warm:.2f} s); {counts}; {correct} right, wrong matches: {wrong_matches} "
        f"({result['near_misses']} near misses, {result['near_misses_matched']} matched); "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(json.dumps(result))


def main_store(folder: Path, entries: int) -> None:
    """Check a pasted list against a knowledge base's store and index, as `kb check-refs` does."""
    from kb import checking, db, library
    from kb import index as kb_index
    from kb.config import settings as make_settings

    store = make_settings(data_dir=folder)
    with db.session_scope(store) as session:
        started = time.perf_counter()
        records = [r for r in library.export_records(session) if r.get("title") and r.get("author")]
        loaded = time.perf_counter() - started
        rng = random.Random(5)
        for record in records:  # the pasted entries need locators; the store may lack them
            first = rng.randint(1, 900)
            record.setdefault("volume", str(rng.randint(1, 60)))
            record.setdefault("issue", str(rng.randint(1, 12)))
            record.setdefault("page", f"{first}-{first + rng.randint(3, 20)}")
            record.setdefault("DOI", f"10.5555/not-in-the-store.{rng.randint(1, 10**9)}")
            record.setdefault("container-title", "Journal of Massage Research")
        db.create_schema(store)  # as the app and `kb` do at start: the lower(doi) index
        started = time.perf_counter()
        rebuilt = kb_index.ensure_current(store, session)
        kb_index.view(store, session)
        opened = time.perf_counter() - started
        text, expected, misses = pasted_list(records, entries)
        started = time.perf_counter()
        report = checking.check(store, session, text)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        checking.check(store, session, text)
        warm = time.perf_counter() - started
    correct, wrong = judge(report, expected)
    counts = report.summary()
    print(
        f"{len(report.entries)} pasted entries against {len(records):,} references in {folder}: "
        f"{seconds:.2f} s (warm {warm:.2f} s; opening the index {opened:.1f} s"
        f"{', rebuilt' if rebuilt else ''}); {counts}; {correct} right, {wrong} wrong matches; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(
        json.dumps(
            {
                "bench": "checker",
                "mode": "store",
                "records": len(records),
                "entries": len(report.entries),
                "seconds": round(seconds, 3),
                "warm_seconds": round(warm, 3),
                "open_index_seconds": round(opened, 2),
                "load_records_seconds": round(loaded, 2),
                "target_seconds": 5.0,
                "within_target": seconds <= 5.0,
                "matched": counts["matched"],
                "possible": counts["possible"],
                "not_found": counts["not-found"],
                "correct": correct,
                "wrong_matches": wrong,
                **near_miss_counts(report, misses),
                "load": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
