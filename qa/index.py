"""The on-disk index: verified generations, each a manifest over shared immutable segments
and catalog parts, behind an atomically switched pointer.

index/
  CURRENT                  name of the generation readers load (replaced with os.replace)
  .lock                    held by the one build that may write
  segments/seg-000004/     documents, chunks, vectors and term counts (qa/segments.py)
  catalog/part-000009/     catalog entries (qa/catalog.py): per document, where its rows are
                           (segment, first row, count), its file's size and mtime (`qa status`
                           compares them)
  gen-000007/
    dead.npz               the catalog entries of each part that are dead in this generation
    moments.npz            the live vectors' count, sum and sum of outer products (search's
                           z-normalisation without scoring every chunk), kept by the delta
    manifest.json          written last: model, settings, counts, the segments and catalog
                           parts it reads (with each file's sha256), the live rows of each
                           segment, and the sha256 of its own files

A segment's rows that no live catalog entry points at are dead: a document removed or
replaced since the segment was written (tombstones). Search skips them; merges drop them.
A build writes its new segments and catalog part, then a generation: what it costs depends
on what changed, not on the size of the index.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from . import catalog as catalog_parts
from . import segments as segment_files
from .catalog import IndexedDocument, Table, legacy_entries
from .errors import CorruptIndex, IncompatibleIndex, IndexNotFound
from .segments import Segment, read_segment
from .storage import (
    check_files,
    folders,
    fsync_dir,
    numbered,
    numbered_name,
    replace_atomically,
    sha256_file,
    write_bytes_durably,
)
from .types import Chunk, Document
from .vectors import Moments
from .vectors import search as search_vectors

if TYPE_CHECKING:
    from .embedding import Embedder

log = logging.getLogger(__name__)

# 1: one folder of files per generation, rewritten by every build; 2: one catalog per
# generation, rewritten by every build (read, and written as a part by the next build).
SCHEMA_VERSION = 3
_READABLE = (2, 3)
POINTER = "CURRENT"
MANIFEST = "manifest.json"
DEAD = "dead.npz"
MOMENTS = "moments.npz"
_LEGACY_CATALOG = "catalog.npz"  # format 2's
# The folders of files generations share, and the manifest key that lists those it reads.
_SHARED = ((segment_files.FOLDER, "segments"), (catalog_parts.FOLDER, "catalog"))
_PREFIX = "gen-"


@dataclass(frozen=True, eq=False)
class Catalog:
    """The manifest and catalog of one verified generation: what `qa status` and builds read."""

    generation: str
    manifest: dict[str, Any]
    table: Table  # the catalog's entries

    @cached_property
    def entries(self) -> dict[str, IndexedDocument]:
        """Every entry by doc_id, in the docs folder's order."""
        ordered = sorted(self.table.entries(), key=lambda e: e.doc_id.split("/"))
        return {e.doc_id: e for e in ordered}

    @property
    def segment_records(self) -> list[dict[str, Any]]:
        """The manifest's record of each segment: name, rows, live rows, layout, hashes."""
        return list(self.manifest["segments"])

    def check_model(self, embedder: Embedder) -> None:
        """Refuse to mix vectors of two models."""
        model = self.manifest["model"]
        if model["fingerprint"] != embedder.fingerprint or model["dim"] != embedder.dim:
            raise IncompatibleIndex(
                f"the index was built with model {model['id']!r} ({model['fingerprint']}), "
                f"but the configured model is {embedder.model_id!r} ({embedder.fingerprint}); "
                f"rebuild it with `qa build --full`"
            )


@dataclass(frozen=True, eq=False)
class Index(Catalog):
    """One loaded, verified generation: its catalog, segments and vector moments.

    Rows are numbered across segments in manifest order; `chunks` holds every row, dead
    ones included, so that a row number names its chunk everywhere."""

    segments: list[Segment]
    moments: Moments  # over the live vectors
    documents: dict[str, Document]  # the live documents, with their text
    chunks: list[Chunk]
    alive: np.ndarray  # bool per row: False for the rows of removed or replaced documents

    @cached_property
    def offsets(self) -> np.ndarray:
        """The first row of each segment, and the row count last."""
        return np.cumsum([0, *(len(s.chunks) for s in self.segments)])

    @property
    def size(self) -> int:
        """How many rows are live: the chunks search can return."""
        return self.moments.count

    def live_rows(self) -> np.ndarray:
        """The live rows, document by document in the catalog's (the docs folder's) order:
        the rows a full build would write, in its order."""
        first = {s.name: int(o) for s, o in zip(self.segments, self.offsets, strict=False)}
        ranges = [
            np.arange(first[e.segment] + e.row, first[e.segment] + e.row + e.chunks)
            for e in self.entries.values()
        ]
        return np.concatenate([np.empty(0, dtype=np.int64), *ranges])

    def search_vectors(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k live rows with the highest cosine to `query`: (cosines, rows), best first;
        equal cosines keep row order."""
        scores, rows = [], []
        for segment, record, offset in zip(
            self.segments, self.segment_records, self.offsets, strict=False
        ):
            dead = record["rows"] - record["live"]
            # Asking for `dead` more leaves k live ones however many of the best are dead.
            got, ids = search_vectors(
                segment.vectors, record["vectors"], query, min(k + dead, record["rows"])
            )
            rows.append(ids + offset)
            scores.append(got)
        all_rows, all_scores = np.concatenate(rows), np.concatenate(scores)
        live = self.alive[all_rows]
        all_rows, all_scores = all_rows[live], all_scores[live]
        order = np.lexsort((all_rows, -all_scores))[:k]
        return all_scores[order], all_rows[order]

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of the given rows, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.moments.total.shape[0]), dtype=np.float32)
        owner = np.searchsorted(self.offsets, rows, side="right") - 1
        for s in np.unique(owner).tolist():
            mine = np.flatnonzero(owner == s)
            local = rows[mine] - self.offsets[s]
            out[mine] = self.segments[s].vectors.reconstruct_batch(local)
        return out

    def all_vectors(self) -> np.ndarray:
        """Every row's vector, dead rows included, in row order (a copy)."""
        dim = self.moments.total.shape[0]
        return np.concatenate(
            [np.empty((0, dim), dtype=np.float32)]
            + [s.vectors.reconstruct_n(0, s.vectors.ntotal) for s in self.segments]
        ).astype(np.float32)


def model_record(embedder: Embedder) -> dict[str, Any]:
    """How a manifest names the model its vectors come from."""
    return {
        "id": embedder.model_id,
        "fingerprint": embedder.fingerprint,
        "dim": embedder.dim,
        "max_tokens": embedder.max_tokens,
    }


def current_generation(index_dir: Path) -> str | None:
    """The generation the pointer names, or None when no index was ever built."""
    try:
        return (index_dir / POINTER).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def load_index(index_dir: Path, previous: Index | None = None) -> Index:
    """Load the current generation, falling back to an older one that verifies.

    Segments `previous` (a generation loaded before) already holds are taken from it, not
    read and hashed again: they are immutable, so a server reloading after an update reads
    only the new segments and holds one copy of the rest."""
    held = {s.name: s for s in previous.segments} if previous else {}
    return _load_verified(index_dir, lambda folder: _load_generation(folder, held))


def load_catalog(index_dir: Path, hash_segments: bool = True) -> Catalog:
    """The manifest and catalog of the generation `load_index` would serve.

    Every file is checked against its hash as `load_index` does, so both pick the same
    generation; segments are hashed but not parsed, and faiss is not imported. Builds pass
    hash_segments=False and check only that the segments and catalog parts are there: an
    update then costs what changed, not a read of the corpus (a file damaged in place is
    found by the next `load_index`, and by the merge that reads it).
    """
    return _load_verified(
        index_dir, lambda folder: _load_catalog(folder, hash_segments, hash_segments)
    )


_Loaded = TypeVar("_Loaded", bound=Catalog)


def _load_verified(index_dir: Path, load: Callable[[Path], _Loaded]) -> _Loaded:
    """`load` of the current generation, or of the newest older one that verifies."""
    current = current_generation(index_dir)
    if current is None:
        raise IndexNotFound(f"no index in {index_dir}; build it with `qa build`")
    candidates = [current] + [g for g in _generations(index_dir)[::-1] if g < current]
    problems = []
    for name in candidates:
        try:
            index = load(index_dir / name)
        except CorruptIndex as exc:
            problems.append(str(exc))
            continue
        if name != current:
            log.warning("index generation %s is damaged; serving %s instead", current, name)
        return index
    raise CorruptIndex(
        f"no generation of the index in {index_dir} verifies ({'; '.join(problems)}); "
        f"rebuild it with `qa build --full`"
    )


def write_generation(
    index_dir: Path,
    table: Table,
    segments: list[dict[str, Any]],
    moments: Moments,
    header: dict[str, Any],
) -> str:
    """Write a new generation with this catalog (its pending entries as a new part) over
    `segments` (their manifest records), switch the pointer to it, prune what no kept
    generation reads; return its name."""
    if table.rows.keys() - {r["name"] for r in segments}:
        raise ValueError("the catalog points at segments the generation does not list")
    if table.chunks != moments.count:
        raise ValueError("the catalog and the vector moments disagree in number")
    table = table.written(index_dir)
    previous = current_generation(index_dir)
    folder = index_dir / numbered_name(index_dir, _PREFIX)
    folder.mkdir()
    files = {DEAD: table.dead_bytes(), MOMENTS: moments.to_bytes()}
    hashes = {fname: write_bytes_durably(folder / fname, data) for fname, data in files.items()}
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "created_at": utc_now(),
        **header,
        "counts": table.counts(),
        # A segment whose rows are all dead is read no more.
        "segments": [
            {**r, "live": table.rows[r["name"]]} for r in segments if r["name"] in table.rows
        ],
        "catalog": [part.record for part in table.parts],
        "files": hashes,
    }
    # Compact: json's C encoder writes it; with indent it is Python's, 10 times slower (2.5 ms
    # a build for 27 segments' records).
    write_bytes_durably(folder / MANIFEST, json.dumps(manifest).encode())
    fsync_dir(folder)
    replace_atomically(index_dir / POINTER, folder.name.encode())
    _prune(index_dir, keep={folder.name, previous})
    return folder.name


def load_moments(index_dir: Path, catalog: Catalog) -> Moments:
    """The generation's vector moments (its hash was checked with the catalog)."""
    try:
        return Moments.from_bytes((index_dir / catalog.generation / MOMENTS).read_bytes())
    except (OSError, ValueError) as exc:
        raise CorruptIndex(f"{catalog.generation} cannot be read: {exc}") from None


def _load_catalog(folder: Path, hash_segments: bool, hash_parts: bool) -> Catalog:
    """Verify a generation's files against its manifest (its segments' and catalog parts'
    too, or only that they are there); read the manifest and catalog."""
    index_dir = folder.parent
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if manifest["schema_version"] not in _READABLE:
            raise IncompatibleIndex(
                f"the index in {index_dir} was written by an older kotae (format "
                f"{manifest['schema_version']}); rebuild it with `qa build --full`"
            )
        for fname, expected in manifest["files"].items():
            if sha256_file(folder / fname) != expected:
                raise CorruptIndex(f"{folder.name}/{fname} does not match its manifest hash")
        for (kind, key), hashed in zip(_SHARED, (hash_segments, hash_parts), strict=True):
            for record in manifest.get(key, []):
                check_files(index_dir / kind / record["name"], record["files"], hashed)
        if manifest["schema_version"] == 2:
            table = Table.of(legacy_entries((folder / _LEGACY_CATALOG).read_bytes()))
        else:
            rows = {r["name"]: r["live"] for r in manifest["segments"]}
            dead = (folder / DEAD).read_bytes()
            table = Table.read(index_dir, manifest["catalog"], dead, manifest["counts"], rows)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptIndex(f"{folder.name} cannot be read: {exc}") from None
    return Catalog(folder.name, manifest, table)


def _load_generation(folder: Path, held: dict[str, Segment]) -> Index:
    catalog = _load_catalog(folder, hash_segments=False, hash_parts=True)  # read_segment hashes
    if catalog.manifest.get("store", "embedded") != "embedded":
        raise IncompatibleIndex(
            f"the index in {folder.parent} is kept in {catalog.manifest['store']}: set "
            f"QA_STORE={catalog.manifest['store']}, or rebuild it with `qa build --full`"
        )
    segments = [_held(held, r) or read_segment(folder.parent, r) for r in catalog.segment_records]
    moments = load_moments(folder.parent, catalog)
    position = {s.name: i for i, s in enumerate(segments)}
    starts = np.cumsum([0, *(len(s.chunks) for s in segments)])
    alive = np.zeros(int(starts[-1]), dtype=bool)
    documents = {}
    # A replaced document is in two segments: the catalog says which copy is live.
    copies = {(s.name, d.doc_id): d for s in segments for d in s.documents}
    try:
        for entry in catalog.entries.values():
            first = int(starts[position[entry.segment]]) + entry.row
            alive[first : first + entry.chunks] = True
            documents[entry.doc_id] = copies[entry.segment, entry.doc_id]
    except KeyError as exc:
        raise CorruptIndex(f"{folder.name}: its catalog names {exc}, not in its segments") from None
    if int(alive.sum()) != moments.count:
        raise CorruptIndex(f"{folder.name}: moments of {moments.count} vectors, not {alive.sum()}")
    chunks = [c for s in segments for c in s.chunks]
    return Index(
        catalog.generation,
        catalog.manifest,
        catalog.table,
        segments,
        moments,
        documents,
        chunks,
        alive,
    )


def _held(held: dict[str, Segment], record: dict[str, Any]) -> Segment | None:
    """The loaded segment the record describes, if it is held (a name alone is not enough:
    a pruned segment's name can be given again)."""
    segment = held.get(record["name"])
    return segment if segment is not None and segment.files == record["files"] else None


def _generations(index_dir: Path) -> list[str]:
    return numbered(index_dir, _PREFIX)


def _prune(index_dir: Path, keep: set[str | None]) -> None:
    """Delete generations other than the new and the previous one (and crashed leftovers),
    then the segments and catalog parts no kept generation reads."""
    for name in _generations(index_dir):
        if name not in keep:
            shutil.rmtree(index_dir / name, ignore_errors=True)
    read: set[tuple[str, str]] = set()
    for name in keep - {None}:
        try:
            manifest = json.loads((index_dir / str(name) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # unsure what it reads: delete nothing it may need
        for kind, key in _SHARED:
            read |= {(kind, record["name"]) for record in manifest.get(key, [])}
    for kind, _ in _SHARED:
        for name in folders(index_dir / kind):
            if (kind, name) not in read:
                shutil.rmtree(index_dir / kind / name, ignore_errors=True)


def utc_now() -> str:
    """The current time as an ISO 8601 string, for manifests and documents."""
    return datetime.now(UTC).isoformat(timespec="seconds")
