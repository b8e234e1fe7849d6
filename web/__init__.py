"""The Flask face of the knowledge base: pages and their JSON twins over kb/ and references/."""

from __future__ import annotations

from typing import Any

from flask import Flask

# A pasted reference list of a thousand entries is well under this; anything larger is refused
# with a 413 before it is read.
MAX_BODY = 1024 * 1024


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app: read settings, make the store and index ready, register the pages."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        KB_DATA_DIR=None,
        KB_DATABASE_URL=None,
        MAX_CONTENT_LENGTH=MAX_BODY,
        MAX_FORM_MEMORY_SIZE=MAX_BODY,
        JSON_SORT_KEYS=False,
    )
    # KB_DATA_DIR and KB_DATABASE_URL fall back to the environment in kb.config.settings.
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from web import (
        checker,
        citations,
        guards,
        pages,
        reference_pages,
        responses,
        search_pages,
        store,
    )

    for module in (
        store,
        responses,
        guards,
        pages,
        search_pages,
        reference_pages,
        citations,
        checker,
    ):
        module.init_app(app)
    return app
