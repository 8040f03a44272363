"""Incremental index builds: only new or changed documents are chunked and embedded, into
a new segment; the rows of removed or replaced ones die where they are (qa/index.py)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from contextlib import contextmanager

import numpy as np
from filelock import FileLock, Timeout

from .catalog import IndexedDocument, Table
from .changes import TRUNCATED, Plan, file_stats, folder_changes, named_changes
from .config import Settings
from .embedding import Embedder
from .errors import CorruptIndex, IncompatibleIndex, IndexBusy, IndexNotFound
from .index import Catalog, load_catalog, load_moments, model_record, utc_now, write_generation
from .lexical import TermCounts
from .merging import groups
from .stores import Writer, open_writer
from .types import BuildStats, Chunk, Document
from .vectors import Moments

log = logging.getLogger(__name__)


def build_index(
    settings: Settings,
    embedder: Embedder,
    full: bool = False,
    optimize: bool = False,
    only: Collection[str] | None = None,
    progress: bool = True,
) -> BuildStats:
    """Bring the index in line with the docs folder: new and changed documents go into new
    segments, removed ones become tombstones. A no-op when nothing changed (and no `optimize`,
    which merges every segment, or `full`, which embeds everything again).

    `only` names the documents that changed (added, replaced or deleted files): the folder
    is then not scanned and every other document stays as indexed, so the update costs what
    changed, however large the index (what `add_documents` and `remove_documents` pass).
    """
    with _writer_lock(settings):
        previous = None if full else _reusable(settings, embedder)
        if only is not None and previous is not None:
            named = sorted(set(only))
            plan = Plan(file_stats(settings.docs_dir, named))
            fresh = named_changes(plan, previous, settings, named)
        else:
            # Stat before reading: a file changed in between then looks changed, never same.
            plan = Plan(file_stats(settings.docs_dir))
            fresh = folder_changes(plan, previous, settings)
        written = _write(settings, embedder, previous, plan, fresh, optimize, progress)
        generation, total, embedded = written
    return BuildStats(
        added=plan.added,
        updated=plan.updated,
        removed=len(plan.dying) - plan.updated,
        unchanged=plan.unchanged,
        chunks_total=total,
        chunks_embedded=embedded,
        chunks_removed=sum(e.chunks for e in plan.dying),
        skipped=plan.skipped,
        truncated=[
            f"{doc_id}: kept the first {settings.max_document_chunks:,} of {n:,} chunks "
            "(max_document_chunks)"
            for doc_id, n in plan.truncated.items()
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


def _reusable(settings: Settings, embedder: Embedder) -> Catalog | None:
    """The current catalog if its vectors and chunks can be reused as they are."""
    try:
        catalog = load_catalog(settings.index_dir, hash_segments=False)
        catalog.check_model(embedder)
    except IndexNotFound:
        return None
    except (CorruptIndex, IncompatibleIndex) as exc:
        log.warning("re-embedding every document: %s", exc)
        return None
    if catalog.manifest.get("store", "embedded") != settings.store:
        log.warning("re-embedding every document into the %s store", settings.store)
        return None
    if catalog.manifest["chunking"] != settings.chunking_fingerprint():
        log.warning("re-embedding every document: chunk settings changed")
        return None
    return catalog


def _write(
    settings: Settings,
    embedder: Embedder,
    previous: Catalog | None,
    plan: Plan,
    fresh: Iterator[Document],
    optimize: bool,
    progress: bool,
) -> tuple[str, int, int]:
    """Write the new documents to the store and, if anything changed, the generation over
    them; return the generation's name, its chunk count and how many chunks were embedded."""
    index_dir = settings.index_dir
    moments = load_moments(index_dir, previous) if previous else Moments.of([], embedder.dim)
    writer = open_writer(settings, embedder.dim, previous, moments.count)
    entries = []
    # One segment per `segment_chunks` new rows: a build holds one segment's worth at a time.
    chunked = _chunked(fresh, plan, settings, embedder)
    for group in groups(chunked, lambda item: len(item[1]), settings.segment_chunks):
        written, vectors = _write_group(settings, embedder, writer, plan, group, progress)
        entries += written
        moments = moments.plus(vectors)
    # Same vectors under another model name still need a manifest that names it.
    renamed = previous is not None and previous.manifest["model"] != model_record(embedder)
    if previous is not None and not (plan.changed or optimize or renamed):
        return previous.generation, moments.count, 0
    # The previous sums, less the rows that die, plus the new ones: what changed.
    moments = moments.plus(writer.vectors(plan.dying), -1)
    table = (previous.table if previous else Table.of([])).changed(
        plan.drop, plan.refreshed + entries
    )
    table, records = writer.finish(table, moments.count, optimize)
    table = table.compacted(settings.merge_factor, optimize)
    header = {
        "model": model_record(embedder),
        "chunking": settings.chunking_fingerprint(),
        TRUNCATED: plan.truncated,
        **writer.header(),
    }
    name = write_generation(index_dir, table, records, moments, header)
    writer.retire(plan.dying)
    return name, moments.count, sum(e.chunks for e in entries)


def _write_group(
    settings: Settings,
    embedder: Embedder,
    writer: Writer,
    plan: Plan,
    group: list[tuple[Document, list[Chunk]]],
    progress: bool,
) -> tuple[list[IndexedDocument], np.ndarray]:
    """Embed and count a group of documents' chunks and write them to the store; return the
    documents' catalog entries and the vectors."""
    chunks = [c for _, doc_chunks in group for c in doc_chunks]
    texts = [c.text for c in chunks]
    log.info("embedding %d chunks", len(chunks))
    vectors = embedder.encode_documents(texts, settings.batch_size, progress)
    counts = TermCounts.from_texts(texts)
    segment = writer.write([doc for doc, _ in group], chunks, vectors, counts)
    entries = []
    starts = np.cumsum([0, *(len(doc_chunks) for _, doc_chunks in group)]).tolist()
    for (doc, doc_chunks), row in zip(group, starts, strict=False):
        size, mtime_ns = plan.stats.get(doc.doc_id, (None, None))
        terms = int(counts.lengths[row : row + len(doc_chunks)].sum())
        entries.append(
            IndexedDocument(
                doc.doc_id,
                doc.sha256,
                len(doc_chunks),
                utc_now(),
                segment,
                row,
                terms,
                size,
                mtime_ns,
            )
        )
    return entries, vectors


def _chunked(
    fresh: Iterator[Document], plan: Plan, settings: Settings, embedder: Embedder
) -> Iterator[tuple[Document, list[Chunk]]]:
    """Each new or changed document with its chunks (up to the cap), one at a time."""
    # Imported here: langchain takes about half a second to import, which `qa status` skips.
    from .chunking import chunk_document

    cap = settings.max_document_chunks
    for doc in fresh:
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
        yield doc, chunks[:cap]
