"""Incremental index builds: only new or changed documents are chunked and embedded, into
a new segment; the rows of removed or replaced ones die where they are (qa/index.py)."""

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
from .documents import Corpus, _document_paths, load_corpus, load_document
from .embedding import Embedder
from .errors import CorruptIndex, IncompatibleIndex, IndexBusy, IndexNotFound
from .formats import SUFFIXES, Unextractable
from .index import (
    Catalog,
    IndexedDocument,
    load_catalog,
    load_moments,
    model_record,
    utc_now,
    write_generation,
)
from .lexical import TermCounts
from .merging import groups, merge, to_merge
from .segments import read_vectors, write_segment
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
    """The next generation's documents: catalog entries kept as they are, and documents to
    chunk and embed (new or changed); the previous entries whose rows die."""

    kept: list[IndexedDocument] = field(default_factory=list)
    fresh: list[Document] = field(default_factory=list)
    dropped: list[IndexedDocument] = field(default_factory=list)
    stats: dict[str, FileStat] = field(default_factory=dict)  # of the files, by doc_id
    added: int = 0
    updated: int = 0
    truncated: dict[str, int] = field(default_factory=dict)  # doc_id: chunks before the cap


def build_index(
    settings: Settings,
    embedder: Embedder,
    full: bool = False,
    optimize: bool = False,
    progress: bool = True,
) -> BuildStats:
    """Bring the index in line with the docs folder: new and changed documents go into a new
    segment, removed ones become tombstones. A no-op when nothing changed (and no `optimize`,
    which merges every segment, or `full`, which embeds everything again)."""
    with _writer_lock(settings):
        # Stat before reading: a file changed in between then looks changed, never unchanged.
        stats = _file_stats(settings.docs_dir)
        previous = None if full else _reusable(settings, embedder)
        corpus = load_corpus(
            settings.docs_dir, settings.max_document_bytes, _unchanged(previous, stats, settings)
        )
        plan = _plan(corpus, previous, settings, stats)
        # Same vectors under another model name still need a manifest that names it.
        same_model = previous is not None and previous.manifest["model"] == model_record(embedder)
        if previous and same_model and not (plan.fresh or plan.dropped or optimize):
            generation, embedded = previous.generation, 0
            total = previous.manifest["counts"]["chunks"]
        else:
            written = _write(settings, embedder, previous, plan, optimize, progress)
            generation, total, embedded = written
    return BuildStats(
        added=plan.added,
        updated=plan.updated,
        removed=len(plan.dropped) - plan.updated,
        unchanged=len(plan.kept),
        chunks_total=total,
        chunks_embedded=embedded,
        chunks_removed=sum(e.chunks for e in plan.dropped),
        skipped=corpus.skipped,
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
    except (IndexNotFound, CorruptIndex):
        return None
    except IncompatibleIndex as exc:
        log.warning("re-embedding every document: %s", exc)
        return None
    if catalog.manifest["chunking"] != settings.chunking_fingerprint():
        log.warning("re-embedding every document: chunk settings changed")
        return None
    return catalog


def _unchanged(
    previous: Catalog | None, stats: dict[str, FileStat], settings: Settings
) -> set[str]:
    """Indexed documents whose files have the size and mtime recorded when they were read,
    indexed under today's chunk cap: kept without reading, parsing and hashing them again
    (what `qa status` trusts too)."""
    if previous is None:
        return set()
    totals = _chunk_totals(previous)
    return {
        doc_id
        for doc_id, entry in previous.entries.items()
        if entry.size is not None
        and stats.get(doc_id) == (entry.size, entry.mtime_ns)
        and entry.size <= settings.max_document_bytes
        and min(totals[doc_id], settings.max_document_chunks) == entry.chunks
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
    corpus: Corpus, previous: Catalog | None, settings: Settings, stats: dict[str, FileStat]
) -> _Plan:
    plan = _Plan(stats=stats)
    old_entries = previous.entries if previous else {}
    totals = _chunk_totals(previous) if previous else {}
    cap = settings.max_document_chunks

    def keep(entry: IndexedDocument) -> None:
        size, mtime_ns = stats.get(entry.doc_id, (None, None))
        plan.kept.append(dataclasses.replace(entry, size=size, mtime_ns=mtime_ns))
        if totals[entry.doc_id] > cap:
            plan.truncated[entry.doc_id] = totals[entry.doc_id]

    for doc_id in corpus.known:
        keep(old_entries[doc_id])
    for doc in corpus.documents:
        old = old_entries.get(doc.doc_id)
        # Unless the cap changed: then it is chunked again.
        if old and old.sha256 == doc.sha256 and min(totals[doc.doc_id], cap) == old.chunks:
            keep(old)
            continue
        plan.fresh.append(doc)
        plan.added += old is None
        plan.updated += old is not None
        if old is not None:
            plan.dropped.append(old)
    taken = {e.doc_id for e in plan.kept} | {d.doc_id for d in plan.fresh}
    plan.dropped += [e for d, e in old_entries.items() if d not in taken]
    return plan


def _chunk_totals(catalog: Catalog) -> dict[str, int]:
    """Chunks of each indexed document before the cap (more than it holds if truncated)."""
    totals = {d: entry.chunks for d, entry in catalog.entries.items()}
    return totals | catalog.manifest.get(TRUNCATED, {})


def _write(
    settings: Settings,
    embedder: Embedder,
    previous: Catalog | None,
    plan: _Plan,
    optimize: bool,
    progress: bool,
) -> tuple[str, int, int]:
    """Write the new documents' segments and the generation over them; return its name, its
    chunk count and how many chunks were embedded."""
    index_dir = settings.index_dir
    records = previous.segment_records if previous else []
    moments = Moments.of([], embedder.dim)
    if previous is not None:
        # The previous sums, less the rows that die, plus the new ones: what changed.
        moments = load_moments(index_dir, previous).plus(_vectors(index_dir, plan.dropped), -1)
    entries = list(plan.kept)
    embedded = 0
    # One segment per `segment_chunks` new rows: a build holds one segment's worth at a time.
    chunked = _chunked(plan, settings, embedder)
    for group in groups(chunked, lambda item: len(item[1]), settings.segment_chunks):
        chunks = [c for _, doc_chunks in group for c in doc_chunks]
        texts = [c.text for c in chunks]
        log.info("embedding %d chunks", len(chunks))
        vectors = embedder.encode_documents(texts, settings.batch_size, progress)
        counts = TermCounts.from_texts(texts)
        # The layout the generation's size calls for once these rows are in.
        layout = vector_layout(moments.count + len(chunks), settings.ann_min_chunks)
        documents = [doc for doc, _ in group]
        record = write_segment(index_dir, documents, chunks, vectors, counts, layout)
        records.append(record)
        moments = moments.plus(vectors)
        embedded += len(chunks)
        starts = np.cumsum([0, *(len(doc_chunks) for _, doc_chunks in group)])
        for (doc, doc_chunks), row in zip(group, starts.tolist(), strict=False):
            size, mtime_ns = plan.stats.get(doc.doc_id, (None, None))
            terms = int(counts.lengths[row : row + len(doc_chunks)].sum())
            entries.append(
                IndexedDocument(
                    doc.doc_id,
                    doc.title,
                    doc.sha256,
                    len(doc_chunks),
                    utc_now(),
                    record["name"],
                    row,
                    terms,
                    size,
                    mtime_ns,
                )
            )
    entries.sort(key=lambda e: e.doc_id.split("/"))  # the docs folder's order
    layout = vector_layout(moments.count, settings.ann_min_chunks)
    limit = settings.segment_chunks
    names = to_merge(records, entries, limit, settings.max_segments, optimize)
    if names:
        entries, records = merge(index_dir, entries, records, names, limit, layout)
    header = {
        "model": model_record(embedder),
        "chunking": settings.chunking_fingerprint(),
        TRUNCATED: plan.truncated,
    }
    name = write_generation(index_dir, entries, records, moments, header)
    return name, moments.count, embedded


def _chunked(
    plan: _Plan, settings: Settings, embedder: Embedder
) -> Iterator[tuple[Document, list[Chunk]]]:
    """Each new or changed document with its chunks (up to the cap), one at a time."""
    # Imported here: langchain takes about half a second to import, which `qa status` skips.
    from .chunking import chunk_document

    cap = settings.max_document_chunks
    for doc in plan.fresh:
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


def _vectors(index_dir: Path, entries: list[IndexedDocument]) -> np.ndarray:
    """The stored vectors of these catalog entries' rows (read from their segments)."""
    blocks = [np.empty((0, 0), dtype=np.float32)]
    by_segment: dict[str, list[IndexedDocument]] = {}
    for entry in entries:
        by_segment.setdefault(entry.segment, []).append(entry)
    for name, mine in by_segment.items():
        vectors = read_vectors(index_dir, name)
        blocks += [vectors.reconstruct_n(e.row, e.chunks) for e in mine]
    return np.concatenate(blocks[1:]) if len(blocks) > 1 else blocks[0]


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
    indexed = catalog.entries
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
        return "same" if sha256_file(path) == entry.sha256 else "changed"
    except OSError:
        return "removed"


def _loadable(path: Path, doc_id: str, settings: Settings) -> bool:
    """Whether a build would index the file rather than skip it."""
    try:
        load_document(path, doc_id, settings.max_document_bytes)
    except Unextractable:
        return False
    return True
