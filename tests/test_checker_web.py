"""The checker and the bibliography builder through Flask's test client."""

from __future__ import annotations

import pytest

from web import create_app

SHERMAN = (
    "Sherman KJ, Cherkin DC, Hawkes RJ, Miglioretti DL, Deyo RA. Randomized trial of therapeutic "
    "massage for chronic neck pain. Clin J Pain. 2009;25(3):233-8."
)


@pytest.fixture
def client(settings):  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": str(settings.data_dir),
            "KB_DATABASE_URL": settings.database_url,
            "KB_WARM_CITATIONS": False,
        }
    )
    return app.test_client()


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
