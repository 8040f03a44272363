"""The catalog of a generation: one entry per indexed document, kept in immutable parts.

An update must cost what changed, so the catalog is never rewritten whole: at a million
chunks (275,000 documents) reading, changing and writing it was two thirds of an update. As
Lucene keeps segments and their deletions, a build writes the entries it adds as a new part,
and the generation lists which entries of older parts are dead (removed or replaced
documents). Parts of one size are merged once `merge_factor` of them accumulate, and a part
is rewritten once most of it is dead, so each entry is rewritten about log(entries) times.

index/catalog/part-000003/
    entries.npy   a fixed-size record per document, sorted by a 64-bit hash of its doc_id:
                  memory-mapped, so a lookup bisects it and reads a few pages
    doc_ids.npy   the doc_ids in the same order, as one UTF-8 blob, each ended by NUL
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .storage import numbered_name, write_files

FOLDER = "catalog"  # under the index folder
_PREFIX = "part-"
ENTRIES, DOC_IDS = "entries.npy", "doc_ids.npy"
_NONE = -1  # size and mtime_ns not recorded
_END = b"\0"
_ENTRY = np.dtype(
    [
        ("key", "<u8"),  # hash of the doc_id: the sort order
        ("id_end", "<i8"),  # where the doc_id's NUL is in the doc_ids blob
        ("segment", "<i4"),  # an index into the part record's "segments"
        ("chunks", "<i8"),
        ("row", "<i8"),
        ("terms", "<i8"),
        ("size", "<i8"),
        ("mtime_ns", "<i8"),
        ("sha256", "S64"),
        ("indexed_at", "S32"),
    ]
)


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


class Part:
    """One written part of the catalog, opened (memory-mapped) when first read."""

    def __init__(self, index_dir: Path, record: dict[str, Any]) -> None:
        self.record = record
        self.name: str = record["name"]
        self.size: int = record["entries"]
        self.folder = index_dir / FOLDER / self.name

    @staticmethod
    def write(index_dir: Path, entries: list[IndexedDocument]) -> dict[str, Any]:
        """Write the entries as a new part (fsync'd); return its record for the manifest."""
        entries = sorted(entries, key=lambda e: (_key(e.doc_id), e.doc_id))
        segments = sorted({e.segment for e in entries})
        number = {name: i for i, name in enumerate(segments)}
        ids = [e.doc_id.encode() + _END for e in entries]
        if any(_END in i[:-1] for i in ids):
            raise ValueError("a doc_id holds a NUL character")
        table = np.empty(len(entries), dtype=_ENTRY)
        table["key"] = [_key(e.doc_id) for e in entries]
        table["id_end"] = np.cumsum([len(i) for i in ids]) - 1
        table["segment"] = [number[e.segment] for e in entries]
        for field in ("chunks", "row", "terms", "size", "mtime_ns"):
            values = (getattr(e, field) for e in entries)
            table[field] = [_NONE if v is None else v for v in values]
        table["sha256"] = [e.sha256.encode() for e in entries]
        table["indexed_at"] = [e.indexed_at.encode() for e in entries]
        blob = np.frombuffer(b"".join(ids), dtype=np.uint8)
        folder = index_dir / FOLDER / numbered_name(index_dir / FOLDER, _PREFIX)
        files = write_files(folder, {ENTRIES: _npy(table), DOC_IDS: _npy(blob)})
        return {"name": folder.name, "entries": len(entries), "segments": segments, "files": files}

    @cached_property
    def _table(self) -> np.ndarray:
        table = np.load(self.folder / ENTRIES, mmap_mode="r", allow_pickle=False)
        if table.dtype != _ENTRY or len(table) != self.size:
            raise ValueError(f"{FOLDER}/{self.name} does not hold {self.size} entries")
        return table

    @cached_property
    def _doc_ids(self) -> np.ndarray:
        return np.load(self.folder / DOC_IDS, mmap_mode="r", allow_pickle=False)

    def positions(self, doc_id: str) -> list[int]:
        """Where entries of this doc_id are (at most one, unless it was dropped and added
        again before the part was written: it never is)."""
        keys, key = self._table["key"], _key(doc_id)
        low = bisect.bisect_left(keys, key)
        high = bisect.bisect_right(keys, key, low)
        return [i for i in range(low, high) if self._doc_id(i) == doc_id]

    def entry(self, i: int) -> IndexedDocument:
        """The i-th entry."""
        return self._entries(np.array([i]), [self._doc_id(i)])[0]

    def entries(self, dead: np.ndarray) -> list[IndexedDocument]:
        """Every entry but those at the `dead` positions, in key order."""
        keep = np.ones(self.size, dtype=bool)
        keep[dead] = False
        doc_ids = _split(self._doc_ids)
        chosen = np.flatnonzero(keep)
        return self._entries(chosen, [doc_ids[i] for i in chosen.tolist()])

    def _entries(self, positions: np.ndarray, doc_ids: list[str]) -> list[IndexedDocument]:
        rows = self._table[positions]
        columns = {field: rows[field].tolist() for field in _ENTRY.names}
        segments = [self.record["segments"][i] for i in columns["segment"]]
        return [
            IndexedDocument(d, s.decode(), c, t.decode(), g, r, n, _optional(z), _optional(m))
            for d, s, c, t, g, r, n, z, m in zip(
                doc_ids,
                columns["sha256"],
                columns["chunks"],
                columns["indexed_at"],
                segments,
                columns["row"],
                columns["terms"],
                columns["size"],
                columns["mtime_ns"],
                strict=True,
            )
        ]

    def _doc_id(self, i: int) -> str:
        ends = self._table["id_end"]
        start = int(ends[i - 1]) + 1 if i else 0
        return self._doc_ids[start : int(ends[i])].tobytes().decode()


@dataclass(frozen=True, eq=False)
class Table:
    """A generation's catalog: its written parts, the dead positions of each, and the entries
    added since (pending: written as one new part with the next generation). The live rows
    of each segment, the live entries and their lexical terms are kept by the delta."""

    parts: list[Part]
    dead: dict[str, np.ndarray]  # sorted dead positions, by part name
    pending: dict[str, IndexedDocument]  # by doc_id
    rows: dict[str, int]  # live rows by segment
    terms: int
    size: int  # live entries

    @classmethod
    def of(cls, entries: Iterable[IndexedDocument]) -> Table:
        """A table of these entries, none written yet."""
        table = cls([], {}, {}, {}, 0, 0)
        return table.changed([], entries)

    def __len__(self) -> int:
        return self.size

    @property
    def chunks(self) -> int:
        """Live rows in all."""
        return sum(self.rows.values())

    def find(self, doc_id: str) -> IndexedDocument | None:
        """The live entry of a doc_id, or None."""
        if doc_id in self.pending:
            return self.pending[doc_id]
        found = self._locate(doc_id)
        return found[0].entry(found[1]) if found else None

    def entries(self) -> list[IndexedDocument]:
        """Every live entry (reads every part: for status, loads and full builds)."""
        listed = [e for p in self.parts for e in p.entries(self.dead.get(p.name, _NO_ROWS))]
        return listed + list(self.pending.values())

    def changed(self, drop: Iterable[str], add: Iterable[IndexedDocument]) -> Table:
        """This table without the live entries of the `drop` doc_ids, with `add` added (whose
        doc_ids must not be live: builds drop an entry before adding its successor)."""
        killed: dict[str, list[int]] = {}
        pending = dict(self.pending)
        rows = dict(self.rows)
        terms, size = self.terms, self.size
        for doc_id in dict.fromkeys(drop):
            gone = pending.pop(doc_id, None)
            if gone is None:
                found = self._locate(doc_id)
                if found is None:
                    raise ValueError(f"{doc_id} is not in the catalog")
                part, position = found
                gone = part.entry(position)
                killed.setdefault(part.name, []).append(position)
            rows[gone.segment] -= gone.chunks
            terms, size = terms - gone.terms, size - 1
        for entry in add:
            if entry.doc_id in pending:
                raise ValueError(f"{entry.doc_id} is in the catalog twice")
            pending[entry.doc_id] = entry
            rows[entry.segment] = rows.get(entry.segment, 0) + entry.chunks
            terms, size = terms + entry.terms, size + 1
        dead = dict(self.dead)
        for name, positions in killed.items():
            dead[name] = np.union1d(dead.get(name, _NO_ROWS), positions)
        rows = {name: n for name, n in rows.items() if n}
        return Table(self.parts, dead, pending, rows, terms, size)

    def compacted(self, merge_factor: int, optimize: bool) -> Table:
        """Parts to rewrite folded back into the pending entries: every part when
        `optimize`; those mostly dead; and, as for segments (qa/merging.py), parts of the size
        tier the pending entries will join once `merge_factor` of them would be there."""
        live = {p.name: p.size - len(self.dead.get(p.name, _NO_ROWS)) for p in self.parts}
        fold = [p for p in self.parts if optimize or 2 * live[p.name] < p.size]
        kept = [p for p in self.parts if p not in fold]
        size = len(self.pending) + sum(live[p.name] for p in fold)
        while size:
            joins = _tier(size, merge_factor)
            tier = [p for p in kept if _tier(live[p.name], merge_factor) == joins]
            if len(tier) + 1 < merge_factor:
                break
            fold += tier
            kept = [p for p in kept if p not in tier]
            size += sum(live[p.name] for p in tier)
        if not fold:
            return self
        pending = dict(self.pending)
        for part in fold:
            pending.update((e.doc_id, e) for e in part.entries(self.dead.get(part.name, _NO_ROWS)))
        dead = {name: d for name, d in self.dead.items() if name in {p.name for p in kept}}
        return dataclasses.replace(self, parts=kept, dead=dead, pending=pending)

    def written(self, index_dir: Path) -> Table:
        """This table with its pending entries written as a new part."""
        if not self.pending:
            return self
        part = Part(index_dir, Part.write(index_dir, list(self.pending.values())))
        return dataclasses.replace(self, parts=[*self.parts, part], pending={})

    def dead_bytes(self) -> bytes:
        """The dead positions of each part, as an .npz of plain arrays."""
        buffer = io.BytesIO()
        np.savez(buffer, **{name: d.astype(np.int64) for name, d in self.dead.items()})
        return buffer.getvalue()

    @classmethod
    def read(
        cls,
        index_dir: Path,
        records: list[dict[str, Any]],
        dead: bytes,
        counts: dict[str, int],
        rows: dict[str, int],
    ) -> Table:
        """The table a manifest describes: its part records, the generation's dead positions,
        its counts and the live rows of each segment; ValueError if they disagree."""
        parts = [Part(index_dir, r) for r in records]
        with np.load(io.BytesIO(dead), allow_pickle=False) as npz:
            positions = {name: npz[name] for name in npz.files}
        sizes = {p.name: p.size for p in parts}
        for name, d in positions.items():
            if name not in sizes or (len(d) and not 0 <= d[0] <= d[-1] < sizes[name]):
                raise ValueError(f"dead entries of {name} do not fit it")
        if sum(sizes.values()) - sum(len(d) for d in positions.values()) != counts["documents"]:
            raise ValueError("the catalog's parts and counts disagree")
        if sum(rows.values()) != counts["chunks"]:
            raise ValueError("the segments' live rows and the counts disagree")
        return cls(parts, positions, {}, rows, counts["terms"], counts["documents"])

    def counts(self) -> dict[str, int]:
        """The manifest's counts: live documents, chunks and lexical terms."""
        return {"documents": self.size, "chunks": self.chunks, "terms": self.terms}

    def _locate(self, doc_id: str) -> tuple[Part, int] | None:
        """The part and position of the doc_id's live written entry, or None."""
        for part in self.parts:
            for position in part.positions(doc_id):
                gone = self.dead.get(part.name, _NO_ROWS)
                i = np.searchsorted(gone, position)
                if i == len(gone) or gone[i] != position:
                    return part, position
        return None


def legacy_entries(data: bytes) -> list[IndexedDocument]:
    """The entries of a catalog.npz written by a kotae before catalog parts (index format 2:
    one table of columns per generation, strings as NUL-ended blobs); ValueError if it cannot
    be read. The next build writes them as a part."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            strings = {n: _split(npz[n]) for n in ("doc_id", "sha256", "indexed_at", "segments")}
            numbers = {n: npz[n].tolist() for n in ("chunks", "row", "terms", "size", "mtime_ns")}
            segment = npz["segment"].tolist()
    except (OSError, KeyError, EOFError, UnicodeDecodeError) as exc:
        raise ValueError(f"the catalog cannot be read: {exc}") from None
    names = strings.pop("segments")
    entries = []
    for i, name in enumerate(segment):
        values = {n: v[i] for n, v in {**strings, **numbers}.items()}
        size, mtime_ns = _optional(values.pop("size")), _optional(values.pop("mtime_ns"))
        entries.append(IndexedDocument(**values, segment=names[name], size=size, mtime_ns=mtime_ns))
    return entries


_NO_ROWS = np.empty(0, dtype=np.int64)


def _key(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "little")


def _tier(size: int, merge_factor: int) -> int:
    return int(math.log(size, merge_factor)) if size else -1


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _optional(value: int) -> int | None:
    return None if value == _NONE else value


def _split(blob: np.ndarray) -> list[str]:
    return blob.tobytes().decode().split("\0")[:-1]
