"""A document's citation clusters: locators, positions (ibid), affixes, author flags, formats,
and the same from `kb cite` and the reference page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.config import Settings
from references.clusters import CitationError, CiteItem, Cluster, cite_document, positions

DATA = Path(__file__).parent / "fixtures" / "shared-data"
with open(DATA / "library.json", encoding="utf-8") as f:
    RECORDS: list[dict[str, Any]] = json.load(f)
SHERMAN = "sherman2009randomized"
EZZO = "ezzo2007massage"


def _cite(style: str, *clusters: Cluster, fmt: str = "text") -> list[str]:
    return cite_document(RECORDS, list(clusters), style, fmt).citations


def test_apa_cites_a_page() -> None:
    assert _cite("apa", Cluster([CiteItem(SHERMAN, locator="235")])) == [
        "(Sherman et al., 2009, p. 235)"
    ]
    pages = Cluster([CiteItem(SHERMAN, locator="235-236")])
    assert _cite("apa", pages) == ["(Sherman et al., 2009, pp. 235–236)"]


def test_ama_puts_the_page_after_the_superscript_number() -> None:
    cites = _cite("ama", Cluster([CiteItem(EZZO)]), Cluster([CiteItem(SHERMAN, locator="235")]))
    assert cites == ["1", "2(p235)"]
    html = _cite("ama", Cluster([CiteItem(SHERMAN, locator="235")]), fmt="html")
    assert html == ["<sup>1(p235)</sup>"]


def test_chicago_notes_say_ibid_for_the_same_work_again() -> None:
    cites = _cite(
        "chicago-note-bibliography",
        Cluster([CiteItem(SHERMAN, locator="233")]),
        Cluster([CiteItem(SHERMAN, locator="235")]),
        Cluster([CiteItem(SHERMAN, locator="235")]),
        Cluster([CiteItem(EZZO)]),
        Cluster([CiteItem(SHERMAN)]),
    )
    assert cites[0].startswith("Karen J. Sherman et al., “Randomized Trial of Therapeutic")
    assert cites[0].endswith(": 233, https://doi.org/10.1097/AJP.0b013e31818b7912.")
    assert cites[1:3] == ["Ibid., 235.", "Ibid."]
    assert cites[3].startswith("Jeanette Ezzo et al.")
    # CMOS 17's short note for a later, not immediately repeated, cite.
    assert cites[4] == (
        "Sherman et al., “Randomized Trial of Therapeutic Massage for Chronic Neck Pain,” "
        "March–April 2009."
    )


def test_positions_over_a_document() -> None:
    clusters = [
        Cluster([CiteItem("a")]),
        Cluster([CiteItem("a", locator="5")]),
        Cluster([CiteItem("a", locator="5")]),
        Cluster([CiteItem("a")]),  # no page after a page: not "ibid"
        Cluster([CiteItem("b"), CiteItem("b", locator="2")]),
        Cluster([CiteItem("a")], note=20),
    ]
    found = [[set(p) for p in row] for row in positions(clusters)]
    assert found[0] == [{"first"}]
    assert found[1] == [{"subsequent", "ibid", "ibid-with-locator", "near-note"}]
    assert found[2] == [{"subsequent", "ibid", "near-note"}]
    assert found[3] == [{"subsequent", "near-note"}]
    assert found[4] == [{"first"}, {"subsequent", "ibid", "ibid-with-locator", "near-note"}]
    assert found[5] == [{"subsequent"}]  # note 20 is more than 5 notes after note 4


def test_author_only_and_suppress_author_write_a_narrative_citation() -> None:
    cites = _cite(
        "apa",
        Cluster([CiteItem(SHERMAN, author_only=True)]),
        Cluster([CiteItem(SHERMAN, locator="235", suppress_author=True)]),
    )
    assert cites == ["Sherman et al.", "(2009, p. 235)"]


def test_prefix_and_suffix_and_the_styles_order_in_a_cluster() -> None:
    cluster = Cluster([CiteItem(SHERMAN), CiteItem(EZZO)])
    assert _cite("apa", cluster) == ["(Ezzo et al., 2007; Sherman et al., 2009)"]
    affixed = Cluster([CiteItem(SHERMAN, prefix="see ", suffix=", for neck pain")])
    assert _cite("apa", affixed) == ["(see Sherman et al., 2009, for neck pain)"]
    # A writer's affixes may hold the markup a field may; anything else is text, escaped.
    italic = Cluster([CiteItem(SHERMAN, prefix="<i>cf.</i> ", suffix=" <script>")])
    assert _cite("apa", italic, fmt="html") == ["(<i>cf.</i> Sherman et al., 2009 &lt;script&gt;)"]


def test_rtf_output_keeps_italics_and_escapes() -> None:
    doc = cite_document(RECORDS, [Cluster([CiteItem(SHERMAN, locator="235")])], "apa", "rtf")
    assert doc.citations == ["(Sherman et al., 2009, p. 235)"]
    (entry,) = doc.bibliography
    assert r"{\i The Clinical Journal of Pain}, {\i 25}(3), 233\u8211?238." in entry


def test_an_inline_style_renders() -> None:
    xml = """<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
      <info><title>Own test style</title><id>own</id><updated>2026-12-08T00:00:00+00:00</updated></info>
      <citation et-al-min="3" et-al-use-first="1"><layout prefix="[" suffix="]" delimiter="; ">
        <group delimiter=" "><names variable="author"><name form="short"/></names>
        <text variable="locator"/></group></layout></citation></style>"""
    assert _cite(xml, Cluster([CiteItem(SHERMAN, locator="235")])) == ["[Sherman et al. 235]"]


def test_bad_clusters_are_refused_with_one_clear_reason() -> None:
    with pytest.raises(CitationError, match="not in the library: nobody2020"):
        _cite("apa", Cluster([CiteItem("nobody2020")]))
    with pytest.raises(CitationError, match="unknown locator label 'pgae'"):
        _cite("apa", Cluster([CiteItem(SHERMAN, locator="1", label="pgae")]))
    with pytest.raises(CitationError, match="unknown format"):
        _cite("apa", Cluster([CiteItem(SHERMAN)]), fmt="pdf")


def _run(settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), *args])


def test_kb_cite_prints_the_in_text_citation_at_a_page(settings: Settings) -> None:
    result = _run(settings, "cite", SHERMAN, "--locator", "235")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Sherman, K. J., Cherkin, D. C.")
    assert lines[1] == "In text: (Sherman et al., 2009, p. 235)"
    ama = _run(settings, "cite", SHERMAN, "--style", "ama", "--locator", "235")
    assert ama.output.splitlines()[-1] == "In text: 1(p235)"


def test_kb_cite_writes_successive_notes_with_ibid(settings: Settings) -> None:
    result = _run(
        settings,
        "cite",
        SHERMAN,
        "--style",
        "chicago-note-bibliography",
        "--locator",
        "233",
        "--locator",
        "235",
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-2].startswith("Note 1: Karen J. Sherman et al.")
    assert lines[-1] == "Note 2: Ibid., 235."


def test_kb_cite_refuses_a_bad_label(settings: Settings) -> None:
    result = _run(settings, "cite", SHERMAN, "--locator", "3", "--label", "pgae")
    assert result.exit_code == 1
    assert "unknown locator label 'pgae'" in result.output


def test_reference_page_cites_a_page_beside_the_entry(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/references/{SHERMAN}?page=235").get_data(as_text=True)
    assert 'id="cite-page"' in page and 'value="235"' in page
    assert '<code id="in-text-citation">(Sherman et al., 2009, p. 235)</code>' in page
    ama = client.get(f"/references/{SHERMAN}?style=american-medical-association&page=235")
    assert '<code id="in-text-citation">1(p235)</code>' in ama.get_data(as_text=True)


def test_reference_page_shows_the_ibid_note_of_a_note_style(client) -> None:  # type: ignore[no-untyped-def]
    url = f"/references/{SHERMAN}?style=chicago-note-bibliography&page=235"
    page = client.get(url).get_data(as_text=True)
    assert '<code id="next-note">Ibid., 235.</code>' in page
    data = client.get("/api" + url).get_json()
    assert data["cite"]["next_note"] == "Ibid., 235."


def test_reference_page_refuses_a_bad_page_without_a_500(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/references/{SHERMAN}?page=" + "9" * 60)
    assert response.status_code == 400
    assert "at most 40 printable characters" in response.get_data(as_text=True)


def test_a_locator_range_is_tidied_and_a_punctuation_prefix_takes_no_delimiter() -> None:
    assert _cite("apa", Cluster([CiteItem(SHERMAN, locator=" 235 - 236 ")])) == [
        "(Sherman et al., 2009, pp. 235–236)"
    ]
    cluster = Cluster([CiteItem(EZZO), CiteItem(SHERMAN, prefix=", cited in ")])
    assert _cite("apa", cluster) == ["(Ezzo et al., 2007, cited in Sherman et al., 2009)"]


def test_a_one_word_prefix_does_not_open_a_sentence() -> None:
    notes = _cite(
        "chicago-note-bibliography",
        Cluster([CiteItem(SHERMAN)]),
        Cluster([CiteItem(SHERMAN, prefix="cf. ")]),
    )
    assert notes[1] == "cf. ibid."
