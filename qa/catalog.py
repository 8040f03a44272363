"""The catalog of a generation: one entry per indexed document, stored as columns.

Columns, not a line of JSON per document: at a million chunks (275,000 documents) parsing
and writing the catalog as JSON took over a second, which every update would pay. As numpy
arrays (strings as one blob per column, no pickle) an update drops and appends entries and
writes the catalog by array operations, decoding only the doc_ids. Titles are not here but
in each segment (qa/segments.py), written once: at 275,000 documents they were two thirds
of the catalog, which every update hashed, read and wrote again. (A catalog written before
then has a title column, which is not read.)
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

_STRINGS = ("doc_id", "sha256", "indexed_at")
_NUMBERS = ("chunks", "row", "terms", "size", "mtime_ns")
_NONE = -1  # size and mtime_ns not recorded
_END = "\0"  # ends each value of a string column


@dataclass(frozen=True)
class IndexedDocument:
    """A catalog entry: an indexed document, where its rows are, and the size and mtime its
    file had when read (None for files modified moments before the build: see build.py;
    status then hashes the file)."""

    doc_id: str
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
    """Catalog entries as columns, in the order they were added.

    A string column is one UTF-8 blob, each value ended by NUL (which no value holds: paths
    cannot, and titles are cleaned of control characters), so that dropping and appending
    entries, and writing the table, are array operations; values are decoded when read.
    The segment of each entry is a number, an index into `segments`.
    """

    blobs: dict[str, np.ndarray]  # uint8, by column name
    numbers: dict[str, np.ndarray]  # int64, by column name ("segment" included)
    segments: list[str]  # segment names, indexed by the "segment" column

    @classmethod
    def of(cls, entries: Iterable[IndexedDocument]) -> Table:
        """The table of these entries, in their order."""
        rows = [vars(e) for e in entries]
        segments = sorted({r["segment"] for r in rows})
        index = {name: i for i, name in enumerate(segments)}
        blobs = {name: _blob([r[name] for r in rows]) for name in _STRINGS}
        numbers = {
            name: np.array([_NONE if r[name] is None else r[name] for r in rows], dtype=np.int64)
            for name in _NUMBERS
        }
        numbers["segment"] = np.array([index[r["segment"]] for r in rows], dtype=np.int64)
        return cls(blobs, numbers, segments)

    def __len__(self) -> int:
        return len(self.numbers["chunks"])

    def entry(self, i: int) -> IndexedDocument:
        """The i-th entry."""
        values: dict[str, object] = {name: self._value(name, i) for name in _STRINGS}
        for name in _NUMBERS:
            value = int(self.numbers[name][i])
            values[name] = None if value == _NONE and name in ("size", "mtime_ns") else value
        values["segment"] = self.segments[int(self.numbers["segment"][i])]
        return IndexedDocument(**values)  # type: ignore[arg-type]

    def entries(self) -> list[IndexedDocument]:
        """Every entry, in table order."""
        return [self.entry(i) for i in range(len(self))]

    @cached_property
    def positions(self) -> dict[str, int]:
        """Each doc_id's position in the table."""
        doc_ids = self.blobs["doc_id"].tobytes().decode().split(_END)[:-1]
        return dict(zip(doc_ids, range(len(self)), strict=True))

    def in_segments(self, names: set[str]) -> list[int]:
        """Positions of the entries whose rows are in the named segments."""
        chosen = [i for i, name in enumerate(self.segments) if name in names]
        return np.flatnonzero(np.isin(self.numbers["segment"], chosen)).tolist()

    def changed(self, drop: Iterable[int], add: Iterable[IndexedDocument]) -> Table:
        """This table without the entries at positions `drop`, with `add` appended."""
        keep = np.ones(len(self), dtype=bool)
        keep[list(drop)] = False
        added = Table.of(add)
        segments = self.segments + [n for n in added.segments if n not in self.segments]
        renumber = np.array([segments.index(n) for n in added.segments], dtype=np.int64)
        gone = np.flatnonzero(~keep)
        blobs = {
            name: np.concatenate([np.delete(blob, self._spans(name, gone)), added.blobs[name]])
            for name, blob in self.blobs.items()
        }
        numbers = {
            name: np.concatenate([column[keep], added.numbers[name]])
            for name, column in self.numbers.items()
        }
        numbers["segment"][keep.sum() :] = renumber[added.numbers["segment"]]
        return Table(blobs, numbers, segments)

    def live_rows(self) -> dict[str, int]:
        """Live rows per segment, of the segments the entries point at."""
        rows = np.bincount(
            self.numbers["segment"], self.numbers["chunks"], minlength=len(self.segments)
        )
        return {name: int(n) for name, n in zip(self.segments, rows.tolist(), strict=True) if n}

    def to_bytes(self) -> bytes:
        """The columns as an .npz archive of plain arrays (loadable with allow_pickle=False)."""
        buffer = io.BytesIO()
        np.savez(buffer, **self.blobs, **self.numbers, segments=_blob(self.segments))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Table:
        """Read a table written by `to_bytes`; ValueError if it is not consistent."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                numbers = {n: npz[n].astype(np.int64) for n in (*_NUMBERS, "segment")}
                blobs = {n: npz[n] for n in _STRINGS}
                segments = npz["segments"].tobytes().decode().split(_END)[:-1]
        except (OSError, KeyError, EOFError, UnicodeDecodeError) as exc:
            raise ValueError(f"the catalog cannot be read: {exc}") from None
        table = cls(blobs, numbers, segments)
        size = len(numbers["chunks"])
        counts = {len(ends) for ends in table._ends.values()}
        wrong = any(blob.dtype != np.uint8 for blob in blobs.values())
        if wrong or {len(c) for c in numbers.values()} != {size} or counts != {size}:
            raise ValueError("the catalog's columns disagree")
        if size and not 0 <= numbers["segment"].min() <= numbers["segment"].max() < len(segments):
            raise ValueError("the catalog names segments it does not list")
        return table

    @cached_property
    def _ends(self) -> dict[str, np.ndarray]:
        """Where each value of each string column ends (its NUL), in bytes."""
        return {name: np.flatnonzero(blob == 0) for name, blob in self.blobs.items()}

    def _spans(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The byte positions of the given rows' values in a string column, NULs included."""
        ends = self._ends[name]
        starts = np.where(rows > 0, ends[np.maximum(rows - 1, 0)] + 1, 0)
        pairs = zip(starts.tolist(), ends[rows].tolist(), strict=True)
        spans = [np.arange(a, b + 1) for a, b in pairs]
        return np.concatenate([np.empty(0, dtype=np.int64), *spans])

    def _value(self, name: str, i: int) -> str:
        ends = self._ends[name]
        start = int(ends[i - 1]) + 1 if i else 0
        return self.blobs[name][start : int(ends[i])].tobytes().decode()


def _blob(values: list[str]) -> np.ndarray:
    """The values as one UTF-8 blob, each ended by NUL; ValueError if one holds a NUL."""
    if any(_END in v for v in values):
        raise ValueError("a catalog value holds a NUL character")
    return np.frombuffer("".join(v + _END for v in values).encode(), dtype=np.uint8)
