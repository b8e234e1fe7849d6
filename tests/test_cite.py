"""Citation formatting: exact output for citeproc-py's known defects, styles, HTML, the cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from references import csl_list
from references.cite import Citer, format_bibliography, format_citation
from references.citecache import LRUCache
from references.styles import UnknownStyleError, find_styles, resolve_style, suggest_styles

DATA = Path(__file__).parent / "fixtures" / "shared-data"


def _load(name: str) -> list[dict[str, Any]]:
    with open(DATA / name, encoding="utf-8") as f:
        return json.load(f)


LIBRARY = {r["id"]: r for r in _load("library.json")}
WEB = {r["id"]: r for r in _load("seed-web.json")}
SHERMAN = LIBRARY["sherman2009randomized"]


def _doe(key: str, title: str, journal: str) -> dict[str, Any]:
    return {
        "id": key,
        "type": "article-journal",
        "title": title,
        "container-title": journal,
        "author": [{"family": "Doe", "given": "Jane"}],
        "issued": {"date-parts": [[2009]]},
    }


DOE_SLEEP = _doe("doe2009sleep", "Massage and sleep", "Sleep")
DOE_MOOD = _doe("doe2009mood", "Massage and mood", "Mood")


def test_apa_entry_is_exact() -> None:
    expected = (
        "Sherman, K. J., Cherkin, D. C., Hawkes, R. J., Miglioretti, D. L., & Deyo, R. A. (2009). "
        "Randomized trial of therapeutic massage for chronic neck pain. The Clinical Journal of "
        "Pain, 25(3), 233–238. https://doi.org/10.1097/AJP.0b013e31818b7912"
    )
    assert format_bibliography([SHERMAN], "apa") == [expected]
    assert format_citation([SHERMAN], "apa") == "(Sherman et al., 2009)"


@pytest.mark.parametrize("style", ["american-medical-association", "vancouver"])
def test_numbered_entries_have_a_space_after_the_number(style: str) -> None:
    entries = format_bibliography([SHERMAN, LIBRARY["ezzo2007massage"]], style)
    assert entries[0].startswith("1. Sherman KJ, Cherkin DC")
    assert entries[1].startswith("2. Ezzo J, ")


def test_numbered_styles_cite_by_number_and_collapse_ranges() -> None:
    records = [SHERMAN, LIBRARY["ezzo2007massage"], LIBRARY["ezzo2015manual"]]
    assert format_citation([SHERMAN], "ama") == "1"
    assert format_citation([SHERMAN], "ama", "html") == "<sup>1</sup>"
    assert format_citation([SHERMAN], "vancouver") == "(1)"
    assert format_citation([SHERMAN], "ieee") == "[1]"
    assert format_citation(records, "ama") == "1–3"
    assert Citer().citations(records, "ama") == ["1", "2", "3"]


def test_ama_prints_the_year_of_an_issue_spanning_two_months() -> None:
    # issued 2009-03/2009-04: citeproc-py dropped the year of a same-year range entirely.
    (entry,) = format_bibliography([SHERMAN], "ama")
    assert "Clin J Pain. 2009;25(3):233-238." in entry


def test_nlm_date_range_keeps_the_locale_order_and_spaces() -> None:
    (entry,) = format_bibliography([SHERMAN], "nlm-citation-sequence")
    assert "Clin J Pain. 2009 Mar–Apr;25(3):233–8." in entry


@pytest.mark.parametrize("style", ["ama", "vancouver", "nlm"])
def test_medical_styles_print_the_short_journal_title(style: str) -> None:
    # container-title-short is the NLM abbreviation; AMA and NLM ask for the short form.
    (entry,) = format_bibliography([SHERMAN], style)
    assert " Clin J Pain. " in entry and "The Clinical Journal of Pain" not in entry
    full = {k: v for k, v in SHERMAN.items() if k != "container-title-short"}
    assert "The Clinical Journal of Pain. " in format_bibliography([full], style)[0]


def test_mla_in_text_adds_the_title_only_to_tell_works_apart() -> None:
    assert format_citation([SHERMAN], "mla") == "(Sherman et al.)"
    assert Citer().citations([DOE_SLEEP, DOE_MOOD], "mla") == [
        "(Doe, “Massage and Sleep”)",
        "(Doe, “Massage and Mood”)",
    ]


def test_mla_adds_names_and_repeats_authors_with_dashes() -> None:
    records = [
        SHERMAN,
        LIBRARY["sherman2014five"],
        LIBRARY["ezzo2015manual"],
        LIBRARY["ezzo2007massage"],
    ]
    assert Citer().citations(records[:2], "mla") == [
        "(Sherman, Cherkin, et al.)",
        "(Sherman, Cook, et al.)",
    ]
    # Ezzo 2015 and 2007 share only their first author: the names shown differ, no dashes.
    entries = format_bibliography(records, "mla")
    assert entries[0].startswith("Ezzo, Jeanette, E. Manheimer, et al. “Manual Lymphatic")
    assert entries[1].startswith("Ezzo, Jeanette, Bodhi G. Haraldsson, et al. “Massage for")
    entries = format_bibliography([DOE_SLEEP, DOE_MOOD], "mla")
    assert entries[0].startswith("Doe, Jane. “Massage and Mood.”")
    assert entries[1].startswith("———. “Massage and Sleep.”")


@pytest.mark.parametrize(
    ("style", "first", "second", "cluster"),
    [
        (
            "apa",
            "Doe, J. (2009a). Massage and mood.",
            "Doe, J. (2009b). Massage and sleep.",
            "(Doe, 2009b, 2009a)",
        ),
        (
            "chicago-author-date",
            "Doe, Jane. 2009a. “Massage and Mood.”",
            "Doe, Jane. 2009b. “Massage and Sleep.”",
            "(Doe 2009b, 2009a)",
        ),
        (
            "harvard-cite-them-right",
            "Doe, J. (2009a) ‘Massage and mood’",
            "Doe, J. (2009b) ‘Massage and sleep’",
            "(Doe, 2009b, 2009a)",
        ),
    ],
)
def test_year_suffixes_in_entries_and_cites(
    style: str, first: str, second: str, cluster: str
) -> None:
    entries = format_bibliography([DOE_SLEEP, DOE_MOOD], style)
    assert entries[0].startswith(first) and entries[1].startswith(second)
    assert format_citation([DOE_SLEEP, DOE_MOOD], style) == cluster
    # Alone, a work needs no suffix.
    assert "2009a" not in format_bibliography([DOE_SLEEP], style)[0]


def test_given_names_tell_same_family_authors_apart() -> None:
    records = [
        LIBRARY["moraska2015myofascial"],
        LIBRARY["moraska2008comparison"],
        LIBRARY["yang2023efficacy"],
        LIBRARY["yang2012effects"],
    ]
    assert Citer().citations(records, "apa") == [
        "(A. F. Moraska et al., 2015)",
        "(A. Moraska et al., 2008)",
        "(Yang et al., 2023)",
        "(Yang et al., 2012)",  # same initials: APA stops at initials
    ]
    assert Citer().citations(records, "chicago")[2:] == [
        "(Juan Yang et al. 2023)",
        "(Jing-lan Yang et al. 2012)",
    ]


@pytest.mark.parametrize("style", ["chicago-author-date", "modern-language-association"])
def test_punctuation_moves_inside_quotes_in_us_styles(style: str) -> None:
    (entry,) = format_bibliography([SHERMAN], style)
    assert "“Randomized Trial of Therapeutic Massage for Chronic Neck Pain.”" in entry
    assert "”." not in entry


def test_harvard_is_british_by_default() -> None:
    (entry,) = format_bibliography([SHERMAN], "harvard")
    assert entry == (
        "Sherman, K.J. et al. (2009) ‘Randomized trial of therapeutic massage for chronic neck "
        "pain’, The Clinical Journal of Pain, 25(3), pp. 233–238. Available at: "
        "https://doi.org/10.1097/AJP.0b013e31818b7912."
    )
    us = format_bibliography([SHERMAN], "harvard", locale="en-US")[0]
    assert "“Randomized trial of therapeutic massage for chronic neck pain,”" in us


def test_bibliography_is_sorted() -> None:
    records = [SHERMAN, LIBRARY["ezzo2007massage"], LIBRARY["ajimsha2012effectiveness"]]
    entries = format_bibliography(records, "apa")
    assert [e.split(",")[0] for e in entries] == ["Ajimsha", "Ezzo", "Sherman"]


def test_page_ranges_use_the_styles_dash() -> None:
    assert "233–238" in format_bibliography([SHERMAN], "apa")[0]
    assert "233–38" in format_bibliography([SHERMAN], "chicago")[0]
    assert "233-238" in format_bibliography([SHERMAN], "ama")[0]  # AMA prints a hyphen


@pytest.mark.parametrize(
    ("style", "entry", "cite"),
    [
        (
            "apa",
            "Mayo Clinic. (n.d.). Massage, get in touch with its many benefits.",
            "(Mayo Clinic, n.d.)",
        ),
        (
            "chicago-author-date",
            "Mayo Clinic. n.d. “Massage, Get in Touch with Its Many Benefits.”",
            "(Mayo Clinic, n.d.)",
        ),
        (
            "harvard-cite-them-right",
            "Mayo Clinic (no date) Massage, get in touch with its many benefits.",
            "(Mayo Clinic, no date)",
        ),
        (
            "american-medical-association",
            "1. Mayo Clinic. Massage, get in touch with its many benefits.",
            "1",
        ),
    ],
)
def test_organisation_web_page_without_date(style: str, entry: str, cite: str) -> None:
    page = WEB["mayoclinic-massage-benefits"]
    assert format_bibliography([page], style) == [entry]
    assert format_citation([page], style) == cite


def test_html_escapes_text_and_links_doi() -> None:
    record = dict(SHERMAN, title="Massage <script>alert(1)</script> & more")
    (entry,) = format_bibliography([record], "apa", "html")
    assert "Massage &lt;script&gt;alert(1)&lt;/script&gt; &amp; more." in entry
    assert "<script>" not in entry
    assert "Miglioretti, D. L., &amp; Deyo, R. A." in entry
    assert "<i>The Clinical Journal of Pain</i>, <i>25</i>(3), 233–238." in entry
    assert entry.endswith(
        '<a href="https://doi.org/10.1097/AJP.0b013e31818b7912">'
        "https://doi.org/10.1097/AJP.0b013e31818b7912</a>"
    )
    ama = format_bibliography([SHERMAN], "ama", "html")[0]
    assert (
        'doi:<a href="https://doi.org/10.1097/AJP.0b013e31818b7912">'
        "10.1097/AJP.0b013e31818b7912</a>"
    ) in ama


def test_apostrophes_are_typographic() -> None:
    record = LIBRARY["clemocrosby2018aromatherapy"]
    assert "Journal of Nursing and Women’s Health" in format_bibliography([record], "apa")[0]


@pytest.mark.parametrize(
    ("name", "resolved"),
    [
        ("apa", "apa"),
        ("ama", "american-medical-association"),
        ("vancouver", "nlm-citation-sequence"),
        ("nlm", "nlm-citation-sequence"),
        ("chicago", "chicago-author-date"),
        ("harvard", "harvard-cite-them-right"),
        ("harvard1", "harvard-cite-them-right"),  # renamed-styles.json
        ("mla", "modern-language-association"),
        ("IEEE", "ieee"),
        ("modern-language-association.csl", "modern-language-association"),
    ],
)
def test_style_names_aliases_and_renamed_styles(name: str, resolved: str) -> None:
    info = resolve_style(name)
    assert info.name == resolved
    assert info.path.name == f"{resolved}.csl"


def test_dependent_style_renders_with_its_parent() -> None:
    info = resolve_style("vancouver-ama")
    assert info.title == "Vancouver - AMA"
    assert info.path.name == "american-medical-association.csl"
    assert info.numeric
    assert format_bibliography([SHERMAN], "vancouver-ama") == format_bibliography([SHERMAN], "ama")


def test_style_facts() -> None:
    assert not resolve_style("apa").numeric
    assert resolve_style("harvard").default_locale == "en-GB"
    assert resolve_style("apa").title == "APA Style 7th edition"


def test_unknown_style_names_the_closest_styles() -> None:
    with pytest.raises(UnknownStyleError) as caught:
        resolve_style("americn-medical-asociation")
    assert caught.value.suggestions[0] == "american-medical-association"
    assert "did you mean american-medical-association" in str(caught.value)
    with pytest.raises(UnknownStyleError):
        format_bibliography([SHERMAN], "no-such-style-at-all")


def test_find_styles() -> None:
    names = [s.name for s in find_styles("vancouver")]
    assert "vancouver-ama" in names
    assert all(
        "vancouver" in n or "vancouver" in s.title.lower()
        for n, s in zip(names, find_styles("vancouver"), strict=True)
    )


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        format_bibliography([SHERMAN], "apa", "rtf")


def test_cache_serves_repeats_and_never_stale_records() -> None:
    citer = Citer(LRUCache(maxsize=1000))
    first = citer.bibliography([SHERMAN], "apa", versions={SHERMAN["id"]: "v1"})
    hits = citer.cache.hits
    assert citer.bibliography([SHERMAN], "apa", versions={SHERMAN["id"]: "v1"}) == first
    assert citer.cache.hits > hits

    changed = dict(SHERMAN, title="A changed title")
    # A new version token: new output.
    (entry,) = citer.bibliography([changed], "apa", versions={SHERMAN["id"]: "v2"})
    assert "A changed title." in entry
    # No token: keyed by content, so a changed record cannot hit the old entry either.
    (entry,) = citer.bibliography([dict(SHERMAN, title="Another title")], "apa")
    assert "Another title." in entry


def test_cache_numbers_follow_the_list_not_the_cache() -> None:
    citer = Citer()
    ezzo = LIBRARY["ezzo2007massage"]
    assert citer.bibliography([SHERMAN, ezzo], "ama")[0].startswith("1. Sherman")
    assert citer.bibliography([ezzo, SHERMAN], "ama")[0].startswith("1. Ezzo")


def test_cache_is_bounded() -> None:
    citer = Citer(LRUCache(maxsize=10))
    citer.bibliography(list(LIBRARY.values())[:20], "apa")
    assert len(citer.cache) <= 10


def test_style_suggestions_name_each_style_once() -> None:
    # "apa" is both an alias and a file name; it used to be suggested twice.
    assert suggest_styles("apx") == ["apa"]
    for name in ("apx", "vancuver", "chicgo", "ama"):
        suggestions = suggest_styles(name)
        assert len(suggestions) == len(set(suggestions))


def _by(family: str, year: int, title: str) -> dict[str, Any]:
    return {
        "id": f"{family.lower()}{year}{title[:4].lower()}",
        "type": "article-journal",
        "title": title,
        "container-title": "Pain",
        "author": [{"family": family, "given": "Ann"}],
        "issued": {"date-parts": [[year]]},
    }


def test_later_sort_keys_break_ties_and_are_rendered_only_for_ties() -> None:
    records = [
        _by("Moraska", 2010, "Zeta trial"),
        _by("Field", 2014, "Touch"),
        _by("Moraska", 2009, "Beta trial"),
        _by("Moraska", 2009, "Alpha trial"),
        _by("Cherkin", 2001, "Back pain"),
    ]
    cache = LRUCache()
    entries = Citer(cache).bibliography(records, "apa")
    assert [e.split(". ")[0] + ". " + e.split(". ")[1] for e in entries] == [
        "Cherkin, A. (2001)",
        "Field, A. (2014)",
        "Moraska, A. (2009a)",
        "Moraska, A. (2009b)",
        "Moraska, A. (2010)",
    ]
    assert "Alpha trial" in entries[2] and "Beta trial" in entries[3]
    sort_keys = {k[2]: v for k, v in cache._data.items() if k[:2] == ("sort", "bib")}
    rendered = {
        key: sum(1 for v in values if v is not csl_list.UNSET) for key, values in sort_keys.items()
    }
    # Cherkin and Field differ from everyone by author: one key each; the Moraskas need more.
    assert rendered["cherkin2001back"] == rendered["field2014touc"] == 1
    assert rendered["moraska2009alph"] > 2 and rendered["moraska2010zeta"] >= 2


def test_formats_and_styles_interleave_on_one_citer() -> None:
    # Parsed styles keep memoised look-ups (child elements, conditions, formatting); the
    # formatter is still read on every render, so HTML and text can alternate.
    citer = Citer()
    records = [SHERMAN, LIBRARY["ezzo2007massage"]]
    for _ in range(2):
        text = citer.bibliography(records, "apa")
        html = citer.bibliography(records, "apa", "html")
        ama = citer.bibliography(records, "ama", "html")
        assert "<i>" not in text[0] and "<i>" in html[0] and "<i>" in ama[0]
        assert text[0].startswith("Ezzo") and ama[0].startswith("1. Sherman")


@pytest.mark.parametrize("style", ["vancouver", "apa", "modern-language-association"])
def test_rendering_never_changes_the_parsed_style(style: str) -> None:
    # citeproc-py inserted a default name element into a cs:names without one on every render,
    # so a long-running process's parsed style grew by an element per entry.
    from references.cite import _loaded_style

    info = resolve_style(style)
    root = _loaded_style(info.path, info.default_locale or "en-US").root
    records = [SHERMAN, LIBRARY["ezzo2007massage"], DOE_SLEEP]
    Citer().bibliography(records, style)
    before = sum(1 for _ in root.iter())
    for _ in range(3):
        Citer().bibliography(records, style)
        Citer().citations(records, style)
    assert sum(1 for _ in root.iter()) == before
