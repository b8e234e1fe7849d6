"""Counts read right on every page: "1 study", "2 studies", never "1 studies" or "1 entries"."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
NOUNS = (
    "studies|entries|results|references|findings|conditions|techniques|rows|trials|reviews|"
    "matches|pages|keys|cells"
)
# A count of one followed, within a few words (a "level 1-2" included), by a plural noun.
ONE_PLURAL = re.compile(
    rf"(?<![\w.,/-])1 (?:level \d-\d |[a-z][\w'’-]* ){{0,3}}(?:{NOUNS})\b", re.IGNORECASE
)
# In a template: an expression followed by a plural noun written out, so never singular
# (a name or title followed by a noun, "{{ c.name }} studies", is not a count).
FIXED_PLURAL = re.compile(
    rf"\{{\{{([^{{}}]*)\}}\}}[ \t]*(?:[a-z][\w-]* ){{0,3}}(?:{NOUNS})\b", re.IGNORECASE
)
NOT_A_COUNT = re.compile(r"(name|title|label)\s*$")
# Elements that end a phrase: words on either side of them are not read as one phrase.
BLOCK = re.compile(
    r"</?(?:p|div|li|td|th|tr|h\d|caption|section|nav|ul|ol|dl|dt|dd|table|label|option|legend|"
    r"aside|header|footer|main|form|fieldset|button|summary|details|select|textarea)\b[^>]*>"
)


def visible_text(html: str) -> str:
    """Return a page's words as a reader meets them: no tags, one space between words."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    html = BLOCK.sub(" ¶ ", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_no_template_writes_a_plural_noun_after_a_count() -> None:
    """Every count in every template picks its noun by the number (the `counted` filter)."""
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for found in FIXED_PLURAL.finditer(line):
                if NOT_A_COUNT.search(found.group(1)):
                    continue
                offenders.append(f"{path.relative_to(TEMPLATES)}:{number}: {found.group(0)}")
    assert not offenders, offenders


def test_the_pattern_catches_the_wordings_it_is_for() -> None:
    for wrong in ("1 studies", "1 level 1-2 studies find", "1 entries:", "Rests on 1 studies"):
        assert ONE_PLURAL.search(wrong), wrong
    for right in ("1 study", "11 studies", "level 1-2 studies", "1 of 3 findings", "2.1 studies"):
        assert not ONE_PLURAL.search(right), right
    assert FIXED_PLURAL.search("{{ n }} studies") and not FIXED_PLURAL.search("{{ n|counted }}")
    assert ONE_PLURAL.search(visible_text("<td>1 studies</td>"))
    assert not ONE_PLURAL.search(visible_text("<td>1</td><h2>The studies</h2>"))


def _every_page(client) -> list[str]:  # type: ignore[no-untyped-def]
    conditions = [c["slug"] for c in client.get("/api/conditions").json["conditions"]]
    modalities = [m["slug"] for m in client.get("/api/modalities").json["modalities"]]
    found = client.get("/api/search?per_page=100").json
    references = [h["key"] for h in found["hits"] if h["kind"] == "reference"]
    assert len(conditions) > 10 and len(modalities) > 10 and len(references) > 40
    urls = ["/", "/about", "/conditions", "/modalities", "/evidence-map", "/check", "/cite"]
    urls += [f"/conditions/{slug}" for slug in conditions]
    urls += [f"/conditions/{slug}?design=rct" for slug in conditions[:4]]
    urls += [f"/modalities/{slug}" for slug in modalities]
    urls += [f"/references/{key}" for key in references]
    urls += [f"/cite?keys={references[0]}", f"/cite?keys={references[0]},{references[1]}"]
    for q in ("massage", "neck pain", "tmj", "whiplash", "fibromialgia", "zzzzqqqq"):
        for sort in ("relevance", "newest", "level"):
            urls.append(f"/search?q={q}&sort={sort}")
    urls += ["/search?q=intraoral", "/search?q=massage&year_from=2010&year_to=2010"]
    urls += ["/nowhere", "/conditions/tmj-tmd?design=anecdote"]
    return urls


def test_every_page_writes_one_with_a_singular_noun(client) -> None:
    """Render every page of the shipped library (many counts there are 1) and read its words."""
    wrong = []
    for url in _every_page(client):
        text = visible_text(client.get(url).get_data(as_text=True))
        wrong += [f"{url}: {m.group(0)!r}" for m in ONE_PLURAL.finditer(text)]
    one = "Sherman KJ, Cherkin DC. Randomized trial of therapeutic massage for chronic neck pain."
    checked = client.post("/check", data={"text": one, "style": "apa"}).get_data(as_text=True)
    wrong += [f"/check: {m.group(0)!r}" for m in ONE_PLURAL.finditer(visible_text(checked))]
    assert not wrong, wrong


def test_the_counted_filter_picks_the_noun_by_the_number(client) -> None:
    from flask import render_template_string

    with client.application.test_request_context():
        shown = render_template_string(
            "{{ 1|counted('study') }}; {{ 2|counted('study') }}; {{ 0|counted('entry') }}; "
            "{{ 1|counted('result') }}; {{ 1000|counted('reference') }}; "
            "{{ 1|counted('level 1-2 study') }}; {{ 3|counted('person', 'people') }}"
        )
    assert shown == (
        "1 study; 2 studies; 0 entries; 1 result; 1,000 references; 1 level 1-2 study; 3 people"
    )
