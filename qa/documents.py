"""Load the documents of a folder (.txt, .md, .html, .pdf) as Documents."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Iterator
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

    documents: list[Document]
    skipped: list[str]


def load_corpus(folder: Path, max_bytes: int) -> Corpus:
    """Load every supported file under `folder`; unreadable files are skipped, with the reason
    in `Corpus.skipped` for the caller to report (the CLI prints it, the UI shows it)."""
    skipped: list[str] = []
    items = read_corpus(folder, max_bytes, frozenset(), skipped)
    documents = [d for d in items if isinstance(d, Document)]  # nothing is known: all are
    if not documents:
        raise no_documents(folder, skipped)
    return Corpus(documents, skipped)


def read_corpus(
    folder: Path, max_bytes: int, known: Collection[str], skipped: list[str]
) -> Iterator[Document | str]:
    """The supported files under `folder` in order, read one at a time: a Document, or the
    doc_id of a file in `known` (which the caller knows is as it read it before: not read
    again). Unreadable files are left out, with the reason appended to `skipped`."""
    if not folder.is_dir():
        raise DocumentsNotFound(f"docs folder not found: {folder}")
    for path in _document_paths(folder):
        doc_id = path.relative_to(folder).as_posix()
        if doc_id in known:
            yield doc_id
            continue
        try:
            yield load_document(path, doc_id, max_bytes)
        except Unextractable as exc:
            log.info("skipped %s: %s", doc_id, exc)
            skipped.append(f"{doc_id}: {exc}")


def no_documents(folder: Path, skipped: list[str]) -> DocumentsNotFound:
    """The error for a folder without a readable document."""
    return DocumentsNotFound(
        f"no readable document ({', '.join(SUFFIXES)}) in {folder}"
        + (f" (skipped: {'; '.join(skipped)})" if skipped else "")
    )


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
