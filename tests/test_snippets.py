"""Snippets: passages around matched words, marked, escaped, never repeating a word."""

from __future__ import annotations

from kb import index
from kb.snippets import snippet

TEXT = index._TEXT.analysis


def cut(text: str, terms: set[str], **options) -> str:
    return snippet(text, terms, TEXT.regex, TEXT.term, **options)


def test_marks_every_form_of_a_searched_stem_and_escapes_the_rest() -> None:
    out = cut("Massages & <b>massage</b> therapy helped.", {"massag"})
    assert (
        out == "<mark>Massages</mark> &amp; &lt;b&gt;<mark>massage</mark>&lt;/b&gt; therapy helped."
    )


def test_no_match_gives_nothing() -> None:
    assert cut("Nothing to see here.", {"massag"}) == ""


def test_far_apart_matches_give_two_passages_with_ellipses() -> None:
    filler = " ".join(["word"] * 80)
    text = f"{filler} sleep {filler} anxiety {filler} pain {filler}"
    out = cut(text, {"sleep", "anxieti"})
    assert out.startswith("… ") and out.endswith(" …")
    assert out.count(" … ") == 1
    assert "<mark>sleep</mark>" in out and "<mark>anxiety</mark>" in out
    assert "pain" not in out
    assert len(out) < 2 * 260


def test_overlapping_passages_show_each_word_once() -> None:
    """Two passages close together merge: no "sleep sleep disturbance" where they meet."""
    text = "Fibromyalgia patients slept badly; sleep disturbance eased and sleep quality rose. " * 2
    out = cut(text, {"sleep"})
    plain = out.replace("<mark>", "").replace("</mark>", "").replace("… ", "").replace(" …", "")
    assert plain in " ".join(text.split())
