import logging
from pathlib import Path

import pytest

from qa.documents import load_corpus
from qa.errors import DocumentsNotFound


def test_loads_txt_and_md_recursively_with_ids_and_titles(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("\n\n  First line  \nbody", encoding="utf-8")
    (tmp_path / "sub" / "b.md").write_text("# 見出し\n本文", encoding="utf-8")
    (tmp_path / "c.csv").write_text("x,y", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("secret", encoding="utf-8")
    corpus = load_corpus(tmp_path, 1_000_000)
    assert [(d.doc_id, d.title) for d in corpus.documents] == [
        ("a.txt", "First line"),
        ("sub/b.md", "見出し"),
    ]
    assert corpus.skipped == []


def test_crlf_and_bom_are_normalised(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes("\ufeff一行目\r\n二行目".encode())
    [doc] = load_corpus(tmp_path, 1_000_000).documents
    assert doc.text == "一行目\n二行目"


def test_unreadable_files_are_skipped_with_the_reason(tmp_path: Path, caplog) -> None:
    (tmp_path / "good.txt").write_text("本文", encoding="utf-8")
    (tmp_path / "sjis.txt").write_bytes("日本語".encode("shift_jis"))
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    (tmp_path / "big.txt").write_text("x" * 2000, encoding="utf-8")
    with caplog.at_level(logging.INFO):  # callers report `skipped`; the log is for -v
        corpus = load_corpus(tmp_path, 1000)
    assert [d.doc_id for d in corpus.documents] == ["good.txt"]
    assert sorted(s.split(":")[0] for s in corpus.skipped) == ["big.txt", "empty.md", "sjis.txt"]
    assert any(s.startswith("sjis.txt: ") and "not UTF-8" in s for s in corpus.skipped)
    assert "sjis.txt" in caplog.text and "not UTF-8" in caplog.text


def test_missing_or_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentsNotFound, match="not found"):
        load_corpus(tmp_path / "nope", 1000)
    with pytest.raises(DocumentsNotFound, match="no readable"):
        load_corpus(tmp_path, 1000)
