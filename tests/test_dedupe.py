"""Duplicates: one work read twice merges; two papers of a series stay two works."""

from __future__ import annotations

import pytest

from kb.dedupe import DuplicateFinder, title_numbers


def record(title: str, **fields: object) -> dict[str, object]:
    return {
        "title": title,
        "author": [{"family": "Sherman", "given": "K. J."}],
        "issued": {"date-parts": [[2009]]},
        **fields,
    }


SERIES = [
    pytest.param(
        "Massage for neck pain: part 1", "Massage for neck pain: part 2", id="part_digits"
    ),
    pytest.param("Massage for neck pain, part I", "Massage for neck pain, part II", id="roman"),
    pytest.param("Massage for neck pain. Volume A", "Massage for neck pain. Volume B", id="letter"),
    pytest.param("Massage in 12 weeks of neck pain", "Massage in 24 weeks of neck pain", id="n"),
    pytest.param("Study one: massage for neck pain", "Study two: massage for neck pain", id="word"),
    pytest.param("Massage for neck pain (trial 1)", "Massage for neck pain (trial 2)", id="trial"),
]


@pytest.mark.parametrize(("first", "second"), SERIES)
def test_papers_of_a_series_are_not_duplicates(first: str, second: str) -> None:
    finder = DuplicateFinder()
    finder.add(record(first), "part1")
    assert finder.find(record(second)) is None


@pytest.mark.parametrize(
    "variant",
    [
        "Massage for neck pain - part 1",
        "Massage for neck pain: part 1.",
        "Massage for nek pain: part 1",  # a typo
        "MASSAGE FOR NECK PAIN: PART 1",
    ],
)
def test_one_work_written_twice_is_a_duplicate(variant: str) -> None:
    finder = DuplicateFinder()
    finder.add(record("Massage for neck pain: part 1"), "part1")
    assert finder.find(record(variant)) == "part1"


def test_title_numbers() -> None:
    assert title_numbers("massage part ii of 3 trials study b") == ["3", "ii", "b"]
    assert title_numbers("a study did not find it") == []
