"""Durable file writes: fsync'd files, atomic replacement, content hashes."""

from __future__ import annotations

import hashlib
import os
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
    """Persist a folder's entries (new files, renames) across a power loss."""
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
