"""Adding and removing files of the docs folder, checked first so that nothing is half-done."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .documents import load_document
from .errors import InvalidDocument
from .formats import SUFFIXES, Unextractable
from .storage import sha256_file


def add_files(folder: Path, sources: list[Path], replace: bool, max_bytes: int) -> list[str]:
    """Copy readable documents into the folder; return their doc_ids.

    Every file is checked before any is copied. A different file with the same name is
    refused unless `replace`; an identical one is left as it is.
    """
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        raise InvalidDocument("two of the files have the same name")
    for source in sources:
        _check_addable(folder, source, replace, max_bytes)
    folder.mkdir(parents=True, exist_ok=True)
    for source in sources:
        tmp = folder / f".{source.name}.adding"
        shutil.copyfile(source, tmp)
        os.replace(tmp, folder / source.name)  # readers never see a half-copied file
    return names


def remove_files(folder: Path, doc_ids: list[str]) -> None:
    """Delete documents (by doc_id, their path relative to the folder) from the folder."""
    paths = [_inside(folder, doc_id) for doc_id in doc_ids]
    for doc_id, path in zip(doc_ids, paths, strict=True):
        if not path.is_file():
            raise InvalidDocument(f"no document {doc_id!r} in {folder}")
    for path in paths:
        path.unlink()


def _check_addable(folder: Path, source: Path, replace: bool, max_bytes: int) -> None:
    if source.suffix.lower() not in SUFFIXES:
        raise InvalidDocument(f"{source.name}: only {', '.join(SUFFIXES)} files can be added")
    if not source.is_file():
        raise InvalidDocument(f"{source}: no such file")
    try:
        load_document(source, source.name, max_bytes)
    except Unextractable as exc:
        raise InvalidDocument(f"{source.name}: {exc}") from None
    target = folder / source.name
    if target.exists() and not replace and sha256_file(target) != sha256_file(source):
        raise InvalidDocument(
            f"{source.name}: a different document with this name exists; use --replace"
        )


def _inside(folder: Path, doc_id: str) -> Path:
    path = (folder / doc_id).resolve()
    if not path.is_relative_to(folder.resolve()) or path == folder.resolve():
        raise InvalidDocument(f"{doc_id!r} is not a document of {folder}")
    return path
