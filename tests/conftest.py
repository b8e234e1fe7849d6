"""Shared fixtures: every test gets its own store and index under tmp_path, built by ``kb init``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.config import Settings
from kb.config import settings as make_settings

FIXTURES = Path(__file__).parent / "fixtures"
# The verified facts the shipped library is made from, copied into the repository (see ORIGIN.md).
SHARED_DATA = FIXTURES / "shared-data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture(scope="session")
def _initialised_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build one initialised store once; tests get a copy (init takes seconds, a copy milliseconds)."""
    from kb import library

    folder = tmp_path_factory.mktemp("template")
    library.init(make_settings(data_dir=folder, database_url=f"sqlite:///{folder / 'kb.sqlite3'}"))
    return folder


@pytest.fixture
def settings(_initialised_template: Path, tmp_path: Path) -> Settings:
    """Return settings for a fresh copy of the shipped library (store and index)."""
    folder = tmp_path / "instance"
    shutil.copytree(_initialised_template, folder)
    return make_settings(data_dir=folder, database_url=f"sqlite:///{folder / 'kb.sqlite3'}")


@pytest.fixture
def empty_settings(tmp_path: Path) -> Settings:
    """Return settings for a data folder with no store yet."""
    folder = tmp_path / "empty"
    return make_settings(data_dir=folder, database_url=f"sqlite:///{folder / 'kb.sqlite3'}")


@pytest.fixture
def session(settings: Settings):
    from kb import db

    with db.session_scope(settings) as s:
        yield s


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    """Return the web app over the test's own store and index."""
    from web import create_app

    return create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": str(settings.data_dir),
            "KB_DATABASE_URL": settings.database_url,
            "KB_WARM_CITATIONS": False,  # no background thread outliving the test's folder
        }
    )


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()
