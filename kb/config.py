"""Where the store and the index live: ``KB_DATA_DIR`` and ``KB_DATABASE_URL``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CONTENT_DIR = Path(__file__).parent / "content"


@dataclass(frozen=True)
class Settings:
    """The data folder, the database URL and the index folder of one knowledge base."""

    data_dir: Path
    database_url: str
    index_dir: Path

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def settings(data_dir: str | Path | None = None, database_url: str | None = None) -> Settings:
    """Return the settings from the arguments, else the environment, else ``./instance``."""
    folder = Path(data_dir or os.environ.get("KB_DATA_DIR") or "instance").resolve()
    url = database_url or os.environ.get("KB_DATABASE_URL") or f"sqlite:///{folder / 'kb.sqlite3'}"
    return Settings(data_dir=folder, database_url=url, index_dir=folder / "index")
