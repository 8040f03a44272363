"""Merging segments: the live rows of several segments rewritten into fewer, dead rows dropped.

Builds add a segment per change, so segments accumulate; each costs a search per query and
holds its dead rows until merged. A build merges `merge_factor` segments of about the same
size into one (a tiered policy, as Lucene's): what it rewrites is of the size of what was
added lately, so an update still costs about what changed. `qa build --optimize` rewrites
every live row, in the docs folder's order and in the segment sizes a full build would
write: the result searches as a full build does, without embedding anything again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .catalog import IndexedDocument, Table
from .lexical import TermCounts
from .segments import Segment, read_segment, write_segment

_Item = TypeVar("_Item")


def to_merge(
    records: list[dict[str, Any]],
    table: Table,
    segment_chunks: int,
    merge_factor: int,
    optimize: bool,
) -> list[str]:
    """The names of the segments to merge now (none, or at least two, or one with dead rows).

    Segments are tiered by live rows in powers of `merge_factor`; once a tier holds
    `merge_factor` segments they are merged into one of the next tier. Each row is thus
    rewritten about log(rows) times over the life of an index, and an update that adds a
    small segment merges only small ones. Segments too large to merge without exceeding
    `segment_chunks` stay until `optimize`, which merges everything.
    """
    live = table.rows
    if optimize:
        names = [r["name"] for r in records]
        dead = any(live.get(r["name"], 0) < r["rows"] for r in records)
        return names if len(names) > 1 or dead else []
    tiers: dict[int, list[tuple[int, str]]] = {}
    for record in records:
        rows = live.get(record["name"], 0)
        if rows and rows * merge_factor <= segment_chunks:
            tier = int(math.log(rows, merge_factor))
            tiers.setdefault(tier, []).append((rows, record["name"]))
    for tier in sorted(tiers):
        if len(tiers[tier]) >= merge_factor:
            return [name for _, name in sorted(tiers[tier])[:merge_factor]]
    return []


def merge(
    index_dir: Path,
    table: Table,
    records: list[dict[str, Any]],
    names: list[str],
    segment_chunks: int,
    layout: dict[str, Any],
) -> tuple[Table, list[dict[str, Any]]]:
    """Rewrite the live rows of the named segments into new ones (in the docs folder's
    order, at most `segment_chunks` rows each, a document never split); return the catalog
    and segment records that follow."""
    chosen = set(names)
    loaded = {r["name"]: read_segment(index_dir, r) for r in records if r["name"] in chosen}
    # The segments' documents name the catalog entries to look up: a lookup is a bisection,
    # where listing the catalog's entries of these segments would read all of it.
    found = ((table.find(d.doc_id), s.name) for s in loaded.values() for d in s.documents)
    moving = sorted(
        (e for e, name in found if e is not None and e.segment == name),
        key=lambda e: e.doc_id.split("/"),
    )
    placed: list[IndexedDocument] = []
    written = []
    for group in groups(moving, lambda e: e.chunks, segment_chunks):
        record, entries = _write_group(index_dir, group, loaded, layout)
        written.append(record)
        placed += entries
    kept = [r for r in records if r["name"] not in chosen]
    return table.changed([e.doc_id for e in moving], placed), kept + written


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
