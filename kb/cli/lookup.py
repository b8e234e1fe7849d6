"""Commands that read the library: search, cite, styles, check-refs."""

from __future__ import annotations

import click

from kb import db
from kb.cli import _echo_json, _require_store, _settings, cli


def _open(ctx: click.Context):  # type: ignore[no-untyped-def]
    settings = _settings(ctx)
    _require_store(settings)
    return settings


@cli.command()
@click.argument("query", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option(
    "--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Hits to show."
)
@click.option(
    "--design", multiple=True, help="Only this design (rct, meta-analysis, ...); repeatable."
)
@click.option("--condition", multiple=True, help="Only this condition slug; repeatable.")
@click.option("--modality", multiple=True, help="Only this modality slug; repeatable.")
@click.option("--finding", multiple=True, help="Only this finding (supports, no-difference, ...).")
@click.option("--year-from", type=int, help="Published in or after this year.")
@click.option("--year-to", type=int, help="Published in or before this year.")
@click.option(
    "--sort",
    type=click.Choice(["relevance", "newest", "oldest", "level"]),
    default="relevance",
    show_default=True,
    help="Order of the hits.",
)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Page of hits.")
@click.pass_context
def search(
    ctx: click.Context, query: tuple[str, ...], as_json: bool, limit: int, **filters: object
) -> None:
    """Search the library the way the web does.

    \b
    Words, "phrases", AND/OR/NOT, -word, and fields: author: title: journal: year:2009
    year:2005-2015 design:rct condition: modality: finding: ; PubMed's tags: neck[ti]
    pain[tiab] sherman[au] "journal of pain"[ta] 2005:2015[dp]; a DOI or PMID finds its reference.
    \b
    Example:
      kb search tmj
      kb search 10.1097/AJP.0b013e31818b7912
      kb search 'anxiety -cancer'
      kb search 'author:moraska' --json
      kb search "low back pain" --design meta-analysis --sort newest
    """
    from kb import search as kb_search
    from kb.search import ensure_current

    settings = _open(ctx)
    args: dict[str, object] = {"q": " ".join(query), "per_page": str(limit)}
    for name, value in filters.items():
        if value not in (None, (), ""):
            args[name] = [str(v) for v in value] if isinstance(value, tuple) else str(value)
    try:
        params = kb_search.SearchParams.from_args(args)
    except kb_search.BadSearch as error:
        raise click.ClickException(str(error)) from None
    with db.session_scope(settings) as session:
        ensure_current(settings, session)
        result = kb_search.search(settings, session, params).as_json()
    if as_json:
        _echo_json(result)
        return
    if result.get("notice"):
        click.echo(f"note: {result['notice']}", err=True)
    if result.get("suggestion"):
        click.echo(f"did you mean: {result['suggestion']}")
    if result.get("topics"):
        # Sorted by year or design, the matching condition and technique pages come apart.
        click.echo("pages on these words:")
        for hit in result["topics"]:
            click.echo(f"  {hit['key']:<34} {hit['kind']:<18} {hit['title']}")
    noun = "result" if result["total"] == 1 else "results"
    click.echo(f"{result['total']} {noun} for {result['query']!r}")
    for hit in result["hits"]:
        year = f" ({hit['year']})" if hit.get("year") else ""
        label = hit["kind"] if hit["kind"] != "reference" else hit.get("design") or "reference"
        click.echo(f"  {hit['key']:<34} {label:<18} {hit['title']}{year}")


@cli.command()
@click.argument("keys", nargs=-1, required=True)
@click.option(
    "--style",
    default="apa",
    show_default=True,
    help="A CSL style name or alias (apa, ama, vancouver, chicago, harvard, mla, ieee ...).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "html", "bibtex", "ris", "csl-json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--locator",
    "locators",
    multiple=True,
    metavar="PAGE",
    help="Also print the in-text citation at this page (or other --label); repeat it for "
    "successive citations, so a note style prints Ibid. for the second.",
)
@click.option(
    "--label",
    default="page",
    show_default=True,
    help="What the locator counts: page, chapter, section, figure, table, paragraph ...",
)
@click.option("--in-text", is_flag=True, help="Also print the in-text citation.")
@click.pass_context
def cite(
    ctx: click.Context,
    keys: tuple[str, ...],
    style: str,
    fmt: str,
    locators: tuple[str, ...],
    label: str,
    in_text: bool,
) -> None:
    """Format citations of references by key, one entry per line in the style's order.

    With --locator or --in-text, the in-text citation follows the entries, one line per
    citation ("In text:", or "Note N:" in a note style).

    \b
    Example:
      kb cite sherman2009randomized
      kb cite sherman2009randomized furlan2015massage --style vancouver
      kb cite moraska2015myofascial --format bibtex
      kb cite sherman2009randomized --locator 235            (Sherman et al., 2009, p. 235)
      kb cite sherman2009randomized --style chicago-note-bibliography --locator 233 --locator 235
    """
    from kb import citing
    from references.styles import UnknownStyleError

    settings = _open(ctx)
    wants_in_text = bool(locators) or in_text
    if wants_in_text and fmt not in citing.CSL_FORMATS:
        raise click.ClickException("--locator and --in-text need --format text or html")
    try:
        with db.session_scope(settings) as session:
            citation = citing.cite(session, keys, style, fmt)
            cites = []
            if wants_in_text:
                references = citing.load_references(session, keys)
                cites = citing.cite_in_text(references, style, locators or (None,), label, fmt)
    except (citing.UnknownKeys, UnknownStyleError, ValueError) as error:
        raise click.ClickException(str(error).strip("'\"")) from None
    click.echo(citation.text, nl=False)
    note = citing.is_note_style(citation.style) if citation.style and cites else False
    for n, found in enumerate(cites, start=1):
        click.echo(f"Note {n}: {found.citation}" if note else f"In text: {found.citation}")


@cli.command()
@click.argument("word", required=False, default="")
@click.pass_context
def styles(ctx: click.Context, word: str) -> None:
    """List citation styles, or find them by a word of their name or title.

    \b
    Example:
      kb styles              the common styles
      kb styles vancouver
      kb styles "physical therapy"
    """
    from kb import citing
    from references.styles import find_styles

    found = find_styles(word) if word else citing.style_choices()
    if not found:
        raise click.ClickException(f"no citation style matches {word!r}: try a shorter word")
    for info in found:
        click.echo(f"{info.name:<50} {info.title}")
    if not word:
        click.echo("(and 10,000 more: `kb styles WORD` finds them)")


@cli.command("check-refs")
@click.argument("source", required=False, default="-", type=click.File("r", encoding="utf-8"))
@click.option("--style", default="apa", show_default=True, help="Style of the corrected list.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def check_refs(ctx: click.Context, source, style: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Check a pasted reference list against the library, and reprint it in a style.

    Each entry is matched (a DOI or PMID agrees, or title, first author and two of journal,
    year, volume and first page), possible (candidates, what agrees and what does not) or not
    in the library. A matched entry lists every difference from the library's record; only
    matched entries are replaced in the reprint, the rest stay as written, marked.

    \b
    Example:
      kb check-refs my-references.txt --style vancouver
      pbpaste | kb check-refs - --json
    """
    from kb import checking
    from references.checker import PasteTooLarge
    from references.styles import UnknownStyleError

    settings = _open(ctx)
    try:
        text = source.read()
    except UnicodeDecodeError as error:
        raise click.ClickException(
            f"{source.name}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    from kb.search import ensure_current

    try:
        with db.session_scope(settings) as session:
            ensure_current(settings, session)
            report = checking.check(settings, session, text, style)
    except (PasteTooLarge, UnknownStyleError) as error:
        raise click.ClickException(str(error).strip("'\"")) from None
    document = report.as_json()
    if as_json:
        _echo_json(document)
        return
    if not document["entries"]:
        raise click.ClickException(document.get("message") or "no references found in the text")
    for number, entry in enumerate(document["entries"], 1):
        status = entry["status"]
        key = f" {entry['key']}" if entry.get("key") else ""
        click.echo(f"{number}. {status}{key}: {entry['text'][:90]}")
        for diff in entry.get("differences") or []:
            click.echo(
                f"     {diff['field']}: pasted {diff['pasted']!r}, library {diff['library']!r}"
            )
        if status == "possible":
            names = ", ".join(f"{c['key']} ({c['score']:.0f})" for c in entry["candidates"][:3])
            click.echo(f"     candidates: {names}")
        if entry.get("hint"):
            click.echo(f"     {entry['hint']}")
    if document.get("limited") or document.get("skipped"):
        click.echo(document["message"], err=True)  # what was left out, on standard error
    click.echo("")
    formatted = document["formatted"]
    click.echo(formatted, nl=not formatted.endswith("\n"))
