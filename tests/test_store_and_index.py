"""Store and index stay one: the index never runs ahead of the store, and what a kill between
the two commits leaves is reported by `kb doctor` and mended at the next open."""

from __future__ import annotations

import copy

import pytest
from click.testing import CliRunner
from sqlmodel import select
from whoosh.index import LockError

from kb import db, library, search
from kb.cli import cli
from kb.models import Reference
from kb.search import SearchParams, handle, writer
from tests.test_index import RECORD


def _keys(settings, q: str) -> list[str]:
    with db.session_scope(settings) as session:
        return [h["key"] for h in search.search(settings, session, SearchParams(q=q)).hits]


def _stored(settings, key: str) -> bool:
    with db.session_scope(settings) as session:
        return session.exec(select(Reference.key).where(Reference.key == key)).first() is not None


def _doctor(settings):
    return CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "doctor"])


def test_the_store_commits_before_the_index(settings, monkeypatch) -> None:
    """An index write that fails (as a kill would) after the store's commit leaves the index behind."""
    assert _keys(settings, "zebrafish") == []
    # Another process's index writer holds the lock: this import's index update cannot commit.
    monkeypatch.setattr(writer, "WRITE_WAIT", 0.05)
    other = handle.of(settings).index().writer()
    try:
        with pytest.raises(LockError):
            library.import_records(settings, [(RECORD, "test")])
    finally:
        other.cancel()
    assert _stored(settings, "newman2024zebra")  # the store committed first
    assert _keys(settings, "zebrafish") == []  # the index is behind, never ahead
    doctor = _doctor(settings)
    assert doctor.exit_code == 1
    assert "index is stale" in doctor.output and "kb reindex" in doctor.output
    with db.session_scope(settings) as session:  # the next open mends it
        assert search.ensure_current(settings, session)
    assert _keys(settings, "zebrafish") == ["newman2024zebra"]
    assert _doctor(settings).exit_code == 0


def test_an_index_ahead_of_the_store_is_mended_at_the_next_open(settings) -> None:
    """The old order (index first), killed before the store's commit: the store's generation wins."""
    ghost = copy.deepcopy(RECORD)
    with pytest.raises(RuntimeError), db.session_scope(settings) as session:
        session.add(Reference(key=ghost["id"], title=ghost["title"], type="article-journal"))
        db.bump_generation(session)
        session.flush()
        search.sync(settings, session, [ghost["id"]])  # the index commits ...
        raise RuntimeError("killed")  # ... and the store's transaction never does
    assert not _stored(settings, "newman2024zebra")
    # What the kill left: a document the store lacks (looked up without a search, which would
    # start mending it).
    assert handle.of(settings).searcher().document_number(key="newman2024zebra") is not None

    doctor = _doctor(settings)
    assert doctor.exit_code == 1
    assert "index is ahead of the store" in doctor.output
    with db.session_scope(settings) as session:
        status = search.status(settings, session)
        assert status.generation == status.store_generation + 1
    # The next open (`kb search` here; the web app at start-up) mends it before searching.
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "search", "zebrafish"])
    assert result.exit_code == 0 and "newman2024zebra" not in result.output
    assert _keys(settings, "zebrafish") == []
    assert _doctor(settings).exit_code == 0


def test_a_running_searcher_mends_an_index_ahead_of_the_store_by_itself(settings) -> None:
    """A server already running when the index got ahead rebuilds it in the background."""
    import threading

    with pytest.raises(RuntimeError), db.session_scope(settings) as session:
        session.add(Reference(key=RECORD["id"], title=RECORD["title"]))
        db.bump_generation(session)
        session.flush()
        search.sync(settings, session, [RECORD["id"]])
        raise RuntimeError("killed")
    _keys(settings, "zebrafish")  # the first search looks at the store's generation
    for thread in threading.enumerate():
        if thread.name == "kb-index-build":
            thread.join(timeout=120)
    assert _keys(settings, "zebrafish") == []
    assert _doctor(settings).exit_code == 0


def test_a_missing_index_is_built_at_start_up_while_searches_answer_503(settings) -> None:
    """No request waits for a build: a search meanwhile is a 503 with Retry-After, then a 200."""
    import shutil

    from web import create_app

    shutil.rmtree(settings.index_dir)
    handle.forget(settings)
    lock = writer.build_lock(settings)
    lock.acquire()  # the start-up build waits here, so the test sees the window it leaves
    try:
        app = create_app(
            {
                "TESTING": True,
                "KB_DATA_DIR": str(settings.data_dir),
                "KB_DATABASE_URL": settings.database_url,
                "KB_WARM_CITATIONS": False,
            }
        )
        build = app.extensions["kb.index_build"]
        assert build is not None and build.is_alive()
        client = app.test_client()
        page = client.get("/search?q=tmj")
        assert page.status_code == 503
        assert int(page.headers["Retry-After"]) > 0
        assert "text/html" in page.content_type
        assert b"being built" in page.data and b"Getting ready" in page.data
        api = client.get("/api/search?q=tmj")
        assert api.status_code == 503 and int(api.headers["Retry-After"]) > 0
        body = api.get_json()
        assert body["ok"] is False and body["status"] == 503 and "being built" in body["error"]
        assert client.get("/").status_code == 200  # pages that need no index still answer
        assert not settings.index_dir.exists()  # the request built nothing
    finally:
        lock.release()
    build.join(timeout=120)
    assert not build.is_alive()
    found = client.get("/api/search?q=tmj")
    assert found.status_code == 200 and found.get_json()["hits"][0]["key"] == "tmj-tmd"
    assert client.get("/search?q=tmj").status_code == 200
