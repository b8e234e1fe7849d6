"""Bad input: every entry a reader cannot read becomes a failure with its line, key and error."""

from __future__ import annotations

from pathlib import Path

import pytest

from references import formats
from references.record import FormatError

GOOD_BIB = "@article{good, title={Fine}, year={2009}}\n"

CASES = [
    pytest.param(
        "bib",
        "@article{a, title={Unclosed\n\n" + GOOD_BIB,
        1,
        "a",
        "Unexpected block start",
        id="entry_without_closing_brace",
    ),
    pytest.param(
        "bib",
        GOOD_BIB + "@article{good, title={Again}}\n",
        2,
        "good",
        "duplicate key 'good'",
        id="duplicate_key",
    ),
    pytest.param(
        "bib",
        GOOD_BIB + "@article{, title={No key}}\n",
        2,
        None,
        "entry has no key",
        id="entry_without_key",
    ),
    pytest.param(
        "bib",
        GOOD_BIB + "@article{b,\n  title = ,\n  year={2000}}\n",
        2,
        "b",
        "field 'title' has no value",
        id="field_without_value",
    ),
    pytest.param(
        "bib",
        GOOD_BIB + "@article{c, title={x}, title={y}}\n",
        2,
        "c",
        "field given twice: title",
        id="field_given_twice",
    ),
    pytest.param(
        "bib",
        GOOD_BIB + "@article{d, journal = jnl}\n",
        2,
        "d",
        "undefined @string macro 'jnl'",
        id="undefined_macro",
    ),
    pytest.param(
        "bib",
        GOOD_BIB + "@article{e, title {x}}\n",
        2,
        "e",
        "Expected a `=`",
        id="field_without_equals",
    ),
    pytest.param(
        "bib", GOOD_BIB + "@article{f}\n", 2, "f", "entry has no fields", id="entry_without_fields"
    ),
    pytest.param(
        "ris",
        "TY  - JOUR\nTI  - Ok\nER  - \n\nTY  - JOUR\nTI  - Cut off\n",
        5,
        None,
        "record has no ER (end of file reached)",
        id="ris_record_without_er",
    ),
    pytest.param(
        "ris",
        "TY  - JOUR\nTI  - A\nTY  - JOUR\nTI  - B\nER  - \n",
        1,
        None,
        "record has no ER before the next TY on line 3",
        id="ris_er_missing_before_next_ty",
    ),
    pytest.param(
        "ris",
        "TI  - No type\nAU  - Doe, J\nER  - \n",
        1,
        None,
        "record has no TY",
        id="ris_record_without_ty",
    ),
    pytest.param(
        "ris",
        "TY  - JOUR\nID  - k1\nAU  - Doe, J\nstray text\nER  - \n",
        4,
        "k1",
        "untagged line after AU",
        id="ris_stray_line_in_record",
    ),
    pytest.param(
        "ris",
        "stray text\nTY  - JOUR\nTI  - A\nER  - \n",
        1,
        None,
        "outside any record",
        id="ris_stray_line_outside_record",
    ),
    pytest.param(
        "medline",
        "PMID- 1\nTI  - A\nstray line\n\nPMID- 2\nTI  - B\n",
        3,
        "1",
        "neither a tag nor a continuation",
        id="medline_stray_line",
    ),
    pytest.param(
        "medline",
        "PMID- 1\nAB  - No title\n",
        1,
        "1",
        "record has no title",
        id="medline_without_title",
    ),
    pytest.param(
        "medline", "TI  - No PMID\n", 1, None, "record has no PMID", id="medline_without_pmid"
    ),
    pytest.param(
        "csl-json",
        '[\n  {"id": "a", "type": "book"},\n  {"id": "b", "title": "x"}\n]',
        3,
        "b",
        "item has no 'type'",
        id="csl_item_without_type",
    ),
    pytest.param(
        "csl-json",
        '[\n  {"id": "a", "type": 3}\n]',
        2,
        "a",
        "item 'type' is not a string",
        id="csl_type_not_string",
    ),
    pytest.param(
        "csl-json",
        '[\n  {"id": "a", "type": "book"},\n  "text"\n]',
        3,
        None,
        "not an object",
        id="csl_item_not_object",
    ),
    pytest.param(
        "csl-json",
        '[\n  {"id": "a", "type": "book", "author": "Doe"}\n]',
        2,
        "a",
        "not a list of name objects",
        id="csl_author_not_list",
    ),
]


@pytest.mark.parametrize(("format", "text", "line", "key", "error"), CASES)
def test_bad_entry_becomes_failure(
    format: str, text: str, line: int, key: str | None, error: str
) -> None:
    result = formats.read_text(text, format, "in.txt")
    assert len(result.failures) == 1, result.failures
    failure = result.failures[0]
    assert (failure.line, failure.key) == (line, key)
    assert error in failure.error
    assert "\n" not in failure.error
    assert failure.raw


def test_good_entries_next_to_bad_ones_are_kept() -> None:
    result = formats.read_text(
        GOOD_BIB + "@article{a, title={Unclosed\n\n" + GOOD_BIB.replace("good", "also"), "bib"
    )
    assert [r["id"] for r in result.records] == ["good", "also"]


FILE_CASES = [
    pytest.param("missing.bib", None, "does not exist", 1, id="missing_path"),
    pytest.param("empty.bib", b"", "is empty", 1, id="empty_file"),
    pytest.param("blank.ris", b"\n  \n", "is empty", 1, id="blank_file"),
    pytest.param(
        "latin.bib",
        b"@article{a,\n title={M\xfcller}}\n",
        "is not UTF-8 (byte 0xfc on line 2)",
        2,
        id="not_utf8",
    ),
    pytest.param(
        "bad.json", b'[\n {"id": "a",\n}\n]', "is not valid JSON", 3, id="json_syntax_error"
    ),
    pytest.param("object.json", b'"just a string"', "is not CSL-JSON", 1, id="json_not_list"),
    pytest.param(
        "notes.bib",
        b"just some notes\n",
        "is not BibTeX: no @entry found",
        1,
        id="bib_without_entries",
    ),
    pytest.param("notes.ris", b"just some notes\n", "is not RIS", 1, id="ris_without_records"),
    pytest.param(
        "notes.dat",
        b"just some notes\n",
        "is not BibTeX, RIS, MEDLINE or CSL-JSON",
        1,
        id="unknown_content",
    ),
]


@pytest.mark.parametrize(("name", "data", "error", "line"), FILE_CASES)
def test_unreadable_file_raises(
    tmp_path: Path, name: str, data: bytes | None, error: str, line: int
) -> None:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    with pytest.raises(FormatError) as caught:
        formats.read_path(path)
    assert error in caught.value.failure.error
    assert caught.value.failure.line == line


def test_directory_and_oversize(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FormatError, match="is a directory"):
        formats.read_path(tmp_path)
    big = tmp_path / "big.bib"
    with big.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    with pytest.raises(FormatError, match="is 50.0 MB; the largest file import takes is 20 MB"):
        formats.read_path(big)


def test_declared_latin1_is_read(tmp_path: Path) -> None:
    path = tmp_path / "old.bib"
    path.write_bytes(b"% Encoding: ISO8859_1\n@article{a, title={M\xfcller}}\n")
    assert formats.read_path(path).records[0]["title"] == "Müller"


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.bib"
    path.write_bytes("\ufeff@article{a, title={Müller}}\n".encode())
    assert formats.read_path(path).records[0]["title"] == "Müller"
