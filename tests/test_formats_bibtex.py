"""BibTeX reading and writing: real exports from Zotero and JabRef, @string macros, LaTeX."""

from __future__ import annotations

from pathlib import Path

from references import bibtex, formats

FIXTURES = Path(__file__).parent / "fixtures" / "formats"


def test_zotero_better_bibtex_export() -> None:
    result = formats.read_path(FIXTURES / "zotero_better_bibtex.bib")
    assert (len(result.records), len(result.failures)) == (1, 0)
    record = result.records[0]
    assert record["id"] == "BaltesStaudinger2000Am.Psychol."
    assert record["container-title"] == "Am. Psychol."
    assert record["volume"] == "55"
    assert record["author"][1] == {"family": "Staudinger", "given": "Ursula M"}
    assert record["custom"]["file"].startswith("Baltes_Staudinger_2000_Wisdom.pdf:")


def test_jabref_library_decodes_accents() -> None:
    result = formats.read_path(FIXTURES / "jabref_library.bib")
    assert (len(result.records), len(result.failures)) == (2, 0)
    article, paper = result.records
    assert article["DOI"] == "10.1007/s00779-005-0347-6"
    assert article["page"] == "357-367"
    assert article["title"] == (
        "The trouble with login: on usability and computer security in ubiquitous computing"
    )
    assert paper["type"] == "paper-conference"
    assert [a["family"] for a in paper["author"][:3]] == ["Boström", "Wäyrynen", "Bodén"]
    assert paper["custom"]["location"] == "Shanghai, China"


def test_strings_concatenation_preamble_and_month_macros() -> None:
    result = formats.read_path(FIXTURES / "xampl_strings.bib")
    assert (len(result.records), len(result.failures)) == (6, 0)
    by_key = {r["id"]: r for r in result.records}
    assert by_key["article-full"]["issued"] == {"date-parts": [[1986, 7]]}
    # month = "10~" # jan: the file renames the month macros, the month field still means January
    assert by_key["inbook-full"]["issued"] == {"date-parts": [[1973, 1, 10]]}
    assert by_key["inbook-full"]["page"] == "10-119"
    assert by_key["article-crossref"]["custom"] == {"crossref": "whole-journal", "key": ""}


def test_string_concatenation_with_hash() -> None:
    text = (
        '@string{cjp = "Canad. J. Phys."}\n@article{a, title={T}, journal = cjp # { Supplement}}\n'
    )
    assert bibtex.read(text).records[0]["container-title"] == "Canad. J. Phys. Supplement"


def test_latex_particles_and_literal_names() -> None:
    text = r"""@article{van2009,
  author = {van der Berg, Jan and M{\"u}ller, K. and {{Cleveland Clinic}} and others},
  title = {The {PEDro} scale \textendash{} {\o}k: 50\% \& more},
  year = {2009}, date = {2009-03/2009-04}, pages = {233--238},
  doi = {https://doi.org/10.1089/acm.2008.0290}, keywords = {massage; back pain, RCT},
}"""
    record = bibtex.read(text).records[0]
    assert record["author"] == [
        {"family": "Berg", "given": "Jan", "non-dropping-particle": "van der"},
        {"family": "Müller", "given": "K."},
        {"literal": "Cleveland Clinic"},
        {"literal": "others"},
    ]
    assert record["title"] == "The PEDro scale – øk: 50% & more"
    assert record["issued"] == {"date-parts": [[2009, 3], [2009, 4]]}
    assert record["page"] == "233-238"
    assert record["DOI"] == "10.1089/acm.2008.0290"
    assert record["keywords"] == ["massage", "back pain", "RCT"]


def test_write_escapes_and_protects_case() -> None:
    record = {
        "id": "x",
        "type": "article-journal",
        "title": "PEDro & 50% of $5 #1 a_b {c}",
        "author": [{"family": "Müller", "given": "Jörg"}, {"literal": "Cleveland Clinic"}],
        "issued": {"date-parts": [[2009, 3, 5]]},
        "page": "233-238",
    }
    text = bibtex.write([record])
    assert r"title = {{PEDro} \& 50\% of \$5 \#1 a\_b \{c\}}" in text
    assert r"author = {M{\"u}ller, J{\"o}rg and {Cleveland Clinic}}" in text
    assert "month = mar," in text and "date = {2009-03-05}" in text
    assert "pages = {233--238}" in text
    assert text.isascii()


def test_misc_with_url_is_a_webpage_and_custom_fields_survive() -> None:
    text = "@misc{w, title={Page}, url={http://x.org/a_b%20c}, urldate={2020-01-05}, owner={me}}"
    record = bibtex.read(text).records[0]
    assert record["type"] == "webpage"
    assert record["URL"] == "http://x.org/a_b%20c"
    assert record["accessed"] == {"date-parts": [[2020, 1, 5]]}
    again = bibtex.read(bibtex.write([record])).records[0]
    assert again == record


def test_crossref_fills_missing_fields_from_its_parent() -> None:
    text = (
        "@inproceedings{child, crossref = {proc}, author = {Doe, Jane}, title = {A paper}, pages = {1--2}}\n"
        "@proceedings{proc, title = {Proceedings of Massage}, year = {2020}, publisher = {Pub}}\n"
    )
    result = bibtex.read(text)
    child = next(r for r in result.records if r["id"] == "child")
    assert child["title"] == "A paper"  # its own field wins
    assert child["issued"] == {"date-parts": [[2020]]}
    assert child["publisher"] == "Pub"
