"""KB_DATABASE_URL: the same library on a real PostgreSQL server gives the same store.

The fixture starts a throwaway PostgreSQL cluster (Debian's postgresql package, which
scripts/test installs) on a Unix socket in a temporary folder, and stops it afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import db, library
from kb.cli import cli
from kb.config import Settings
from kb.config import settings as make_settings


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail(
            "PostgreSQL server binaries are missing: apt-get install postgresql (scripts/test does)"
        )
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    # initdb refuses to run as root; the server runs as Debian's postgres user.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    import psycopg  # noqa: F401  (a test dependency: a missing one fails loudly)

    # Not under pytest's tmp_path: its parent is private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="kb-test-pg-"))
    data, sockets = folder / "data", folder / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
    binaries = _pg_bin()
    port = _free_port()
    subprocess.run(
        _as_postgres([str(binaries / "initdb"), "-D", str(data), "-U", "kb", "-A", "trust"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=''"
    subprocess.run(
        _as_postgres(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-l",
                str(folder / "log"),
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://kb@/postgres?host={sockets}&port={port}"
    finally:
        subprocess.run(
            _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_settings(postgres_url: str, tmp_path: Path) -> Iterator[Settings]:
    store = make_settings(data_dir=tmp_path / "pg-instance", database_url=postgres_url)
    yield store
    db.drop_schema(store)
    # Close the pooled connections now, while the server runs: psycopg warns about a
    # connection that is garbage-collected open.
    db.engine(store).dispose()


def test_postgres_store_equals_the_sqlite_store(pg_settings: Settings, settings: Settings) -> None:
    library.init(pg_settings)
    with db.session_scope(pg_settings) as session:
        on_postgres = library.export_records(session, with_kb=True)
    with db.session_scope(settings) as session:
        on_sqlite = library.export_records(session, with_kb=True)
    assert on_postgres == on_sqlite
    assert len(on_postgres) == 123


def test_the_command_line_honours_kb_database_url(pg_settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner(
        env={"KB_DATABASE_URL": pg_settings.database_url, "KB_DATA_DIR": str(pg_settings.data_dir)}
    )
    assert runner.invoke(cli, ["init"]).exit_code == 0
    bib = tmp_path / "one.bib"
    bib.write_text(
        "@article{pgtest2024, title={Massage on a server}, author={Doe, Jane}, year={2024},"
        " journal={J Test}, doi={10.1234/pg.2024}}\n"
    )
    result = runner.invoke(cli, ["import", "--json", str(bib)])
    assert json.loads(result.output)["added"] == 1
    found = json.loads(runner.invoke(cli, ["search", "server", "--json"]).output)
    assert [hit["key"] for hit in found["hits"]][:1] == ["pgtest2024"]
    assert runner.invoke(cli, ["doctor"]).exit_code == 0
    assert not (pg_settings.data_dir / "kb.sqlite3").exists()


def test_two_hosts_on_one_store_each_catch_up_their_own_index(
    pg_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write through one host is found by the other's server, from the store's change log."""
    from sqlmodel import delete

    from kb.models import Change
    from kb.search import writer
    from tests.test_index import RECORD
    from web import create_app

    monkeypatch.setattr(writer, "CATCH_UP_EVERY", 0.0)  # look at every search, not every 2 s
    library.init(pg_settings)
    other = make_settings(data_dir=tmp_path / "host-b", database_url=pg_settings.database_url)
    app = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": str(other.data_dir),
            "KB_DATABASE_URL": other.database_url,
            "KB_WARM_CITATIONS": False,
        }
    )
    build = app.extensions["kb.index_build"]
    if build is not None:  # host B's folder had no index: built at its start
        build.join(timeout=120)
    client = app.test_client()
    assert client.get("/api/search?q=zebrafish").get_json()["hits"] == []

    library.import_records(pg_settings, [(RECORD, "test")])  # through host A
    hits = client.get("/api/search?q=zebrafish").get_json()["hits"]
    assert [h["key"] for h in hits] == ["newman2024zebra"]
    with db.session_scope(other) as session:
        assert writer.status(other, session).ok  # host B's index is at the store's generation

    # A host further behind than the log reaches rebuilds (in the background) instead.
    second = {**RECORD, "id": "newman2025quokka", "title": "Quokka massage for zebrafish"}
    library.import_records(pg_settings, [(second, "test")])
    with db.session_scope(pg_settings) as session:
        session.exec(delete(Change))  # type: ignore[call-overload]
    with db.session_scope(other) as session:
        assert writer.catch_up(other, session) == "rebuilding"
    for thread in threading.enumerate():
        if thread.name == "kb-index-build":
            thread.join(timeout=120)
    hits = client.get("/api/search?q=zebrafish").get_json()["hits"]
    assert {h["key"] for h in hits} == {"newman2024zebra", "newman2025quokka"}
