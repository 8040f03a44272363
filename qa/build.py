"""Incremental index builds: only new or changed documents are chunked and embedded."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from .config import Settings
from .documents import _document_paths, load_corpus, load_document
from .embedding import Embedder
from .errors import CorruptIndex, IncompatibleIndex, IndexBusy, IndexNotFound
from .formats import SUFFIXES, Unextractable
from .index import (
    Catalog,
    Index,
    IndexedDocument,
    load_index,
    model_record,
    utc_now,
    write_generation,
)
from .lexical import TermCounts
from .storage import sha256_file
from .types import BuildStats, Chunk, Document
from .vectors import Moments
from .vectors import layout as vector_layout

log = logging.getLogger(__name__)

TRUNCATED = "truncated"  # manifest key: {doc_id: chunks before the cap} of capped documents
# A file's size and mtime are recorded only once its mtime is this old: a file written in the
# same timestamp tick as the build's stat could change again without its mtime moving.
_SETTLED_NS = 2_000_000_000

FileStat = tuple[int, int]  # (size, mtime_ns) of a document's file


@dataclass
class _Plan:
    """Documents of the next generation: reused rows of the previous one, or new ones to embed."""

    documents: list[IndexedDocument] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    to_embed: list[int] = field(default_factory=list)  # positions in `chunks` still without vector
    # Each chunk's row in the previous generation (-1: new), whose term counts it reuses.
    sources: list[int] = field(default_factory=list)
    previous_counts: TermCounts | None = None
    # The previous generation's vector moments less its rows not kept (None: sum them all).
    moments: Moments | None = None
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    truncated: dict[str, int] = field(default_factory=dict)  # doc_id: chunks before the cap


def build_index(
    settings: Settings, embedder: Embedder, full: bool = False, progress: bool = True
) -> BuildStats:
    """Bring the index in line with the docs folder; a no-op when nothing changed."""
    with _writer_lock(settings):
        # Stat before reading: a file changed in between then looks changed, never unchanged.
        stats = _file_stats(settings.docs_dir)
        previous = None if full else _reusable(settings, embedder)
        corpus = load_corpus(
            settings.docs_dir, settings.max_document_bytes, _unchanged(previous, stats, settings)
        )
        plan = _plan(corpus.documents, previous, settings, embedder, stats)
        kept = {d.doc_id for d in corpus.documents}
        removed = (
            [d for d in previous.documents.values() if d.document.doc_id not in kept]
            if previous
            else []
        )
        # Same vectors under another model name still need a manifest that names it.
        same_model = previous is not None and previous.manifest["model"] == model_record(embedder)
        if previous and same_model and not (plan.added or plan.updated or removed):
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


def _unchanged(
    previous: Index | None, stats: dict[str, FileStat], settings: Settings
) -> dict[str, Document]:
    """Indexed documents whose files have the size and mtime recorded when they were read:
    reused without reading, parsing and hashing them again (what `qa status` trusts too)."""
    if previous is None:
        return {}
    return {
        doc_id: entry.document
        for doc_id, entry in previous.documents.items()
        if entry.size is not None
        and stats.get(doc_id) == (entry.size, entry.mtime_ns)
        and entry.size <= settings.max_document_bytes
    }


def _file_stats(folder: Path) -> dict[str, FileStat]:
    """Size and mtime of each document file whose mtime is settled, by doc_id."""
    # The loader's own list of document files, so that status and builds agree on them.
    if not folder.is_dir():
        return {}
    now = time.time_ns()
    stats = {}
    for path in _document_paths(folder):
        try:
            st = path.stat()
        except OSError:
            continue  # the loader reports it
        if now - st.st_mtime_ns >= _SETTLED_NS:
            stats[path.relative_to(folder).as_posix()] = (st.st_size, st.st_mtime_ns)
    return stats


def _plan(
    documents: list[Document],
    previous: Index | None,
    settings: Settings,
    embedder: Embedder,
    stats: dict[str, FileStat],
) -> _Plan:
    # Imported here: langchain takes about half a second to import, which `qa status` skips.
    from .chunking import chunk_document

    plan = _Plan(previous_counts=previous.term_counts if previous else None)
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
                size, mtime_ns = stats.get(doc.doc_id, (None, None))
                plan.documents.append(dataclasses.replace(old, size=size, mtime_ns=mtime_ns))
                if total > cap:
                    plan.truncated[doc.doc_id] = total
                rows = old_rows[doc.doc_id]
                plan.chunks.extend(previous.chunks[r] for r in rows)  # type: ignore[union-attr]
                plan.sources.extend(rows)
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
        size, mtime_ns = stats.get(doc.doc_id, (None, None))
        plan.documents.append(IndexedDocument(doc, len(chunks), utc_now(), size, mtime_ns))
        plan.to_embed.extend(range(len(plan.chunks), len(plan.chunks) + len(chunks)))
        plan.chunks.extend(chunks)
        plan.sources.extend([-1] * len(chunks))
        plan.vectors.extend([np.empty(0, dtype=np.float32)] * len(chunks))
    if previous is not None and previous.moments is not None and old_vectors is not None:
        dropped = np.ones(len(old_vectors), dtype=bool)
        dropped[[row for row in plan.sources if row >= 0]] = False
        plan.moments = previous.moments.plus(old_vectors[dropped], sign=-1)
    return plan


def _chunk_totals(index: Catalog) -> dict[str, int]:
    """Chunks of each indexed document before the cap (more than it holds if truncated)."""
    totals = {d: entry.chunks for d, entry in index.documents.items()}
    return totals | index.manifest.get(TRUNCATED, {})


def _rows_by_document(index: Index) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for i, chunk in enumerate(index.chunks):
        rows.setdefault(chunk.doc_id, []).append(i)
    return rows


def _write(settings: Settings, embedder: Embedder, plan: _Plan, progress: bool) -> str:
    texts = [plan.chunks[i].text for i in plan.to_embed]
    fresh = np.empty((0, embedder.dim), dtype=np.float32)
    if plan.to_embed:
        log.info("embedding %d chunks", len(plan.to_embed))
        fresh = embedder.encode_documents(texts, settings.batch_size, progress)
        for row, position in enumerate(plan.to_embed):
            plan.vectors[position] = fresh[row]
    vectors = np.stack(plan.vectors)
    # Moments too cost what changed: the previous sums, less dropped rows, plus new ones.
    if plan.moments is not None:
        moments = plan.moments.plus(fresh)
    else:
        moments = Moments.of([vectors], embedder.dim)
    header = {
        "model": model_record(embedder),
        "chunking": settings.chunking_fingerprint(),
        TRUNCATED: plan.truncated,
        "vectors": vector_layout(len(plan.chunks), settings.ann_min_chunks),
    }
    # Only new chunks are counted; the rest keep the previous generation's counts.
    counts = TermCounts.from_texts(texts)
    if plan.previous_counts is not None:
        counts = plan.previous_counts.recombined(np.asarray(plan.sources), counts)
    return write_generation(
        settings.index_dir, plan.documents, plan.chunks, vectors, counts, moments, header
    )


def staleness(catalog: Catalog, settings: Settings) -> list[str]:
    """Why the index no longer matches the docs folder and settings (empty when current).

    Loads no model and parses no indexed document: a file with the size and mtime recorded
    at build time is unchanged; another is hashed and compared with its recorded sha256.
    Only new files are parsed, to leave out those a build would skip.
    """
    reasons = []
    built_with = catalog.manifest["model"]["id"]
    if built_with != settings.embed_model:
        reasons.append(
            f"embedding model changed to {settings.embed_model} (the index was built with "
            f"{built_with}; needs qa build --full)"
        )
    if catalog.manifest["chunking"] != settings.chunking_fingerprint():
        reasons.append("chunk settings changed")
    folder = settings.docs_dir
    if not folder.is_dir():
        return [*reasons, f"docs folder not found: {folder}"]
    on_disk = {p.relative_to(folder).as_posix(): p for p in _document_paths(folder)}
    if not on_disk:
        return [*reasons, f"no readable document ({', '.join(SUFFIXES)}) in {folder}"]
    indexed = catalog.documents
    states = {d: _state(on_disk[d], indexed[d], settings) for d in on_disk.keys() & indexed.keys()}
    reasons += [
        f"new: {d}"
        for d in sorted(on_disk.keys() - indexed.keys())
        if _loadable(on_disk[d], d, settings)
    ]
    gone = (indexed.keys() - on_disk.keys()) | {d for d, s in states.items() if s == "removed"}
    reasons += [f"removed: {d}" for d in sorted(gone)]
    reasons += [f"changed: {d}" for d in sorted(states) if states[d] == "changed"]
    totals = _chunk_totals(catalog)
    reasons += [
        f"chunk cap changed: {d}"
        for d, entry in sorted(indexed.items())
        if min(totals[d], settings.max_document_chunks) != entry.chunks
    ]
    return reasons


def _state(path: Path, entry: IndexedDocument, settings: Settings) -> str:
    """One of "same", "changed" or "removed" (a build would now skip it), for an indexed file."""
    try:
        st = path.stat()
        if st.st_size > settings.max_document_bytes:
            return "removed"
        if (st.st_size, st.st_mtime_ns) == (entry.size, entry.mtime_ns):
            return "same"
        return "same" if sha256_file(path) == entry.document.sha256 else "changed"
    except OSError:
        return "removed"


def _loadable(path: Path, doc_id: str, settings: Settings) -> bool:
    """Whether a build would index the file rather than skip it."""
    try:
        load_document(path, doc_id, settings.max_document_bytes)
    except Unextractable:
        return False
    return True
