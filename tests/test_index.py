"""The index follows the store: imports show at once; stale or missing indexes are found and rebuilt."""

from __future__ import annotations

import shutil

import pytest

from kb import db, library, search
from kb.search import SearchParams, engine, handle, writer

RECORD = {
    "id": "newman2024zebra",
    "type": "article-journal",
    "title": "Zebrafish massage for quokka-related neck strain",
    "author": [{"family": "Newman", "given": "Ada"}],
    "container-title": "Journal of Unlikely Trials",
    "issued": {"date-parts": [[2024]]},
    "kb": {
        "design": "rct",
        "evidence": [
            {
                "condition": "chronic-neck-pain",
                "direct": True,
                "comparator": "sham",
                "results": [{"modality": "swedish", "finding": "supports"}],
                "finding": "supports",
            }
        ],
    },
}


def _keys(settings, q: str) -> list[str]:
    with db.session_scope(settings) as session:
        return [h["key"] for h in search.search(settings, session, SearchParams(q=q)).hits]


def test_import_shows_in_search_at_once(settings) -> None:
    assert _keys(settings, "zebrafish") == []
    handle.of(settings).searcher()  # an open searcher must see the new commit
    library.import_records(settings, [(RECORD, "test")])
    assert _keys(settings, "zebrafish") == ["newman2024zebra"]
    assert "newman2024zebra" in _keys(settings, "author:newman quokka")
    with db.session_scope(settings) as session:
        assert search.status(settings, session).ok


def test_fresh_index_is_current(settings, session) -> None:
    status = search.status(settings, session)
    assert status.ok and status.generation == status.store_generation
    assert status.references_indexed == status.references > 0
    assert not search.ensure_current(settings, session)


def test_stale_index_is_detected_and_rebuilt(settings) -> None:
    with db.session_scope(settings) as session:
        db.bump_generation(session)
    with db.session_scope(settings) as session:
        status = search.status(settings, session)
        assert any("stale" in p and "kb reindex" in p for p in status.problems)
        assert search.ensure_current(settings, session)
        assert search.status(settings, session).ok


def test_missing_index_is_detected_and_rebuilt(settings) -> None:
    shutil.rmtree(settings.index_dir)
    handle.forget(settings)
    with db.session_scope(settings) as session:
        status = search.status(settings, session)
        assert not status.exists and "missing" in status.problems[0]
        assert search.ensure_current(settings, session)
    assert _keys(settings, "tmj")[0] == "tmj-tmd"


# Whoosh leaks the handle of a segment file it fails to read; the leak is its, not ours.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_unreadable_index_is_detected(settings) -> None:
    handle.forget(settings)
    # Segments are written as separate files (.trm, .pst, .col …), not one compound .seg file.
    segment_files = [p for p in settings.index_dir.glob("MAIN_*.*") if p.suffix != ".toc"]
    assert segment_files
    for path in segment_files:
        path.write_bytes(b"garbage")
    with db.session_scope(settings) as session:
        status = search.status(settings, session)
        assert status.problems
        assert search.ensure_current(settings, session)
        assert search.status(settings, session).ok


def test_rebuild_reports_progress_and_count(settings, session) -> None:
    seen = []
    count = search.rebuild(
        settings, session, progress=lambda done, total: seen.append((done, total))
    )
    assert count == search.status(settings, session).documents
    assert seen[-1][0] == seen[-1][1]


def test_failed_rebuild_keeps_the_old_index(settings, session, monkeypatch) -> None:
    def broken(*_args, **_kwargs):
        raise RuntimeError("store went away")
        yield

    monkeypatch.setattr(writer, "reference_docs", broken)
    try:
        search.rebuild(settings, session)
    except RuntimeError:
        pass
    assert _keys(settings, "tmj")[0] == "tmj-tmd"


def test_updated_reference_replaces_its_document(settings) -> None:
    from sqlmodel import select

    from kb.models import Reference

    handle.of(settings).searcher()  # the open searcher must drop the old document's hits and counts
    with db.session_scope(settings) as session:
        ref = session.exec(select(Reference).where(Reference.key == "sherman2009randomized")).one()
        ref.title = "Quokka handling " + ref.title
        ref.design = "cohort"
        db.bump_generation(session)
        session.flush()
        search.sync(settings, session, [ref.key])
    assert _keys(settings, "quokka") == ["sherman2009randomized"]
    with db.session_scope(settings) as session:
        data = search.search(settings, session, SearchParams(q="quokka")).as_json()
        assert data["total"] == 1 and data["hits"][0]["design"] == "cohort"
        assert {e["value"]: e["count"] for e in data["facets"]["design"]} == {"cohort": 1}
        everything = search.search(settings, session, SearchParams(design=["cohort"])).as_json()
        assert "sherman2009randomized" in [h["key"] for h in everything["hits"]]
        status = search.status(settings, session)
        assert status.ok and status.references_indexed == status.references


def test_one_sync_reindexes_many_references(settings) -> None:
    from sqlmodel import select

    from kb.models import Reference

    with db.session_scope(settings) as session:
        keys = list(session.exec(select(Reference.key)))
        db.bump_generation(session)
        session.flush()
        search.sync(settings, session, keys)
        assert search.status(settings, session).ok
    assert _keys(settings, "tmj")[0] == "tmj-tmd"


def test_an_index_of_another_schema_is_rebuilt_not_read(settings, session) -> None:
    """An index written by an older version of the program has other fields: rebuild it."""
    import json as json_module

    meta_path = settings.index_dir / handle.META_FILE
    meta = json_module.loads(meta_path.read_text())
    meta["schema"] = "title:TEXT"
    meta_path.write_text(json_module.dumps(meta))
    problems = search.status(settings, session).problems
    assert problems == ["index was built by another version of this program: run `kb reindex`"]
    assert search.ensure_current(settings, session) is True
    assert search.status(settings, session).ok
    assert search.search(settings, session, SearchParams(q="tmj")).total > 0


RANKING_QUERIES = [
    "massage",
    "neck pain",
    "trigger point headache",
    "massage anxiety",
    "title:cancer fatigue",
    "author:field massage",
    "massage NOT cancer",
    '"low back pain" massage',
    "massag* anxiety",
    "massag~1 anxiety",
    "title:neck AND NOT pain",
    "topic:fibromyalgia sleep",
    "year:>2010 reflexology",
    "zzzunknownword",
]


def _both_rankings(view: engine.View, text: str, allowed: set[int] | None = None):
    q = view.parse(text)
    fast = view.ranked(q, allowed, 25)
    slow = view.ranked_by_matcher(q, allowed, 25)
    return fast, slow


def test_ranking_without_a_matcher_tree_equals_whoosh_scoring(settings, session) -> None:
    from sqlmodel import select

    from kb.models import Reference

    # An updated reference leaves a deleted document behind in its old segment.
    ref = session.exec(select(Reference).where(Reference.key == "sherman2009randomized")).one()
    ref.title = "Massage for neck pain and anxiety " + ref.title
    db.bump_generation(session)
    session.flush()
    search.sync(settings, session, [ref.key])
    view = search.view(settings, session)
    assert view.deleted
    for text in RANKING_QUERIES:
        fast, slow = _both_rankings(view, text)
        assert [d for d, _ in fast] == [d for d, _ in slow], text
        assert [s for _, s in fast] == pytest.approx([s for _, s in slow], rel=1e-9), text
        allowed = set(sorted(view.matching(view.parse(text)))[::3])
        fast, slow = _both_rankings(view, text, allowed)
        assert [d for d, _ in fast] == [d for d, _ in slow], text
        assert not view.deleted & {d for d, _ in fast}


@pytest.mark.parametrize("few", [engine.FEW_CANDIDATES, 0])
def test_array_matching_finds_exactly_what_whoosh_matchers_find(
    settings, session, monkeypatch, few
) -> None:
    """search() takes its matches and scores from one array pass: Whoosh's matchers must agree.

    Phrase positions are read for a few candidates alone, or whole and cached: both ways.
    """
    monkeypatch.setattr(engine, "FEW_CANDIDATES", few)
    handle.of(settings).postings.clear()
    view = search.view(settings, session)
    for text in [
        *RANKING_QUERIES,
        '"massage therapy"',
        '"trigger point"',
        '"pain in the neck"',
        'title:"low back pain"',
        '"the massage"',
        '"myofascial release" OR "deep tissue"',
    ]:
        q = view.parse(text)
        expected = set(view.searcher.docs_for_query(q)) - view.deleted
        assert view.matching(q) == expected, text
        found = view.match(q)
        assert not found.score[~found.mask].any(), text


def test_decoded_columns_are_kept_beside_their_segment_and_a_bad_one_is_redone(
    settings, session
) -> None:
    handle.forget(settings)
    first = search.view(settings, session)
    sides = sorted(settings.index_dir.glob("*.kbparts"))
    assert sides and all(p.stem.startswith("MAIN_") for p in sides)
    keys = list(first.columns.key)
    sides[0].write_bytes(b"not a pickle")
    handle.forget(settings)
    again = search.view(settings, session)
    assert again.columns.key == keys
    assert sides[0].read_bytes() != b"not a pickle"


def test_many_small_updates_do_not_pile_up_segments(settings, session) -> None:
    from sqlmodel import func, select

    from kb.models import Reference

    keys = session.exec(select(Reference.key).limit(writer.FOLD_AT + 6)).all()
    most = 0
    for key in keys:
        ref = session.exec(select(Reference).where(Reference.key == key)).one()
        ref.title = ref.title + " (revised)"
        db.bump_generation(session)
        session.flush()
        search.sync(settings, session, [key])
        most = max(most, len(search.view(settings, session).segments))
    assert most <= writer.FOLD_AT + 1  # the original segment(s) and at most FOLD_AT small ones
    assert len(search.view(settings, session).segments) < writer.FOLD_AT
    hits = search.search(settings, session, SearchParams(q="revised"))
    assert hits.total == len(keys)
    status = search.status(settings, session)
    assert status.ok, status.problems
    assert (
        status.references_indexed == session.exec(select(func.count()).select_from(Reference)).one()
    )
    assert search.search(settings, session, SearchParams(q="tmj")).hits[0]["kind"] == "condition"


def test_a_rebuild_by_another_process_is_noticed(settings) -> None:
    """A rebuilt index counts its commits from the start again: the build id tells them apart."""
    import subprocess
    import sys
    from pathlib import Path

    from sqlmodel import select

    from kb.models import Reference

    assert _keys(settings, "quokka") == []
    opened = handle.of(settings).searcher()
    with db.session_scope(settings) as session:
        ref = session.exec(select(Reference).where(Reference.key == "sherman2009randomized")).one()
        ref.title = "Quokka handling " + ref.title
        db.bump_generation(session)
    code = (
        "import sys\n"
        "from kb import config, db, search\n"
        "s = config.settings(data_dir=sys.argv[1], database_url=sys.argv[2])\n"
        "with db.session_scope(s) as session:\n"
        "    search.rebuild(s, session)\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    subprocess.run(
        [sys.executable, "-c", code, str(settings.data_dir), settings.database_url],
        check=True,
        env={"PYTHONPATH": root, "PATH": ""},
    )
    assert _keys(settings, "quokka") == ["sherman2009randomized"]
    assert handle.of(settings).searcher() is not opened


def test_leftovers_of_killed_rebuilds_are_removed(settings, session) -> None:
    import os

    parent, name = settings.index_dir.parent, settings.index_dir.name
    dead = [parent / f".{name}-building-999999999", parent / f".{name}-old-999999998"]
    running = parent / f".{name}-building-{os.getppid()}"  # a live process: a build under way
    for path in (*dead, running):
        path.mkdir()
        (path / "MAIN_x.seg").write_bytes(b"x" * 100)
    assert search.status(settings, session).ok
    assert not any(p.exists() for p in dead)
    assert running.exists()
