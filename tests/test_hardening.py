"""Hardening: the byte and chunk caps on real builds, and matching that sees through Unicode
variants (NFKC) and invisible characters while quotes keep the documents' own text.

The caps are bookkeeping and run on the tiny model; matching is retrieval, on the real one.
"""

from __future__ import annotations

import numpy as np
import pytest

from qa import answer, build_index, search, status
from qa import ui_render as render
from qa.build import build_index as build_with
from qa.chunking import chunk_document
from qa.cli import main
from qa.config import Settings
from qa.documents import load_document
from qa.index import load_index
from qa.ui import _index_fn as ui_index_fn

# --- caps ------------------------------------------------------------------------------------

LONG = "長い文書\n\n" + "".join(
    f"第{n}条の規定は部署{n}の備品の管理について定める。" for n in range(1, 16)
)
SHORT = "短い文書\n\n社内図書館は水曜日が休館日です。"
SMALL_CHUNKS = {"chunk_size": 100, "chunk_overlap": 20}


def _chunk_texts(s: Settings, doc_id: str) -> list[str]:
    index = load_index(s.index_dir)
    return [index.chunks[i].text for i in index.live_rows() if index.chunks[i].doc_id == doc_id]


def _all_chunk_texts(s: Settings, embedder, doc_id: str) -> list[str]:
    """What the chunker makes of a whole document, before any cap."""
    doc = load_document(s.docs_dir / doc_id, doc_id, s.max_document_bytes)
    chunks = chunk_document(
        doc, s.chunk_size, s.chunk_overlap, embedder.count_tokens, embedder.max_tokens
    )
    return [c.text for c in chunks]


def _assert_equals_a_full_rebuild(s: Settings) -> None:
    incremental = load_index(s.index_dir)
    build_index(settings=s, full=True, progress=False)
    full = load_index(s.index_dir)
    rows = incremental.live_rows()  # wherever their segments put them
    assert [incremental.chunks[i] for i in rows] == full.chunks
    assert np.allclose(incremental.all_vectors()[rows], full.all_vectors(), atol=1e-4)


def test_chunk_cap_keeps_the_first_chunks_and_incremental_builds_stay_consistent(
    tiny_settings, tmp_path, tiny_embedder
) -> None:
    s = tiny_settings.replace(docs_dir=tmp_path / "capped", max_document_chunks=3, **SMALL_CHUNKS)
    s.docs_dir.mkdir()
    (s.docs_dir / "long.txt").write_text(LONG, encoding="utf-8")
    (s.docs_dir / "short.txt").write_text(SHORT, encoding="utf-8")
    whole = _all_chunk_texts(s, tiny_embedder, "long.txt")
    assert len(whole) > 3  # the case is real

    first = build_index(settings=s, progress=False)
    assert first.truncated == [
        f"long.txt: kept the first 3 of {len(whole)} chunks (max_document_chunks)"
    ]
    assert _chunk_texts(s, "long.txt") == whole[:3]
    assert (first.documents_total, first.chunks_total) == (2, 3 + len(_chunk_texts(s, "short.txt")))
    assert first.chunks_embedded == first.chunks_total

    again = build_index(settings=s, progress=False)  # unchanged: reused, not re-embedded
    assert (again.unchanged, again.chunks_embedded, again.generation) == (2, 0, first.generation)
    assert again.truncated == first.truncated  # still reported
    assert status(settings=s).stale == []

    raised = s.replace(max_document_chunks=1000)
    assert status(settings=raised).stale == ["chunk cap changed: long.txt"]
    grown = build_index(settings=raised, progress=False)
    assert (grown.updated, grown.unchanged, grown.truncated) == (1, 1, [])
    assert grown.chunks_embedded == len(whole)
    assert _chunk_texts(raised, "long.txt") == whole
    _assert_equals_a_full_rebuild(raised)

    shrunk = build_index(settings=s, progress=False)  # back to the cap of 3
    assert (shrunk.updated, shrunk.unchanged, len(shrunk.truncated)) == (1, 1, 1)
    assert _chunk_texts(s, "long.txt") == whole[:3]
    _assert_equals_a_full_rebuild(s)


def test_caps_on_a_real_build_and_in_the_cli_output(
    tiny_settings, tmp_path, monkeypatch, capsys, tiny_embedder
) -> None:
    docs = tmp_path / "caps"
    docs.mkdir()
    (docs / "short.txt").write_text(SHORT, encoding="utf-8")
    (docs / "long.txt").write_text(LONG, encoding="utf-8")
    (docs / "big.txt").write_text("大きな文書。" * 200, encoding="utf-8")  # 3,600 bytes
    paths = ["--docs", str(docs), "--index", str(tiny_settings.index_dir)]
    monkeypatch.setenv("QA_MAX_DOCUMENT_BYTES", "2000")
    monkeypatch.setenv("QA_MAX_DOCUMENT_CHUNKS", "2")
    monkeypatch.setenv("QA_CHUNK_SIZE", "100")
    monkeypatch.setenv("QA_CHUNK_OVERLAP", "20")
    s = Settings.load(docs_dir=docs, index_dir=tiny_settings.index_dir)
    whole = len(_all_chunk_texts(s, tiny_embedder, "long.txt"))

    assert main(["build", *paths]) == 0
    out, err = capsys.readouterr()
    index = load_index(tiny_settings.index_dir)
    assert sorted(index.documents) == ["long.txt", "short.txt"]
    assert index.entries["long.txt"].chunks == 2
    n = len(index.chunks)
    assert "documents 2 (2 added, 0 updated, 0 unchanged; 0 removed, 1 skipped, 1 truncated)" in out
    assert f"chunks {n} ({n} embedded, 0 removed)" in out
    assert "skipped big.txt: larger than 2,000 bytes (3,600)" in err
    assert f"truncated long.txt: kept the first 2 of {whole} chunks" in err

    # Where a user looks later: `qa status`, the Documents tab, the rebuild notice.
    assert main(["status", *paths]) == 0
    assert f"long.txt  2 of {whole} chunks" in capsys.readouterr().out
    assert [f"2 of {whole}"] == [
        r[2] for r in render.document_rows(status(settings=s)) if r[1] == "long.txt"
    ]
    notice = ui_index_fn(s)(False)[0]
    assert "Skipped big.txt" in notice and "Truncated long.txt: kept the first 2" in notice

    extra = tmp_path / "extra.txt"
    extra.write_text("追加の大きな文書。" * 100, encoding="utf-8")
    assert main(["add", str(extra), *paths]) == 2  # the byte cap also guards `qa add`
    assert "larger than 2,000 bytes" in capsys.readouterr().err

    monkeypatch.setenv("QA_MAX_DOCUMENT_BYTES", "10000")
    assert main(["build", *paths]) == 0
    out, err = capsys.readouterr()
    assert "documents 3 (1 added, 0 updated, 2 unchanged; 0 removed, 0 skipped" in out
    assert "skipped" not in err and "truncated long.txt" in err
    assert "big.txt" in load_index(tiny_settings.index_dir).documents


# --- NFKC and invisible characters -------------------------------------------------------------

DOCUMENTS = {
    "product.txt": "計測器カタログ\n\n製品コードABC123の計測器は2019年に発売され、"
    "工場の温度管理に使われている。価格は一台十二万円である。\n",
    "katakana.txt": "表記の手引き\n\nカタカナの長音符は外来語の語末に付けるのが原則である。"
    "新聞社ごとに細かな規則が異なる。\n",
    # Written in full-width letters and digits and half-width katakana.
    "zenkaku.txt": "保証規定\n\n型番ＸＹＺ７８９のｻﾎﾟｰﾄ期間は購入日から三年間です。"
    "修理は販売店が受け付けます。\n",
    "weather.txt": "天気の記録\n\n昨日の東京は一日中雨で、最高気温は十八度だった。"
    "週末は晴れる見込みである。\n",
}


@pytest.fixture(scope="module")
def variants_settings(tmp_path_factory, model_cache, embedder) -> Settings:
    root = tmp_path_factory.mktemp("variants")
    (root / "docs").mkdir()
    for name, text in DOCUMENTS.items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    s = Settings(docs_dir=root / "docs", index_dir=root / "index", cache_dir=model_cache)
    build_with(s, embedder, progress=False)
    return s


def _same_result(variant: str, normal: str, s: Settings) -> None:
    """The variant question finds the same top passage and cites the same spans."""
    assert (
        search(variant, k=1, settings=s)[0].chunk_id == search(normal, k=1, settings=s)[0].chunk_id
    )
    a, b = answer(variant, settings=s), answer(normal, settings=s)
    assert not b.abstained
    assert [(c.doc_id, c.start, c.end) for c in a.citations] == [
        (c.doc_id, c.start, c.end) for c in b.citations
    ]


@pytest.mark.parametrize(
    ("question", "same_as", "doc_id", "shown"),
    [
        (
            "ＡＢＣ１２３はいつ発売されましたか？",
            "ABC123はいつ発売されましたか？",
            "product.txt",
            "ABC123",
        ),
        (
            "ｶﾀｶﾅの長音符はどこに付けますか？",
            "カタカナの長音符はどこに付けますか？",
            "katakana.txt",
            "カタカナ",
        ),
        # The document is the one in full-width: its quote stays full-width.
        (
            "XYZ789のサポート期間は？",
            "ＸＹＺ７８９のｻﾎﾟｰﾄ期間は？",
            "zenkaku.txt",
            "ＸＹＺ７８９のｻﾎﾟｰﾄ",
        ),
        (
            "Ｈｏｗ ｌｏｎｇ ｉｓ ｔｈｅ ｓｕｐｐｏｒｔ ｐｅｒｉｏｄ ｏｆ ＸＹＺ７８９？",
            "How long is the support period of XYZ789?",
            "zenkaku.txt",
            "ＸＹＺ７８９のｻﾎﾟｰﾄ",
        ),
    ],
    ids=["full-width-latin", "half-width-katakana", "full-width-document", "full-width-english"],
)
def test_unicode_variants_find_the_same_passage_and_quote_the_original(
    variants_settings, question: str, same_as: str, doc_id: str, shown: str
) -> None:
    _same_result(question, same_as, variants_settings)
    original = DOCUMENTS[doc_id]
    assert search(question, k=1, settings=variants_settings)[0].doc_id == doc_id
    a = answer(question, settings=variants_settings)
    assert a.citations[0].doc_id == doc_id
    for c in a.citations:
        assert c.quote == original[c.start : c.end] and c.quote in a.text
    assert shown in a.citations[0].quote  # as written in the document, not its NFKC form


INVISIBLE = {
    "zero-width": "\u200b\u200c\u200d\u2060",
    "bidi-embeddings-and-overrides": "\u202a\u202b\u202c\u202d\u202e",
    "bidi-isolates": "\u2066\u2067\u2068\u2069",
    "tags": "\U000e0001\U000e0041\U000e007f",
    "variation-selectors": "\ufe00\ufe0f",
}


def _sprinkle(question: str, marks: str) -> str:
    """The question with one of the marks after each of its characters, inside its words."""
    return "".join(ch + marks[i % len(marks)] for i, ch in enumerate(question))


@pytest.mark.parametrize(
    "marks", [*INVISIBLE.values(), "".join(INVISIBLE.values())], ids=[*INVISIBLE, "all"]
)
@pytest.mark.parametrize(
    "question", ["ABC123はいつ発売されましたか？", "カタカナの長音符はどこに付けますか？"]
)
def test_invisible_characters_in_a_question_change_nothing(
    variants_settings, question: str, marks: str
) -> None:
    _same_result(_sprinkle(question, marks), question, variants_settings)


def test_invisible_characters_do_not_change_a_dense_answer(variants_settings) -> None:
    question = "What is the warranty period of XYZ789?"  # matched by meaning, not by terms
    _same_result(_sprinkle(question, "".join(INVISIBLE.values())), question, variants_settings)
