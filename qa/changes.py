"""What changed between the index and the docs folder: the plan of a build, and the staleness
`qa status` reports. Reads files and the catalog; writes nothing."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import IndexedDocument
from .config import Settings
from .documents import _document_paths, load_document, no_documents, read_corpus
from .errors import DocumentsNotFound
from .formats import SUFFIXES, Unextractable
from .index import Catalog
from .storage import sha256_file
from .types import Document

TRUNCATED = "truncated"  # manifest key: {doc_id: chunks before the cap} of capped documents
# A file's size and mtime are recorded only once its mtime is this old: a file written in the
# same timestamp tick as the build's stat could change again without its mtime moving.
_SETTLED_NS = 2_000_000_000

FileStat = tuple[int, int]  # (size, mtime_ns) of a document's file


@dataclass
class Plan:
    """How the next generation's catalog differs from the previous one. Filled in as the
    documents to (re)index are drawn from `folder_changes` or `named_changes`: complete
    once those are exhausted."""

    stats: dict[str, FileStat]  # of the files, by doc_id
    dying: list[IndexedDocument] = field(default_factory=list)  # removed or replaced
    drop: list[str] = field(default_factory=list)  # doc_ids whose previous entry is replaced
    refreshed: list[IndexedDocument] = field(default_factory=list)  # kept, with a new mtime
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # "doc_id: reason"
    truncated: dict[str, int] = field(default_factory=dict)  # doc_id: chunks before the cap

    @property
    def changed(self) -> bool:
        """Whether the catalog changes (known once the documents are drawn)."""
        return bool(self.added or self.updated or self.dying or self.drop)


def folder_changes(plan: Plan, previous: Catalog | None, settings: Settings) -> Iterator[Document]:
    """The new and changed documents of the whole docs folder, read one at a time (so that a
    build holds only those it is indexing); `plan` records the rest. DocumentsNotFound, once
    drawn to the end, if the folder holds no readable document."""
    old = previous.entries if previous else {}
    seen = set()
    known = _unchanged(previous, plan.stats, settings)
    for item in read_corpus(settings.docs_dir, settings.max_document_bytes, known, plan.skipped):
        if isinstance(item, str):  # known unchanged by size and mtime: not read
            seen.add(item)
            _keep(plan, previous, old[item], settings)  # type: ignore[arg-type]
            continue
        seen.add(item.doc_id)
        if _take(plan, previous, item, settings):
            yield item
    if not seen:
        raise no_documents(settings.docs_dir, plan.skipped)
    for doc_id, entry in old.items():
        if doc_id not in seen:
            _die(plan, entry)  # type: ignore[arg-type]


def named_changes(
    plan: Plan, previous: Catalog, settings: Settings, named: list[str]
) -> Iterator[Document]:
    """The named documents that are new or changed; named files that are gone (or can no
    longer be read) leave the index, and every other document stays as indexed."""
    # Documents not named stay as they are, truncated ones too.
    truncated = previous.manifest.get(TRUNCATED, {})
    plan.truncated = {d: n for d, n in truncated.items() if d not in named}
    indexed = sum(previous.table.find(d) is not None for d in set(named))
    plan.unchanged = len(previous.table) - indexed
    read = set()
    for doc_id in named:
        path = settings.docs_dir / doc_id
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        try:
            doc = load_document(path, doc_id, settings.max_document_bytes)
        except Unextractable as exc:
            plan.skipped.append(f"{doc_id}: {exc}")
            continue
        read.add(doc_id)
        if _take(plan, previous, doc, settings):
            yield doc
    for doc_id in named:
        entry = previous.table.find(doc_id) if doc_id not in read else None
        if entry is not None:
            _die(plan, entry)
    if plan.unchanged + plan.added + plan.updated == 0:
        raise DocumentsNotFound(f"no readable document would be left in {settings.docs_dir}")


def file_stats(folder: Path, doc_ids: list[str] | None = None) -> dict[str, FileStat]:
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


def _take(plan: Plan, previous: Catalog | None, doc: Document, settings: Settings) -> bool:
    """Plan a document that was read: kept if its bytes and chunk cap are as indexed (False),
    else to be chunked and embedded (True; its old rows die)."""
    old = previous.table.find(doc.doc_id) if previous else None
    if old is not None and previous is not None:
        # Unless the chunk cap changed: then it is chunked again.
        if old.sha256 == doc.sha256 and _capped(previous, old, settings) == old.chunks:
            _keep(plan, previous, old, settings)
            return False
        _die(plan, old)
    plan.added += old is None
    plan.updated += old is not None
    return True


def _keep(plan: Plan, previous: Catalog, entry: IndexedDocument, settings: Settings) -> None:
    """Plan a document kept as indexed (its size and mtime refreshed if they changed)."""
    plan.unchanged += 1
    total = _total(previous, entry)
    if total > settings.max_document_chunks:
        plan.truncated[entry.doc_id] = total
    size, mtime_ns = plan.stats.get(entry.doc_id, (None, None))
    if (size, mtime_ns) != (entry.size, entry.mtime_ns):
        plan.drop.append(entry.doc_id)
        plan.refreshed.append(dataclasses.replace(entry, size=size, mtime_ns=mtime_ns))


def _die(plan: Plan, entry: IndexedDocument) -> None:
    plan.dying.append(entry)
    plan.drop.append(entry.doc_id)


def _capped(catalog: Catalog, entry: IndexedDocument, settings: Settings) -> int:
    """How many chunks of the entry's document today's cap keeps."""
    return min(_total(catalog, entry), settings.max_document_chunks)


def _total(catalog: Catalog, entry: IndexedDocument) -> int:
    """Chunks of an indexed document before the cap (more than it holds if truncated)."""
    return catalog.manifest.get(TRUNCATED, {}).get(entry.doc_id, entry.chunks)


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
