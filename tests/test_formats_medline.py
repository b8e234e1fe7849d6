"""MEDLINE (.nbib) reading: a real PubMed record, dates, page ranges, names."""

from __future__ import annotations

from pathlib import Path

import pytest

from references import formats, medline

FIXTURES = Path(__file__).parent / "fixtures" / "formats"


def test_pubmed_record() -> None:
    result = formats.read_path(FIXTURES / "pubmed_medline.txt")
    assert result.format == "medline"
    assert (len(result.records), len(result.failures)) == (1, 0)
    record = result.records[0]
    assert record["PMID"] == "20481061"
    assert record["PMCID"] == "PMC4513071"
    assert record["title"].startswith("From danger and motherhood to health and beauty")
    assert record["title"].endswith("factory girl in early twentieth-century Britain.")
    assert record["author"] == [
        {"family": "Long", "given": "Vicky"},
        {"family": "Marland", "given": "Hilary"},
    ]
    assert record["container-title"] == "20 century British history"
    assert record["container-title-short"] == "20 Century Br Hist"
    assert record["page"] == "454-481"
    assert record["ISSN"] == "0955-2359"
    assert record["publication-types"][:2] == ["Historical Article", "Journal Article"]
    assert "Occupational Health" in record["keywords"]
    assert "DOI" not in record  # LID here is a [pii], not a DOI


@pytest.mark.parametrize(
    ("dp", "parts"),
    [
        ("2009 Mar-Apr", [[2009, 3], [2009, 4]]),
        ("2014 Mar", [[2014, 3]]),
        ("2009 Mar 15", [[2009, 3, 15]]),
        ("2008 Dec-2009 Jan", [[2008, 12], [2009, 1]]),
        ("2009 Spring", [[2009]]),
    ],
)
def test_publication_dates(dp: str, parts: list[list[int]]) -> None:
    assert medline.parse_dp(dp) == {"date-parts": parts}


def test_fau_over_au_and_doi() -> None:
    text = (
        "PMID- 19254098\nTI  - Massage.\nFAU - Post-White, Janice\nAU  - Post-White J\n"
        "FAU - van der Berg, Jan\nCN  - Cochrane Back Group\nPG  - 233-8\n"
        "AID - 10.1089/acm.2008.0290 [doi]\nJT  - the journal of pain\nDP  - 2009 Mar-Apr\n"
    )
    record = medline.read(text).records[0]
    assert record["author"] == [
        {"family": "Post-White", "given": "Janice"},
        {"family": "Berg", "given": "Jan", "non-dropping-particle": "van der"},
        {"literal": "Cochrane Back Group"},
    ]
    assert record["container-title"] == "the journal of pain"
    assert record["page"] == "233-238"
    assert record["DOI"] == "10.1089/acm.2008.0290"
