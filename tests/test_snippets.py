"""Snippets: passages around matched words as plain text and spans, never repeating a word."""

from __future__ import annotations

from kb.search.schema import TEXT_ANALYZER
from kb.search.snippets import ELLIPSIS, Snippet, opening, snippet

TEXT = TEXT_ANALYZER.analysis


def cut(text: str | tuple[str, ...], terms: set[str], **options) -> Snippet | None:
    texts = (text,) if isinstance(text, str) else text
    return snippet(texts, terms, TEXT.regex, TEXT.term, **options)


def marked(found: Snippet) -> list[str]:
    return [found.text[s:e] for s, e in found.marks]


def test_marks_every_form_of_a_searched_stem_and_keeps_the_text_plain() -> None:
    found = cut("Massages & <b>massage</b> therapy helped.", {"massag"})
    assert found is not None
    assert found.text == "Massages & <b>massage</b> therapy helped."
    assert marked(found) == ["Massages", "massage"]
    assert found.pieces()[0] == ("Massages", True)


def test_no_match_gives_nothing() -> None:
    assert cut("Nothing to see here.", {"massag"}) is None


def test_far_apart_matches_give_two_passages_with_ellipses() -> None:
    filler = " ".join(["word"] * 80)
    text = f"{filler} sleep {filler} anxiety {filler} pain {filler}"
    found = cut(text, {"sleep", "anxieti"})
    assert found is not None
    assert found.text.startswith("… ") and found.text.endswith(" …")
    assert found.text.count(ELLIPSIS) == 1
    assert marked(found) == ["sleep", "anxiety"]
    assert "pain" not in found.text
    assert len(found.text) < 2 * 260


def test_overlapping_passages_show_each_word_once() -> None:
    """Two passages close together merge: no "sleep sleep disturbance" where they meet."""
    text = "Fibromyalgia patients slept badly; sleep disturbance eased and sleep quality rose. " * 2
    found = cut(text, {"sleep"})
    assert found is not None
    plain = found.text.replace("… ", "").replace(" …", "")
    assert plain in " ".join(text.split())


def test_a_passage_never_runs_from_one_text_into_the_next() -> None:
    """An abstract ending "...options." and a summary starting "Guideline..." stay apart."""
    texts = ("Massage is one of several treatment options.", "Guideline recommendations vary.")
    found = cut(texts, {"option", "guidelin"})
    assert found is not None
    assert (
        found.text
        == f"Massage is one of several treatment options.{ELLIPSIS}Guideline recommendations vary."
    )
    assert marked(found) == ["options", "Guideline"]


def test_a_match_in_a_later_text_says_text_came_before() -> None:
    found = cut(("An abstract without the word.", "Sleep improved."), {"sleep"})
    assert found is not None and found.text == "… Sleep improved."
    assert marked(found) == ["Sleep"]


def test_white_space_runs_become_one_space_and_marks_follow() -> None:
    found = cut("Deep\n\n  tissue   massage", {"massag"})
    assert found is not None and found.text == "Deep tissue massage"
    assert marked(found) == ["massage"]


def test_opening_cuts_at_a_word() -> None:
    short = opening(("", "word " * 100))
    assert short.text.endswith(" …") and len(short.text) <= 222 and not short.marks
    assert opening(()).text == ""
