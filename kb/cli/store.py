"""Commands that fill, write out and check the store: init, import, export, reindex, doctor, serve."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from kb import db, library
from kb.cli import _echo_json, _require_store, _settings, cli
from kb.config import CONTENT_DIR

EXPORT_FORMATS = ("bib", "ris", "csl-json")


@cli.command()
@click.option("--reset", is_flag=True, help="Delete the store and index first (asks to confirm).")
@click.option("--yes", is_flag=True, help="Do not ask before --reset deletes the store.")
@click.pass_context
def init(ctx: click.Context, reset: bool, yes: bool) -> None:
    """Create the store, load kb/content and build the search index.

    \b
    Example:
      kb init
      kb init --reset --yes
    """
    settings = _settings(ctx)
    if db.store_exists(settings) and not reset:
        raise click.ClickException(
            f"a store already exists at {settings.data_dir}: use `kb init --reset` to start again"
        )
    if reset and db.store_exists(settings) and not yes:
        click.confirm(
            f"Delete every reference in {settings.data_dir} and load the shipped library?",
            abort=True,
        )
    started = time.perf_counter()
    try:
        report = library.init(settings, reset=reset)
    except library.ImportRejected as error:
        raise click.ClickException(str(error)) from None
    seconds = time.perf_counter() - started
    click.echo(f"store: {settings.database_url}")
    click.echo(f"{report.summary()} from {CONTENT_DIR} in {seconds:.1f} s")


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report, but write nothing.")
@click.option(
    "--skip-bad", is_flag=True, help="Import the good records and list the rejected ones."
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse what is otherwise imported with a warning: entries without a key or title, "
    "a key or field given twice, biblatex @set entries.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def import_(
    ctx: click.Context,
    paths: tuple[Path, ...],
    dry_run: bool,
    skip_bad: bool,
    strict: bool,
    as_json: bool,
) -> None:
    """Import BibTeX, RIS, PubMed MEDLINE (.nbib/.txt) or CSL-JSON files.

    All or nothing: one bad record rejects the import and the store is unchanged,
    unless --skip-bad is given. What Zotero and JabRef import with a shrug (an entry
    without a key or a title, a key used twice in a file) is imported with one
    warning line each; --strict refuses it instead. Two imports into one data folder
    take turns: the second waits for the first.

    \b
    Example:
      kb import zotero-export.bib pubmed-massage.nbib
      kb import --dry-run embase.ris
      kb import --strict biblatex-examples.bib
      kb import --skip-bad --json library.json
    """
    settings = _settings(ctx)
    _require_store(settings)
    reading = library.read_all(paths)
    records, failures = reading.records, reading.failures
    options = {
        "dry_run": dry_run,
        "skip_bad": skip_bad,
        "strict": strict,
        "warnings": reading.warnings,
        "skipped": reading.skipped,
    }
    try:
        if as_json or len(records) < 200:
            report = library.import_records(settings, records, failures, **options)
        else:
            with click.progressbar(
                length=len(records),
                label="importing",
                show_pos=True,
                show_eta=True,
                file=sys.stderr,
            ) as bar:
                report = library.import_records(
                    settings,
                    records,
                    failures,
                    progress=lambda done: bar.update(done - bar.pos),
                    **options,
                )
    except db.ImportBusy as error:
        raise click.ClickException(str(error)) from None
    except library.ImportRejected as error:
        if as_json:
            _echo_json({**error.report.as_json(), "added": 0, "updated": 0, "duplicates": 0})
            ctx.exit(1)
        for failure in error.report.rejected[1:]:
            click.echo(f"rejected: {failure.message()}", err=True)
        raise click.ClickException(str(error)) from None
    if as_json:
        _echo_json(report.as_json())
        return
    for failure in report.rejected:
        click.echo(f"rejected: {failure.message()}", err=True)
    for failure in report.warnings:
        click.echo(f"warning: {failure.message()}", err=True)
    for failure in report.skipped:
        click.echo(f"skipped: {failure.message()}", err=True)
    for conflict in report.conflicts:
        click.echo(
            f"kept the library's {conflict.field} of {conflict.key}: {conflict.library!r} "
            f"(the file says {conflict.incoming!r})",
            err=True,
        )
    click.echo(report.summary())


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="Write one file in this format instead of the content folder's files.",
)
@click.pass_context
def export(ctx: click.Context, directory: Path | None, fmt: str | None) -> None:
    """Write the library out: to DIR as kb/content's files, or one format to standard output.

    \b
    Example:
      kb export                        BibTeX to standard output
      kb export --format csl-json > library.json
      kb export my-library/            library.bib, evidence.toml, conditions.toml, modalities.toml
      kb export out/ --format ris      out/library.ris
    """
    from references import formats

    settings = _settings(ctx)
    _require_store(settings)
    with db.session_scope(settings) as session:
        if directory is not None and fmt is None:
            for path in library.export_content(session, directory):
                click.echo(f"wrote {path}")
            return
        text = formats.write(library.export_records(session), fmt or "bib")
    if directory is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"library.{ {'bib': 'bib', 'ris': 'ris', 'csl-json': 'json'}[fmt or 'bib'] }"
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the store.

    \b
    Example:
      kb reindex
    """
    from kb import search as search_index

    settings = _settings(ctx)
    _require_store(settings)
    started = time.perf_counter()
    with (
        db.session_scope(settings) as session,
        click.progressbar(length=1, label="indexing", file=sys.stderr) as bar,
    ):

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        documents = search_index.rebuild(settings, session, progress=progress)
    click.echo(f"indexed {documents} documents in {time.perf_counter() - started:.1f} s")


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check that the store and the index agree, and say how to mend what does not.

    \b
    Example:
      kb doctor
    """
    from kb import search as search_index

    settings = _settings(ctx)
    if not db.store_exists(settings):
        raise click.ClickException(f"no store at {settings.data_dir}: run `kb init`")
    with db.session_scope(settings) as session:
        status = search_index.status(settings, session)
    click.echo(
        f"store: {settings.database_url} (generation {status.store_generation}, "
        f"{status.references} references)"
    )
    click.echo(
        f"index: {settings.index_dir} (generation {status.index_generation}, "
        f"{status.documents} documents)"
    )
    if status.problems:
        for problem in status.problems:
            click.echo(f"problem: {problem}", err=True)
        ctx.exit(1)
    click.echo("ok: store and index agree")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the web app (Flask's server; use gunicorn for many users, see README).

    \b
    Example:
      kb serve --port 8000
    """
    from web import create_app

    settings = _settings(ctx)
    app = create_app(
        {"KB_DATA_DIR": str(settings.data_dir), "KB_DATABASE_URL": settings.database_url}
    )
    click.echo(f"serving the massage evidence library on http://{host}:{port}/")
    app.run(host=host, port=port)
