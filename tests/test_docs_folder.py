"""Adding and removing documents through the API: checked, copied, indexed (tiny model)."""

from pathlib import Path

import pytest

from qa import add_documents, build_index, remove_documents, search
from qa.errors import InvalidDocument
from qa.index import load_index

from .conftest import SEED_ID


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_add_copies_and_indexes_only_the_new_document(tiny_settings, tmp_path) -> None:
    build_index(settings=tiny_settings, progress=False)
    source = _write(tmp_path / "fuji.md", "# 富士山\n富士山の高さは3776メートルです。")
    stats = add_documents([source], settings=tiny_settings, progress=False)
    assert (stats.added, stats.unchanged, stats.chunks_embedded) == (1, 1, 1)
    assert (tiny_settings.docs_dir / "fuji.md").read_bytes() == source.read_bytes()
    # Searched, not answered: the tiny model's span head is random, so which of the passages
    # read answer() quotes is the shipped selector's guess, not a property of adding.
    best = search("富士山の高さは？", settings=tiny_settings)[0]
    assert best.doc_id == "fuji.md" and "3776" in best.text


def test_add_refuses_a_different_file_with_the_same_name_unless_replace(
    tiny_settings, tmp_path
) -> None:
    add_documents([_write(tmp_path / "a.txt", "一つ目。")], settings=tiny_settings, progress=False)
    other = tmp_path / "other"
    other.mkdir()
    changed = _write(other / "a.txt", "二つ目。")
    with pytest.raises(InvalidDocument, match="--replace"):
        add_documents([changed], settings=tiny_settings, progress=False)
    assert (tiny_settings.docs_dir / "a.txt").read_text(encoding="utf-8") == "一つ目。"
    stats = add_documents([changed], replace=True, settings=tiny_settings, progress=False)
    assert stats.updated == 1
    same = add_documents([changed], settings=tiny_settings, progress=False)  # identical: fine
    assert same.chunks_embedded == 0


def test_add_checks_every_file_before_copying_any(tiny_settings, tmp_path) -> None:
    good = _write(tmp_path / "good.txt", "良い文書。")
    bad = tmp_path / "bad.txt"
    bad.write_bytes("悪い".encode("shift_jis"))
    for files, message in [
        ([good, bad], "UTF-8"),
        ([good, _write(tmp_path / "x.csv", "a,b")], "only"),
        ([good, tmp_path / "missing.txt"], "no such file"),
    ]:
        with pytest.raises(InvalidDocument, match=message):
            add_documents(files, settings=tiny_settings, progress=False)
    assert not (tiny_settings.docs_dir / "good.txt").exists()


def test_remove_deletes_the_file_and_its_chunks(tiny_settings, tmp_path) -> None:
    add_documents(
        [_write(tmp_path / "gone.txt", "消える文書。")], settings=tiny_settings, progress=False
    )
    stats = remove_documents(["gone.txt"], settings=tiny_settings, progress=False)
    assert stats.removed == 1 and not (tiny_settings.docs_dir / "gone.txt").exists()
    assert set(load_index(tiny_settings.index_dir).documents) == {SEED_ID}


@pytest.mark.parametrize("doc_id", ["nope.txt", "../outside.txt", "/etc/passwd", "."])
def test_remove_refuses_unknown_or_outside_paths(tiny_settings, doc_id: str) -> None:
    with pytest.raises(InvalidDocument):
        remove_documents([doc_id], settings=tiny_settings, progress=False)
    assert (tiny_settings.docs_dir / SEED_ID).exists()
