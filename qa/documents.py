"""Load the documents of a folder (.txt, .md, .html, .pdf) as Documents."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from .errors import DocumentsNotFound
from .formats import SUFFIXES, Unextractable, extract
from .text import clean
from .types import Document

log = logging.getLogger(__name__)

_TITLE_CHARS = 120


@dataclass(frozen=True)
class Corpus:
    """The documents of a folder, and the files skipped with the reason why."""

    documents: list[Document]  # the documents read
    skipped: list[str]
    known: list[str]  # doc_ids of files the caller said it knows: not read


def load_corpus(folder: Path, max_bytes: int, known: Collection[str] = frozenset()) -> Corpus:
    """Load every supported file under `folder`; unreadable files are skipped, with the reason
    in `Corpus.skipped` for the caller to report (the CLI prints it, the UI shows it).

    `known` holds the doc_ids of files the caller knows are as it read them before: those
    are listed in `Corpus.known`, not read again.
    """
    if not folder.is_dir():
        raise DocumentsNotFound(f"docs folder not found: {folder}")
    documents: list[Document] = []
    skipped: list[str] = []
    found: list[str] = []
    for path in _document_paths(folder):
        doc_id = path.relative_to(folder).as_posix()
        if doc_id in known:
            found.append(doc_id)
            continue
        try:
            documents.append(load_document(path, doc_id, max_bytes))
        except Unextractable as exc:
            log.info("skipped %s: %s", doc_id, exc)
            skipped.append(f"{doc_id}: {exc}")
    if not documents and not found:
        raise DocumentsNotFound(
            f"no readable document ({', '.join(SUFFIXES)}) in {folder}"
            + (f" (skipped: {'; '.join(skipped)})" if skipped else "")
        )
    return Corpus(documents, skipped, found)


def load_documents(folder: Path, doc_ids: list[str], max_bytes: int) -> Corpus:
    """Load the named files of `folder` (those that are there); unreadable ones are skipped,
    with the reason, as `load_corpus` does."""
    documents: list[Document] = []
    skipped: list[str] = []
    for doc_id in doc_ids:
        path = folder / doc_id
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        try:
            documents.append(load_document(path, doc_id, max_bytes))
        except Unextractable as exc:
            skipped.append(f"{doc_id}: {exc}")
    return Corpus(documents, skipped, [])


def load_document(path: Path, doc_id: str, max_bytes: int) -> Document:
    """Read and clean one file; raise Unextractable with the reason when it cannot be used."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise Unextractable(f"larger than {max_bytes:,} bytes ({size:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise Unextractable(exc.strerror or str(exc)) from None
    extracted = extract(path.suffix.lower(), data)
    text = clean(extracted.text)
    if not text.strip():
        raise Unextractable("no text")
    title = clean(extracted.title or "").strip()[:_TITLE_CHARS] or _title(text, path)
    return Document(doc_id, title, text, hashlib.sha256(data).hexdigest(), extracted.page_starts)


def _document_paths(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _title(text: str, path: Path) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:_TITLE_CHARS]
    return path.name
