"""Hostile requests get a 400 or a page, never a 500; record URLs link only when http(s).

Also: a key with a dot has working pages, and two imports into one data folder at once take
turns (the second waits for the first, then finds its records duplicates).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kb import library
from kb.config import Settings

DEEP = "[" * 100_000 + "]" * 100_000
BAD_BODIES = [
    pytest.param("/api/check-references", DEEP, "nests 100000 levels deep", id="api_deep"),
    pytest.param("/check", DEEP, "nests 100000 levels deep", id="form_deep"),
    pytest.param(
        "/api/check-references", '{"text": "' + "[" * 40 + '"}', None, id="brackets_in_text"
    ),
    pytest.param(
        "/check", '{"text": "Smith \\ud800 2009"}', "holds \\ud800, half of a character", id="lone"
    ),
    pytest.param("/api/check-references", '{"text": "x \\udc00"}', "holds \\udc00", id="lone_low"),
]


@pytest.mark.parametrize(("url", "body", "error"), BAD_BODIES)
def test_bad_json_bodies_are_400_not_500(client: Any, url: str, body: str, error: str) -> None:
    response = client.post(url, data=body, content_type="application/json")
    if error is None:  # brackets inside a string are text, not nesting
        assert response.status_code == 200
        return
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert error in (response.get_json()["error"] if url.startswith("/api/") else text)


def test_a_surrogate_pair_is_text(client: Any) -> None:
    response = client.post(
        "/api/check-references",
        data='{"text": "Smith J. Massage \\ud83d\\ude00. 2009."}',
        content_type="application/json",
    )
    assert response.status_code == 200


HOSTILE_URLS = [
    "javascript:alert(1)",
    " JavaScript:alert(document.cookie)",
    "JAVASCRIPT:alert(1)",
    "\tjava\nscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_non_http_url_is_shown_as_text_never_as_a_link(
    settings: Settings, client: Any, url: str
) -> None:
    record = {"id": "evil2021url", "type": "webpage", "title": "Massage link bait", "URL": url}
    library.import_records(settings, [(record, "test")])
    page = client.get("/references/evil2021url").get_data(as_text=True)
    assert "href=" not in page.split("<dt>Web</dt>")[1].split("</div>")[0]
    download = client.get(
        "/cite/download", query_string={"keys": "evil2021url", "format": "html"}
    ).get_data(as_text=True)
    assert "href" not in download.lower()
    assert "script:" in download.lower() or "data:" in download.lower()


def test_an_http_url_is_a_link(settings: Settings, client: Any) -> None:
    url = "https://example.org/massage?a=1&b=2"
    record = {"id": "good2021url", "type": "webpage", "title": "Massage page", "URL": url}
    library.import_records(settings, [(record, "test")])
    page = client.get("/references/good2021url").get_data(as_text=True)
    assert 'href="https://example.org/massage?a=1&amp;b=2"' in page


@pytest.mark.parametrize("key", ["smith.2009", "doe.j.2010.rct", "jones2010.bib", "lee2011.json"])
def test_a_key_with_a_dot_has_working_pages(settings: Settings, client: Any, key: str) -> None:
    record = {"id": key, "type": "article-journal", "title": f"Dotted {key}"}
    report = library.import_records(settings, [(record, "test")])
    assert report.added == [key]
    page = client.get(f"/references/{key}")
    assert page.status_code == 200 and f"Dotted {key}" in page.get_data(as_text=True)
    assert client.get(f"/api/references/{key}").get_json()["reference"]["key"] == key
    for ext in ("bib", "ris", "json"):
        download = client.get(f"/references/{key}.{ext}")
        assert download.status_code == 200, ext
        assert f"Dotted {key}" in download.get_data(as_text=True)


def test_two_imports_at_once_take_turns(settings: Settings, tmp_path: Path) -> None:
    records = [
        {"id": f"turn{n}", "type": "article-journal", "title": f"Massage turn {n}"}
        for n in range(300)
    ]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(records))
    command = [
        sys.executable,
        "-c",
        "from kb.cli import main; main()",
        "--data-dir",
        str(settings.data_dir),
        "import",
        "--json",
        str(path),
    ]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outputs = [process.communicate(timeout=300) for process in (first, second)]
    for process, (out, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, err
        assert "Traceback" not in err
    reports = sorted((json.loads(out) for out, _ in outputs), key=lambda r: r["added"])
    assert (reports[0]["added"], reports[0]["duplicates"]) == (0, 300)
    assert (reports[1]["added"], reports[1]["duplicates"]) == (300, 0)
