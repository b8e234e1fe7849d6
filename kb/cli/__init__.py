"""The ``kb`` command: a thin click layer over the library service, search and citations.

Click is imported only in this package; each command calls library functions and prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from kb import db
from kb.config import Settings
from kb.config import settings as load_settings


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(dict).setdefault("settings", load_settings())


def _require_store(settings: Settings) -> None:
    if not db.store_exists(settings):
        raise click.ClickException(f"no store at {settings.data_dir}: run `kb init` first")
    db.create_schema(settings)  # a store made by an earlier version gets its new tables and indexes


def _echo_json(document: object) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="KB_DATA_DIR",
    help="Folder of the store and index (default ./instance; env KB_DATA_DIR).",
)
@click.version_option(package_name="massage-evidence")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None) -> None:
    """The massage evidence library: studies, conditions, techniques and citations.

    \b
    Start with:
      kb init                      create the store and load the shipped library
      kb search "low back pain"    find studies
      kb cite sherman2009randomized --style apa
    """
    ctx.ensure_object(dict)["settings"] = load_settings(data_dir=data_dir)


def main() -> None:
    """Run the command line."""
    cli(prog_name="kb")


from kb.cli import lookup, store  # noqa: F401  (each module registers its commands)
