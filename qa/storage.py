"""Durable file writes: fsync'd files, atomic replacement, content hashes."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import CorruptIndex


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


def write_files(folder: Path, files: dict[str, bytes]) -> dict[str, str]:
    """Make `folder` holding these files, each fsync'd, and persist its entry; return the
    sha256 of each file."""
    folder.mkdir(parents=True)
    hashes = {name: write_bytes_durably(folder / name, data) for name, data in files.items()}
    fsync_dir(folder)
    fsync_dir(folder.parent)
    return hashes


def check_files(folder: Path, files: dict[str, str], hashes: bool = True) -> None:
    """CorruptIndex unless each named file is in `folder` and (with `hashes`) has its
    recorded sha256."""
    label = f"{folder.parent.name}/{folder.name}"
    if not hashes:
        # One listing per folder, not a stat per file: builds check every segment's files.
        try:
            there = set(os.listdir(folder))
        except OSError:
            there = set()
        if gone := sorted(files.keys() - there):
            raise CorruptIndex(f"{label}/{gone[0]} is gone")
        return
    for name, expected in files.items():
        try:
            actual = sha256_file(folder / name)
        except OSError as exc:
            raise CorruptIndex(f"{label}/{name} cannot be read: {exc}") from None
        if actual != expected:
            raise CorruptIndex(f"{label}/{name} does not match its hash")


def numbered(parent: Path, prefix: str) -> list[str]:
    """Names of the folders in `parent` named `prefix` and a number, oldest first."""
    return sorted(name for name in folders(parent) if name.startswith(prefix))


def folders(parent: Path) -> list[str]:
    """Names of the folders in `parent` (none if it is not there), from one listing."""
    try:
        with os.scandir(parent) as entries:
            return [e.name for e in entries if e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def numbered_name(parent: Path, prefix: str) -> str:
    """The next such name: one no folder has had, crashed leftovers included."""
    names = numbered(parent, prefix)
    return f"{prefix}{int(names[-1][len(prefix) :]) + 1 if names else 1:06d}"


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
