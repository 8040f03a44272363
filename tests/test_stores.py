"""The store contract (qa/stores/): the embedded store and Qdrant answer the same cases alike.

Each case runs against the embedded store, Qdrant in qdrant-client's local mode, and a real
Qdrant server when QA_QDRANT_URL is set. Search must return what fusing every chunk's scores
gives, computed here from the chunk texts alone; updates must leave no trace of a removed or
replaced document version. Documents are 60 paragraphs of tests/data/jsquad-sample.json
(JSQuAD v1.3 valid; JGLUE, Yahoo Japan; CC BY-SA 4.0; see tests/data/README.md).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from qa import add_documents, answer, build_index, remove_documents, status
from qa.chunking import chunk_document
from qa.config import Settings
from qa.documents import load_document
from qa.embedding import Embedder
from qa.errors import IncompatibleIndex, StoreUnavailable
from qa.evaluation import load_squad, write_paragraphs
from qa.lexical import BM25
from qa.search import Searcher, fuse
from qa.stores import open_store, qdrant, top_k
from qa.stores.qdrant import client

from .conftest import DATA
from .optional import require_module

QDRANT_HINT = "pip install -e '.[test]'"  # qdrant-client

WEIGHT = 0.3  # both legs count
STORES = [("embedded", ""), ("qdrant", "")]
if os.environ.get("QA_QDRANT_URL"):  # a real server: the CI has none to reach
    STORES.append(("qdrant", os.environ["QA_QDRANT_URL"]))


@pytest.fixture(params=STORES, ids=lambda p: p[0] + (" server" if p[1] else ""))
def store_settings(request, tiny_settings: Settings, tmp_path: Path) -> Settings:
    store, url = request.param
    if store == "qdrant":
        require_module("qdrant_client", QDRANT_HINT)
    name = f"kotae-test-{os.getpid()}-{abs(hash(str(tmp_path))) % 10**6}"
    s = tiny_settings.replace(
        docs_dir=tmp_path / "paragraphs",
        index_dir=tmp_path / "index",
        lexical_weight=WEIGHT,
        store=store,
        qdrant_url=url,
        qdrant_collection=name,
    )
    write_paragraphs(s.docs_dir, [p.context for p in _sample()[:60]])
    return s


def _sample() -> list:
    return load_squad(DATA / "jsquad-sample.json")


def _questions() -> list[str]:
    return [p.questions[0] for p in _sample()[:60:2]] + ["What is this about?", "？"]


def _exhaustive(s: Settings, embedder: Embedder, question: str) -> list[tuple[str, float]]:
    """The top 10 (chunk_id, fused score) from scoring every chunk of the docs folder."""
    chunks = []
    for path in sorted(s.docs_dir.iterdir()):
        doc = load_document(path, path.name, s.max_document_bytes)
        chunks += chunk_document(
            doc, s.chunk_size, s.chunk_overlap, embedder.count_tokens, embedder.max_tokens
        )
    texts = [c.text for c in chunks]
    bm25 = BM25(texts)
    dense = embedder.encode_documents(texts, s.batch_size, False) @ embedder.encode_query(question)
    weigher = Searcher(SimpleNamespace(matchable_share=bm25.matchable_share))  # type: ignore[arg-type]
    fused = fuse(dense, bm25.scores(question), weigher.query_weight(question, WEIGHT))
    return [(chunks[i].chunk_id, float(fused[i])) for i in top_k(fused, 10)]


def _searched(
    s: Settings, embedder: Embedder, question: str, pool: int = 64
) -> list[tuple[str, float]]:
    searcher = Searcher(open_store(s), pool=pool)
    hits = searcher.search(question, embedder.encode_query(question), 10, WEIGHT)
    return [(h.chunk_id, h.score) for h in hits]


def _same(found: list[tuple[str, float]], expected: list[tuple[str, float]]) -> bool:
    """Same chunks in the same order, scores equal to float32 rounding (equal scores may
    come in either order)."""
    if [c for c, _ in found] != [c for c, _ in expected]:
        return sorted(found) == sorted(expected) and len({round(x, 3) for _, x in found}) < 10
    return np.allclose([x for _, x in found], [x for _, x in expected], atol=1e-3)


def test_search_returns_what_fusing_every_chunk_gives(store_settings, tiny_embedder) -> None:
    """With pools of 64 (every chunk, here) and of 2, which the search must widen: by the
    chunks whose BM25 score could still win, or by growing both pools."""
    build_index(settings=store_settings, progress=False)
    for question in _questions():
        expected = _exhaustive(store_settings, tiny_embedder, question)
        for pool in (64, 2):
            found = _searched(store_settings, tiny_embedder, question, pool)
            assert _same(found, expected), (question, pool)


def test_updates_leave_no_trace_of_old_versions(store_settings, tiny_embedder, tmp_path) -> None:
    s = store_settings
    build_index(settings=s, progress=False)
    names = sorted(p.name for p in s.docs_dir.iterdir())
    remove_documents(names[:5], progress=False, settings=s)
    for name in names[5:8]:  # rewritten in place, then picked up by a build
        path = s.docs_dir / name
        path.write_text(path.read_text(encoding="utf-8")[::-1], encoding="utf-8")
    build_index(settings=s, progress=False)
    extra = tmp_path / "extra"
    extra.mkdir()
    for n, paragraph in enumerate(_sample()[60:62]):
        (extra / f"added{n}.txt").write_text(paragraph.context, encoding="utf-8")
    add_documents(sorted(extra.iterdir()), progress=False, settings=s)

    files = sorted(s.docs_dir.iterdir())
    st = status(settings=s)
    assert sorted(d.doc_id for d in st.documents) == [p.name for p in files]
    assert st.titles == {
        p.name: load_document(p, p.name, s.max_document_bytes).title for p in files
    }
    store = open_store(s)
    for question in [*_questions(), _sample()[60].questions[0]]:
        found = _searched(s, tiny_embedder, question)
        assert _same(found, _exhaustive(s, tiny_embedder, question)), question
        best = store.dense(tiny_embedder.encode_query(question)).top(10).ids
        for chunk in store.chunks(best):
            text = store.documents[chunk.doc_id].text
            assert chunk.text == text[chunk.start : chunk.end]  # the served version's text
    if s.store == "qdrant":  # old versions' points are gone, not merely filtered out
        points = client(s).count(store.collection).count  # type: ignore[attr-defined]
        assert points == store.size + len(store.documents)
        line = status(settings=s).segments_line()
        assert line == f"store qdrant (collection {store.collection}, {store.size:,} chunks)"  # type: ignore[attr-defined]


def test_answers_cite_exact_spans_from_the_store(store_settings, tiny_embedder) -> None:
    build_index(settings=store_settings, progress=False)
    question = _sample()[10].questions[0]
    a = answer(question, settings=store_settings)
    assert a.citations
    for c in a.citations:
        text = (store_settings.docs_dir / c.doc_id).read_text(encoding="utf-8")
        assert text[c.start : c.end] == c.quote


def _qdrant(tmp_path: Path, tiny_settings: Settings, paragraphs: int, **changes) -> Settings:
    """Qdrant settings (local mode unless `changes` say) over the first sample paragraphs."""
    require_module("qdrant_client", QDRANT_HINT)
    s = tiny_settings.replace(
        docs_dir=tmp_path / "paragraphs", index_dir=tmp_path / "index", store="qdrant", **changes
    )
    write_paragraphs(s.docs_dir, [p.context for p in _sample()[:paragraphs]])
    return s


def test_a_full_build_fills_a_new_collection_and_drops_the_old(tmp_path, tiny_settings) -> None:
    s = _qdrant(tmp_path, tiny_settings, 5)
    build_index(settings=s, progress=False)
    first = open_store(s).collection  # type: ignore[attr-defined]
    build_index(settings=s, full=True, progress=False)
    second = open_store(s).collection  # type: ignore[attr-defined]
    assert first != second
    assert not client(s).collection_exists(first)
    assert client(s).collection_exists(second)


def test_an_index_of_one_store_is_not_read_as_the_other(tmp_path, tiny_settings) -> None:
    s = _qdrant(tmp_path, tiny_settings, 3)
    build_index(settings=s, progress=False)
    with pytest.raises(IncompatibleIndex, match="QA_STORE=qdrant"):
        open_store(s.replace(store="embedded"))
    stats = build_index(settings=s.replace(store="embedded"), progress=False)
    assert stats.chunks_embedded == stats.chunks_total > 0  # moved over by embedding again
    assert len(open_store(s.replace(store="embedded")).documents) == 3


def test_an_unreachable_server_is_named_not_a_traceback(tmp_path, tiny_settings) -> None:
    # The discard port: nothing listens.
    s = _qdrant(tmp_path, tiny_settings, 2, qdrant_url="http://127.0.0.1:9", qdrant_timeout=2)
    with pytest.raises(StoreUnavailable, match="Qdrant did not answer"):
        build_index(settings=s, progress=False)


def test_past_the_sample_size_the_lexical_spread_is_the_samples(
    tmp_path, tiny_settings, monkeypatch
) -> None:
    """Above SAMPLE chunks, Qdrant's lexical mean and spread are those of the points in the
    first hash buckets: here checked against the embedded store's BM25 of the same chunks."""
    s = _qdrant(tmp_path, tiny_settings, 30)
    monkeypatch.setattr(qdrant, "SAMPLE", 20)
    build_index(settings=s, progress=False)
    embedded = s.replace(index_dir=tmp_path / "embedded", store="embedded")
    build_index(settings=embedded, progress=False)
    store, reference = open_store(s), open_store(embedded)
    buckets = math.ceil(qdrant.BUCKETS * 20 / store.size)
    sha256 = {d: store.documents[d].sha256 for d in store.documents}
    rows = [
        row
        for row, c in enumerate(reference.index.chunks)  # type: ignore[attr-defined]
        if qdrant.chunk_id_of(c.doc_id, sha256[c.doc_id], int(c.chunk_id.rsplit("#", 1)[1]))
        % qdrant.BUCKETS
        < buckets
    ]
    assert 0 < len(rows) < store.size
    for question in _questions()[:10]:
        x = reference.bm25.scores(question)[rows]  # type: ignore[attr-defined]
        spread = store.lexical(question).spread
        assert spread.mean == pytest.approx(x.mean(), rel=1e-4, abs=1e-6)
        assert spread.std == pytest.approx(x.std(), rel=1e-4, abs=1e-6)
