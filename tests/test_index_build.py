"""The bulk rebuild writes what Whoosh's own ``add_document`` writes, posting for posting.

``kb.search.rebuild`` bypasses Whoosh's per-posting path: documents' postings are grouped in
memory and written a block at a time. These tests build the shipped library both ways and
compare everything a reader sees: each field's terms, postings (document, weight, value), term
statistics, block statistics, field lengths, stored fields and columns.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.fields import TEXT
from whoosh.query import Term
from whoosh.support.charset import accent_map
from whoosh.util.numeric import byte_to_length

from kb import db, search
from kb.search import analysis, bulk, handle
from kb.search import writer as index_writer
from kb.search.documents import reference_docs, vocabulary_docs
from kb.search.schema import SCHEMA, TEXT_ANALYZER

WHOOSH_TEXT = (
    RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter() | StemFilter()
)


def _add_document_index(settings, session, folder, common):
    """Build the index the plain way: Whoosh's add_document for every document, in order."""
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), SCHEMA)
    writer = ix.writer()
    for doc in [*vocabulary_docs(session), *reference_docs(session)]:
        writer.add_document(**index_writer.with_pairs(doc, common))
    writer.commit()
    return ix


def _blocks(matcher):
    """Each block's statistics, as the reader sees them."""
    out = []
    while matcher.is_active():
        out.append(
            (
                matcher.block_min_id(),
                matcher.block_max_id(),
                matcher.block_min_length(),
                matcher.block_max_length(),
                matcher.block_max_weight(),
            )
        )
        matcher.skip_to(matcher.block_max_id() + 1)  # the next block (public, unlike the code)
    return out


def _contents(ix):
    """Everything a reader of the index sees, with document numbers across segments.

    Returns the postings of each (field, term) over all segments, each segment's term and block
    statistics, and the lengths, stored fields, columns and field length totals.
    """
    postings: dict = {}
    statistics: dict = {}
    lengths: dict = {}
    stored = []
    columns: dict = {"key": [], "facets": []}
    totals: dict = {}
    scorable = list(SCHEMA.scorable_names())
    with ix.reader() as top:
        readers = [(top, 0)] if top.is_atomic() else top.leaf_readers()
        for reader, offset in readers:
            for fieldname, term in reader.all_terms():
                m = reader.postings(fieldname, term)
                items = postings.setdefault((fieldname, term), [])
                while m.is_active():
                    items.append((offset + m.id(), m.weight(), m.value()))
                    m.next()
                info = reader.term_info(fieldname, term)
                stats = (
                    info.weight(),
                    info.doc_frequency(),
                    info.min_length(),
                    info.max_length(),
                    info.max_weight(),
                    info.min_id(),
                    info.max_id(),
                )
                raw = reader.postings(fieldname, term)
                blocks = _blocks(raw) if isinstance(raw, W3LeafMatcher) else []
                statistics.setdefault((fieldname, term), []).append((stats, blocks))
            for docnum in range(reader.doc_count_all()):
                stored.append(reader.stored_fields(docnum))
                for fieldname in scorable:
                    length = reader.doc_field_length(docnum, fieldname)
                    lengths[(offset + docnum, fieldname)] = length
            for name, values in columns.items():
                values.extend(reader.column_reader(name))
            for fieldname in scorable:
                totals[fieldname] = totals.get(fieldname, 0) + reader.field_length(fieldname)
    return postings, statistics, (lengths, stored, columns, totals)


def test_rebuild_writes_what_add_document_writes(settings, session, tmp_path) -> None:
    count = search.rebuild(settings, session)
    common = index_writer.common_words(settings)
    assert common and len(common) <= analysis.COMMON_SIZE
    plain = _add_document_index(settings, session, tmp_path / "plain", common)
    fast = whoosh_index.open_dir(str(settings.index_dir))
    assert fast.doc_count_all() == plain.doc_count_all() == count
    (got, got_stats, got_docs), (want, want_stats, want_docs) = _contents(fast), _contents(plain)
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == want[key], key
        assert got_stats[key] == want_stats[key], key
    assert got_docs == want_docs
    assert any(field == "pairs" for field, _ in want)


def _by_postings(fw, name, fieldobj, inv, lenbytes) -> None:
    """Write postings through the field writer's public path: one ``add`` per posting.

    Whoosh then fills and writes its blocks itself (``W3PostingsWriter``), so this touches none
    of the private fields ``whoosh_codec.write_postings`` writes through.
    """
    if not inv.terms:
        return
    fw.start_field(name, fieldobj)
    ids, weights = inv.docs.tolist(), inv.weights.tolist()
    for t, term in enumerate(inv.terms):
        fw.start_term(term.encode("utf-8") if isinstance(term, str) else term)
        start, stop = int(inv.starts[t]), int(inv.starts[t + 1])
        values = inv.values_between(start, stop)
        for i in range(start, stop):
            if values is not None:
                value = values[i - start]
            elif inv.packed:
                value = inv.packed[i * inv.size : (i + 1) * inv.size]
            else:
                value = b""
            length = 0 if lenbytes is None else byte_to_length(int(lenbytes[ids[i]]))
            fw.add(ids[i], weights[i], value or b"", length)
        fw.finish_term()
    fw.finish_field()


def test_postings_are_the_bytes_whooshs_block_writer_writes(settings, session, monkeypatch):
    """The posting and term files equal those Whoosh's field writer writes posting by posting."""

    def files():
        search.rebuild(settings, session)
        return {
            path.suffix: path.read_bytes()
            for path in settings.index_dir.glob("MAIN_*")
            if path.suffix in (".pst", ".trm")
        }

    fast = files()
    monkeypatch.setattr(bulk, "write_postings", _by_postings)
    slow = files()
    assert fast.keys() == {".pst", ".trm"}
    assert fast == slow


def test_several_segments_and_a_helper_process_write_the_same_postings(
    settings, session, tmp_path, monkeypatch
) -> None:
    """Small limits force the large-library path: a helper process, several segments."""
    monkeypatch.setattr(index_writer, "BIG", 10)
    monkeypatch.setattr(bulk, "SEGMENT", 9)
    monkeypatch.setattr(index_writer, "HELPER_MINIMUM", 1)
    monkeypatch.setattr(analysis, "COMMON_SAMPLE", 12)
    references = len(list(reference_docs(session)))
    seen = []
    count = search.rebuild(settings, session, progress=lambda done, total: seen.append(done))
    assert seen[-1] == references and seen == sorted(seen)
    fast = whoosh_index.open_dir(str(settings.index_dir))
    with fast.reader() as reader:
        assert len(reader.leaf_readers()) > 3
    common = index_writer.common_words(settings)
    plain = _add_document_index(settings, session, tmp_path / "plain", common)
    assert fast.doc_count_all() == plain.doc_count_all() == count
    (got, _, got_docs), (want, _, want_docs) = _contents(fast), _contents(plain)
    assert got == want
    assert got_docs == want_docs


def test_common_words_are_counted_over_the_first_references(settings, session) -> None:
    search.rebuild(settings, session)
    meta = json.loads((settings.index_dir / handle.META_FILE).read_text())
    refs = list(reference_docs(session))[: analysis.COMMON_SAMPLE]
    expected = analysis.common_stems(TEXT_ANALYZER.analysis.terms(d["text"])[1] for d in refs)
    assert meta["common"] == expected == sorted(index_writer.common_words(settings))


def test_sync_indexes_pairs_with_the_stored_common_words(settings) -> None:
    from sqlmodel import select

    from kb.models import Reference

    with db.session_scope(settings) as session:
        search.rebuild(settings, session)
        common = index_writer.common_words(settings)
        a, b = sorted(common)[:2]
        ref = session.exec(select(Reference).where(Reference.key == "sherman2009randomized")).one()
        ref.title = f"{a} {b} " + ref.title
        db.bump_generation(session)
        session.flush()
        started = time.perf_counter()
        search.sync(settings, session, [ref.key])
        elapsed = time.perf_counter() - started
    assert index_writer.common_words(settings) == common
    s = handle.of(settings).searcher()
    docs = {s.stored_fields(d)["key"] for d in s.docs_for_query(Term("pairs", f"{a} {b}"))}
    assert "sherman2009randomized" in docs
    assert elapsed < 2.0  # well under 0.1 s on a quiet machine; generous for a loaded one


def test_a_failed_bulk_build_leaves_the_old_index(settings, session, monkeypatch) -> None:
    def broken(self) -> None:
        raise RuntimeError("disk full")

    before = sorted(p.name for p in settings.index_dir.iterdir())
    monkeypatch.setattr(bulk.Bulk, "_flush", broken)
    with pytest.raises(RuntimeError):
        search.rebuild(settings, session)
    assert sorted(p.name for p in settings.index_dir.iterdir()) == before
    assert not list(settings.index_dir.parent.glob(".index-building-*"))


def test_inverted_columns_equal_whoosh_word_values(settings, session) -> None:
    """TermColumn.invert gives each document the items Positions.word_values gives."""
    docs = list(reference_docs(session))
    column = analysis.TermColumn(TEXT_ANALYZER.analysis)
    for docnum, doc in enumerate(docs):
        column.add(docnum, doc["text"])
    inv = column.invert(True)
    got: dict = {}
    for t, term in enumerate(inv.terms):
        for j in range(int(inv.starts[t]), int(inv.starts[t + 1])):
            got.setdefault(int(inv.docs[j]), []).append(
                (term, float(inv.weights[j]), inv.values_between(j, j + 1)[0])
            )
    field = TEXT(analyzer=WHOOSH_TEXT)
    for docnum, doc in enumerate(docs):
        want = sorted((t.decode(), float(w), v) for t, _, w, v in field.index(doc["text"]))
        assert sorted(got.get(docnum, [])) == want
    assert np.all(np.diff(inv.docs[: int(inv.starts[1])].astype(np.int64)) > 0)
