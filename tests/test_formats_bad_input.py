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
        GOOD_BIB + "@article{b,\n  title = ,\n  year={2000}}\n",
        2,
        "b",
        "field 'title' has no value",
        id="field_without_value",
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
        "'type' is not a CSL type: 3",
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
        "'author' is not a list of names: 'Doe'",
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


# Where Zotero and JabRef read a file, it is read too: one warning line per oddity.
ODDITIES = [
    pytest.param(
        GOOD_BIB + "@article{good, title={Again}}\n",
        ["good", "gooda"],
        (2, "good", "key 'good' is used twice; this entry is 'gooda'"),
        id="key_used_twice_gets_a_suffix",
    ),
    pytest.param(
        GOOD_BIB + "@article{, title={No key}}\n",
        ["good", None],
        (2, None, "entry has no key; one is made from author, year and title"),
        id="entry_without_key",
    ),
    pytest.param(
        GOOD_BIB + "@article{title={No key or comma}, year = 2001}\n",
        ["good", None],
        (2, None, "entry has no key; one is made from author, year and title"),
        id="entry_without_key_or_comma",
    ),
    pytest.param(
        GOOD_BIB + "@article{c, title={x}, title={y}}\n",
        ["good", "c"],
        (2, "c", "field given twice: title; the first is kept"),
        id="field_given_twice_keeps_the_first",
    ),
    pytest.param(
        "Exported by hand\nnote = {stray}\n" + GOOD_BIB,
        ["good"],
        (1, None, "text outside any entry is skipped"),
        id="free_text_between_entries",
    ),
]


@pytest.mark.parametrize(("text", "keys", "warning"), ODDITIES)
def test_oddity_is_read_with_one_warning(
    text: str, keys: list[str | None], warning: tuple[int, str | None, str]
) -> None:
    result = formats.read_text(text, "bib", "in.bib")
    assert result.failures == []
    assert [r.get("id") for r in result.records] == keys
    assert [(w.line, w.key, w.error) for w in result.warnings] == [warning]


def test_field_given_twice_keeps_the_first_value() -> None:
    result = formats.read_text("@article{c, title={First}, title={Second}}\n", "bib")
    assert result.records[0]["title"] == "First"


@pytest.mark.parametrize(
    ("month", "number"),
    [("november", 11), ("Nov.", 11), ("{November}", 11), ("sept", 9), ("{März}", 3), ("mai", 5)],
)
def test_full_abbreviated_and_local_month_names_are_months(month: str, number: int) -> None:
    text = f"@article{{m, title={{T}}, year = 2001, month = {month}}}\n"
    result = formats.read_text(text, "bib")
    assert result.failures == []
    assert result.records[0]["issued"] == {"date-parts": [[2001, number]]}


def test_set_entries_are_skipped_and_listed() -> None:
    text = "@set{group, entryset = {a,b}}\n" + GOOD_BIB
    result = formats.read_text(text, "bib", "in.bib")
    assert [r["id"] for r in result.records] == ["good"]
    assert [(s.line, s.key) for s in result.skipped] == [(1, "group")]
    assert "@set" in result.skipped[0].error
    assert result.failures == []


def test_entry_with_only_a_key_is_a_record_without_title() -> None:
    result = formats.read_text(GOOD_BIB + "@misc{f}\n", "bib")
    assert [r.get("title") for r in result.records] == ["Fine", None]


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


# Input that once raised a traceback or took seconds: one failure line, or a record.
HOSTILE = [
    pytest.param(
        "@article{k, title = " + "{" * 248 + "x" + "}" * 248 + "}\n",
        "field 'title' nests braces 248 deep; at most 32 are read",
        id="248_nested_braces",
    ),
    pytest.param(
        "@article{k, title = {" + "a" * 1_000_000 + "{}}}\n",
        "field 'title' is 1,000,004 characters long; a field is read up to 50,000",
        id="1mb_field_with_one_brace_pair",
    ),
    pytest.param(
        "@article{k, title = {" + "a" * 1_000_000 + "{}\n",
        "Unexpectedly reached end of file",
        id="1mb_field_with_one_unclosed_brace",
    ),
]


@pytest.mark.parametrize(("text", "error"), HOSTILE)
def test_hostile_bibtex_is_one_failure_line(text: str, error: str) -> None:
    result = formats.read_text(text, "bib", "in.bib")
    assert result.records == []
    assert [(f.line, f.key) for f in result.failures] == [(1, "k")]
    assert error in result.failures[0].error


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (r"\href{https://example.org/a_b%20c}{the trial page}", "the trial page <https://"),
        (r"$\begin{array}{cc} a & b \end{array}$", "a"),
        (r"\begin{array}{cc} a & b \end{array}", "a"),
    ],
)
def test_latex_that_once_crashed_is_read(value: str, expected: str) -> None:
    result = formats.read_text(f"@article{{k, title={{T}}, note = {{{value}}}}}\n", "bib")
    assert result.failures == []
    assert expected in result.records[0]["note"]


def test_deeply_nested_json_is_one_line() -> None:
    with pytest.raises(FormatError) as caught:
        formats.read_text("[" * 993 + "]" * 993, "csl-json", "deep.json")
    assert caught.value.failure.message() == (
        "deep.json:1: nests arrays and objects 993 deep; CSL-JSON is read to 32"
    )


def test_ris_continuation_lines_belong_to_the_tag_before_them() -> None:
    text = (
        "TY  - JOUR\nID  - k1\nTI  - A title that\nwraps onto a second line\n"
        "DB  - PubMed via\nEndNote\nAN  - 123\nKW  - massage\nback pain\nER  - \n"
    )
    result = formats.read_text(text, "ris", "in.ris")
    assert result.failures == []
    (record,) = result.records
    assert record["title"] == "A title that wraps onto a second line"
    assert record["archive"] == "PubMed via EndNote"
    assert record["keywords"] == ["massage", "back pain"]


def test_medline_records_without_a_blank_line_between_them_are_two() -> None:
    text = "PMID- 1\nTI  - First\nFAU - One, Ann\nPMID- 2\nTI  - Second\nFAU - Two, Bob\n"
    result = formats.read_text(text, "medline", "in.txt")
    assert [(r["PMID"], r["title"]) for r in result.records] == [("1", "First"), ("2", "Second")]
    assert [[a["family"] for a in r["author"]] for r in result.records] == [["One"], ["Two"]]
    assert result.lines == [1, 4]
