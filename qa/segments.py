"""Segments: immutable folders of indexed documents, shared by the generations that list them.

index/segments/seg-000004/
    documents.jsonl   the segment's documents, with their text (spans refer to it)
    chunks.jsonl      their chunks in row order, each document's together
    vectors.faiss     FAISS inner-product index over the chunks' unit vectors: exact, or an
                      HNSW graph (qa/vectors.py; the generation's manifest records which)
    lexical.npz       BM25 term counts per chunk (qa/lexical.py; plain arrays, no pickle)
    titles.json       each document's title by doc_id (what `qa status` lists, without
                      reading the texts; segments written before it have none)

A segment is written once and never changed. Adding or changing documents writes a new one;
removing or replacing a document leaves its rows where they are, dead (a tombstone: the
generation's catalog no longer points at them), until a merge rewrites the segment without
them (qa/merging.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import vectors as vector_index
from .errors import CorruptIndex
from .lexical import TermCounts
from .storage import check_files, numbered_name, write_files
from .types import Chunk, Document

if TYPE_CHECKING:
    import faiss

FOLDER = "segments"  # under the index folder
_PREFIX = "seg-"
DOCUMENTS, CHUNKS = "documents.jsonl", "chunks.jsonl"
VECTORS, LEXICAL = "vectors.faiss", "lexical.npz"
TITLES = "titles.json"


@dataclass(frozen=True)
class Segment:
    """One loaded segment: every row it holds, live or dead."""

    name: str
    files: dict[str, str]  # the sha256 of each file, as the manifest records them
    documents: list[Document]
    chunks: list[Chunk]
    vectors: faiss.Index  # memory-mapped
    term_counts: TermCounts


def write_segment(
    index_dir: Path,
    documents: list[Document],
    chunks: list[Chunk],
    vectors: np.ndarray,
    term_counts: TermCounts,
    layout: dict[str, Any],
) -> dict[str, Any]:
    """Write a new segment (fsync'd); return its record for the manifest (name, rows,
    vector layout and the sha256 of each file)."""
    import faiss

    if not (len(chunks) == len(vectors) == len(term_counts.lengths)):
        raise ValueError("chunks, vectors and term counts disagree in number")
    folder = index_dir / FOLDER / numbered_name(index_dir / FOLDER, _PREFIX)
    files = {
        DOCUMENTS: _jsonl([vars(d) for d in documents]),
        # vars, not asdict: a chunk holds no nested dataclass, and asdict's deep copy cost
        # 40 µs a chunk (a third of the time of adding one document to 7,600 chunks).
        CHUNKS: _jsonl([vars(c) for c in chunks]),
        VECTORS: faiss.serialize_index(vector_index.build(vectors, layout)).tobytes(),
        LEXICAL: term_counts.to_bytes(),
        TITLES: json.dumps({d.doc_id: d.title for d in documents}, ensure_ascii=False).encode(),
    }
    hashes = write_files(folder, files)
    return {"name": folder.name, "rows": len(chunks), "vectors": layout, "files": hashes}


def read_segment(index_dir: Path, record: dict[str, Any]) -> Segment:
    """Load a segment after checking each file against its recorded hash; CorruptIndex if
    one does not match or cannot be read."""
    folder = index_dir / FOLDER / record["name"]
    check_files(folder, record["files"])
    try:
        documents = [
            Document(**{**row, "page_starts": tuple(row["page_starts"])})
            for row in _read_jsonl(folder / DOCUMENTS)
        ]
        chunks = [Chunk(**row) for row in _read_jsonl(folder / CHUNKS)]
        term_counts = TermCounts.from_bytes((folder / LEXICAL).read_bytes())
        vectors = read_vectors(index_dir, record["name"])
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise CorruptIndex(f"{FOLDER}/{folder.name} cannot be read: {exc}") from None
    if not (record["rows"] == len(chunks) == vectors.ntotal == len(term_counts.lengths)):
        raise CorruptIndex(f"{FOLDER}/{folder.name} does not hold {record['rows']} rows")
    return Segment(record["name"], record["files"], documents, chunks, vectors, term_counts)


def read_vectors(index_dir: Path, name: str) -> faiss.Index:
    """A segment's vectors, memory-mapped, not copied: the pages are the file's, shared and
    evictable, so a server loading the next generation does not hold two copies."""
    import faiss

    return faiss.read_index(str(index_dir / FOLDER / name / VECTORS), faiss.IO_FLAG_MMAP_IFC)


def read_titles(index_dir: Path, record: dict[str, Any]) -> dict[str, str]:
    """The titles of the segment's documents by doc_id (from its documents when it is older
    than titles.json); CorruptIndex if they cannot be read."""
    folder = index_dir / FOLDER / record["name"]
    try:
        if TITLES in record["files"]:
            titles = json.loads((folder / TITLES).read_text(encoding="utf-8"))
            if not isinstance(titles, dict):
                raise ValueError("not an object")
            return titles
        return {row["doc_id"]: row["title"] for row in _read_jsonl(folder / DOCUMENTS)}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptIndex(f"{FOLDER}/{folder.name} titles cannot be read: {exc}") from None


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
