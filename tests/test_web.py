"""The web app through Flask's test client: every page, its JSON twin, and bad input."""

from __future__ import annotations

import pytest

from kb import library
from web import create_app

PAGES = [
    pytest.param("/", "What does the research say", id="home"),
    pytest.param("/about", "not medical advice", id="about"),
    pytest.param("/conditions", "Temporomandibular", id="conditions"),
    pytest.param("/conditions/tmj-tmd", "kalamir2012intraoral", id="condition"),
    pytest.param("/conditions/tmj-tmd?design=rct&style=ama", "Kalamir", id="condition-filtered"),
    pytest.param("/modalities", "Trigger point", id="modalities"),
    pytest.param("/modalities/trigger-point", "Blood pressure", id="modality"),
    pytest.param("/evidence-map", "Evidence map", id="map"),
    pytest.param("/evidence-map/blood-pressure/trigger-point", "Harm reported", id="map-cell"),
    pytest.param("/references/sherman2009randomized", "19333174", id="reference"),
    pytest.param("/search?q=neck+pain", "results", id="search"),
    pytest.param(
        "/cite?keys=sherman2009randomized,kalamir2012intraoral&style=apa", "Sherman", id="cite"
    ),
    pytest.param("/check", "Check a reference list", id="checker"),
]


@pytest.mark.parametrize("url, text", PAGES)
def test_pages_render_with_security_headers(client, url, text):
    response = client.get(url)
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "text/html"
    assert text in response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in response.get_data(as_text=True)  # no inline scripts
    assert " style=" not in response.get_data(as_text=True)  # no inline styles


TWINS = [
    pytest.param("/api/conditions", "conditions", id="conditions"),
    pytest.param("/api/conditions/tmj-tmd", "grade", id="condition"),
    pytest.param("/api/modalities", "modalities", id="modalities"),
    pytest.param("/api/modalities/swedish", "conditions", id="modality"),
    pytest.param("/api/references/sherman2009randomized", "reference", id="reference"),
    pytest.param("/api/evidence-map", "conditions", id="map"),
    pytest.param("/api/evidence-map/blood-pressure/swedish", "groups", id="map-cell"),
    pytest.param("/api/search?q=neck&design=rct&sort=newest&page=1", "hits", id="search"),
    pytest.param(
        "/api/cite?keys=sherman2009randomized&style=apa&format=text", "entries", id="cite"
    ),
    pytest.param("/healthz", "generation", id="healthz"),
]


@pytest.mark.parametrize("url, key", TWINS)
def test_json_twins(client, url, key):
    response = client.get(url)
    assert response.status_code == 200, response.data[:500]
    assert response.is_json
    assert response.json["ok"] is True and key in response.json


def test_condition_twin_has_the_same_data_as_the_page(client):
    data = client.get("/api/conditions/stress-anxiety-depression").json
    page = client.get("/conditions/stress-anxiety-depression").get_data(as_text=True)
    assert data["grade"]["label"] in page
    null = [r for r in data["rows"] if r["finding"] == "no-difference"]
    assert null and null[0]["title"] in page and "no difference" in page


def test_condition_filter_and_bibliography_in_a_style(client):
    data = client.get("/api/conditions/tmj-tmd?design=rct&finding=supports&style=ama").json
    assert [r["key"] for r in data["rows"]] == ["kalamir2012intraoral"]
    assert data["bibliography"]["style"] == "american-medical-association"
    assert len(data["bibliography"]["entries"]) == 1
    download = client.get(data["bibliography"]["downloads"]["text"])
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert "Kalamir" in download.get_data(as_text=True)


@pytest.mark.parametrize(
    "ext, mimetype, text",
    [
        pytest.param("bib", "application/x-bibtex", "@article", id="bibtex"),
        pytest.param("ris", "application/x-research-info-systems", "TY  -", id="ris"),
        pytest.param(
            "json",
            "application/vnd.citationstyles.csl+json",
            '"sherman2009randomized"',
            id="csl-json",
        ),
    ],
)
def test_reference_downloads(client, ext, mimetype, text):
    response = client.get(f"/references/sherman2009randomized.{ext}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert text in response.get_data(as_text=True)


def test_cite_api_formats_in_the_style_order(client):
    data = client.get(
        "/api/cite?keys=sherman2009randomized,kalamir2012intraoral&style=apa&format=text"
    ).json
    assert data["style"] == "apa" and len(data["entries"]) == 2
    bib = client.get("/api/cite?keys=sherman2009randomized&format=bibtex").json
    assert "@article" in bib["text"]


BAD = [
    pytest.param("/api/conditions?colour=red", 400, "colour", id="unknown-parameter"),
    pytest.param(
        "/api/conditions/tmj-tmd?sort=best", 400, "sort", id="unknown-parameter-on-condition"
    ),
    pytest.param("/api/search?q=neck&page=zero", 400, "page", id="bad-page"),
    pytest.param("/api/search?q=neck&page=0", 400, "page", id="page-zero"),
    pytest.param("/api/search?q=neck&design=anecdote", 400, "design", id="bad-design"),
    pytest.param(
        "/api/conditions/tmj-tmd?design=anecdote", 400, "design", id="bad-design-on-condition"
    ),
    pytest.param(
        "/api/cite?keys=sherman2009randomized&style=apaa",
        400,
        "apa",
        id="unknown-style-names-close",
    ),
    pytest.param(
        "/api/cite?keys=sherman2009randomized&format=docx", 400, "format", id="unknown-format"
    ),
    pytest.param("/api/cite?keys=nobody2099nothing", 404, "nobody2099nothing", id="unknown-key"),
    pytest.param(
        "/api/references/nobody2099nothing", 404, "nobody2099nothing", id="unknown-reference"
    ),
    pytest.param("/api/conditions/no-such-thing", 404, "no-such-thing", id="unknown-condition"),
    pytest.param("/api/modalities/no-such-thing", 404, "no-such-thing", id="unknown-modality"),
    pytest.param("/api/nowhere", 404, "/api/nowhere", id="unknown-route"),
]


@pytest.mark.parametrize("url, status, word", BAD)
def test_bad_input_gets_the_one_error_shape(client, url, status, word):
    response = client.get(url)
    assert response.status_code == status
    assert response.json == {"ok": False, "error": response.json["error"], "status": status}
    assert word in response.json["error"]


@pytest.mark.parametrize(
    "url, status, hint",
    [
        pytest.param("/conditions/no-such-thing", 404, "Search the library", id="404"),
        pytest.param("/conditions/tmj-tmd?design=anecdote", 400, "names the value", id="400"),
        pytest.param(
            "/references/nobody2099nothing.bib", 404, "Search the library", id="404-download"
        ),
    ],
)
def test_html_errors_say_what_to_do_next(client, url, status, hint):
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert hint in response.get_data(as_text=True)


SHARED = (
    "utm_source=newsletter&utm_medium=email&fbclid=abc&gclid=x1&mc_cid=9&msclkid=m&zzcolour=red"
)


@pytest.mark.parametrize("url, text", PAGES)
def test_a_shared_link_with_tracking_and_unknown_parameters_opens(client, url, text):
    """A newsletter's or a social post's link opens the page, and no link repeats the tags."""
    response = client.get(url + ("&" if "?" in url else "?") + SHARED)
    assert response.status_code == 200, response.data[:500]
    html = response.get_data(as_text=True)
    assert text in html
    for name in ("utm_", "fbclid", "gclid", "mc_cid", "msclkid", "zzcolour"):
        assert name not in html, name


@pytest.mark.parametrize(
    "url",
    [
        "/api/conditions?utm_source=newsletter&fbclid=abc",
        "/api/conditions/tmj-tmd?design=rct&gclid=x&utm_campaign=spring",
        "/api/search?q=neck&mc_eid=1&msclkid=2",
        "/api/references/sherman2009randomized?fbclid=abc",
        "/api/cite?keys=sherman2009randomized&utm_source=x",
        "/references/sherman2009randomized.bib?utm_source=x",
        "/search/export?q=neck&format=ris&fbclid=abc",
    ],
)
def test_tracking_parameters_are_ignored_by_the_api_and_downloads(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.data[:500]


def test_the_api_names_every_unknown_parameter(client):
    response = client.get("/api/conditions?colour=red&utm_source=x&size=big")
    assert response.status_code == 400
    error = response.json["error"]
    assert "'colour'" in error and "'size'" in error and "utm_source" not in error
    search = client.get("/api/search?q=neck&colour=red&sise=3&fbclid=1")
    assert search.status_code == 400
    assert "'colour'" in search.json["error"] and "'sise'" in search.json["error"]
    assert client.get("/references/sherman2009randomized.bib?colour=red").status_code == 400


def test_a_page_past_the_end_goes_to_the_last_page(client):
    last = client.get("/api/search?q=massage&sort=newest").json["pages"]
    assert last > 1
    response = client.get("/search?q=massage&sort=newest&page=99&utm_source=x")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "q=massage" in location and "sort=newest" in location and f"page={last}" in location
    assert "utm_source" not in location
    final = client.get(location).get_data(as_text=True)
    assert f"page {last} of {last}" in final
    filtered = client.get("/search?q=massage&design=rct&page=99")
    assert filtered.status_code == 302 and "design=rct" in filtered.headers["Location"]
    huge = client.get("/search?q=massage&sort=newest&page=99999999999")
    assert huge.status_code == 302 and f"page={last}" in huge.headers["Location"]
    nothing = client.get("/search?q=zzzzqqqq&page=2")
    assert nothing.status_code == 302 and "page=" not in nothing.headers["Location"]
    api = client.get("/api/search?q=massage&page=99")
    assert api.status_code == 404
    assert api.json["status"] == 404 and "page 99" in api.json["error"]
    assert client.get(f"/api/search?q=massage&page={last}").status_code == 200


def test_unknown_style_suggests_close_styles(client):
    response = client.get("/api/references/sherman2009randomized?style=vancuver")
    assert response.status_code == 400
    assert "did you mean" in response.json["error"]


def test_big_post_is_refused_with_413(client):
    body = {"text": "x" * (2 * 1024 * 1024), "style": "apa"}
    response = client.post("/api/check-references", data=body)
    assert response.status_code == 413
    assert response.json["status"] == 413 and "KB" in response.json["error"]
    page = client.post("/check", data=body)
    assert page.status_code == 413 and "shorter list" in page.get_data(as_text=True)


PASTED = (
    "1. Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of therapeutic "
    "massage for chronic neck pain. Clin J Pain. 2008;25(3):233-238.\n\n"
    "2. Nobody A. An invented study of foot rubs in astronauts. J Imaginary Med. 2031;1:1-2.\n"
)


def test_checker_reports_each_entry_and_the_corrected_list(client, caplog):
    data = client.post("/api/check-references", json={"text": PASTED, "style": "apa"}).json
    assert [e["status"] for e in data["report"]["entries"]] == ["matched", "not-found"]
    assert data["report"]["entries"][0]["key"] == "sherman2009randomized"
    assert any(d["field"] == "year" for d in data["report"]["entries"][0]["differences"])
    assert "Sherman" in data["report"]["formatted"]
    page = client.post("/check", data={"text": PASTED, "style": "apa"}).get_data(as_text=True)
    assert "matched, with differences" in page and "not in the library" in page
    assert "astronauts" not in caplog.text  # the pasted text is never logged


def test_checker_bad_bodies(client):
    assert client.post("/api/check-references", json=["not", "an", "object"]).status_code == 400
    assert (
        client.post("/api/check-references", json={"text": "", "style": "apa"}).status_code == 400
    )
    assert (
        client.post("/api/check-references", json={"text": "x", "colour": "red"}).status_code == 400
    )
    assert client.get("/api/check-references").status_code == 405


def test_script_in_a_title_is_shown_as_text(settings, app, client):
    record = {
        "id": "evil2020script",
        "type": "article-journal",
        "title": "<script>alert('x')</script> Massage and mischief",
        "author": [{"family": "Evil", "given": "E."}],
        "issued": {"date-parts": [[2020]]},
        "kb": {
            "design": "rct",
            "evidence": [
                {
                    "condition": "tmj-tmd",
                    "direct": True,
                    "comparator": "sham",
                    "results": [{"modality": "swedish", "finding": "supports"}],
                    "finding": "supports",
                }
            ],
        },
    }
    library.import_records(settings, [(record, "test")])
    for url in ("/references/evil2020script", "/conditions/tmj-tmd", "/search?q=mischief"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;alert(" in html, url


def test_every_view_is_a_permalink(client):
    html = client.get("/search?q=neck&design=rct&sort=newest").get_data(as_text=True)
    # Facet toggles and page links carry the whole query in their URL.
    assert "sort=newest" in html and "q=neck" in html
    condition = client.get("/conditions/tmj-tmd?design=rct&style=ama").get_data(as_text=True)
    assert "design=rct" in condition and "style=american-medical-association" in condition


@pytest.mark.parametrize("fmt", ["bibtex", "ris", "csl-json"])
def test_a_search_result_set_exports_and_reimports_without_loss(
    client, settings, tmp_path, fmt
) -> None:
    """Every study a search finds downloads as a file that re-imports as duplicates only."""
    from kb import library

    found = client.get("/api/search", query_string={"q": "neck", "per_page": 100}).get_json()
    keys = {hit["key"] for hit in found["hits"] if hit["kind"] == "reference"}
    response = client.get("/search/export", query_string={"q": "neck", "format": fmt})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    path = tmp_path / {"bibtex": "x.bib", "ris": "x.ris", "csl-json": "x.json"}[fmt]
    path.write_bytes(response.data)
    report = library.import_paths(settings, [path], dry_run=True)
    assert sorted(report.duplicates) == sorted(keys)
    assert report.added == [] and report.rejected == []
    page = client.get("/search", query_string={"q": "neck"}).get_data(as_text=True)
    assert "/search/export?" in page


def test_search_export_bad_input_is_400_or_404(client) -> None:
    assert (
        client.get("/search/export", query_string={"q": "neck", "format": "pdf"}).status_code == 400
    )
    assert client.get("/search/export", query_string={"q": "neck", "bogus": "1"}).status_code == 400
    assert client.get("/search/export", query_string={"q": "zzzzqqqq"}).status_code == 404


def test_the_app_warms_the_index_and_the_default_bibliographies_at_start(settings) -> None:
    import threading

    from kb.search import handle
    from kb.search.schema import FIELD_BOOSTS
    from references import cite

    cite._default.cache.clear()
    handle.forget(settings)
    create_app({"KB_DATA_DIR": str(settings.data_dir), "KB_DATABASE_URL": settings.database_url})
    (warming,) = [t for t in threading.enumerate() if t.name == "kb-warm"]
    warming.join(timeout=120)
    assert not warming.is_alive()
    assert len(cite._default.cache) > 55  # every reference and every condition's list, in APA
    columns = handle.of(settings).columns_
    assert columns is not None and set(FIELD_BOOSTS) <= set(columns[1].lengths)


def test_blood_pressure_page_shows_its_workings_and_the_harm_warning(client):
    page = client.get("/conditions/blood-pressure").get_data(as_text=True)
    for text in (
        "Harm reported",
        "Studies that count",
        "Indirect evidence",
        "Indirect: participants were recruited for muscle spasm",
        "no treatment",  # Supaat 2013's comparator
        'Trigger point therapy</a>: <span class="finding finding-harm">harm',
    ):
        assert text in page, text
    data = client.get("/api/conditions/blood-pressure").json
    (row,) = [r for r in data["rows"] if r["key"] == "kaye2008effect"]
    assert row["direct"] is False and row["indirect_because"] and row["superseded_by"] == ""
    assert {"key", "comparator", "results", "population", "outcome"} <= set(row)


def test_low_back_pain_page_marks_the_superseded_review(client):
    page = client.get("/conditions/low-back-pain-sciatica").get_data(as_text=True)
    assert "Superseded versions" in page and "Superseded by" in page
    data = client.get("/api/conditions/low-back-pain-sciatica").json
    (old,) = [r for r in data["rows"] if r["key"] == "furlan2002massage"]
    assert old["superseded_by"] == "furlan2015massage" and not old["counts"]


def test_reference_provenance_is_written_for_readers(client):
    page = client.get("/references/sherman2009randomized").get_data(as_text=True)
    assert "Provenance" in page and "We could not confirm a PubMed ID for this paper." in page
    assert "not seen" not in page and "Not yet verified" not in page
    data = client.get("/api/references/sherman2009randomized").json
    assert data["reference"]["curation"]["gaps"]  # the curator's words stay in the JSON


def test_technique_page_shows_the_cell_grade_and_each_result(client):
    data = client.get("/api/modalities/trigger-point").json
    (bp,) = [c for c in data["conditions"] if c["slug"] == "blood-pressure"]
    assert bp["harm"] and bp["rows"][0]["result"] == "harm"
    swedish = client.get("/modalities/swedish").get_data(as_text=True)
    assert "grade for this technique" in swedish


def test_sorting_by_year_or_design_sorts_studies_with_the_pages_apart(client):
    for sort in ("newest", "oldest", "level"):
        data = client.get(f"/api/search?q=massage&sort={sort}&per_page=100").json
        assert data["hits"] and {h["kind"] for h in data["hits"]} == {"reference"}, sort
        assert {t["kind"] for t in data["topics"]} == {"condition", "modality"}, sort
        assert len(data["hits"]) == min(data["total"], 100)  # 123 references: two pages
    years = [h["year"] for h in client.get("/api/search?q=massage&sort=newest").json["hits"]]
    assert years == sorted(years, reverse=True)
    assert client.get("/api/search?q=massage&sort=newest&page=2").json["topics"] == []
    mixed = client.get("/api/search?q=massage").json
    assert mixed["topics"] == [] and "modality" in {h["kind"] for h in mixed["hits"]}
    html = client.get("/search?q=massage&sort=newest").get_data(as_text=True)
    pages, hits = html.split('id="topics-heading"')[1].split('<ol class="hits"')
    assert "/conditions/cancer-symptoms" in pages and "/modalities/swedish" in pages
    assert '<li class="hit hit-reference">' in hits and "hit-condition" not in hits
    total = client.get("/api/search?q=massage&sort=newest").json["total"]
    assert f"{total} studies, page 1 of" in html


def test_the_year_control_filters_and_keeps_the_search(client):
    html = client.get("/search?q=massage&design=rct").get_data(as_text=True)
    assert (
        '<label for="year-from">' in html
        and 'id="year-from" type="number" name="year_from"' in html
    )
    assert '<label for="year-to">' in html and 'name="year_to"' in html
    form = html.split('<form class="years"')[1].split("</form>")[0]
    assert 'name="q" value="massage"' in form and 'name="design" value="rct"' in form
    data = client.get("/api/search?q=massage&year_from=2010&year_to=2015&per_page=100").json
    assert data["hits"] and all(2010 <= h["year"] <= 2015 for h in data["hits"])
    chosen = client.get("/search?q=massage&year_from=2010&year_to=2015").get_data(as_text=True)
    assert 'value="2010"' in chosen and 'value="2015"' in chosen and "(1 chosen)" in chosen
    assert 'class="clear-years" href="/search?q=massage"' in chosen
    # Typed the wrong way round in the form, the range is read the right way round.
    swapped = client.get("/search?q=massage&year_from=2015&year_to=2010")
    assert swapped.status_code == 200 and 'value="2010"' in swapped.get_data(as_text=True)
    assert client.get("/api/search?q=massage&year_from=2015&year_to=2010").status_code == 400


def test_finding_badges_say_which_condition_they_are_about(client):
    data = client.get("/api/search?q=whiplash").json
    guideline = next(h for h in data["hits"] if h["key"] == "bussieres2016treatment")
    pairs = [(e["condition"], e["finding"]) for e in guideline["evidence"]]
    # The asked-about condition comes first; the neck-pain support is named as such.
    assert pairs == [("whiplash", "insufficient"), ("chronic-neck-pain", "supports")]
    neck = guideline["evidence"][1]["condition_name"]
    html = client.get("/search?q=whiplash").get_data(as_text=True)
    assert f"supports — {neck}</span>" in html
    assert f"insufficient — {guideline['evidence'][0]['condition_name']}</span>" in html
    filtered = client.get("/api/search?q=neck&condition=chronic-neck-pain").json["hits"]
    assert all(h["evidence"][0]["condition"] == "chronic-neck-pain" for h in filtered)


def test_the_home_page_is_not_titled_search(client):
    html = client.get("/").get_data(as_text=True)
    title = html.split("<title>")[1].split("</title>")[0]
    assert not title.startswith("Search") and "massage" in title.lower()
