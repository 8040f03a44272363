"""Load the documents of a folder (.txt, .md) as Documents."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from .errors import DocumentsNotFound
from .text import clean
from .types import Document

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")
_TITLE_CHARS = 120


@dataclass(frozen=True)
class Corpus:
    """The documents of a folder, and the files skipped with the reason why."""

    documents: list[Document]
    skipped: list[str]


def load_corpus(folder: Path, max_bytes: int) -> Corpus:
    """Load every supported file under `folder`; unreadable files are skipped with a warning."""
    if not folder.is_dir():
        raise DocumentsNotFound(f"docs folder not found: {folder}")
    documents: list[Document] = []
    skipped: list[str] = []
    for path in _document_paths(folder):
        doc_id = path.relative_to(folder).as_posix()
        try:
            documents.append(load_document(path, doc_id, max_bytes))
        except _Unreadable as exc:
            log.warning("skipped %s: %s", doc_id, exc)
            skipped.append(f"{doc_id}: {exc}")
    if not documents:
        raise DocumentsNotFound(
            f"no readable .txt or .md document in {folder}"
            + (f" (skipped: {'; '.join(skipped)})" if skipped else "")
        )
    return Corpus(documents, skipped)


def load_document(path: Path, doc_id: str, max_bytes: int) -> Document:
    """Read one file as UTF-8 and clean it; raise _Unreadable with a reason otherwise."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _Unreadable(f"larger than {max_bytes:,} bytes ({size:,})")
        data = path.read_bytes()
        text = clean(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _Unreadable(f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise _Unreadable(exc.strerror or str(exc)) from None
    if not text.strip():
        raise _Unreadable("empty")
    return Document(doc_id, _title(text, path), text, hashlib.sha256(data).hexdigest())


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


class _Unreadable(Exception):
    """Internal: why a file could not be loaded (becomes a warning, not an error)."""
