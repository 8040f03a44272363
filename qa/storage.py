"""Durable file writes: fsync'd files, atomic replacement, content hashes."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_bytes_durably(path: Path, data: bytes) -> str:
    """Write and fsync a file; return the sha256 of its content."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return hashlib.sha256(data).hexdigest()


def replace_atomically(path: Path, data: bytes) -> None:
    """Make `path` hold `data` with one rename: readers see old or new content, never half."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write_bytes_durably(tmp, data)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Persist a folder's entries (new files, renames) across a power loss; works on files too."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    """sha256 of a file's content, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_folder(cache_dir: Path, name: str, make: Callable[[Path], None]) -> Path:
    """`cache_dir/name`, made once by `make(folder)` in a temp folder and renamed into place.

    A crash never leaves a half-made folder under `name`; when two processes race, the
    first rename wins and the other's equivalent folder is discarded.
    """
    final = cache_dir / name
    if final.is_dir():
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache_dir, prefix=".tmp-"))
    try:
        (tmp / "out").mkdir()
        make(tmp / "out")
        for path in [*(tmp / "out").rglob("*"), tmp / "out"]:
            fsync_dir(path)
        try:
            os.rename(tmp / "out", final)
        except OSError:
            if not final.is_dir():
                raise
        fsync_dir(cache_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
