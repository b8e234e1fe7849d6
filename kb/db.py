"""The one owner of the database engine: it creates it and hands out sessions."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import delete, event
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateIndex
from sqlmodel import Session, SQLModel, create_engine, select

from kb import models
from kb.config import Settings


@lru_cache(maxsize=8)
def engine_for(database_url: str) -> Engine:
    """Return the engine for a database URL, created once per process."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(database_url, pool_pre_ping=True)


def engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return engine_for(settings.database_url)


def create_schema(settings: Settings) -> None:
    """Create the tables, and the indexes of existing tables, that do not exist yet."""
    bind = engine(settings)
    SQLModel.metadata.create_all(bind)
    # IF NOT EXISTS rather than checkfirst: reflecting an expression index only warns.
    with bind.begin() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for index in table.indexes:
                connection.execute(CreateIndex(index, if_not_exists=True))


def drop_schema(settings: Settings) -> None:
    SQLModel.metadata.drop_all(engine(settings))


def store_exists(settings: Settings) -> bool:
    """Tell whether the store has been created (its tables exist)."""
    if settings.is_sqlite and not (settings.data_dir / "kb.sqlite3").exists():
        return False
    from sqlalchemy import inspect

    return inspect(engine(settings)).has_table("reference")


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any error."""
    with Session(engine(settings), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def generation(session: Session) -> int:
    """Return the store's generation: a number bumped by every write."""
    row = session.get(models.StoreMeta, "generation")
    return int(row.value) if row else 0


CHANGES_KEPT = 1000  # generations of the change log kept; a host further behind rebuilds


def bump_generation(session: Session, keys: Iterable[str] = ()) -> int:
    """Advance the store's generation by one, log the references it changed; return it.

    The row is locked (``FOR UPDATE`` on PostgreSQL) so that two hosts writing at once make two
    generations, not one. A generation logged without keys (a vocabulary load) cannot be
    caught up from the log: hosts behind it rebuild.
    """
    row = session.get(models.StoreMeta, "generation", with_for_update=True)
    value = (int(row.value) if row else 0) + 1
    if row:
        row.value = str(value)
    else:
        session.add(models.StoreMeta(name="generation", value=str(value)))
    for key in dict.fromkeys(keys):
        session.add(models.Change(generation=value, key=key))
    if value % 100 == 0:  # keep the log bounded
        session.execute(
            delete(models.Change).where(models.Change.generation <= value - CHANGES_KEPT)  # type: ignore[arg-type]
        )
    return value


def changes_since(session: Session, generation: int, upto: int) -> list[str] | None:
    """Return the keys changed after ``generation`` up to ``upto``; None when the log does not
    hold every generation between (pruned, or a write that logged no keys)."""
    rows = session.exec(
        select(models.Change.generation, models.Change.key).where(
            models.Change.generation > generation,  # type: ignore[arg-type]
            models.Change.generation <= upto,  # type: ignore[arg-type]
        )
    ).all()
    if len({g for g, _ in rows}) != upto - generation:
        return None
    return list(dict.fromkeys(k for _, k in rows))


IMPORT_LOCK = "import.lock"
IMPORT_WAIT = 600.0  # seconds a second import waits for the first before it gives up


class ImportBusy(Exception):
    """Another import into the same data folder held the lock for longer than we wait."""


@contextmanager
def import_lock(settings: Settings, wait: float = IMPORT_WAIT) -> Iterator[None]:
    """Hold the data folder's import lock: a second import waits for the first to finish.

    Without it two imports of one file both find no duplicates, and the second fails on a key
    the first wrote. The lock is a file lock (``flock``), released by the kernel when its
    process dies, so a killed import never leaves the folder locked.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / IMPORT_LOCK
    with path.open("a") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ImportBusy(
                        f"another import into {settings.data_dir} has run for over {wait:.0f} s;"
                        " try again when it ends"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = [
    "bump_generation",
    "changes_since",
    "create_schema",
    "engine",
    "generation",
    "select",
    "session_scope",
]
