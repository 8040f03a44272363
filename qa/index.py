"""The on-disk index: verified generations behind an atomically switched pointer.

index/
  CURRENT                      name of the generation readers load (replaced with os.replace)
  .lock                        held by the one build that may write
  gen-000007/
    documents.jsonl            one Document per line, with its text (spans refer to it) and
                               its file's size and mtime, which `qa status` compares
    chunks.jsonl               one Chunk per line, in vector order
    vectors.faiss              FAISS inner-product index over unit vectors: exact, or an HNSW
                               graph past QA_ANN_MIN_CHUNKS (the manifest's "vectors" says)
    moments.npz                the vectors' count, sum and sum of outer products (search's
                               z-normalisation without scoring every chunk)
    lexical.npz                BM25 term counts per chunk (plain numpy arrays, no pickle)
    manifest.json              written last: model, settings, counts, sha256 of each file
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from . import vectors as vector_index
from .errors import CorruptIndex, IncompatibleIndex, IndexNotFound
from .lexical import TermCounts
from .storage import fsync_dir, replace_atomically, sha256_file, write_bytes_durably
from .types import Chunk, Document
from .vectors import Moments

if TYPE_CHECKING:
    import faiss

    from .embedding import Embedder

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
POINTER = "CURRENT"
MANIFEST = "manifest.json"
LEXICAL = "lexical.npz"
MOMENTS = "moments.npz"
_PREFIX = "gen-"
FLAT: dict[str, Any] = {"kind": "flat"}


@dataclass(frozen=True)
class IndexedDocument:
    """A document as stored in a generation, with the size and mtime its file had when read.

    `size` and `mtime_ns` are None in indexes written before they were recorded, and for
    files modified moments before the build (see build.py); status then hashes the file.
    """

    document: Document
    chunks: int
    indexed_at: str
    size: int | None = None
    mtime_ns: int | None = None


@dataclass(frozen=True)
class Catalog:
    """The manifest and documents table of one verified generation: what `qa status` reads."""

    generation: str
    manifest: dict[str, Any]
    documents: dict[str, IndexedDocument]


@dataclass(frozen=True)
class Index(Catalog):
    """One loaded, verified generation: its catalog, chunks, vectors and term counts."""

    chunks: list[Chunk]
    vectors: faiss.Index
    term_counts: TermCounts  # lexical statistics of the chunks, for BM25
    moments: Moments | None = None  # sums over the vectors; None in older generations

    @property
    def vector_layout(self) -> dict[str, Any]:
        """How the vectors are searched (qa/vectors.py); flat in indexes that predate it."""
        return self.manifest.get("vectors", FLAT)

    def all_vectors(self) -> np.ndarray:
        """The stored vectors, one row per chunk, in chunk order (a copy)."""
        return np.asarray(self.vectors.reconstruct_n(0, self.vectors.ntotal), dtype=np.float32)

    def vector_blocks(self, size: int) -> Iterator[np.ndarray]:
        """The stored vectors in blocks of `size` rows, in chunk order (one copied at a time)."""
        for start in range(0, self.vectors.ntotal, size):
            count = min(size, self.vectors.ntotal - start)
            yield np.asarray(self.vectors.reconstruct_n(start, count), dtype=np.float32)

    def check_model(self, embedder: Embedder) -> None:
        """Refuse to mix vectors of two models."""
        model = self.manifest["model"]
        if model["fingerprint"] != embedder.fingerprint or model["dim"] != embedder.dim:
            raise IncompatibleIndex(
                f"the index was built with model {model['id']!r} ({model['fingerprint']}), "
                f"but the configured model is {embedder.model_id!r} ({embedder.fingerprint}); "
                f"rebuild it with `qa build --full`"
            )


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


def load_index(index_dir: Path) -> Index:
    """Load the current generation, falling back to an older one that verifies."""
    return _load_verified(index_dir, _load_generation)


def load_catalog(index_dir: Path) -> Catalog:
    """The manifest and documents of the generation `load_index` would serve.

    Every file is checked against its manifest hash as `load_index` does, so both pick the
    same generation; chunks, vectors and term counts are hashed but not parsed, and faiss
    is not imported.
    """
    return _load_verified(index_dir, _load_catalog)


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
    documents: list[IndexedDocument],
    chunks: list[Chunk],
    vectors: np.ndarray,
    term_counts: TermCounts,
    moments: Moments,
    header: dict[str, Any],
) -> str:
    """Write a new generation, switch the pointer to it, prune old ones; return its name."""
    import faiss

    if not (len(chunks) == len(vectors) == len(term_counts.lengths) == moments.count):
        raise ValueError("chunks, vectors, term counts and moments disagree in number")

    previous = current_generation(index_dir)
    existing = _generations(index_dir)
    name = f"{_PREFIX}{int(existing[-1][len(_PREFIX) :]) + 1 if existing else 1:06d}"
    folder = index_dir / name
    folder.mkdir()
    searchable = vector_index.build(vectors, header.get("vectors", FLAT))
    files = {
        "documents.jsonl": _jsonl([_document_row(d) for d in documents]),
        # vars, not asdict: a chunk holds no nested dataclass, and asdict's deep copy cost
        # 40 µs a chunk (a third of the time of adding one document to 7,600 chunks).
        "chunks.jsonl": _jsonl([vars(c) for c in chunks]),
        "vectors.faiss": faiss.serialize_index(searchable).tobytes(),
        LEXICAL: term_counts.to_bytes(),
        MOMENTS: moments.to_bytes(),
    }
    hashes = {fname: write_bytes_durably(folder / fname, data) for fname, data in files.items()}
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "created_at": utc_now(),
        **header,
        "counts": {"documents": len(documents), "chunks": len(chunks)},
        "files": hashes,
    }
    write_bytes_durably(folder / MANIFEST, json.dumps(manifest, indent=2).encode())
    fsync_dir(folder)
    replace_atomically(index_dir / POINTER, name.encode())
    _prune(index_dir, keep={name, previous})
    return name


def _load_catalog(folder: Path) -> Catalog:
    """Verify every file of a generation against its manifest; read the manifest and documents."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        for fname, expected in manifest["files"].items():
            if sha256_file(folder / fname) != expected:
                raise CorruptIndex(f"{folder.name}/{fname} does not match its manifest hash")
        if manifest["schema_version"] != SCHEMA_VERSION:
            raise CorruptIndex(f"{folder.name} has schema {manifest['schema_version']}")
        documents = [_document_from_row(r) for r in _read_jsonl(folder / "documents.jsonl")]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptIndex(f"{folder.name} cannot be read: {exc}") from None
    return Catalog(folder.name, manifest, {d.document.doc_id: d for d in documents})


def _load_generation(folder: Path) -> Index:
    import faiss

    catalog = _load_catalog(folder)
    try:
        chunks = [Chunk(**row) for row in _read_jsonl(folder / "chunks.jsonl")]
        term_counts = _load_term_counts(folder, catalog.manifest, chunks)
        moments = _load_moments(folder, catalog.manifest, chunks)
        # Memory-mapped, not copied: the pages are the file's, shared and evictable, and a
        # server loading the next generation does not hold two copies of the vectors.
        vectors = faiss.read_index(str(folder / "vectors.faiss"), faiss.IO_FLAG_MMAP_IFC)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise CorruptIndex(f"{folder.name} cannot be read: {exc}") from None
    if vectors.ntotal != len(chunks):
        raise CorruptIndex(f"{folder.name} has {vectors.ntotal} vectors for {len(chunks)} chunks")
    return Index(
        catalog.generation,
        catalog.manifest,
        catalog.documents,
        chunks,
        vectors,
        term_counts,
        moments,
    )


def _load_moments(folder: Path, manifest: dict[str, Any], chunks: list[Chunk]) -> Moments | None:
    """The stored vector moments (None in generations written before them); ValueError if
    they do not describe these chunks."""
    if MOMENTS not in manifest["files"]:
        return None
    moments = Moments.from_bytes((folder / MOMENTS).read_bytes())
    if moments.count != len(chunks):
        raise ValueError(f"{MOMENTS} sums {moments.count} vectors, not {len(chunks)}")
    return moments


def _load_term_counts(folder: Path, manifest: dict[str, Any], chunks: list[Chunk]) -> TermCounts:
    """The stored BM25 term counts; ValueError if they do not describe these chunks."""
    if LEXICAL not in manifest["files"]:
        # Generations written before lexical.npz existed: count now (about 0.1 s per 1,000 chunks).
        return TermCounts.from_texts([c.text for c in chunks])
    counts = TermCounts.from_bytes((folder / LEXICAL).read_bytes())
    if len(counts.lengths) != len(chunks):
        raise ValueError(f"{LEXICAL} counts {len(counts.lengths)} chunks, not {len(chunks)}")
    return counts


def _generations(index_dir: Path) -> list[str]:
    if not index_dir.is_dir():
        return []
    return sorted(p.name for p in index_dir.iterdir() if p.is_dir() and p.name.startswith(_PREFIX))


def _prune(index_dir: Path, keep: set[str | None]) -> None:
    """Delete generations other than the new and the previous one (and crashed leftovers)."""
    for name in _generations(index_dir):
        if name not in keep:
            shutil.rmtree(index_dir / name, ignore_errors=True)


def _document_row(entry: IndexedDocument) -> dict[str, Any]:
    row = {**asdict(entry.document), "chunks": entry.chunks, "indexed_at": entry.indexed_at}
    if entry.size is not None and entry.mtime_ns is not None:
        row |= {"size": entry.size, "mtime_ns": entry.mtime_ns}
    return row


def _document_from_row(row: dict[str, Any]) -> IndexedDocument:
    chunks, indexed_at = row.pop("chunks"), row.pop("indexed_at")
    # Rows written before files' sizes and mtimes were recorded have neither.
    size, mtime_ns = row.pop("size", None), row.pop("mtime_ns", None)
    return IndexedDocument(Document(**row), chunks, indexed_at, size, mtime_ns)


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def utc_now() -> str:
    """The current time as an ISO 8601 string, for manifests and documents."""
    return datetime.now(UTC).isoformat(timespec="seconds")
