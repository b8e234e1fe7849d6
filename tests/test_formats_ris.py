"""RIS reading and writing: an EndNote export of PubMed records, Embase and Zotero conventions."""

from __future__ import annotations

from pathlib import Path

from references import formats, ris

FIXTURES = Path(__file__).parent / "fixtures" / "formats"

EMBASE = """TY  - JOUR
ID  - 2002064337
T1  - Massage for low back pain
A1  - Furlan A.D.
A1  - van Tulder M.
Y1  - 2009//
N2  - Background: massage.
KW  - massage
KW  - low back pain
JF  - Spine
JA  - Spine
VL  - 34
IS  - 16
SP  - 1669
EP  - 84
M3  - Review
DB  - Embase
DO  - 10.1097/BRS.0b013e3181ad7bd6
ER  - 
"""


def test_endnote_export_of_pubmed_records() -> None:
    result = formats.read_path(FIXTURES / "endnote_pubmed.ris")
    assert (len(result.records), len(result.failures)) == (2, 0)
    first, second = result.records
    assert first["id"] == "895"
    assert first["PMID"] == "29657938"
    assert first["PMCID"] == "PMC5887696"
    assert first["ISSN"] == "2277-9175"
    assert first["keywords"] == [
        "Acne",
        "Antirrhinum majus",
        "Propionibacterium acnes",
        "blue light",
    ]
    assert first["author"][4] == {"family": "Jahanian-Najafabadi", "given": "A."}
    assert "0.25 μg/ml" in first["abstract"]
    assert second["page"] == "211-216"
    assert second["DOI"] == "10.2165/00128071-200405040-00001"


def test_embase_conventions() -> None:
    record = ris.read(EMBASE).records[0]
    assert record["title"] == "Massage for low back pain"
    assert record["author"] == [
        {"family": "Furlan", "given": "A.D."},
        {"family": "Tulder", "given": "M.", "non-dropping-particle": "van"},
    ]
    assert record["issued"] == {"date-parts": [[2009]]}
    assert record["abstract"] == "Background: massage."
    assert record["page"] == "1669-1684"
    assert record["publication-types"] == ["Review"]
    assert record["archive"] == "Embase"


def test_bom_crlf_and_continuation() -> None:
    text = "\ufeffTY  - JOUR\r\nTI  - A long\r\n  title\r\nAU  - Cleveland Clinic\r\nPY  - 2009/03/15/\r\nER  - \r\n"
    record = ris.read(text).records[0]
    assert record["title"] == "A long title"
    assert record["author"] == [{"literal": "Cleveland Clinic"}]
    assert record["issued"] == {"date-parts": [[2009, 3, 15]]}


def test_write_then_read() -> None:
    record = ris.read(EMBASE).records[0]
    assert ris.read(ris.write([record])).records == [record | {"page": "1669-1684"}]
