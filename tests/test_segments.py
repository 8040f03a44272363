"""Segments and tombstones: an index grown by small builds searches as one built afresh,
updates write only what changed, merges keep the segment count bounded."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import pytest

from qa import add_documents, build_index, catalog, remove_documents, status
from qa.config import Settings
from qa.documents import load_document
from qa.evaluation import load_squad, write_paragraphs
from qa.index import MANIFEST, current_generation, load_index
from qa.lexical import TermCounts
from qa.search import Searcher
from qa.segments import FOLDER, TITLES, read_titles
from qa.stores.embedded import EmbeddedStore

from .conftest import DATA

WEIGHT = 0.3  # both legs count, so that dead rows would show in either


def _paragraphs() -> list[str]:
    return [p.context for p in load_squad(DATA / "jsquad-sample.json")]


def _questions() -> list[str]:
    return [p.questions[0] for p in load_squad(DATA / "jsquad-sample.json")][:40]


def _settings(root: Path, tiny_settings: Settings, **changes: int) -> Settings:
    return tiny_settings.replace(
        docs_dir=root / "docs", index_dir=root / "index", lexical_weight=WEIGHT, **changes
    )


def _hits(s: Settings) -> list[list[tuple[str, str, float, float]]]:
    """For each question: the top 10 (doc_id, chunk_id, fused score, cosine)."""
    from qa.embedding import load_embedder

    embedder = load_embedder(s.embed_model, s.cache_dir)
    searcher = Searcher(EmbeddedStore(load_index(s.index_dir)))
    return [
        [
            (h.doc_id, h.chunk_id, round(h.score, 4), round(h.dense, 5))
            for h in searcher.search(q, embedder.encode_query(q), 10, WEIGHT)
        ]
        for q in _questions()
    ]


def _grown(root: Path, tiny_settings: Settings) -> Settings:
    """The sample's paragraphs indexed in small segments, then changed by small builds:
    20 removed, 10 rewritten, 5 added back. Returns its settings."""
    s = _settings(root, tiny_settings, segment_chunks=60, merge_factor=100)
    contexts = _paragraphs()
    write_paragraphs(s.docs_dir, contexts[:150])
    build_index(settings=s, progress=False)
    rng = random.Random(0)
    names = sorted(p.name for p in s.docs_dir.iterdir())
    remove_documents(rng.sample(names, 20), progress=False, settings=s)
    for name in rng.sample(sorted(p.name for p in s.docs_dir.iterdir()), 10):
        path = s.docs_dir / name
        path.write_text(path.read_text(encoding="utf-8")[::-1], encoding="utf-8")
        build_index(settings=s, progress=False)
    extra = root / "extra"
    extra.mkdir()
    for n, text in enumerate(contexts[150:155]):
        (extra / f"added{n}.txt").write_text(text, encoding="utf-8")
    add_documents(sorted(extra.iterdir()), progress=False, settings=s)
    return s


def _fresh(root: Path, grown: Settings, tiny_settings: Settings) -> Settings:
    """A full build, in one segment, of the same documents as `grown`."""
    s = _settings(root, tiny_settings)
    s.docs_dir.mkdir(parents=True)
    for path in grown.docs_dir.iterdir():
        (s.docs_dir / path.name).write_bytes(path.read_bytes())
    build_index(settings=s, full=True, progress=False)
    return s


def test_an_index_grown_in_segments_searches_as_one_built_afresh(tmp_path, tiny_settings):
    grown = _grown(tmp_path / "grown", tiny_settings)
    index = load_index(grown.index_dir)
    assert len(index.segments) > 5 and not index.alive.all()  # segments with dead rows
    fresh = _fresh(tmp_path / "fresh", grown, tiny_settings)
    assert load_index(fresh.index_dir).size == index.size
    assert _hits(grown) == _hits(fresh)


def test_optimize_rewrites_the_segments_a_full_build_would_write(tmp_path, tiny_settings):
    grown = _grown(tmp_path / "grown", tiny_settings)
    fresh = _fresh(tmp_path / "fresh", grown, tiny_settings)
    stats = build_index(settings=grown.replace(segment_chunks=100_000), optimize=True)
    assert stats.chunks_embedded == 0
    merged, full = load_index(grown.index_dir), load_index(fresh.index_dir)
    assert len(merged.segments) == 1 and merged.alive.all()
    assert merged.chunks == full.chunks
    assert np.allclose(merged.all_vectors(), full.all_vectors(), atol=1e-5)  # batches differ
    a, b = merged.segments[0].term_counts, full.segments[0].term_counts
    assert a.vocabulary == b.vocabulary
    assert all(np.array_equal(getattr(a, n), getattr(b, n)) for n in ("indptr", "rows", "tf"))
    assert np.allclose(merged.moments.second, full.moments.second, atol=1e-4)
    assert _hits(grown) == _hits(fresh)


def test_status_lists_each_documents_title_from_its_live_segment(tmp_path, tiny_settings):
    """Titles live in the segments, not the catalog: a rewritten document shows its new
    title, and a segment written before titles.json gives them from its documents."""
    grown = _grown(tmp_path / "grown", tiny_settings)
    expected = {
        p.name: load_document(p, p.name, grown.max_document_bytes).title
        for p in grown.docs_dir.iterdir()
    }
    assert status(settings=grown).titles == expected
    assert any(title.startswith("。") for title in expected.values())  # reversed texts' titles
    index = load_index(grown.index_dir)
    record = dict(index.segment_records[0])
    older = {**record, "files": {k: v for k, v in record["files"].items() if k != TITLES}}
    assert read_titles(grown.index_dir, older) == read_titles(grown.index_dir, record)


def test_an_update_writes_one_segment_and_rewrites_none(tmp_path, tiny_settings, monkeypatch):
    """Nor does it read or rewrite the catalog: it writes a part of its own entries."""
    s = _settings(tmp_path, tiny_settings, segment_chunks=60)
    write_paragraphs(s.docs_dir, _paragraphs()[:100])
    documents = build_index(settings=s, progress=False).added
    shared = (FOLDER, catalog.FOLDER)
    before = {p: p.stat().st_mtime_ns for f in shared for p in (s.index_dir / f).rglob("*")}
    listed = []  # the sizes of the catalog parts an update lists whole
    entries = catalog.Part.entries
    monkeypatch.setattr(
        catalog.Part, "entries", lambda p, d: listed.append(p.size) or entries(p, d)
    )
    extra = tmp_path / "new.txt"
    extra.write_text("富士山の高さは3776メートルです。", encoding="utf-8")
    stats = add_documents([extra], progress=False, settings=s)
    assert stats.chunks_embedded == 1
    after = {p: p.stat().st_mtime_ns for f in shared for p in (s.index_dir / f).rglob("*")}
    assert {p: after[p] for p in before} == before  # every earlier file untouched
    new = {p.parent for p in after.keys() - before.keys() if p.is_file()}
    assert sorted(p.parent.name for p in new) == [catalog.FOLDER, FOLDER]  # one of each

    stats = remove_documents(["new.txt"], progress=False, settings=s)
    assert stats.chunks_removed == 1
    manifest = json.loads(
        (s.index_dir / str(current_generation(s.index_dir)) / MANIFEST).read_text()
    )
    # The new segment's only row died: the generation reads it no more; its catalog part,
    # all dead, was listed (one entry) and dropped.
    assert sorted(r["name"] for r in manifest["segments"]) == sorted(
        {p.parent.name for p in before if p.is_file() and p.parent.parent.name == FOLDER}
    )
    assert listed == [1] and [r["entries"] for r in manifest["catalog"]] == [documents]


def test_small_segments_are_merged_in_tiers(tmp_path, tiny_settings):
    """Each addition writes a small segment; every third of a size merges into one."""
    s = _settings(tmp_path, tiny_settings, merge_factor=3)
    write_paragraphs(s.docs_dir, _paragraphs()[:20])
    build_index(settings=s, progress=False)
    counts = []
    for n in range(6):
        path = tmp_path / f"added{n}.txt"
        path.write_text(f"追加の文書{n}です。東京タワーの高さは333メートル。", encoding="utf-8")
        add_documents([path], progress=False, settings=s)
        counts.append(len(load_index(s.index_dir).segments))
    # Three one-row segments merge into one of three rows: [S, 1], [S, 1, 1], [S, 3], ...
    assert counts == [2, 3, 2, 3, 4, 3]
    index = load_index(s.index_dir)
    assert index.size == sum(e.chunks for e in index.entries.values())
    live = [c.doc_id for c, alive in zip(index.chunks, index.alive, strict=True) if alive]
    assert set(live) == set(index.entries)


@pytest.mark.parametrize("segment_chunks", [7, 1000])
def test_merged_term_counts_are_those_of_the_live_texts(tmp_path, tiny_settings, segment_chunks):
    """Whatever the segment size, the live rows' counts are the counts of their texts."""
    s = _settings(tmp_path, tiny_settings, segment_chunks=segment_chunks, merge_factor=2)
    write_paragraphs(s.docs_dir, _paragraphs()[:12])
    build_index(settings=s, progress=False)
    remove_documents(["p0003.txt", "p0007.txt"], progress=False, settings=s)
    build_index(settings=s, optimize=True, progress=False)
    index = load_index(s.index_dir)
    for segment in index.segments:
        counts = TermCounts.from_texts([c.text for c in segment.chunks])
        assert counts.vocabulary == segment.term_counts.vocabulary
        assert np.array_equal(counts.tf, segment.term_counts.tf)
    for segment in index.segments:  # a document is never split, so only one may exceed it
        assert len(segment.documents) == 1 or len(segment.chunks) <= segment_chunks


def test_the_catalog_keeps_entries_in_parts_and_their_deaths_apart(tmp_path):
    from qa.catalog import IndexedDocument, Table

    a = IndexedDocument("a/文書.txt", "ab" * 32, 3, "2026-11-29T00:00:00+00:00", "seg-1", 0, 90)
    b = IndexedDocument("b.md", "cd" * 32, 1, "2026-11-29T00:00:01+00:00", "seg-1", 3, 7, 10, 5)
    table = Table.of([a, b]).written(tmp_path)
    assert (len(table.parts), table.pending) == (1, {})
    assert sorted(table.entries(), key=lambda e: e.doc_id) == [a, b]  # None size stays None
    assert (table.find("a/文書.txt"), table.find("b.md"), table.find("a")) == (a, b, None)
    c = IndexedDocument("c.txt", "ef" * 32, 2, "2026-11-29T00:00:02+00:00", "seg-2", 0, 9)
    changed = table.changed(["a/文書.txt"], [c]).written(tmp_path)
    assert changed.find("a/文書.txt") is None and changed.find("c.txt") == c
    assert table.find("a/文書.txt") == a  # the table it came from is as it was
    assert changed.rows == {"seg-1": 1, "seg-2": 2} and changed.counts() == {
        "documents": 2,
        "chunks": 3,
        "terms": 16,
    }
    records = [p.record for p in changed.parts]
    again = Table.read(tmp_path, records, changed.dead_bytes(), changed.counts(), changed.rows)
    assert sorted(again.entries(), key=lambda e: e.doc_id) == [b, c]
    assert again.find("a/文書.txt") is None  # its entry is dead where it was written
    replaced = dataclasses.replace(b, sha256="99" * 32, segment="seg-3", row=0)
    changed = again.changed(["b.md"], [replaced])  # a replacement: dropped, then added
    assert changed.find("b.md") == replaced and changed.rows == {"seg-2": 2, "seg-3": 1}
    with pytest.raises(ValueError, match="twice"):
        again.changed([], [c, c])
    with pytest.raises(ValueError, match="not in the catalog"):
        again.changed(["a/文書.txt"], [])
    with pytest.raises(ValueError, match="disagree"):
        Table.read(
            tmp_path,
            records,
            changed.dead_bytes(),
            {**changed.counts(), "documents": 3},
            changed.rows,
        )


def test_catalog_parts_merge_by_size_tier_and_when_mostly_dead(tmp_path):
    from qa.catalog import IndexedDocument, Table

    def entry(n: int) -> IndexedDocument:
        return IndexedDocument(f"d{n}.txt", "ab" * 32, 1, "2026-11-29T00:00:00+00:00", "s", n, 1)

    table = Table.of([])
    for n in range(3):  # merge_factor 2: two parts of one size become one of the next
        table = table.changed([], [entry(n)]).compacted(2, False).written(tmp_path)
    assert sorted(p.size for p in table.parts) == [1, 2]
    table = table.changed(["d0.txt", "d1.txt"], []).compacted(2, False).written(tmp_path)
    assert [p.size for p in table.parts] == [1]  # the part of two died: it is gone
    assert [e.doc_id for e in table.entries()] == ["d2.txt"]
    table = table.changed([], [entry(3), entry(4)]).compacted(4, True).written(tmp_path)
    assert [p.size for p in table.parts] == [3]  # optimize: one part


def test_adding_a_document_indexes_it_alone(tmp_path, tiny_settings):
    """add_documents does not scan the folder: other changes wait for `qa build`."""
    s = _settings(tmp_path / "alone", tiny_settings)
    write_paragraphs(s.docs_dir, _paragraphs()[:10])
    build_index(settings=s, progress=False)
    (s.docs_dir / "dropped-in.txt").write_text("フォルダに直接置かれた文書。", encoding="utf-8")
    new = tmp_path / "new.txt"
    new.write_text("富士山の高さは3776メートルです。", encoding="utf-8")
    stats = add_documents([new], progress=False, settings=s)
    assert (stats.added, stats.unchanged, stats.chunks_embedded) == (1, 10, 1)
    assert "dropped-in.txt" not in load_index(s.index_dir).documents
    assert status(settings=s).stale == ["new: dropped-in.txt"]
    assert build_index(settings=s, progress=False).added == 1  # a folder build takes it


def test_a_reload_reads_only_the_new_segments(tmp_path, tiny_settings):
    s = _settings(tmp_path / "reload", tiny_settings)
    write_paragraphs(s.docs_dir, _paragraphs()[:10])
    build_index(settings=s, progress=False)
    before = load_index(s.index_dir)
    new = tmp_path / "new.txt"
    new.write_text("富士山の高さは3776メートルです。", encoding="utf-8")
    add_documents([new], progress=False, settings=s)
    after = load_index(s.index_dir, previous=before)
    assert after.segments[0] is before.segments[0]  # shared, not read again
    assert len(after.segments) == 2 and "new.txt" in after.documents

    # A removed segment's name may be given again: a held segment of that name is not reused.
    remove_documents(["new.txt"], progress=False, settings=s)
    new.write_text("別の内容の文書です。", encoding="utf-8")
    add_documents([new], progress=False, settings=s)
    again = load_index(s.index_dir, previous=after)
    assert [c.text for c in again.chunks if c.doc_id == "new.txt"] == ["別の内容の文書です。"]
