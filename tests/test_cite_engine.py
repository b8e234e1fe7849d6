"""Element-level CSL fixes, each in our own words and data (see references.csl_engine)."""

from __future__ import annotations

from typing import Any

from references.cite import Citer, split_particles
from references.csl_engine import initials, title_case


def _work(key: str, family: str, given: str, year: Any, **extra: Any) -> dict[str, Any]:
    issued = {"date-parts": year if isinstance(year, list) else [[year]]}
    return {
        "id": key,
        "type": "article-journal",
        "title": f"Massage study {key}",
        "author": [{"family": family, "given": given}],
        "issued": issued,
        **extra,
    }


def test_every_name_variable_renders() -> None:
    # A score's composer and a series' editors used to crash ("argument after ** must be a
    # mapping"); they are names like any author.
    record = {
        "id": "score",
        "type": "musical_score",
        "title": "Music for a massage room",
        "composer": [{"family": "Tonal", "given": "Ada"}],
        "collection-editor": [{"family": "Series", "given": "Bo"}],
        "issued": {"date-parts": [[2020]]},
    }
    (entry,) = Citer().bibliography([record], "apa")
    assert entry.startswith("Tonal, A. (2020).")


def test_family_name_particles_split_and_sort_by_the_style() -> None:
    assert split_particles({"family": "van den Berg", "given": "Anna"}) == {
        "family": "Berg",
        "given": "Anna",
        "non-dropping-particle": "van den",
    }
    assert split_particles({"family": "Berg", "given": "Anna"}) == {
        "family": "Berg",
        "given": "Anna",
    }
    records = [_work("b", "Brown", "Carl", 2001), _work("a", "van den Berg", "Anna", 2001)]
    # Harvard demotes the particle for sorting only; APA never does.
    harvard = Citer().bibliography(records, "harvard-cite-them-right")
    assert harvard[0].startswith("van den Berg, A.") and harvard[1].startswith("Brown, C.")
    apa = Citer().bibliography(records, "apa")
    assert apa[0].startswith("Brown, C.") and apa[1].startswith("van den Berg, A.")
    # Chicago demotes it for display too.
    assert Citer().bibliography(records, "chicago")[0].startswith("Berg, Anna van den.")


def test_letters_without_a_decomposition_sort_as_their_base_letter() -> None:
    records = [_work("u", "Yumak", "Ali", 2001), _work("i", "Yıldız", "Eda", 2001)]
    entries = Citer().bibliography(records, "apa")
    assert entries[0].startswith("Yıldız") and entries[1].startswith("Yumak")


def test_a_date_in_a_sort_macro_sorts_by_the_parts_it_shows() -> None:
    # Harvard's citation sorts by a year macro: equal years keep their order, and a range
    # ("March-April") sorts after a single date of the same year.
    records = [
        _work("r", "Roe", "Al", [[2009, 3], [2009, 4]]),
        _work("s", "Sun", "Bo", 2009),
        _work("p", "Poe", "Cy", 2008),
    ]
    assert (
        Citer().citation(records, "harvard-cite-them-right") == "(Poe, 2008; Sun, 2009; Roe, 2009)"
    )


def test_issue_ranges_take_the_locales_range_delimiter() -> None:
    record = _work("n", "Numb", "Ed", 2010, volume="7", issue="1-2", page="5-9")
    record["container-title"] = "Journal of Touch"
    assert "7(1–2), 5–9." in Citer().bibliography([record], "apa")[0]
    # AMA's locale sets a hyphen as its range delimiter.
    assert "7(1-2):5-9." in Citer().bibliography([record], "ama")[0]


def test_hyphenated_given_names_keep_both_initials() -> None:
    assert initials("Yan-hui", ". ") == "Y.-h."
    assert initials("Yan-hui", "") == "YH"
    assert initials("Jean-Paul", ".") == "J.-P."
    assert initials("Jean-Paul", ". ", hyphen=False) == "J. P."
    assert initials("Ana Maria de Paula", ".") == "A.M. de P."
    record = _work("h", "Li", "Yan-hui", 2014)
    assert Citer().bibliography([record], "apa")[0].startswith("Li, Y.-h. (2014).")
    assert Citer().bibliography([record], "vancouver")[0].startswith("1. Li YH.")


def test_title_case_keeps_stop_words_inside_compounds_lower_case() -> None:
    assert str(title_case("a proof-of-concept study")) == "A Proof-of-Concept Study"
    assert str(title_case("run-in and follow-up")) == "Run-in and Follow-up"
    assert str(title_case("meta-analysis of self-care")) == "Meta-Analysis of Self-Care"
    # A hyphenated word's first part is capitalised even when it is a stop word; digits,
    # Greek letters and words after a dash or a no-break space as citeproc-js treats them.
    assert str(title_case("employee pro-environmental behavior")) == (
        "Employee Pro-Environmental Behavior"
    )
    assert str(title_case("07-x and β-carotine")) == "07-x and β-Carotine"
    assert str(title_case("traits—self-esteem\u00a0scores")) == "Traits—Self-Esteem\u00a0Scores"
    assert str(title_case("John von Doe: an about up life")) == "John von Doe: An about up Life"


def test_markup_in_a_field_is_formatting_and_flips_inside_italics() -> None:
    book = {
        "id": "book",
        "type": "book",
        "title": "Massage in <i>Homo sapiens</i> and <b>others</b>",
        "author": [{"family": "Doe", "given": "Jane"}],
        "issued": {"date-parts": [[2001]]},
    }
    (html,) = Citer().bibliography([book], "apa", "html")
    assert (
        '<i>Massage in <span style="font-style:normal;">Homo sapiens</span> and <b>others</b></i>'
    ) in html
    (text,) = Citer().bibliography([book], "apa")
    assert "Massage in Homo sapiens and others." in text
    # An unmatched tag is text, escaped.
    odd = dict(book, title="Massage a</i> b")
    assert "Massage a&lt;/i&gt; b" in Citer().bibliography([odd], "apa", "html")[0]


_COLLAPSING = """<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><title>Collapsing test</title><id>collapsing</id><updated>2026-12-08T00:00:00+00:00</updated>
  </info>
  <citation disambiguate-add-year-suffix="true" collapse="{collapse}">
    <sort><key variable="{sort}"/></sort>
    <layout prefix="(" suffix=")" delimiter="; ">
      <group delimiter=" ">{body}</group>
    </layout>
  </citation>
  <bibliography><sort><key variable="title"/></sort><layout><text variable="title"/></layout>
  </bibliography>
</style>"""


def _doe(n: int, year: int = 2009) -> dict[str, Any]:
    return {
        "id": f"doe{n}",
        "type": "article-journal",
        "title": f"Massage report {n}",
        "author": [{"family": "Doe", "given": "Jane"}],
        "issued": {"date-parts": [[year]]},
    }


def test_year_suffixes_collapse_into_a_range() -> None:
    from references.clusters import CiteItem, Cluster, cite_document

    body = (
        '<names variable="author"><name form="short"/></names><group>'
        '<date variable="issued"><date-part name="year"/></date>'
        '<text variable="year-suffix"/></group>'
    )
    style = _COLLAPSING.format(collapse="year-suffix-ranged", sort="title", body=body)
    records = [_doe(1), _doe(2), _doe(3), _doe(4), _doe(5, 2010)]
    everything = Cluster([CiteItem(r["id"]) for r in records])
    some = Cluster([CiteItem("doe1"), CiteItem("doe3"), CiteItem("doe4"), CiteItem("doe5")])
    assert cite_document(records, [everything, some], style).citations == [
        "(Doe 2009a–d; 2010)",
        "(Doe 2009a; c; d; 2010)",
    ]


def test_citation_numbers_collapse_into_ranges() -> None:
    from references.clusters import CiteItem, Cluster, cite_document

    style = _COLLAPSING.format(
        collapse="citation-number",
        sort="citation-number",
        body='<text variable="citation-number"/>',
    )
    records = [_doe(n) for n in range(1, 7)]
    everything = Cluster([CiteItem(f"doe{n}") for n in range(1, 7)])
    some = Cluster([CiteItem(f"doe{n}") for n in (1, 2, 3, 5, 6)])
    assert cite_document(records, [everything, some], style).citations == ["(1–6)", "(1–3; 5; 6)"]


def test_an_abbreviated_last_page_is_read_in_full() -> None:
    # "1669-84" is pages 1669 to 1684: APA writes both in full, Chicago abbreviates its way.
    record = _work("p", "Page", "Al", 2009, page="1669-84", volume="34")
    record["container-title"] = "Spine"
    assert "1669–1684" in Citer().bibliography([record], "apa")[0]
    assert "1669–84" in Citer().bibliography([record], "chicago")[0]


def test_one_authors_years_collapse_with_a_comma() -> None:
    from references.clusters import CiteItem, Cluster, cite_document

    style = _COLLAPSING.format(
        collapse="year",
        sort="issued",
        body='<names variable="author"><name form="short"/></names>'
        '<date variable="issued"><date-part name="year"/></date>',
    )
    records = [_doe(1, 2001), _doe(2, 2003)]
    cluster = Cluster([CiteItem("doe2"), CiteItem("doe1")])
    assert cite_document(records, [cluster], style).citations == ["(Doe 2001, 2003)"]


def test_quotes_in_a_field_become_the_locales_and_flip_inside_quotes() -> None:
    article = _work("q", "Quote", "Al", 2010)
    article["title"] = 'Massage as "touch therapy" in l\'Hôpital'
    article["container-title"] = "Journal of Touch"
    # Chicago quotes article titles: the inner quotes turn single.
    entry = Citer().bibliography([article], "chicago")[0]
    assert "“Massage as ‘Touch Therapy’ in l’Hôpital.”" in entry
    # APA does not quote them: the field's quotes are the outer ones.
    assert "Massage as “touch therapy” in l’Hôpital." in Citer().bibliography([article], "apa")[0]


def test_ibid_opens_a_sentence_with_a_capital() -> None:
    from references.clusters import CiteItem, Cluster, cite_document

    records = [_work("i", "Ibis", "Al", 2010, title="Massage of birds")]
    cites = cite_document(
        records,
        [
            Cluster([CiteItem("i", locator="3")]),
            Cluster([CiteItem("i", locator="4", prefix="As shown there. ")]),
            Cluster([CiteItem("i", locator="5", prefix="see ")]),
        ],
        "chicago-note-bibliography",
    ).citations
    assert cites[1] == "As shown there. Ibid., 4."
    assert cites[2] == "see ibid., 5."


def test_initials_keep_abbreviations_and_split_run_together_initials() -> None:
    # A part written with a period is an abbreviation, kept ("Ph.", "Me."); "M.E" is two
    # initials; "ME" without a period is a name, initialised to "M".
    assert initials("Ph.M.E.", ". ") == "Ph. M. E."
    assert initials("Ph.M.E.", "") == "PhME"
    assert initials("M.E", " ") == "M E"
    assert initials("ME", ".") == "M."
    assert initials("Me.", ".") == "Me."
    assert initials("John M.E.", ". ") == "J. M. E."
    # initialize="false": full names stay, initials are tidied.
    assert initials("John M.E.", ". ", whole=True) == "John M. E."
    assert initials("ME", ". ", whole=True) == "ME"


_ADD_NAMES = """<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><title>Adding names</title><id>add-names</id><updated>2026-12-08T00:00:00+00:00</updated>
  </info>
  <citation et-al-min="3" et-al-use-first="1" {options}>
    <layout delimiter="; ">
      <group delimiter=" ">
        <names variable="author"><name form="short" and="symbol" initialize-with=". "/></names>
        <date variable="issued" prefix="(" suffix=")"><date-part name="year"/></date>
      </group>
    </layout>
  </citation>
</style>"""


def _team(key: str, *families: str) -> dict[str, Any]:
    return {
        "id": key,
        "type": "report",
        "title": f"Massage team {key}",
        "author": [{"family": f, "given": "Lee"} for f in families],
        "issued": {"date-parts": [[2011]]},
    }


TEAMS = [
    _team("a", "Park", "Cho", "Moon"),
    _team("b", "Park", "Cho", "Moon"),  # the same team again
    _team("c", "Park", "Han", "Moon"),
]


def test_added_names_stay_when_they_tell_some_cites_apart() -> None:
    from references.clusters import CiteItem, Cluster, cite_document

    style = _ADD_NAMES.format(options='disambiguate-add-names="true"')
    clusters = [Cluster([CiteItem(r["id"])]) for r in TEAMS]
    # a and b cannot be told apart, but a second name tells both from c: it stays.
    assert cite_document(TEAMS, clusters, style).citations == [
        "Park, Cho, et al. (2011)",
        "Park, Cho, et al. (2011)",
        "Park, Han, et al. (2011)",
    ]


def test_an_implicit_year_suffix_goes_inside_the_dates_affixes() -> None:
    from references.clusters import CiteItem, Cluster, cite_document

    style = _ADD_NAMES.format(options='disambiguate-add-year-suffix="true"')
    clusters = [Cluster([CiteItem(r["id"])]) for r in TEAMS[:2]]
    assert cite_document(TEAMS[:2], clusters, style).citations == [
        "Park et al. (2011a)",
        "Park et al. (2011b)",
    ]


def test_punctuation_merges_where_pieces_meet() -> None:
    from references.csl_format import merge_punctuation

    assert merge_punctuation("Does massage help?. Pain") == "Does massage help? Pain"
    assert merge_punctuation("as noted;: see") == "as noted; see"
    assert merge_punctuation("as noted:? see") == "as noted? see"
    assert merge_punctuation("in \ue000Pain.\ue001. Next") == "in \ue000Pain.\ue001 Next"
    assert merge_punctuation("e.g., a,. b") == "e.g., a,. b"  # a comma and a period stay


def test_superscript_letters_are_sup_in_html() -> None:
    from references.csl_format import finish_html

    assert finish_html("1ʳᵉ éd. & 2.ª") == "1<sup>r</sup><sup>e</sup> éd. &amp; 2.<sup>a</sup>"


def test_seasons_and_form_count() -> None:
    # CSL-JSON writes seasons as months 13-24 (Spring, Summer, Autumn, Winter).
    record = _work("s", "Season", "Al", [[2001, 21], [2002, 22]], type="book")
    record["title"] = "Massage in the seasons"
    seasons = """<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
      <info><title>Seasons</title><id>seasons</id><updated>2026-12-08T00:00:00+00:00</updated>
      </info><citation><layout>
      <date variable="issued" form="text" date-parts="year-month"/></layout></citation></style>"""
    assert Citer().citation([record], seasons) == "Spring 2001–Summer 2002"
    count = """<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
      <info><title>Count</title><id>count</id><updated>2026-12-08T00:00:00+00:00</updated></info>
      <citation><layout><names variable="author editor"><name form="count"/></names>
      </layout></citation></style>"""
    people = [{"family": f, "given": "A"} for f in ("One", "Two", "Three")]
    counted = dict(record, author=people, editor=people[:2])
    assert Citer().citation([counted], count) == "5"


def test_a_delimiter_after_an_inverted_name_only() -> None:
    style = """<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
      <info><title>Inverted</title><id>inverted</id><updated>2026-12-08T00:00:00+00:00</updated>
      </info><citation><layout><names variable="author">
      <name and="text" name-as-sort-order="first" delimiter-precedes-last="after-inverted-name"
            initialize-with=". "/></names></layout></citation></style>"""
    two = _work("t", "Roe", "Ann", 2001)
    two["author"] = [{"family": "Roe", "given": "Ann"}, {"family": "Poe", "given": "Bo"}]
    three = dict(two, id="th", author=[*two["author"], {"family": "Loe", "given": "Cy"}])
    assert Citer().citation([two], style) == "Roe, A., and B. Poe"  # Roe is inverted
    assert Citer().citation([three], style) == "Roe, A., B. Poe and C. Loe"  # Poe is not


def test_prefixed_page_ranges_keep_their_prefix_and_odd_ones_stay_as_written() -> None:
    from references.clusters import CiteItem, Cluster, cite_document

    def pages(page: str, range_format: str | None) -> str:
        option = f' page-range-format="{range_format}"' if range_format else ""
        style = (
            '<style xmlns="http://purl.org/net/xbiblio/csl" class="note" version="1.0"'
            f"{option}><info><id/><title/><updated>2020-01-01T00:00:00+00:00</updated></info>"
            '<citation><layout><text variable="page"/></layout></citation></style>'
        )
        record = _work("k", "Kneader", "Jo", 2012, page=page)
        return cite_document([record], [Cluster([CiteItem("k")])], style).citations[0]

    assert pages("S12 - S19", "expanded") == "S12–S19"
    assert pages("S212 - S19", "minimal") == "S212–9"
    assert pages("e1304-e1309", "chicago") == "e1304–9"
    # A prefix on one end only, or a last page below the first: nobody can say what is meant.
    assert pages("S12 - 19", "expanded") == "S12-19"
    assert pages("12 - S19", "expanded") == "12-S19"
    assert pages("48-36", "expanded") == "48-36"
    # No page-range-format: joined with the delimiter, not expanded.
    assert pages("212-19", None) == "212–19"


def test_a_cite_group_delimiter_groups_and_separates_year_suffixes() -> None:
    from references.clusters import CiteItem, Cluster, cite_document

    body = (
        '<names variable="author"><name form="short"/></names>'
        '<date variable="issued"><date-part name="year"/></date>'
    )
    grouped = _COLLAPSING.format(collapse="year-suffix", sort="title", body=body).replace(
        'collapse="year-suffix"', 'collapse="year-suffix" cite-group-delimiter=", "'
    )
    records = [_doe(1), _doe(2)]
    cluster = Cluster([CiteItem("doe1"), CiteItem("doe2")])
    # No year-suffix-delimiter: the suffixes take the cite-group delimiter, not the layout's.
    assert cite_document(records, [cluster], grouped).citations == ["(Doe 2009a, b)"]
    # A cite-group-delimiter without collapse moves one author's cites together but keeps
    # each cite whole.
    alone = grouped.replace('collapse="year-suffix" ', "")
    other = _work("roe", "Roe", "Al", 2005)
    records = [_doe(1, 2001), other, _doe(2, 2003)]
    cluster = Cluster([CiteItem("doe1"), CiteItem("roe"), CiteItem("doe2")])
    assert cite_document(records, [cluster], alone).citations == ["(Doe 2001, Doe 2003; Roe 2005)"]


def test_upper_and_lower_case_leave_a_nocase_span_alone() -> None:
    from references.clusters import CiteItem, Cluster, cite_document

    record = _work("n", "Nocase", "Al", 2011)
    record["title"] = 'Touch after <span class="nocase">McKenzie</span> Therapy'
    for case, expected in (
        ("uppercase", "TOUCH AFTER McKenzie THERAPY"),
        ("lowercase", "touch after McKenzie therapy"),
    ):
        style = (
            '<style xmlns="http://purl.org/net/xbiblio/csl" class="note" version="1.0">'
            "<info><id/><title/><updated>2020-01-01T00:00:00+00:00</updated></info>"
            f'<citation><layout><text variable="title" text-case="{case}"/></layout>'
            "</citation></style>"
        )
        cited = cite_document([record], [Cluster([CiteItem("n")])], style).citations[0]
        assert cited == expected


def test_a_trigraph_label_is_made_from_the_names_and_takes_the_year_suffix() -> None:
    from references.clusters import CiteItem, Cluster, cite_document
    from references.csl_label import citation_label

    def names(*families: str) -> dict[str, Any]:
        record = _work("t", "x", "y", 2009)
        record["author"] = [{"family": f, "given": "A"} for f in families]
        return record

    assert citation_label(names("Kneading")) == "Knea09"
    assert citation_label(names("Kneading", "Rolfing")) == "KnRo09"
    assert citation_label(names("Kneading", "Rolfing", "Shiatsu")) == "KnRS09"
    assert citation_label(names("Kneading", "Rolfing", "Shiatsu", "Tuina", "Watsu")) == "KRST09"
    assert citation_label({"id": "x", "title": "No names"}) is None
    style = (
        '<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">'
        "<info><id/><title/><updated>2020-01-01T00:00:00+00:00</updated></info>"
        '<citation disambiguate-add-year-suffix="true"><layout delimiter="; ">'
        '<text variable="citation-label"/></layout></citation></style>'
    )
    one, two = _work("a", "Kneading", "Al", 2009), _work("b", "Kneading", "Bo", 2009)
    two["title"] = "Another massage study"
    cluster = Cluster([CiteItem("a"), CiteItem("b")])
    assert cite_document([one, two], [cluster], style).citations == ["Knea09a; Knea09b"]


def test_a_numbered_bibliography_can_put_its_numbers_in_a_margin_div() -> None:
    record = _work("m", "Margin", "Al", 2014)
    record["container-title"] = "Journal of Touch"
    plain = Citer().bibliography([record], "vancouver", "html")
    assert plain[0].startswith("1. Margin A.")
    (entry,) = Citer().bibliography([record], "vancouver", "html", margins=True)
    assert entry.startswith('<div class="csl-left-margin">1.')
    assert entry.endswith("</div>") and '<div class="csl-right-inline">Margin A.' in entry
    # An author-date style has no second field to align: the entry is unchanged.
    assert Citer().bibliography([record], "apa", "html", margins=True) == Citer().bibliography(
        [record], "apa", "html"
    )


def test_a_suffix_written_in_the_given_name_is_read_as_a_suffix() -> None:
    assert split_particles({"family": "Rubb", "given": "Otto, III"}) == {
        "family": "Rubb",
        "given": "Otto",
        "suffix": "III",
    }
    assert split_particles({"family": "Rubb", "given": "Otto,! Jr."})["comma-suffix"] is True
    assert split_particles({"family": "Rubb", "given": "Otto,! Jr."})["suffix"] == "Jr."
    (entry,) = Citer().bibliography([_work("s", "Rubb", "Otto, III", 2003)], "apa")
    assert entry.startswith("Rubb, O., III")  # not "Rubb, O. III" nor "Rubb, O., III, Otto"
