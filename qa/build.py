"""Incremental index builds: only new or changed documents are chunked and embedded, into
a new segment; the rows of removed or replaced ones die where they are (qa/index.py)."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from .catalog import IndexedDocument, Table
from .config import Settings
from .documents import Corpus, _document_paths, load_corpus, load_document, load_documents
from .embedding import Embedder
from .errors import CorruptIndex, DocumentsNotFound, IncompatibleIndex, IndexBusy, IndexNotFound
from .formats import SUFFIXES, Unextractable
from .index import (
    Catalog,
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
    """How the next generation's catalog differs from the previous one."""

    fresh: list[Document] = field(default_factory=list)  # to chunk and embed: new or changed
    dying: list[IndexedDocument] = field(default_factory=list)  # removed or replaced: rows die
    drop: list[int] = field(default_factory=list)  # previous catalog positions replaced
    refreshed: list[IndexedDocument] = field(default_factory=list)  # kept, with a new mtime
    stats: dict[str, FileStat] = field(default_factory=dict)  # of the files, by doc_id
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    truncated: dict[str, int] = field(default_factory=dict)  # doc_id: chunks before the cap


def build_index(
    settings: Settings,
    embedder: Embedder,
    full: bool = False,
    optimize: bool = False,
    only: Collection[str] | None = None,
    progress: bool = True,
) -> BuildStats:
    """Bring the index in line with the docs folder: new and changed documents go into a new
    segment, removed ones become tombstones. A no-op when nothing changed (and no `optimize`,
    which merges every segment, or `full`, which embeds everything again).

    `only` names the documents that changed (added, replaced or deleted files): the folder
    is then not scanned and every other document stays as indexed, so the update costs what
    changed, however large the index (what `add_documents` and `remove_documents` pass).
    """
    with _writer_lock(settings):
        previous = None if full else _reusable(settings, embedder)
        if only is not None and previous is not None:
            named = sorted(set(only))
            stats = _file_stats(settings.docs_dir, named)
            corpus = load_documents(settings.docs_dir, named, settings.max_document_bytes)
            plan = _plan_named(corpus, previous, settings, stats, only)
        else:
            # Stat before reading: a file changed in between then looks changed, never same.
            stats = _file_stats(settings.docs_dir)
            corpus = load_corpus(
                settings.docs_dir,
                settings.max_document_bytes,
                _unchanged(previous, stats, settings),
            )
            plan = _plan(corpus, previous, settings, stats)
        # Same vectors under another model name still need a manifest that names it.
        same_model = previous is not None and previous.manifest["model"] == model_record(embedder)
        if previous and same_model and not (plan.fresh or plan.dying or plan.drop or optimize):
            generation, embedded = previous.generation, 0
            total = previous.manifest["counts"]["chunks"]
        else:
            written = _write(settings, embedder, previous, plan, optimize, progress)
            generation, total, embedded = written
    return BuildStats(
        added=plan.added,
        updated=plan.updated,
        removed=len(plan.dying) - plan.updated,
        unchanged=plan.unchanged,
        chunks_total=total,
        chunks_embedded=embedded,
        chunks_removed=sum(e.chunks for e in plan.dying),
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
    return {
        doc_id
        for doc_id, entry in previous.entries.items()
        if entry.size is not None
        and stats.get(doc_id) == (entry.size, entry.mtime_ns)
        and entry.size <= settings.max_document_bytes
        and _capped(previous, entry, settings) == entry.chunks
    }


def _file_stats(folder: Path, doc_ids: list[str] | None = None) -> dict[str, FileStat]:
    """Size and mtime of each document file (of the folder, or the named ones that are
    there) whose mtime is settled, by doc_id."""
    if not folder.is_dir():
        return {}
    now = time.time_ns()
    # The loader's own list of document files, so that status and builds agree on them.
    paths = _document_paths(folder) if doc_ids is None else [folder / d for d in doc_ids]
    stats = {}
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue  # gone (a named file deleted), or the loader reports it
        if now - st.st_mtime_ns >= _SETTLED_NS:
            stats[path.relative_to(folder).as_posix()] = (st.st_size, st.st_mtime_ns)
    return stats


def _plan(
    corpus: Corpus, previous: Catalog | None, settings: Settings, stats: dict[str, FileStat]
) -> _Plan:
    """The plan of a build of the whole docs folder."""
    plan = _Plan(stats=stats)
    old_entries = previous.entries if previous else {}
    for doc_id in corpus.known:
        _keep(plan, previous, old_entries[doc_id], settings)  # type: ignore[arg-type]
    for doc in corpus.documents:
        _take(plan, previous, doc, settings)
    taken = set(corpus.known) | {d.doc_id for d in corpus.documents}
    for doc_id, entry in old_entries.items():
        if doc_id not in taken:
            _die(plan, previous, entry)  # type: ignore[arg-type]
    return plan


def _plan_named(
    corpus: Corpus,
    previous: Catalog,
    settings: Settings,
    stats: dict[str, FileStat],
    named: Collection[str],
) -> _Plan:
    """The plan of a build of the named documents only: the rest stay as indexed."""
    plan = _Plan(stats=stats)
    # Documents not named stay as they are, truncated ones too.
    truncated = previous.manifest.get(TRUNCATED, {})
    plan.truncated = {d: n for d, n in truncated.items() if d not in named}
    for doc in corpus.documents:
        _take(plan, previous, doc, settings)
    read = {d.doc_id for d in corpus.documents}
    for doc_id in sorted(set(named) - read):  # deleted, or now unreadable (corpus.skipped)
        if (position := previous.table.positions.get(doc_id)) is not None:
            _die(plan, previous, previous.table.entry(position))
    plan.unchanged += len(previous.table) - len({*named} & previous.table.positions.keys())
    if plan.unchanged + len(plan.fresh) == 0:
        raise DocumentsNotFound(f"no readable document would be left in {settings.docs_dir}")
    return plan


def _take(plan: _Plan, previous: Catalog | None, doc: Document, settings: Settings) -> None:
    """Plan a document that was read: kept if its bytes and chunk cap are as indexed, else
    chunked and embedded (its old rows die)."""
    position = previous.table.positions.get(doc.doc_id) if previous else None
    old = previous.table.entry(position) if previous and position is not None else None
    # Unless the chunk cap changed: then it is chunked again.
    if old and old.sha256 == doc.sha256 and _capped(previous, old, settings) == old.chunks:  # type: ignore[arg-type]
        _keep(plan, previous, old, settings)  # type: ignore[arg-type]
        return
    plan.fresh.append(doc)
    plan.added += old is None
    plan.updated += old is not None
    if old is not None:
        _die(plan, previous, old)  # type: ignore[arg-type]


def _keep(plan: _Plan, previous: Catalog, entry: IndexedDocument, settings: Settings) -> None:
    """Plan a document kept as indexed (its size and mtime refreshed if they changed)."""
    plan.unchanged += 1
    total = _total(previous, entry)
    if total > settings.max_document_chunks:
        plan.truncated[entry.doc_id] = total
    size, mtime_ns = plan.stats.get(entry.doc_id, (None, None))
    if (size, mtime_ns) != (entry.size, entry.mtime_ns):
        plan.drop.append(previous.table.positions[entry.doc_id])
        plan.refreshed.append(dataclasses.replace(entry, size=size, mtime_ns=mtime_ns))


def _die(plan: _Plan, previous: Catalog, entry: IndexedDocument) -> None:
    plan.dying.append(entry)
    plan.drop.append(previous.table.positions[entry.doc_id])


def _capped(catalog: Catalog, entry: IndexedDocument, settings: Settings) -> int:
    """How many chunks of the entry's document today's cap keeps."""
    return min(_total(catalog, entry), settings.max_document_chunks)


def _total(catalog: Catalog, entry: IndexedDocument) -> int:
    """Chunks of an indexed document before the cap (more than it holds if truncated)."""
    return catalog.manifest.get(TRUNCATED, {}).get(entry.doc_id, entry.chunks)


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
        moments = load_moments(index_dir, previous).plus(_vectors(index_dir, plan.dying), -1)
    entries = list(plan.refreshed)
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
    table = (previous.table if previous else Table.of([])).changed(plan.drop, entries)
    layout = vector_layout(moments.count, settings.ann_min_chunks)
    limit = settings.segment_chunks
    names = to_merge(records, table, limit, settings.merge_factor, optimize)
    if names:
        table, records = merge(index_dir, table, records, names, limit, layout)
    header = {
        "model": model_record(embedder),
        "chunking": settings.chunking_fingerprint(),
        TRUNCATED: plan.truncated,
    }
    name = write_generation(index_dir, table, records, moments, header)
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
    reasons += [
        f"chunk cap changed: {d}"
        for d, entry in sorted(indexed.items())
        if _capped(catalog, entry, settings) != entry.chunks
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
