"""The checker and the bibliography builder through Flask's test client."""

from __future__ import annotations

import pytest

SHERMAN = (
    "Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of therapeutic "
    "massage for chronic neck pain. Clin J Pain. 2009;25(3):233-8."
)


# --- the checker API ---------------------------------------------------------------------------


def test_plain_text_body_is_checked(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/check-references?style=vancouver",
        data=f"1. {SHERMAN}\n",
        content_type="text/plain; charset=utf-8",
    )
    assert response.status_code == 200
    report = response.json["report"]
    assert [(e["status"], e["key"]) for e in report["entries"]] == [
        ("matched", "sherman2009randomized")
    ]
    assert report["style"] == "nlm-citation-sequence"  # what the alias vancouver names
    assert report["formatted"].startswith("1. Sherman KJ")


def test_curl_data_binary_body_is_checked(client) -> None:  # type: ignore[no-untyped-def]
    # What `curl --data-binary @refs.txt URL` sends: the file, labelled as a form.
    response = client.post(
        "/api/check-references",
        data=SHERMAN.encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.json["report"]["entries"][0]["key"] == "sherman2009randomized"


def test_plain_text_with_unknown_parameter_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/check-references?colour=red", data=SHERMAN, content_type="text/plain"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"text": "Sherman', id="cut_short"),
        pytest.param(b"{'text': 'single quotes'}", id="not_json"),
        pytest.param(b"\xff\xfe{", id="not_utf8"),
        pytest.param(b'"just a string"', id="a_string"),
    ],
)
def test_bad_json_is_a_400(client, body: bytes) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/check-references", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "JSON object" in response.json["error"]


def test_long_paste_says_what_was_limited(client) -> None:  # type: ignore[no-untyped-def]
    paste = "".join(f"doi:10.1000/{i:06d}\n" for i in range(5000))
    response = client.post("/api/check-references", json={"text": paste, "style": "apa"})
    assert response.status_code == 200
    report = response.json["report"]
    assert len(report["entries"]) == 1000 and report["limited"] is True
    assert "only the first 1,000 were checked" in report["message"]
    page = client.post("/check", data={"text": paste, "style": "apa"}).get_data(as_text=True)
    assert "only the first 1,000 were checked" in page


# --- the bibliography basket --------------------------------------------------------------------


def test_empty_basket_says_how_to_add(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/cite").get_data(as_text=True)
    assert "Nothing in it yet" in page
    assert "Add to bibliography" in page and "condition page" in page


def test_add_accumulates_in_the_address(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/cite?keys=sherman2009randomized&add=moyer2004meta&style=apa")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        "/cite?keys=sherman2009randomized,moyer2004meta&style=apa"
    )
    again = client.get("/cite?keys=sherman2009randomized,moyer2004meta&add=moyer2004meta")
    assert again.headers["Location"].endswith("/cite?keys=sherman2009randomized,moyer2004meta")


def test_unknown_keys_are_listed_and_the_rest_formatted(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/cite?keys=sherman2009randomized,nobody2099nothing,moyer2004meta")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "not in the library" in page and "<code>nobody2099nothing</code>" in page
    assert "Sherman, K. J." in page and "Moyer, C. A." in page
    # What was typed stays in the keys box, the unknown key included.
    assert "sherman2009randomized, nobody2099nothing, moyer2004meta</textarea>" in page
    # Removing the unknown key keeps the others.
    assert 'href="/cite?keys=sherman2009randomized,moyer2004meta&amp;style=apa"' in page


def test_basket_lists_in_the_style_order_with_remove_links(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/cite?keys=sherman2009randomized,moyer2004meta&style=apa").get_data(
        as_text=True
    )
    entries = page.split('id="bibliography-html"')[1].split("</div>")[0]
    assert entries.index("Moyer") < entries.index("Sherman")  # APA sorts by author
    assert "<i>Psychological Bulletin</i>" in entries  # italics kept
    assert 'href="/cite?keys=moyer2004meta&amp;style=apa"' in page  # remove Sherman
    numbered = client.get("/cite?keys=sherman2009randomized,moyer2004meta&style=vancouver")
    text = numbered.get_data(as_text=True).split('id="bibliography-html"')[1]
    assert text.index("1. Sherman") < text.index("2. Moyer")  # numbered in the order added


def test_api_cite_still_refuses_unknown_keys(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/cite?keys=nobody2099nothing").status_code == 404


def test_add_links_on_reference_search_and_condition_pages(client) -> None:  # type: ignore[no-untyped-def]
    reference = client.get("/references/sherman2009randomized").get_data(as_text=True)
    assert 'class="add-to-basket no-print" data-keys="sherman2009randomized"' in reference
    assert 'href="/cite?add=sherman2009randomized"' in reference
    search = client.get("/search?q=neck+pain").get_data(as_text=True)
    assert search.count('class="add-to-basket') >= 3
    condition = client.get("/conditions/tmj-tmd").get_data(as_text=True)
    assert "kalamir2012intraoral" in condition.split('class="add-to-basket')[1].split(">")[0]


def test_format_html_shows_formatted_entries_not_tags(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/cite?keys=moyer2004meta&style=apa&format=html").get_data(as_text=True)
    assert "&lt;i&gt;" not in page
    assert "<i>Psychological Bulletin</i>" in page


# --- downloads -----------------------------------------------------------------------------------


def test_html_download_is_a_complete_document(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/cite/download?keys=sherman2009randomized,moyer2004meta&style=apa&format=html"
    )
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="bibliography-apa.html"'
    )
    body = response.get_data(as_text=True)
    assert body.startswith("<!DOCTYPE html>") and body.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in body and "<title>Bibliography (" in body
    paragraphs = [p for p in body.split('<p class="csl-entry">')[1:]]
    assert len(paragraphs) == 2  # one entry per paragraph
    assert "<i>Psychological Bulletin</i>" in paragraphs[0]


def test_rtf_download_keeps_italics(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/cite/download?keys=moyer2004meta&style=apa&format=rtf")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('filename="bibliography-apa.rtf"')
    body = response.get_data(as_text=True)
    assert body.startswith("{\\rtf1") and body.rstrip().endswith("}")
    assert "{\\i Psychological Bulletin}" in body
    assert body.count("\\par}") == 1


def test_condition_bibliography_offers_rich_copy_and_documents(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/conditions/tmj-tmd").get_data(as_text=True)
    assert 'data-copy-html="bibliography-html"' in page
    assert "format=html" in page and "format=rtf" in page
    assert '<p class="csl-entry">' in page and "<i>" in page


def test_check_page_shows_why_a_near_miss_is_only_possible(client) -> None:  # type: ignore[no-untyped-def]
    paste = (
        "Furlan AD, Imamura M, Dryden T, Irvin E. Massage for low back pain: an updated "
        "systematic review within the framework of the Cochrane Back Review Group. Spine. "
        "2009;34(16):1669-1684."
    )
    page = client.post("/check", data={"text": paste, "style": "apa"}).get_data(as_text=True)
    assert "possible match: check it" in page
    assert "an earlier version, or a mis-cited reference?" in page
    assert "Agrees: title, first author" in page and "Differs: journal, year, first page" in page
    corrected = page.split('id="corrected-text"')[1].split("</textarea>")[0]
    assert "[check] Furlan AD, Imamura M" in corrected


def test_corrected_list_is_shown_with_italics_and_pasted_text_escaped(client) -> None:  # type: ignore[no-untyped-def]
    paste = f"{SHERMAN}\nNobody X. <script>alert(1)</script> in feet. J Nothing. 2001;1:1-2."
    page = client.post("/check", data={"text": paste, "style": "apa"}).get_data(as_text=True)
    rich = page.split('id="corrected-html"')[1].split("</div>")[0]
    assert "<i>The Clinical Journal of Pain</i>" in rich
    assert "&lt;script&gt;" in rich and "<script>" not in rich
    assert 'data-copy-html="corrected-html"' in page
