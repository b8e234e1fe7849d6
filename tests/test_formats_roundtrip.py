"""Round trip: write → read gives back every field the format can carry.

Policy. CSL-JSON carries every record unchanged. BibTeX carries every field generated here:
names with particles and accents, organisation names, date ranges (in `date`), pages, DOIs,
keywords, and titles with LaTeX specials (& % $ # _ { } \\ ~ ^); its reader collapses runs of
white space, which the generator therefore never produces. RIS carries the same fields except
that a date keeps only its first part (RIS has one date per record) and a person with only a
family name is written "Family," so it is not taken for an organisation. Keywords never contain
`,` or `;` (BibTeX separates keywords with them) and organisation names never end in something
that looks like initials ("Acme AB" reads as a person in RIS).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from references import formats

LOWER = "abcdefghijklmnopqrstuvwxyzäöüéèøåçñ"
UPPER = "ABCDEFGHIJKLMNOPRSTUVWÄÖÜÉØ"


def _word(min_size: int = 1) -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, rest: first + rest,
        st.sampled_from(UPPER),
        st.text(alphabet=LOWER, min_size=min_size, max_size=8),
    )


person = st.builds(
    lambda family, given, particle: {
        k: v
        for k, v in (("family", family), ("given", given), ("non-dropping-particle", particle))
        if v
    },
    st.lists(_word(), min_size=1, max_size=2).map("-".join),
    st.one_of(st.none(), _word(), st.sampled_from(["J.", "K. J.", "Ann-Marie"])),
    st.one_of(st.none(), st.sampled_from(["van", "van der", "de", "von", "de la"])),
)
organisation = st.lists(_word(4), min_size=2, max_size=3).map(lambda w: {"literal": " ".join(w)})
name = st.one_of(person, person, organisation)

TITLE_CHARS = LOWER + UPPER + "0123456789&%$#_{}\\~^:?!'()-"
title = st.lists(
    st.text(alphabet=TITLE_CHARS, min_size=1, max_size=10), min_size=1, max_size=8
).map(" ".join)


@st.composite
def issued(draw: st.DrawFn) -> dict[str, Any]:
    year = draw(st.integers(1900, 2030))
    first = [year]
    if draw(st.booleans()):
        first.append(draw(st.integers(1, 12)))
        if draw(st.booleans()):
            first.append(draw(st.integers(1, 28)))
    parts = [first]
    if len(first) > 1 and draw(st.booleans()):
        parts.append([year, min(first[1] + 1, 12)])
    return {"date-parts": parts}


pages = st.one_of(
    st.integers(1, 999).map(str),
    st.tuples(st.integers(1, 500), st.integers(0, 99)).map(lambda p: f"{p[0]}-{p[0] + p[1]}"),
    st.integers(1, 99).map(lambda n: f"e{n}"),
)
doi = st.builds(
    lambda prefix, suffix: f"10.{prefix}/{suffix}",
    st.integers(1000, 99999),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=12).filter(
        lambda s: s[-1] not in ".-"
    ),
)
keyword = st.lists(st.text(alphabet=LOWER, min_size=1, max_size=8), min_size=1, max_size=3).map(
    " ".join
)


@st.composite
def record(draw: st.DrawFn) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": draw(st.from_regex(r"[a-z][a-z0-9]{2,10}", fullmatch=True)),
        "type": draw(st.sampled_from(["article-journal", "book", "chapter", "report"])),
        "title": draw(title),
        "author": draw(st.lists(name, min_size=1, max_size=4)),
        "issued": draw(issued()),
    }
    optional = {
        "container-title": title,
        "page": pages,
        "DOI": doi,
        "keywords": st.lists(keyword, min_size=1, max_size=4, unique=True),
        "volume": st.integers(1, 99).map(str),
        "abstract": title,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            rec[key] = draw(strategy)
    if rec["type"] == "book":
        rec.pop("container-title", None)
    return rec


def _carried(rec: dict[str, Any], format: str) -> dict[str, Any]:
    expected = dict(rec)
    if format == "ris":
        expected["issued"] = {"date-parts": rec["issued"]["date-parts"][:1]}
    return expected


@settings(max_examples=150, deadline=None)
@given(record())
def test_bibtex_round_trip(rec: dict[str, Any]) -> None:
    text = formats.write([rec], "bib")
    result = formats.read_text(text, "bib")
    assert result.failures == []
    assert result.records == [_carried(rec, "bib")]
    assert text.isascii()


@settings(max_examples=150, deadline=None)
@given(record())
def test_ris_round_trip(rec: dict[str, Any]) -> None:
    result = formats.read_text(formats.write([rec], "ris"), "ris")
    assert result.failures == []
    assert result.records == [_carried(rec, "ris")]


@settings(max_examples=100, deadline=None)
@given(st.lists(record(), max_size=3))
def test_csl_json_round_trip(recs: list[dict[str, Any]]) -> None:
    assert formats.read_text(formats.write(recs, "csl-json"), "csl-json").records == recs


def test_bibtex_parse_write_parse_keeps_every_field() -> None:
    text = (
        "@article{k, author={van der Berg, Jan}, title={{PEDro} \\& more}, journal={J},"
        " year={2009}, month=mar, date={2009-03/2009-04}, pages={1--2}, owner={me},"
        " file={:a\\_b.pdf:PDF}, timestamp={2020.01.01}}"
    )
    first = formats.read_text(text, "bib").records
    assert formats.read_text(formats.write(first, "bib"), "bib").records == first
    assert first[0]["custom"] == {
        "owner": "me",
        "file": ":a\\_b.pdf:PDF",
        "timestamp": "2020.01.01",
    }
