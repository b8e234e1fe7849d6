"""Real reference lists copied from public pages: how they split, what they match.

Each fixture under tests/fixtures/checker/ starts with a "# origin:" line naming the page it was
copied from. Every list must split into the references it holds; no entry that is not in the
library may ever be matched, and library records pasted correctly must be matched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_checker import _fixture_text, find, records  # noqa: F401 - fixtures shared

from references.checker import check_references
from references.cite import format_bibliography
from references.record import Record
from references.refparse import parse_entry
from references.refsplit import split_entries

FIXTURES = Path(__file__).parent / "fixtures" / "checker"


# name: (entries, matched keys in order, how many possible), checked by hand against
# tests/fixtures/shared-data/library.json.
LISTS = {
    # Intro line before a numbered AMA list; "10.Navarro" style numbers; none in the library.
    "pineconephysio-ama.txt": (9, [], 0),
    # APA hanging list hard-wrapped, a URL broken at "dry-" / "needling"; none in the library.
    "unlv-apa-hanging.txt": (8, [], 0),
    # A PDF dump: page title, a stray fragment with the next entry glued on, a "40 | Page"
    # footer. Furlan 2009 (Spine) is another version of the library's Cochrane review: possible.
    "bothell-pdf.txt": (9, ["cherkin2001randomized"], 1),
    # APA one a line, no numbers; Crawford and Boyd 2016 are library records with their DOIs.
    "rmtprimarycare-apa.txt": (7, ["crawford2016impact", "boyd2016impact"], 0),
    # Numbered, "View at Google Scholar · View at Scopus" after each entry.
    "hindawi-link-noise.txt": (3, ["ezzo2007massage"], 0),
    # A whole blog page: title, series line, introduction, a bulleted list of journal names,
    # section headings, then four author-date entries with their PubMed link on the next line.
    "rmtedu-whole-page.txt": (4, [], 0),
    # Lists kept from before: sealff (APA, bracketed), fedprac (AMA), massagemyotherapy (Harvard).
    "sealff-apa.txt": (4, [], 3),
    "fedprac-ama.txt": (9, ["cherkin2011comparison"], 0),
    "massagemyotherapy-harvard.txt": (8, ["kumar2013effectiveness"], 0),
}


@pytest.mark.parametrize("name", list(LISTS))
def test_real_list_splits_and_matches(find, name: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    count, matched, possible = LISTS[name]
    report = check_references(_fixture_text(name), find)
    assert len(report.entries) == count
    assert [e.key for e in report.entries if e.status == "matched"] == matched
    assert report.summary()["possible"] == possible


def test_every_fixture_is_listed() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.txt")) == sorted(LISTS)


def _entries(name: str) -> list[str]:
    return [e.text for e in split_entries(_fixture_text(name))]


def test_introduction_line_is_not_an_entry() -> None:
    entries = _entries("pineconephysio-ama.txt")
    assert not any("Please see references below" in e for e in entries)
    first = parse_entry(entries[0])
    assert first.authors[:3] == ["Dunning", "Butts", "Mourad"]
    assert first.year == 2014
    assert first.title == (
        "Dry needling: A literature review with implications for clinical practice guidelines"
    )
    assert first.doi == "10.1179/108331913X13844245102034"
    espejo = parse_entry(entries[6])
    assert espejo.authors == ["Espejo-Antúnez", "Tejeda", "Albornoz-Cabello"] and espejo.et_al


def test_hanging_list_keeps_the_hyphen_of_a_broken_url() -> None:
    entries = _entries("unlv-apa-hanging.txt")
    dry = parse_entry(entries[0])
    assert dry.url == "https://www.apta.org/patient-care/interventions/dry-needling"
    assert dry.accessed == (2020, 12, 7)
    dunning = parse_entry(entries[1])
    assert dunning.authors == ["Dunning", "Butts", "Mourad", "Young", "Flannagan", "Perreault"]
    assert (dunning.year, dunning.volume, dunning.issue, dunning.pages) == (
        2014,
        "19",
        "4",
        "252-265",
    )
    assert dunning.doi == "10.1179/108331913X13844245102034"
    garra = parse_entry(entries[6])
    assert (garra.year, garra.title) == (
        2010,
        "Heat or Cold Packs for Neck and Back Strain: A Randomized Controlled Trial of Efficacy",
    )


def test_pdf_footer_title_and_glued_fragment() -> None:
    entries = split_entries(_fixture_text("bothell-pdf.txt"))
    texts = [e.text for e in entries]
    assert not any("40 | Page" in t or "Massage Therapy and Low Back Pain" == t for t in texts)
    assert texts[0] == "(2012). Stud health technol inform. 176, 411-4."
    assert entries[0].number == "622"
    furlan = parse_entry(texts[1])
    assert furlan.authors[:2] == ["Furlan", "Imamura"]
    assert (furlan.year, furlan.journal, furlan.volume, furlan.pages) == (
        2009,
        "Spine",
        "34",
        "1669-84",
    )
    assert [e.number for e in entries[2:]] == [str(n) for n in range(623, 630)]


def test_pdf_list_reprint_leaves_the_other_version_as_written(find) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    report = check_references(_fixture_text("bothell-pdf.txt"), find, style="apa")
    furlan = report.entries[1]
    assert furlan.status == "possible"
    assert "an earlier version, or a mis-cited reference?" in (furlan.hint or "")
    assert f"[check] {furlan.entry.text}" in report.formatted.splitlines()
    assert "Cochrane Database of Systematic Reviews" not in report.formatted


def test_link_labels_are_not_part_of_an_entry() -> None:
    entries = _entries("hindawi-link-noise.txt")
    assert all("View at" not in e for e in entries)
    tugwell = parse_entry(entries[1])
    assert tugwell.authors == ["Tugwell"]
    assert (tugwell.year, tugwell.volume, tugwell.issue, tugwell.pages) == (
        2001,
        "81",
        "10",
        "1719-1730",
    )


def test_link_lines_between_unnumbered_entries_separate_them(find) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    # Publisher pages put a line of links after each entry; pasted with the list they must end
    # the entry, not join it to the next (built from the rmtprimarycare list above).
    lines = _fixture_text("rmtprimarycare-apa.txt").strip().splitlines()
    paste = "\n".join(f"{line}\nGoogle Scholar | Crossref | Medline" for line in lines)
    entries = split_entries(paste)
    assert [e.text for e in entries] == lines
    report = check_references(paste, find)
    assert [e.key for e in report.entries if e.status == "matched"] == [
        "crawford2016impact",
        "boyd2016impact",
    ]


def test_apa_one_a_line_parses_authors_year_title() -> None:
    entries = _entries("rmtprimarycare-apa.txt")
    amta = parse_entry(entries[0])
    assert amta.authors == ["American Massage Therapy Association"] and amta.year == 2018
    corbin = parse_entry(entries[2])
    assert (corbin.authors, corbin.year, corbin.title) == (
        ["Corbin"],
        2005,
        "Safety and efficacy of massage therapy for patients with cancer",
    )


# --- library records pasted correctly are matched ---------------------------------------------


def _library(records: list[Record], identifiers: bool) -> list[Record]:  # noqa: F811
    hidden = () if identifiers else ("DOI", "PMID", "PMCID", "URL")
    return [{k: v for k, v in r.items() if k != "kb" and k not in hidden} for r in records]


@pytest.mark.parametrize(
    ("style", "identifiers"),
    [
        ("apa", True),
        ("apa", False),
        ("vancouver", False),
        ("modern-language-association", False),
        ("harvard-cite-them-right", False),
        ("chicago-author-date", False),
    ],
)
def test_every_library_record_pasted_in_a_style_is_matched(
    find,  # noqa: F811
    records: list[Record],  # noqa: F811
    style: str,
    identifiers: bool,
) -> None:
    library = _library(records, identifiers)
    if style == "vancouver":
        paste = "\n".join(format_bibliography(library, style=style))  # numbered 1, 2, 3 ...
    else:
        paste = "\n".join(e for r in library for e in format_bibliography([r], style=style))
    report = check_references(paste, find, style=style)
    assert [(e.status, e.key) for e in report.entries] == [("matched", r["id"]) for r in records]


def test_records_fixture_is_the_whole_library(records: list[Record]) -> None:  # noqa: F811
    data = Path(__file__).parent / "fixtures" / "shared-data"
    count = len(json.loads((data / "library.json").read_text(encoding="utf-8")))
    assert len(records) == count + 4


def test_the_left_out_introduction_is_reported(find) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    report = check_references(_fixture_text("pineconephysio-ama.txt"), find)
    assert report.skipped == ["Yes we do. Please see references below:"]
    assert report.message is not None and report.message.endswith(
        "1 line that is not a reference was left out: “Yes we do. Please see references below:”."
    )
    pdf = check_references(_fixture_text("bothell-pdf.txt"), find).as_json()
    assert pdf["skipped"] == ["Massage Therapy and Low Back Pain"]


def test_whole_page_keeps_only_the_references(find) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    report = check_references(_fixture_text("rmtedu-whole-page.txt"), find)
    bishop = report.entries[1].entry
    assert bishop.text == (
        "Bishop et al. (2015). What effect can manual therapy have on a patient's pain "
        "experience? Pain Manag. https://www.ncbi.nlm.nih.gov/pubmed/26401979"
    )
    assert (bishop.authors, bishop.et_al, bishop.year) == (["Bishop"], True, 2015)
    assert bishop.url == "https://www.ncbi.nlm.nih.gov/pubmed/26401979"
    assert "PAIN SCIENCE" in report.skipped and "PROFESSIONAL GROWTH" in report.skipped
    assert len(report.skipped) == 8
    assert "8 lines that are not references were left out" in (report.message or "")
