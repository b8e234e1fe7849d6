"""Odd records, generated: each is refused with one line or imported and rendered everywhere.

Hypothesis builds CSL-JSON items whose values have the shapes real files and careless tools
give (numbers for text, text for numbers, nulls, seasons, empty dates, lists where a string
belongs, markup and odd URLs). Each goes through the reader and the one validation; what is
accepted is imported into a real store and index, and every page, citation and export that
shows it must answer.
"""

from __future__ import annotations

import json
import random
from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_validate import (
    CONDITION,
    MODALITY,
    assert_library_renders,
    assert_reference_renders,
)

from kb import library
from kb.config import Settings
from references import formats

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)
scalar = st.one_of(st.none(), text, st.integers(-5, 3000), st.booleans(), st.floats(-1, 1e4))
odd = st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(text, scalar, max_size=2))
date_part = st.one_of(
    st.integers(-50, 2100), st.sampled_from(["2009", "Spring", "winter", "a", "", None, 13, 0])
)
date = st.one_of(
    odd,
    st.fixed_dictionaries(
        {"date-parts": st.lists(st.lists(date_part, max_size=4), max_size=3)},
        optional={"season": scalar, "literal": st.one_of(text, odd), "circa": scalar},
    ),
    st.fixed_dictionaries({"literal": text}),
)
name = st.one_of(
    odd,
    st.fixed_dictionaries(
        {},
        optional={
            "family": st.one_of(text, scalar),
            "given": st.one_of(text, scalar),
            "literal": st.one_of(text, scalar),
            "non-dropping-particle": text,
        },
    ),
)
url = st.sampled_from(
    ["https://example.org/a?b=<c>", " JavaScript:alert(1)", "data:text/html,x", "ftp://x", "x"]
)
evidence_row = st.fixed_dictionaries(
    {
        "condition": st.just(CONDITION),
        "modalities": st.lists(st.just(MODALITY), min_size=1, max_size=3),
        "finding": st.just("supports"),
    },
    optional={"outcome": st.one_of(text, scalar), "summary": st.one_of(text, scalar)},
)
kb_block = st.one_of(
    odd,
    st.fixed_dictionaries(
        {"evidence": st.lists(evidence_row, min_size=1, max_size=2)},
        optional={
            "design": st.one_of(st.sampled_from(["rct", "systematic-review", "zzz"]), odd),
            "n": st.one_of(st.integers(-3, 10**6), st.sampled_from(["42", "abc", ""]), odd),
        },
    ),
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.sampled_from(["article-journal", "book", "chapter", "nonsense"]), odd),
        "author": st.one_of(st.lists(name, max_size=3), odd),
        "editor": st.lists(name, max_size=2),
        "issued": date,
        "accessed": date,
        "container-title": st.one_of(text, scalar),
        "volume": st.one_of(text, scalar),
        "page": st.one_of(text, scalar),
        "DOI": st.one_of(text, st.just("10.1000/xyz")),
        "URL": st.one_of(url, scalar),
        "keywords": st.one_of(st.lists(scalar, max_size=3), odd),
        "note": st.one_of(text, odd),
        "kb": kb_block,
    },
)

_numbers = count()


# A batch of odd records per example, imported at once: one index update per example (each
# update of a real Whoosh index costs a commit), every record of it rendered on its own.
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(
        st.tuples(fields, st.one_of(text, st.just("<b>bold</b> {braced} $x$"))),
        min_size=12,
        max_size=12,
    )
)
def test_odd_records_are_refused_in_one_line_or_render_everywhere(
    settings: Settings, web: Any, batch: list[tuple[dict[str, Any], str]]
) -> None:
    # Hypothesis seeds the random module alike for every example, and Whoosh names each new
    # segment from it: the second example's segment would overwrite the first's files.
    random.seed()
    items = []
    for extra, title in batch:
        key = f"zebracorn{next(_numbers)}"
        items.append({"id": key, "type": "article-journal", "title": f"Zebracorn {title}", **extra})
    result = formats.read_text(json.dumps(items, indent=1), "csl-json", "odd.json")
    read = {r["id"] for r in result.records} | {f.key for f in result.failures}
    assert read == {i["id"] for i in items}  # every item is a record or a failure: none dropped
    for failure in result.failures:
        assert "\n" not in failure.message() and failure.line > 1
    records = [(record, "odd.json") for record in result.records]
    report = library.import_records(settings, records, skip_bad=True)
    for failure in report.rejected:  # an unknown condition or finding: the library's own check
        assert "\n" not in failure.message()
    # Records of one title, year and author are one work: the later ones are duplicates.
    done = report.added + report.updated + report.duplicates
    assert len(done) + len(report.rejected) == len(records)
    for key in report.added:
        assert_reference_renders(web, key)
    if report.added:
        assert_library_renders(settings, web, report.added, "zebracorn")


@pytest.fixture
def web(client: Any) -> Any:
    """Return a test client of the app over the test's store."""
    return client
