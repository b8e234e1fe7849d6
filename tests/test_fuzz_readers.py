"""A seeded mutator over the real fixture files: every reader, no traceback, no silent drop.

Each input is a real export (tests/fixtures/formats) with a few random edits: a span deleted,
duplicated or moved, a line cut short, characters that mean something to the format inserted
(braces, quotes, `@`, `=`, tag prefixes, JSON brackets). Reading it must end in records,
failures or a FormatError, never another exception; and every entry the text still starts
(`@article{`, `TY  -`, `PMID-`, a JSON list item) must be a record, a failure, a skipped
entry or a warning's line, or lie inside the text of a failure that swallowed it.

Run as a script for the figures of a longer run: python tests/test_fuzz_readers.py 2000
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from references import formats
from references.record import FormatError, ReadResult

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
SOURCES = {
    "bib": [
        "xampl.bib",
        "xampl_strings.bib",
        "jabref_library.bib",
        "zotero_better_bibtex.bib",
        "scopus_export.bib",
    ],
    "ris": ["endnote_pubmed.ris", "scopus_export.ris"],
    "medline": ["pubmed_medline.txt"],
    "csl-json": ["zotero_csl.json"],
}
# A slice of biblatex-examples.bib (the whole file reads in about a second) joins the BibTeX.
BIBLATEX_LINES = (1, 400)
SPECIAL = {
    "bib": ["{", "}", "@", ",", "=", '"', "#", "\\", "%", "\n", "@article{", "~", "$", "\\href{"],
    "ris": ["\n", "TY  - ", "ER  - ", "AU  - ", "  - ", "PY  - 2009/13/40", "\nER  - \n"],
    "medline": ["\n", "PMID- ", "\nPMID- 9\n", "TI  - ", "      ", "DP  - 2009 Spring", "-"],
    "csl-json": ["{", "}", "[", "]", ",", '"', ":", "null", "5", '"date-parts": [[', "\\u"],
}
STARTS = {
    # bibtexparser, like biber, reads any block whose type starts with "comment" as a comment.
    "bib": re.compile(
        r"^[ \t]*@\s*(?!string\b|preamble\b|comment)\w+\s*[{(]", re.IGNORECASE | re.MULTILINE
    ),
    "ris": re.compile(r"^TY  -", re.MULTILINE),
    "medline": re.compile(r"^PMID-", re.MULTILINE),
}


def source_texts() -> dict[str, list[str]]:
    texts = {
        fmt: [(FIXTURES / name).read_text(encoding="utf-8") for name in names]
        for fmt, names in SOURCES.items()
    }
    lines = (FIXTURES / "biblatex-examples.bib").read_text(encoding="utf-8").splitlines()
    texts["bib"].append("\n".join(lines[BIBLATEX_LINES[0] - 1 : BIBLATEX_LINES[1]]) + "\n")
    return texts


def mutate(text: str, fmt: str, rng: random.Random) -> str:
    """Return text with one to four random edits."""
    for _ in range(rng.randint(1, 4)):
        if not text:
            break
        i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        j = min(j, i + rng.choice([1, 5, 40, 400]))
        edit = rng.randrange(6)
        if edit == 0:
            text = text[:i] + text[j:]
        elif edit == 1:
            text = text[:j] + text[i:j] + text[j:]
        elif edit == 2:
            text = text[:i] + rng.choice(SPECIAL[fmt]) * rng.choice([1, 1, 2, 40]) + text[i:]
        elif edit == 3:
            text = text[:i]
        elif edit == 4:
            k = rng.randrange(len(text) + 1)
            piece, rest = text[i:j], text[:i] + text[j:]
            k = min(k, len(rest))
            text = rest[:k] + piece + rest[k:]
        else:
            text = (
                text[:i] + chr(rng.choice([0x00, 0x7F, 0xA0, 0x2028, 0xFEFF, 0x1F600])) + text[i:]
            )
    return text


def silent_drops(text: str, fmt: str, result: ReadResult) -> list[int]:
    """Return the lines of entries the text starts that the result does not account for."""
    if fmt == "csl-json":
        try:
            data = json.loads(text.lstrip("\ufeff"))
        except (ValueError, RecursionError):
            return []
        items = data if isinstance(data, list) else [data]
        found = len(result.records) + len(result.failures)
        return [] if found == len(items) else [0]
    lines = {1 + text.count("\n", 0, m.start()) for m in STARTS[fmt].finditer(text)}
    # A warning that text between entries was skipped names its line: that is not silent.
    seen = set(result.lines) | {f.line for f in result.failures + result.skipped + result.warnings}
    spans = [
        (f.line - f.raw.count("\n"), f.line + f.raw.count("\n")) for f in result.failures if f.raw
    ]
    return sorted(
        line for line in lines if line not in seen and not any(a <= line <= b for a, b in spans)
    )


def fuzz(fmt: str, count: int, seed: int) -> Counter[str]:
    """Read ``count`` mutated inputs in one format; return the tally, raise on a bad outcome."""
    rng = random.Random(seed)
    sources = source_texts()[fmt]
    tally: Counter[str] = Counter()
    for n in range(count):
        text = mutate(rng.choice(sources), fmt, rng)
        tally["inputs"] += 1
        try:
            result = formats.read_text(text, fmt, "fuzz")
        except FormatError as error:
            assert "\n" not in error.failure.error, (n, error)
            tally["file refused"] += 1
            continue
        except Exception as error:
            raise AssertionError(f"{fmt} input {n} (seed {seed}) raised {error!r}") from error
        drops = silent_drops(text, fmt, result)
        assert not drops, f"{fmt} input {n} (seed {seed}): entries on lines {drops} dropped"
        tally["with failures"] += bool(result.failures)
        tally["failures"] += len(result.failures)
        tally["records"] += len(result.records)
        for failure in result.failures:
            assert "\n" not in failure.error, (n, failure)
    return tally


@pytest.mark.parametrize("fmt", sorted(SOURCES))
def test_mutated_real_files_never_raise_and_never_drop_an_entry(fmt: str) -> None:
    tally = fuzz(fmt, 150, seed=12)
    assert tally["inputs"] == 150
    assert tally["records"] > 0 and tally["failures"] + tally["file refused"] > 0


if __name__ == "__main__":
    import logging

    logging.disable(logging.CRITICAL)  # bibtexparser logs every block it cannot parse
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for name in sorted(SOURCES):
        print(name, dict(fuzz(name, runs, seed=2026)))
