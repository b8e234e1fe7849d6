"""The reference-list checker: splitting pastes, reading entries, matching, differences, reprint."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from rapidfuzz import fuzz, process

from references.checker import (
    MAX_ENTRIES,
    MAX_PASTE,
    PastedEntry,
    PasteTooLarge,
    check_references,
    expand_pages,
    journal_equivalent,
)
from references.identifiers import doi_key, fold
from references.record import Record
from references.refparse import parse_entry, split_entries

FIXTURES = Path(__file__).parent / "fixtures" / "checker"

ACCEPTANCE = """References
1. Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of therapeutic massage for chronic neck pain. Clin J Pain. 2009;25(3):233-8.
2. Moraska AF, Stenerson L, Butryn N, et al. Myofascial trigger point-focused head and neck massage for recurrent tension-type headache. Clin J Pain. 2014;31(2):159-168.
3. Elliot, R. & Burket, B. (2013) Massage therapy as an effective treatment for carpal tunnel syndrome. Journal of Bodywork and Movement Therapies, 17(3), 323-328.
4. Mayo Clinc: Massage, get in touch with its many benefits
5. Moher D, Liberati A, Tetzlaff J, Altman DG. Preferred reporting items for systematic reviews and meta-analyses: the PRISMA statement. BMJ. 2009;339:b2535.
"""


@pytest.fixture(scope="module")
def records(shared_data: Path) -> list[Record]:
    items = json.loads((shared_data / "library.json").read_text(encoding="utf-8"))
    items += json.loads((shared_data / "seed-web.json").read_text(encoding="utf-8"))
    return items


@pytest.fixture(scope="module")
def find(records: list[Record]):  # type: ignore[no-untyped-def]
    """Return a find_candidates over the shipped records: identifiers, then the closest titles."""
    titles = [fold(r["title"]) for r in records]

    def find_candidates(entry: PastedEntry) -> list[Record]:
        found = [
            r
            for r in records
            if (entry.doi and doi_key(r.get("DOI")) == doi_key(entry.doi))
            or (entry.pmid and r.get("PMID") == entry.pmid)
        ]
        query = fold(entry.title or entry.clean)
        for _, _, i in process.extract(query, titles, scorer=fuzz.token_set_ratio, limit=5):
            found.append(records[i])
        return found

    return find_candidates


def fields(differences: list[dict[str, str]]) -> list[str]:
    return [d["field"] for d in differences]


# --- the acceptance example --------------------------------------------------------------------


def test_acceptance_example(find) -> None:  # type: ignore[no-untyped-def]
    report = check_references(ACCEPTANCE, find).as_json()
    entries = report["entries"]
    assert [e["status"] for e in entries] == ["matched"] * 4 + ["not-found"]
    assert [e["key"] for e in entries] == [
        "sherman2009randomized",
        "moraska2015myofascial",
        "elliott2013massage",
        "mayoclinic-massage-benefits",
        None,
    ]
    sherman, moraska, elliott, mayo, moher = entries
    assert sherman["differences"] == []
    assert sorted(fields(moraska["differences"])) == ["title", "year"]
    year = next(d for d in moraska["differences"] if d["field"] == "year")
    assert (year["pasted"], year["library"]) == ("2014", "2015")
    title = next(d for d in moraska["differences"] if d["field"] == "title")
    assert title["library"].endswith(": a randomized, placebo-controlled clinical trial")
    assert {"field": "authors", "pasted": "Elliot", "library": "Elliott"} in elliott["differences"]
    assert {"field": "authors", "pasted": "Burket", "library": "Burkett"} in elliott["differences"]
    assert {"field": "pages", "pasted": "323-328", "library": "332-338"} in elliott["differences"]
    assert len(elliott["differences"]) == 3
    assert mayo["differences"] == [
        {"field": "authors", "pasted": "Mayo Clinc", "library": "Mayo Clinic"}
    ]
    assert moher["candidates"] == [] and moher["key"] is None
    assert set(report) >= {"entries", "formatted"}
    assert set(sherman) >= {"text", "status", "key", "score", "differences", "candidates"}
    assert sherman["text"].startswith("Sherman KJ, Cherkin DC")


def test_acceptance_reprint_in_apa(find) -> None:  # type: ignore[no-untyped-def]
    formatted = check_references(ACCEPTANCE, find, style="apa").formatted.splitlines()
    assert len(formatted) == 5
    assert any(line.startswith("Elliott, R., & Burkett, B. (2013).") for line in formatted)
    assert "[not in library] Moher D, Liberati A" in "\n".join(formatted)
    assert any("332–338" in line or "332-338" in line for line in formatted)
    assert formatted == sorted(
        formatted, key=lambda line: fold(line.replace("[not in library] ", ""))
    )


def test_reprint_numbered_style_keeps_pasted_order(find) -> None:  # type: ignore[no-untyped-def]
    formatted = check_references(ACCEPTANCE, find, style="vancouver").formatted.splitlines()
    assert [line.split(".", 1)[0] for line in formatted] == ["1", "2", "3", "4", "5"]
    assert formatted[0].startswith("1. Sherman KJ")
    assert formatted[4].startswith("5. [not in library] Moher D")


def test_reprint_html_escapes_pasted_text(find) -> None:  # type: ignore[no-untyped-def]
    paste = ACCEPTANCE + "6. Smith J. <script>alert(1)</script> & massage. J Test. 2001;1:1-2.\n"
    report = check_references(paste, find, style="apa", fmt="html")
    assert "<script>" not in report.formatted
    assert "&lt;script&gt;" in report.formatted
    assert 'class="csl-entry pasted not-in-library"' in report.formatted


def test_unknown_format_is_refused(find) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown format"):
        check_references(ACCEPTANCE, find, fmt="pdf")


# --- splitting ---------------------------------------------------------------------------------

SHERMAN_AMA = (
    "Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of therapeutic "
    "massage for chronic neck pain. Clin J Pain. 2009;25(3):233-8."
)
MOYER_AMA = (
    "Moyer CA, Rounds J, Hannum JW. A meta-analysis of massage therapy research. "
    "Psychol Bull. 2004;130(1):3-18."
)
FURLAN_AMA = (
    "Furlan AD, Giraldo M, Baskwill A, Irvin E, Imamura M. Massage for low-back pain. "
    "Cochrane Database Syst Rev. 2015;(9):CD001929."
)


@pytest.mark.parametrize(
    ("paste", "count"),
    [
        pytest.param(f"1. {SHERMAN_AMA}\n2. {MOYER_AMA}\n3. {FURLAN_AMA}", 3, id="numbered_dot"),
        pytest.param(f"1) {SHERMAN_AMA}\n2) {MOYER_AMA}\n3) {FURLAN_AMA}", 3, id="numbered_paren"),
        pytest.param(f"[1] {SHERMAN_AMA}\n[2] {MOYER_AMA}\n[3] {FURLAN_AMA}", 3, id="bracketed"),
        pytest.param(f"  12.{SHERMAN_AMA}\n  13.{MOYER_AMA}", 2, id="numbered_from_12_no_space"),
        pytest.param(f"- {SHERMAN_AMA}\n- {MOYER_AMA}\n- {FURLAN_AMA}", 3, id="dash_bullets"),
        pytest.param(f"* {SHERMAN_AMA}\n* {MOYER_AMA}", 2, id="star_bullets"),
        pytest.param(f"• {SHERMAN_AMA}\n• {MOYER_AMA}\n• {FURLAN_AMA}", 3, id="round_bullets"),
        pytest.param(f"{SHERMAN_AMA}\n\n{MOYER_AMA}\n\n{FURLAN_AMA}", 3, id="blank_lines"),
        pytest.param(f"{SHERMAN_AMA}\n{MOYER_AMA}\n{FURLAN_AMA}", 3, id="one_a_line"),
        pytest.param(f"Works Cited\n\n{SHERMAN_AMA}\n\n{MOYER_AMA}", 2, id="works_cited_heading"),
        pytest.param(
            f"BIBLIOGRAPHY:\n1. {SHERMAN_AMA}\n2. {MOYER_AMA}", 2, id="bibliography_heading"
        ),
        pytest.param(
            "1. Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of\n"
            "therapeutic massage for chronic neck pain. Clin J Pain.\n2009;25(3):233-8.\n"
            f"2. {MOYER_AMA}",
            2,
            id="numbered_hard_wrapped",
        ),
        pytest.param(
            "Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of\n"
            "therapeutic massage for chronic neck pain.\nClin J Pain. 2009;25(3):233-8.\n"
            "Moyer CA, Rounds J, Hannum JW. A meta-analysis of massage\ntherapy research. "
            "Psychol Bull. 2004;130(1):3-18.",
            2,
            id="unnumbered_hard_wrapped",
        ),
        pytest.param(
            "Kumar, S., Beaton, K. and Hughes, T.,\n2013. The effectiveness of massage therapy.\n"
            "Int J Gen Med, 6, pp.733-741.\n\n"
            "Moyer, C. A., Rounds, J., & Hannum, J. W. (2004). A meta-analysis of massage\n"
            "therapy research. Psychological Bulletin, 130(1), 3-18.",
            2,
            id="year_wrapped_to_line_start",
        ),
        pytest.param("", 0, id="empty"),
        pytest.param("References\n\n   \n", 0, id="heading_only"),
    ],
)
def test_split_entries(paste: str, count: int) -> None:
    assert len(split_entries(paste)) == count


def test_split_keeps_list_numbers_and_joins_wraps() -> None:
    paste = (
        "[7] Moyer CA, Rounds J, Hannum JW. A meta-analysis of massage\n    therapy research. Psychol Bull. 2004;130(1):3-18.\n[8] "
        + FURLAN_AMA
    )
    entries = split_entries(paste)
    assert [e.number for e in entries] == ["7", "8"]
    assert entries[0].text == MOYER_AMA


PDF_PASTE = (
    "REFERENCES\n"
    "Journal of Massage Studies 12 (2020) 1-20\n"
    "1. Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of thera-\n"
    "peutic massage for chronic neck pain. Clin J Pain. 2009;25(3):233-\n"
    "8.\n"
    "14\n"
    "Journal of Massage Studies 12 (2020) 1-20\n"
    "2. Moyer CA, Rounds J, Hannum JW. A meta-analysis of massage therapy research. Psychol Bull.\n"
    "2004;130(1):3-18.\n"
    "Page 15 of 20\n"
    "3. Elliott R, Burkett B. Massage therapy as an eﬀective treatment for carpal tunnel syn-\n"
    "drome. J Bodyw Mov Ther. 2013;17(3):332-8.\n"
)


def test_pdf_artefacts_are_mended() -> None:
    entries = split_entries(PDF_PASTE)
    assert [e.text for e in entries] == [
        SHERMAN_AMA,
        MOYER_AMA,
        (
            "Elliott R, Burkett B. Massage therapy as an effective treatment for carpal tunnel "
            "syndrome. J Bodyw Mov Ther. 2013;17(3):332-8."
        ),
    ]


def test_pdf_paste_matches_without_differences(find) -> None:  # type: ignore[no-untyped-def]
    entries = check_references(PDF_PASTE, find).as_json()["entries"]
    assert [(e["status"], e["key"]) for e in entries] == [
        ("matched", "sherman2009randomized"),
        ("matched", "moyer2004meta"),
        ("matched", "elliott2013massage"),
    ]
    assert all(e["differences"] == [] for e in entries)


# --- reading an entry --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "doi"),
    [
        pytest.param(
            SHERMAN_AMA[:-1] + ".doi:10.1097/AJP.0b013e31818b7912",
            "10.1097/AJP.0b013e31818b7912",
            id="glued_to_pages",
        ),
        pytest.param(
            SHERMAN_AMA + " https://doi.org/10.1097/AJP.0b013e31818b7912.",
            "10.1097/AJP.0b013e31818b7912",
            id="resolver_url",
        ),
        pytest.param(
            SHERMAN_AMA + " doi: 10.1097/AJP.0b013e31818b7912 PMID: 19333174",
            "10.1097/AJP.0b013e31818b7912",
            id="spaced_with_pmid",
        ),
        pytest.param(
            SHERMAN_AMA + " DOI 10.1097/AJP.0b013e31818b7912.PMID: 19333174",
            "10.1097/AJP.0b013e31818b7912",
            id="glued_to_pmid",
        ),
        pytest.param(
            SHERMAN_AMA + " http://dx.doi.org/10.1097/AJP.0b013e31818b7912",
            "10.1097/AJP.0b013e31818b7912",
            id="dx_resolver",
        ),
    ],
)
def test_dois_are_found(text: str, doi: str) -> None:
    entry = parse_entry(text)
    assert entry.doi == doi
    assert entry.pages == "233-8"
    assert entry.title == "Randomized trial of therapeutic massage for chronic neck pain"


def test_glued_doi_matches_by_identifier(find) -> None:  # type: ignore[no-untyped-def]
    paste = "1. Somebody X. A title nobody wrote. Nowhere J. 2009;25(3):233-8.doi:10.1097/AJP.0b013e31818b7912\n"
    (entry,) = check_references(paste, find).as_json()["entries"]
    assert (entry["status"], entry["key"], entry["score"]) == (
        "matched",
        "sherman2009randomized",
        100.0,
    )
    assert "title" in fields(entry["differences"])


def test_pmid_is_read_and_matches(find) -> None:  # type: ignore[no-untyped-def]
    (entry,) = check_references("Hou WH. Massage. 2010. PMID: 20361919", find).as_json()["entries"]
    assert (entry["status"], entry["key"]) == ("matched", "hou2010treatment")


@pytest.mark.parametrize(
    ("pages", "expanded"),
    [
        pytest.param("233-8", ("233", "238"), id="one_digit"),
        pytest.param("1657-61", ("1657", "1661"), id="two_digits"),
        pytest.param("332–38", ("332", "338"), id="en_dash"),
        pytest.param("e89304", ("e89304", None), id="article_number"),
        pytest.param("S12-S15", ("s12", "s15"), id="lettered"),
    ],
)
def test_expand_pages(pages: str, expanded: tuple[str, str | None]) -> None:
    assert expand_pages(pages) == expanded


@pytest.mark.parametrize(
    ("pasted", "library", "same"),
    [
        pytest.param("Clin J Pain", "The Clinical Journal of Pain", True, id="iso_abbreviation"),
        pytest.param(
            "J Bodyw Mov Ther", "Journal of Bodywork and Movement Therapies", True, id="and_dropped"
        ),
        pytest.param("Spine (Phila Pa 1976)", "Spine", True, id="bracketed_place"),
        pytest.param(
            "Evid Based Complement Alternat Med",
            "Evidence-Based Complementary and Alternative Medicine",
            True,
            id="hyphenated",
        ),
        pytest.param(
            "J Nurs Womens Health", "Journal of Nursing and Women's Health", True, id="apostrophe"
        ),
        pytest.param("PLOS One", "PLoS ONE", True, id="case"),
        pytest.param("J Pain", "The Clinical Journal of Pain", False, id="word_missing"),
        pytest.param("Pain Med", "Pain", False, id="word_extra"),
        pytest.param(
            "Manual Therapy",
            "Journal of Manual and Manipulative Therapy",
            False,
            id="other_journal",
        ),
    ],
)
def test_journal_equivalent(pasted: str, library: str, same: bool) -> None:
    assert journal_equivalent(pasted, library) is same


def test_html_is_treated_as_text(find) -> None:  # type: ignore[no-untyped-def]
    paste = (
        "<ol><li>Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of "
        "therapeutic massage for chronic neck pain. <i>Clin J Pain</i>. 2009;25(3):233-8.</li>\n"
        "<li>Moyer CA, Rounds J, Hannum JW. A meta-analysis of massage therapy research. "
        "<em>Psychol Bull</em>. 2004;130(1):3-18. &lt;b&gt;</li></ol>"
    )
    entries = check_references(paste, find).as_json()["entries"]
    assert [(e["status"], e["key"]) for e in entries] == [
        ("matched", "sherman2009randomized"),
        ("matched", "moyer2004meta"),
    ]
    assert "<i>Clin J Pain</i>" in entries[0]["text"]  # shown as pasted
    assert entries[0]["differences"] == []


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "paste",
    [
        pytest.param("", id="empty"),
        pytest.param("  \n\n\t\n", id="blank"),
        pytest.param("References\n", id="heading_only"),
    ],
)
def test_empty_paste_gives_a_message(find, paste: str) -> None:  # type: ignore[no-untyped-def]
    report = check_references(paste, find)
    assert report.entries == []
    assert report.as_json()["entries"] == [] and report.as_json()["formatted"] == ""
    assert "no references" in (report.message or "")


def test_paste_over_the_limit_is_refused(find) -> None:  # type: ignore[no-untyped-def]
    calls: list[PastedEntry] = []
    with pytest.raises(PasteTooLarge, match="at most 1,000,000 characters"):
        check_references("x" * (MAX_PASTE + 1), lambda e: calls.append(e) or [])
    assert calls == []


def test_a_megabyte_of_junk_is_read_quickly(find) -> None:  # type: ignore[no-untyped-def]
    junk = ("massage " * 12 + "(((( [[[ 10.1/ 1999; ::: -- \n") * (MAX_PASTE // 130)
    assert len(junk) <= MAX_PASTE
    started = time.perf_counter()
    report = check_references(junk[:MAX_PASTE], lambda e: [])
    assert time.perf_counter() - started < 30
    assert all(e.status == "not-found" for e in report.entries)


def test_a_megabyte_of_references_is_checked_up_to_the_limit() -> None:
    line = SHERMAN_AMA + "\n"
    paste = line * (MAX_PASTE // len(line))
    calls: list[PastedEntry] = []
    report = check_references(paste, lambda e: calls.append(e) or [])
    total = MAX_PASTE // len(line)
    assert len(report.entries) == len(calls) == MAX_ENTRIES < total
    document = report.as_json()
    assert document["limited"] is True and document["total_entries"] == total
    assert document["message"].startswith(
        f"The paste holds {total:,} entries; the checker reads at most 1,000 at a time, "
        "so only the first 1,000 were checked: check the rest in parts."
    )


def test_fifty_thousand_doi_lines_are_limited() -> None:
    paste = "".join(f"doi:10.1000/{i:06d}\n" for i in range(50_000))[:MAX_PASTE]
    report = check_references(paste, lambda e: [])
    assert len(report.entries) == MAX_ENTRIES
    assert report.entries[-1].entry.doi == f"10.1000/{MAX_ENTRIES - 1:06d}"
    assert len(json.dumps(report.as_json())) < 1_000_000  # not the 21 MB answer of before


def test_a_short_list_is_not_limited(find) -> None:  # type: ignore[no-untyped-def]
    document = check_references(ACCEPTANCE, find).as_json()
    assert document["limited"] is False and document["total_entries"] == 5


def test_an_entry_pasted_twice_is_kept_twice(find) -> None:  # type: ignore[no-untyped-def]
    entries = check_references(f"{MOYER_AMA}\n{MOYER_AMA}\n", find).as_json()["entries"]
    assert [e["key"] for e in entries] == ["moyer2004meta", "moyer2004meta"]


def test_one_unbroken_megabyte_line() -> None:
    started = time.perf_counter()
    (entry,) = split_entries("a" * MAX_PASTE)
    parse_entry(entry.text)
    assert time.perf_counter() - started < 10


# --- paraphrased lists in the common styles ----------------------------------------------------

PARAPHRASED = {
    "apa": """
Cherkin, D. C., Sherman, K. J., Kahn, J., Wellman, R., Cook, A. J., Johnson, E., Erro, J., Delaney, K., & Deyo, R. A. (2011). A comparison of the effects of 2 types of massage and usual care on chronic low back pain: A randomized, controlled trial. Annals of Internal Medicine, 155(1), 1–9. https://doi.org/10.1059/0003-4819-155-1-201107050-00002

Furlan, A. D., Giraldo, M., Baskwill, A., Irvin, E., & Imamura, M. (2015). Massage for low-back pain. Cochrane Database of Systematic Reviews, (9), CD001929.

Hou, W.-H., Chiang, P.-T., Hsu, T.-Y., Chiu, S.-Y., & Yen, Y.-C. (2010). Treatment effects of massage therapy in depressed people: A meta-analysis. The Journal of Clinical Psychiatry, 71(7), 894–901.

Moyer, C. A., Rounds, J., & Hannum, J. W. (2004). A meta-analysis of massage therapy research. Psychological Bulletin, 130(1), 3–18.
""",
    "ama": """
1. Moyer CA, Rounds J, Hannum JW. A meta-analysis of massage therapy research. Psychol Bull. 2004;130(1):3-18. doi:10.1037/0033-2909.130.1.3
2. Li YH, Wang FY, Feng CQ, Yang XF, Sun YH. Massage therapy for fibromyalgia: a systematic review and meta-analysis of randomized controlled trials. PLoS One. 2014;9(2):e89304.
3. Hou WH, Chiang PT, Hsu TY, Chiu SY, Yen YC. Treatment effects of massage therapy in depressed people: a meta-analysis. J Clin Psychiatry. 2010;71(7):894-901.
4. Cherkin DC, Sherman KJ, Kahn J, et al. A comparison of the effects of 2 types of massage and usual care on chronic low back pain: a randomized, controlled trial. Ann Intern Med. 2011;155(1):1-9.
5. Liao IC, Chen SL, Wang MY, Tsai PS. Effects of massage on blood pressure in patients with hypertension and prehypertension: a meta-analysis of randomized controlled trials. J Cardiovasc Nurs. 2016;31(1):73-83.
""",
    "harvard": """
Elliott, R. and Burkett, B. (2013) 'Massage therapy as an effective treatment for carpal tunnel syndrome', Journal of Bodywork and Movement Therapies, 17(3), pp. 332–338.
Kalamir, A., Bonello, R. and Graham, P. (2012) 'Intraoral myofascial therapy for chronic myogenous temporomandibular disorder: a randomized controlled trial', Journal of Manipulative and Physiological Therapeutics, 35(1), pp. 26–37.
Sherman, K.J., Cherkin, D.C., Hawkes, R.J., Miglioretti, D.L. and Deyo, R.A. (2009) 'Randomized trial of therapeutic massage for chronic neck pain', The Clinical Journal of Pain, 25(3), pp. 233–238.
""",
    "mla": """
Elliott, Rex, and Brendan Burkett. "Massage Therapy as an Effective Treatment for Carpal Tunnel Syndrome." Journal of Bodywork and Movement Therapies, vol. 17, no. 3, 2013, pp. 332-38.

Guo, Jianmin, et al. "Massage Alleviates Delayed Onset Muscle Soreness after Strenuous Exercise: A Systematic Review and Meta-Analysis." Frontiers in Physiology, vol. 8, 2017, p. 747.

Moyer, Christopher A., et al. "A Meta-Analysis of Massage Therapy Research." Psychological Bulletin, vol. 130, no. 1, 2004, pp. 3-18.

Sherman, Karen J., et al. "Randomized Trial of Therapeutic Massage for Chronic Neck Pain." The Clinical Journal of Pain, vol. 25, no. 3, 2009, pp. 233-38.
""",
}
PARAPHRASED_KEYS = {
    "apa": ["cherkin2011comparison", "furlan2015massage", "hou2010treatment", "moyer2004meta"],
    "ama": [
        "moyer2004meta",
        "li2014massage",
        "hou2010treatment",
        "cherkin2011comparison",
        "liao2016effects",
    ],
    "harvard": ["elliott2013massage", "kalamir2012intraoral", "sherman2009randomized"],
    "mla": ["elliott2013massage", "guo2017massage", "moyer2004meta", "sherman2009randomized"],
}


@pytest.mark.parametrize("style", list(PARAPHRASED))
def test_correct_lists_in_common_styles_all_match(find, style: str) -> None:  # type: ignore[no-untyped-def]
    entries = check_references(PARAPHRASED[style], find, style=style).as_json()["entries"]
    assert [e["key"] for e in entries] == PARAPHRASED_KEYS[style]
    assert all(e["status"] == "matched" for e in entries)
    assert [e["differences"] for e in entries] == [[] for _ in entries]


# --- real lists from public pages --------------------------------------------------------------

# Matches asserted here were checked by hand against shared/data/library.json.
REAL_LISTS = {
    # An APA list on a massage page. [1] is the same team's 2011 trial *protocol* (Trials), not
    # the Annals trial; [2] is Moraska 2015's title with 2008's year, volume and pages; [3] is
    # Hernandez-Reif 1998's title with another year, volume and pages: possible, never matched.
    "sealff-apa.txt": [
        ("possible", None),
        ("possible", None),
        ("possible", None),
        ("not-found", None),
    ],
    # AMA references of a Federal Practitioner review; only the Cherkin trial is in the library.
    "fedprac-ama.txt": [("not-found", None)] * 4
    + [("matched", "cherkin2011comparison")]
    + [("not-found", None)] * 4,
    # Harvard (Google Scholar) list of a clinic, titles glued to journals; the page cuts entry 8.
    "massagemyotherapy-harvard.txt": [("not-found", None)] * 7
    + [("matched", "kumar2013effectiveness")],
}


def _fixture_text(name: str) -> str:
    first, _, rest = (FIXTURES / name).read_text(encoding="utf-8").partition("\n")
    assert first.startswith(("# origin: https://", "# origin: http://"))
    return rest


@pytest.mark.parametrize("name", list(REAL_LISTS))
def test_real_lists(find, name: str) -> None:  # type: ignore[no-untyped-def]
    entries = check_references(_fixture_text(name), find).as_json()["entries"]
    assert [(e["status"], e["key"]) for e in entries] == REAL_LISTS[name]


def test_real_list_near_misses_say_what_agrees(find) -> None:  # type: ignore[no-untyped-def]
    entries = check_references(_fixture_text("sealff-apa.txt"), find).as_json()["entries"]
    protocol, moraska, migraine, _ = entries
    assert protocol["candidates"][0]["key"] == "cherkin2011comparison"
    assert "title" in protocol["candidates"][0]["differs"]
    (best, *_) = moraska["candidates"]
    assert best["key"] == "moraska2015myofascial"
    assert best["agrees"] == ["title", "first author", "journal"]
    assert best["differs"] == ["year", "volume", "first page"]
    assert moraska["hint"] == (
        "Same title and first author; year, volume and first page differ — an earlier version, "
        "or a mis-cited reference?"
    )
    assert migraine["candidates"][0]["key"] == "hernandezreif1998migraine"
    assert "a later version, or a mis-cited reference?" in migraine["hint"]
    cherkin = check_references(_fixture_text("fedprac-ama.txt"), find).as_json()["entries"][4]
    assert cherkin["differences"] == []


# --- the matching rule: never a different paper ------------------------------------------------

# Issue 9: the 2009 Spine update of the Cochrane review was matched to the 2015 review.
FURLAN_2009 = (
    "Furlan AD, Imamura M, Dryden T, Irvin E. Massage for low back pain: an updated systematic "
    "review within the framework of the Cochrane Back Review Group. Spine. 2009;34(16):1669-1684."
)


def test_another_version_of_a_review_is_possible_not_matched(find) -> None:  # type: ignore[no-untyped-def]
    report = check_references(f"1. {FURLAN_2009}\n2. {SHERMAN_AMA}", find, style="vancouver")
    furlan, sherman = report.as_json()["entries"]
    assert (furlan["status"], furlan["key"]) == ("possible", None)
    keys = [c["key"] for c in furlan["candidates"]]
    assert {"furlan2015massage", "furlan2002massage"} <= set(keys)
    cochrane = furlan["candidates"][keys.index("furlan2015massage")]
    assert cochrane["agrees"] == ["title", "first author"]
    assert cochrane["differs"] == ["journal", "year", "first page"]
    assert "an earlier version, or a mis-cited reference?" in furlan["hint"]
    assert sherman["status"] == "matched"
    # The reprint keeps the writer's entry as written, marked; the 2015 review is not put in.
    lines = report.formatted.splitlines()
    assert lines[0] == f"1. [check] {FURLAN_2009}"
    assert "CD001929" not in report.formatted and "2015" not in report.formatted
    assert lines[1].startswith("2. Sherman KJ")


@pytest.mark.parametrize(
    ("paste", "key"),
    [
        pytest.param(
            # Same title and first author, only the journal agrees.
            "Moraska A, Stenerson L, Butryn N. Myofascial trigger point-focused head and neck "
            "massage for recurrent tension-type headache. Clin J Pain. 2008;24(2):106-113.",
            "moraska2015myofascial",
            id="one_fact_agrees",
        ),
        pytest.param(
            # Title and author, no journal, year, volume or pages: nothing to tell versions apart.
            "Furlan AD, Giraldo M, Baskwill A. Massage for low-back pain.",
            "furlan2015massage",
            id="no_facts_given",
        ),
        pytest.param(
            # Right title, year and journal, but the first author is someone else.
            "Smith J, Cherkin DC. Randomized trial of therapeutic massage for chronic neck pain. "
            "Clin J Pain. 2009;25(3):233-8.",
            "sherman2009randomized",
            id="other_first_author",
        ),
        pytest.param(
            # Everything agrees but the DOI, which names another paper.
            SHERMAN_AMA + " doi:10.1097/AJP.0000000000000091",
            "sherman2009randomized",
            id="different_doi",
        ),
        pytest.param(
            SHERMAN_AMA + " PMID: 25329141",
            "sherman2009randomized",
            id="different_pmid",
        ),
    ],
)
def test_near_misses_are_only_possible(find, paste: str, key: str) -> None:  # type: ignore[no-untyped-def]
    (entry,) = check_references(paste, find).as_json()["entries"]
    assert entry["status"] == "possible" and entry["key"] is None
    assert key in [c["key"] for c in entry["candidates"]]
    assert entry["hint"]
    assert entry["differences"] == []


def test_an_identifier_naming_another_record_is_not_taken(find) -> None:  # type: ignore[no-untyped-def]
    # Sherman 2009 as written, with Moraska 2015's DOI: the text and the DOI name two papers.
    (entry,) = check_references(SHERMAN_AMA + " doi:10.1097/AJP.0000000000000091", find).entries
    assert (entry.status, entry.key) == ("possible", None)
    assert [c.key for c in entry.candidates[:2]] == [
        "moraska2015myofascial",
        "sherman2009randomized",
    ]
    assert entry.hint == (
        "The DOI is that of moraska2015myofascial, but the title and first author are those of "
        "sherman2009randomized: check which paper you mean."
    )


def test_different_doi_says_which_identifier(find) -> None:  # type: ignore[no-untyped-def]
    paste = SHERMAN_AMA + " doi:10.1097/AJP.0b013e31818b7999"
    (entry,) = check_references(paste, find).as_json()["entries"]
    assert entry["status"] == "possible"
    assert entry["candidates"][0]["differs"] == ["DOI"]
    assert entry["hint"].startswith("The DOI differs from the library's")


def test_title_author_and_two_facts_match(find) -> None:  # type: ignore[no-untyped-def]
    # No identifier; year and journal agree, pages are wrong: matched, with the difference shown.
    paste = (
        "Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of "
        "therapeutic massage for chronic neck pain. Clin J Pain. 2009;25(3):243-8."
    )
    (entry,) = check_references(paste, find).as_json()["entries"]
    assert (entry["status"], entry["key"]) == ("matched", "sherman2009randomized")
    assert fields(entry["differences"]) == ["pages"]


VERHAGEN_AMA = (
    "Verhagen AP, Karels C, Bierma-Zeinstra SMA, et al. Exercise proves effective in a "
    "systematic review of work-related complaints of the arm, neck, or shoulder. "
    "J Clin Epidemiol. 2007;60(2):110-117."
)
BOYD_AMA = (
    "Boyd C, Crawford C, Paat CF, Price A, Xenakis L, Zhang W. The impact of massage therapy on "
    "function in pain populations—a systematic review and meta-analysis of randomized controlled "
    "trials: part III, surgical pain populations. Pain Med. 2016;17(9):1757-1772."
)
CLEVELAND_WEB = (
    "Cleveland Clinic. Why you should try medical or therapeutic massage. "
    "https://my.clevelandclinic.org/health/treatments/massage-therapy. Accessed July 31, 2023."
)


def test_matched_entry_keeps_what_the_library_lacks(find) -> None:  # type: ignore[no-untyped-def]
    paste = f"{BOYD_AMA}\n{VERHAGEN_AMA}\n{CLEVELAND_WEB}"
    report = check_references(paste, find, style="apa")
    assert [(e.status, e.key) for e in report.entries] == [
        ("matched", "boyd2016impact"),
        ("matched", "verhagen2007exercise"),
        ("matched", "clevelandclinic-therapeutic-massage"),
    ]
    boyd, cleveland, verhagen = report.formatted.splitlines()
    assert "Pain Medicine, 17(9), 1757–1772" in boyd  # the library has no issue for Boyd 2016
    assert verhagen.startswith("Verhagen, A. P., Karels, C., Bierma-Zeinstra, S. M. A.,")
    assert cleveland == (
        "Cleveland Clinic. (n.d.). Why you should try medical or therapeutic massage. Retrieved "
        "July 31, 2023, from https://my.clevelandclinic.org/health/treatments/massage-therapy"
    )


def test_what_the_writer_gave_does_not_overrule_the_library(find) -> None:  # type: ignore[no-untyped-def]
    # A wrong issue is a difference, and the reprint prints the library's issue.
    paste = SHERMAN_AMA.replace("25(3)", "25(4)")
    report = check_references(paste, find, style="apa")
    assert fields(report.as_json()["entries"][0]["differences"]) == ["issue"]
    assert "25(3)" in report.formatted and "25(4)" not in report.formatted


@pytest.mark.parametrize(
    "style", ["apa", "vancouver", "american-medical-association", "harvard-cite-them-right"]
)
def test_web_sources_reprint_without_stray_full_stops(find, style: str) -> None:  # type: ignore[no-untyped-def]
    paste = "\n".join(
        [
            "Cleveland Clinic. (n.d.). Why you should try medical or therapeutic massage.",
            "Mayo Clinic. Massage: Get in touch with its many benefits.",
            "Sutter Health. Therapeutic bodywork.",
            CLEVELAND_WEB.replace("Cleveland Clinic", "Kaiser Permanente"),
        ]
    )
    report = check_references(paste, find, style=style)
    statuses = [e.status for e in report.entries]
    assert statuses[:2] == ["matched", "matched"]
    for line in report.formatted.splitlines():
        assert ". ." not in line and ".." not in line.replace("...", "")
        assert not line.rstrip().endswith((". .", ".."))


def test_possible_and_unknown_entries_stay_as_written_in_html(find) -> None:  # type: ignore[no-untyped-def]
    report = check_references(
        f"{FURLAN_2009}\n{SHERMAN_AMA}\nNobody X. Nothing. 2001.", find, fmt="html"
    )
    assert '<span class="csl-entry pasted check"><span class="mark">[check]</span> Furlan AD' in (
        report.formatted
    )
    assert 'class="csl-entry pasted not-in-library"' in report.formatted


def test_title_cut_short_matches_only_when_every_fact_agrees(find) -> None:  # type: ignore[no-untyped-def]
    cut = "Sherman KJ, Cherkin DC. Randomized trial of therapeutic massage. Clin J Pain. {}."
    (whole,) = check_references(cut.format("2009;25(3):233-8"), find).entries
    assert (whole.status, whole.key) == ("matched", "sherman2009randomized")
    (other_year,) = check_references(cut.format("2010;25(3):233-8"), find).entries
    assert other_year.status == "possible" and other_year.key is None
