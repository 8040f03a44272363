"""The catalog of a generation: one entry per indexed document, stored as columns.

Columns, not a line of JSON per document: at a million chunks (a few hundred thousand
documents) parsing and writing JSON lines took seconds, which every update would pay. As
numpy arrays (strings as one JSON array per column, no pickle), a build reads and writes
the catalog in milliseconds, and drops or appends entries without touching the rest.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

_STRINGS = ("doc_id", "title", "sha256", "indexed_at", "segment")
_NUMBERS = ("chunks", "row", "terms", "size", "mtime_ns")
_NONE = -1  # size and mtime_ns not recorded


@dataclass(frozen=True)
class IndexedDocument:
    """A catalog entry: an indexed document, where its rows are, and the size and mtime its
    file had when read (None for files modified moments before the build: see build.py;
    status then hashes the file)."""

    doc_id: str
    title: str
    sha256: str
    chunks: int
    indexed_at: str
    segment: str  # the segment holding its rows
    row: int  # its first row there; its rows are row .. row + chunks - 1
    terms: int  # lexical terms in its chunks (BM25's average length is kept by the delta)
    size: int | None = None
    mtime_ns: int | None = None


@dataclass(frozen=True, eq=False)
class Table:
    """Catalog entries as columns, in the order they were added."""

    strings: dict[str, list[str]]
    numbers: dict[str, np.ndarray]  # int64

    @classmethod
    def of(cls, entries: Iterable[IndexedDocument]) -> Table:
        """The table of these entries, in their order."""
        rows = [vars(e) for e in entries]
        return cls(
            {name: [r[name] for r in rows] for name in _STRINGS},
            {
                name: np.array(
                    [_NONE if r[name] is None else r[name] for r in rows], dtype=np.int64
                )
                for name in _NUMBERS
            },
        )

    def __len__(self) -> int:
        return len(self.numbers["chunks"])

    def entry(self, i: int) -> IndexedDocument:
        """The i-th entry."""
        values = {name: column[i] for name, column in self.strings.items()}
        for name, column in self.numbers.items():
            value = int(column[i])
            values[name] = None if value == _NONE and name in ("size", "mtime_ns") else value
        return IndexedDocument(**values)

    def entries(self) -> list[IndexedDocument]:
        """Every entry, in table order."""
        return [self.entry(i) for i in range(len(self))]

    @cached_property
    def positions(self) -> dict[str, int]:
        """Each doc_id's position in the table."""
        return dict(zip(self.strings["doc_id"], range(len(self)), strict=True))

    def changed(self, drop: Iterable[int], add: Iterable[IndexedDocument]) -> Table:
        """This table without the entries at positions `drop`, with `add` appended."""
        keep = np.ones(len(self), dtype=bool)
        keep[list(drop)] = False
        added = Table.of(add)
        where = np.flatnonzero(keep).tolist()
        return Table(
            {n: [c[i] for i in where] + added.strings[n] for n, c in self.strings.items()},
            {n: np.concatenate([c[keep], added.numbers[n]]) for n, c in self.numbers.items()},
        )

    def live_rows(self) -> dict[str, int]:
        """Live rows per segment, of the segments the entries point at."""
        live: dict[str, int] = {}
        for segment, chunks in zip(
            self.strings["segment"], self.numbers["chunks"].tolist(), strict=True
        ):
            live[segment] = live.get(segment, 0) + chunks
        return live

    def to_bytes(self) -> bytes:
        """The columns as an .npz archive of plain arrays (loadable with allow_pickle=False)."""
        buffer = io.BytesIO()
        strings = {
            name: np.frombuffer(json.dumps(column, ensure_ascii=False).encode(), dtype=np.uint8)
            for name, column in self.strings.items()
        }
        np.savez(buffer, **strings, **self.numbers)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Table:
        """Read a table written by `to_bytes`; ValueError if it is not consistent."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                strings = {n: json.loads(npz[n].tobytes().decode()) for n in _STRINGS}
                numbers = {n: npz[n].astype(np.int64) for n in _NUMBERS}
        except (OSError, KeyError, EOFError, UnicodeDecodeError) as exc:
            raise ValueError(f"the catalog cannot be read: {exc}") from None
        lengths = {len(c) for c in strings.values()} | {len(c) for c in numbers.values()}
        if len(lengths) > 1 or not all(isinstance(c, list) for c in strings.values()):
            raise ValueError("the catalog's columns disagree")
        return cls(strings, numbers)
