"""The web app's store: its settings, the store made ready at start, and a session per request."""

from __future__ import annotations

import threading

from flask import Flask, current_app, g
from sqlmodel import Session

from kb import citing, db, library
from kb import search as search_index
from kb.config import Settings
from kb.config import settings as make_settings


def settings() -> Settings:
    """Return the settings of the running app."""
    return current_app.extensions["kb.settings"]  # type: ignore[no-any-return]


def session() -> Session:
    """Return this request's session, opened on first use and closed at teardown."""
    if "kb_session" not in g:
        g.kb_session = Session(db.engine(settings()), expire_on_commit=False)
    return g.kb_session  # type: ignore[no-any-return]


def close_session(_error: BaseException | None = None) -> None:
    """Close this request's session, if one was opened."""
    opened = g.pop("kb_session", None)
    if opened is not None:
        opened.close()


def ensure_ready(store: Settings) -> threading.Thread | None:
    """Create and load the store if it does not exist, and bring the index up to date.

    A missing index is built by a background thread (seconds at 100,000 references): searches
    meanwhile answer 503 with Retry-After, never waiting inside the request. The thread is
    returned (None when the index was there and was brought up to date here).
    """
    if not db.store_exists(store):
        library.init(store)
    db.create_schema(store)  # a store made by an earlier version gets its new tables and indexes
    return search_index.prepare(store)


def init_app(app: Flask) -> None:
    """Resolve the app's settings, make the store ready and close sessions at teardown."""
    store = make_settings(
        data_dir=app.config.get("KB_DATA_DIR"), database_url=app.config.get("KB_DATABASE_URL")
    )
    app.extensions["kb.settings"] = store
    building = ensure_ready(store)
    app.extensions["kb.index_build"] = building
    app.teardown_appcontext(close_session)
    if app.config.get("KB_WARM_CITATIONS", True):
        # Warm the caches in the background, pages working meanwhile: the index's per-document
        # columns (~1 s at 100,000 references, else paid by the first search) and the default
        # bibliographies (the first visitor of a condition page would wait ~10 ms a reference).
        threading.Thread(target=_warm, args=(store, building), name="kb-warm", daemon=True).start()


def _warm(store: Settings, building: threading.Thread | None) -> None:
    citing.warm(store)
    if building is not None:
        building.join()
    search_index.warm(store)
