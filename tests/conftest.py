"""Shared fixtures: every test gets its own store and index under tmp_path, built by ``kb init``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.config import Settings
from kb.config import settings as make_settings

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).parent / "fixtures"


def _shared_data() -> Path:
    # CI clones the project next to a copy of shared/; fall back to the sibling of the checkout.
    for candidate in (SHARED_DATA, Path(__file__).resolve().parents[1].parent / "shared" / "data"):
        if candidate.exists():
            return candidate
    raise RuntimeError("shared/data is missing beside the project")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _shared_data()


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
