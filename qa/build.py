"""Incremental index builds: only new or changed documents are chunked and embedded."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from filelock import FileLock, Timeout

from .chunking import chunk_document
from .config import Settings
from .documents import load_corpus
from .embedding import Embedder
from .errors import CorruptIndex, DocumentsNotFound, IncompatibleIndex, IndexBusy, IndexNotFound
from .index import Index, IndexedDocument, load_index, model_record, utc_now, write_generation
from .types import BuildStats, Chunk, Document

log = logging.getLogger(__name__)

TRUNCATED = "truncated"  # manifest key: {doc_id: chunks before the cap} of capped documents


@dataclass
class _Plan:
    """Documents of the next generation: reused rows of the previous one, or new ones to embed."""

    documents: list[IndexedDocument] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    to_embed: list[int] = field(default_factory=list)  # positions in `chunks` still without vector
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    truncated: dict[str, int] = field(default_factory=dict)  # doc_id: chunks before the cap


def build_index(
    settings: Settings, embedder: Embedder, full: bool = False, progress: bool = True
) -> BuildStats:
    """Bring the index in line with the docs folder; a no-op when nothing changed."""
    with _writer_lock(settings):
        corpus = load_corpus(settings.docs_dir, settings.max_document_bytes)
        previous = None if full else _reusable(settings, embedder)
        plan = _plan(corpus.documents, previous, settings, embedder)
        kept = {d.doc_id for d in corpus.documents}
        removed = (
            [d for d in previous.documents.values() if d.document.doc_id not in kept]
            if previous
            else []
        )
        if previous and not (plan.added or plan.updated or removed):
            generation = previous.generation
        else:
            generation = _write(settings, embedder, plan, progress)
    return BuildStats(
        added=plan.added,
        updated=plan.updated,
        removed=len(removed),
        unchanged=plan.unchanged,
        chunks_total=len(plan.chunks),
        chunks_embedded=len(plan.to_embed),
        chunks_removed=len(previous.chunks) - (len(plan.chunks) - len(plan.to_embed))
        if previous
        else 0,
        skipped=corpus.skipped,
        truncated=[
            f"{doc_id}: kept the first {settings.max_document_chunks:,} of {total:,} chunks "
            "(max_document_chunks)"
            for doc_id, total in plan.truncated.items()
        ],
        generation=generation,
    )


@contextmanager
def _writer_lock(settings: Settings) -> Iterator[None]:
    """Only one build writes to an index folder; others wait, then give up with IndexBusy."""
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(settings.index_dir / ".lock", timeout=settings.build_lock_timeout)
    try:
        lock.acquire()
    except Timeout:
        raise IndexBusy(
            f"another build has held {settings.index_dir} for {settings.build_lock_timeout:.0f} s; "
            "try again when it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _reusable(settings: Settings, embedder: Embedder) -> Index | None:
    """The current index if its vectors and chunks can be reused as they are."""
    try:
        index = load_index(settings.index_dir)
        index.check_model(embedder)
    except (IndexNotFound, CorruptIndex):
        return None
    except IncompatibleIndex as exc:
        log.warning("re-embedding every document: %s", exc)
        return None
    if index.manifest["chunking"] != settings.chunking_fingerprint():
        log.warning("re-embedding every document: chunk settings changed")
        return None
    return index


def _plan(
    documents: list[Document], previous: Index | None, settings: Settings, embedder: Embedder
) -> _Plan:
    plan = _Plan()
    cap = settings.max_document_chunks
    old_vectors = previous.all_vectors() if previous else None
    old_rows = _rows_by_document(previous) if previous else {}
    old_totals = _chunk_totals(previous) if previous else {}
    for doc in documents:
        old = previous.documents.get(doc.doc_id) if previous else None
        if old is not None and old.document.sha256 == doc.sha256 and old_vectors is not None:
            total = old_totals[doc.doc_id]
            if min(total, cap) == old.chunks:  # else the chunk cap changed: chunk it again
                plan.unchanged += 1
                plan.documents.append(old)
                if total > cap:
                    plan.truncated[doc.doc_id] = total
                rows = old_rows[doc.doc_id]
                plan.chunks.extend(previous.chunks[r] for r in rows)  # type: ignore[union-attr]
                plan.vectors.extend(old_vectors[rows])
                continue
        chunks = chunk_document(
            doc,
            settings.chunk_size,
            settings.chunk_overlap,
            embedder.count_tokens,
            embedder.max_tokens,
        )
        if len(chunks) > cap:
            log.info("%s: indexing only its first %d of %d chunks", doc.doc_id, cap, len(chunks))
            plan.truncated[doc.doc_id] = len(chunks)
            chunks = chunks[:cap]
        plan.added += old is None
        plan.updated += old is not None
        plan.documents.append(IndexedDocument(doc, len(chunks), utc_now()))
        plan.to_embed.extend(range(len(plan.chunks), len(plan.chunks) + len(chunks)))
        plan.chunks.extend(chunks)
        plan.vectors.extend([np.empty(0, dtype=np.float32)] * len(chunks))
    return plan


def _chunk_totals(index: Index) -> dict[str, int]:
    """Chunks of each indexed document before the cap (more than it holds if truncated)."""
    totals = {d: entry.chunks for d, entry in index.documents.items()}
    return totals | index.manifest.get(TRUNCATED, {})


def _rows_by_document(index: Index) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for i, chunk in enumerate(index.chunks):
        rows.setdefault(chunk.doc_id, []).append(i)
    return rows


def _write(settings: Settings, embedder: Embedder, plan: _Plan, progress: bool) -> str:
    if plan.to_embed:
        log.info("embedding %d chunks", len(plan.to_embed))
        fresh = embedder.encode_documents(
            [plan.chunks[i].text for i in plan.to_embed], settings.batch_size, progress
        )
        for row, position in enumerate(plan.to_embed):
            plan.vectors[position] = fresh[row]
    header = {
        "model": model_record(embedder),
        "chunking": settings.chunking_fingerprint(),
        TRUNCATED: plan.truncated,
    }
    return write_generation(
        settings.index_dir, plan.documents, plan.chunks, np.stack(plan.vectors), header
    )


def staleness(index: Index, settings: Settings, embedder: Embedder) -> list[str]:
    """Why the index no longer matches the docs folder and settings (empty when current)."""
    reasons = []
    try:
        index.check_model(embedder)
    except IncompatibleIndex:
        reasons.append(f"embedding model changed to {embedder.model_id} (needs qa build --full)")
    if index.manifest["chunking"] != settings.chunking_fingerprint():
        reasons.append("chunk settings changed")
    try:
        corpus = load_corpus(settings.docs_dir, settings.max_document_bytes)
    except DocumentsNotFound as exc:
        return [*reasons, str(exc)]
    on_disk = {d.doc_id: d.sha256 for d in corpus.documents}
    indexed = {d: e.document.sha256 for d, e in index.documents.items()}
    reasons += [f"new: {d}" for d in sorted(on_disk.keys() - indexed.keys())]
    reasons += [f"removed: {d}" for d in sorted(indexed.keys() - on_disk.keys())]
    reasons += [
        f"changed: {d}" for d in sorted(on_disk.keys() & indexed.keys()) if on_disk[d] != indexed[d]
    ]
    totals = _chunk_totals(index)
    reasons += [
        f"chunk cap changed: {d}"
        for d, entry in sorted(index.documents.items())
        if min(totals[d], settings.max_document_chunks) != entry.chunks
    ]
    return reasons
