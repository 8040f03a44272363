"""Merging segments: the live rows of several segments rewritten into fewer, dead rows dropped.

Builds add a segment per change, so segments accumulate; each costs a search per query and
holds its dead rows until merged. Past `max_segments` a build merges the smallest (whose
live rows fit in one segment of `segment_chunks`): what it rewrites is small, so an update
still costs what changed. `qa build --optimize` rewrites every live row, in the docs
folder's order and in the segment sizes a full build would write: the result searches as
a full build does, without embedding anything again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .index import IndexedDocument, live_rows
from .lexical import TermCounts
from .segments import Segment, read_segment, write_segment

_Item = TypeVar("_Item")


def to_merge(
    records: list[dict[str, Any]],
    entries: list[IndexedDocument],
    segment_chunks: int,
    max_segments: int,
    optimize: bool,
) -> list[str]:
    """The names of the segments to merge now (none, or at least two, or one with dead rows)."""
    live = live_rows(entries)
    if optimize:
        names = [r["name"] for r in records]
        dead = any(live.get(r["name"], 0) < r["rows"] for r in records)
        return names if len(names) > 1 or dead else []
    if len(records) <= max_segments:
        return []
    chosen, rows = [], 0
    for record in sorted(records, key=lambda r: (live.get(r["name"], 0), r["name"])):
        if chosen and rows + live.get(record["name"], 0) > segment_chunks:
            break
        chosen.append(record["name"])
        rows += live.get(record["name"], 0)
    return chosen if len(chosen) > 1 else []


def merge(
    index_dir: Path,
    entries: list[IndexedDocument],
    records: list[dict[str, Any]],
    names: list[str],
    segment_chunks: int,
    layout: dict[str, Any],
) -> tuple[list[IndexedDocument], list[dict[str, Any]]]:
    """Rewrite the live rows of the named segments into new ones (in catalog order, at most
    `segment_chunks` rows each, a document never split); return the catalog entries and
    segment records that follow."""
    chosen = set(names)
    loaded = {r["name"]: read_segment(index_dir, r) for r in records if r["name"] in chosen}
    moving = [e for e in entries if e.segment in chosen]
    moved: dict[str, IndexedDocument] = {}
    written = []
    for group in groups(moving, lambda e: e.chunks, segment_chunks):
        record, placed = _write_group(index_dir, group, loaded, layout)
        written.append(record)
        moved |= {e.doc_id: e for e in placed}
    kept = [r for r in records if r["name"] not in chosen]
    return [moved.get(e.doc_id, e) for e in entries], kept + written


def groups(
    items: Iterable[_Item], size: Callable[[_Item], int], limit: int
) -> Iterator[list[_Item]]:
    """Consecutive items in groups of at most `limit` total size, an item never split (one
    larger than `limit` is a group of its own). Builds and merges cut segments alike.

    Example: sizes [3, 3, 5, 1], limit 6 -> [[3, 3], [5, 1]]
    """
    group: list[_Item] = []
    total = 0
    for item in items:
        n = size(item)
        if group and total + n > limit:
            yield group
            group, total = [], 0
        group.append(item)
        total += n
    if group:
        yield group


def _write_group(
    index_dir: Path,
    group: list[IndexedDocument],
    loaded: dict[str, Segment],
    layout: dict[str, Any],
) -> tuple[dict[str, Any], list[IndexedDocument]]:
    """One new segment holding the rows of `group`'s documents, taken from their segments."""
    documents, chunks, vectors = [], [], []
    held = {(name, d.doc_id): d for name, s in loaded.items() for d in s.documents}
    places = {name: np.full(len(s.chunks), -1, dtype=np.int64) for name, s in loaded.items()}
    placed = []
    for entry in group:
        segment = loaded[entry.segment]
        rows = slice(entry.row, entry.row + entry.chunks)
        places[entry.segment][rows] = np.arange(len(chunks), len(chunks) + entry.chunks)
        placed.append(entry)
        documents.append(held[entry.segment, entry.doc_id])
        chunks.extend(segment.chunks[rows])
        vectors.append(segment.vectors.reconstruct_n(entry.row, entry.chunks))
    counts = TermCounts.merged(
        [(loaded[name].term_counts, place) for name, place in places.items()], len(chunks)
    )
    record = write_segment(index_dir, documents, chunks, np.concatenate(vectors), counts, layout)
    starts = np.cumsum([0, *(e.chunks for e in placed)])
    return record, [
        replace(e, segment=record["name"], row=int(start))
        for e, start in zip(placed, starts, strict=False)
    ]
