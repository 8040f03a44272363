"""Writing to the Qdrant store (qa/stores/qdrant.py): points of new document versions, the
deletion of old ones, and a fresh collection for a full build."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from ..catalog import IndexedDocument, Table
from ..errors import CorruptIndex, IncompatibleIndex, IndexNotFound
from ..index import Catalog, load_catalog
from ..lexical import K1, B, TermCounts
from ..types import Chunk, Document
from .qdrant import BUCKETS, DENSE, NAME, SPARSE, chunk_id_of, client, reached, term_index

if TYPE_CHECKING:
    from ..config import Settings

_BATCH = 256  # points per upsert request


def served_collection(settings: Settings) -> str | None:
    """The collection the current generation serves, if it is kept in Qdrant."""
    try:
        manifest = load_catalog(settings.index_dir, hash_segments=False).manifest
    except (IndexNotFound, CorruptIndex, IncompatibleIndex):
        return None
    return manifest.get(NAME, {}).get("collection")


class QdrantWriter:
    """What a build writes to Qdrant: points of new document versions, then (after the
    generation switched) the deletion of the old ones. A full build fills a new collection
    and drops the old one once the new generation serves."""

    @reached
    def __init__(self, settings: Settings, dim: int, catalog: Catalog | None) -> None:
        from qdrant_client import models

        self.client = client(settings)
        self.served = served_collection(settings)
        reused = catalog.manifest.get(NAME, {}).get("collection") if catalog else None
        if reused and self.client.collection_exists(reused):
            self.collection = reused
        else:
            self.collection = f"{settings.qdrant_collection}-{secrets.token_hex(4)}"
            self.client.create_collection(
                self.collection,
                vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.DOT)},
                sparse_vectors_config={
                    SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
                shard_number=settings.qdrant_shards,
                replication_factor=settings.qdrant_replicas,
            )
            # Filters on these run on every update and search; local mode has no indexes.
            for field, kind in (
                ("doc_id", "keyword"),
                ("sha256", "keyword"),
                ("bucket", "integer"),
            ):
                if settings.qdrant_url:
                    self.client.create_payload_index(self.collection, field, kind)
        table = catalog.table if catalog is not None and reused else None
        self.terms = table.terms if table is not None else 0
        self.rows = table.chunks if table is not None else 0

    def header(self) -> dict[str, Any]:
        """What the manifest records of the store."""
        return {"store": NAME, NAME: {"collection": self.collection}}

    @reached
    def write(
        self,
        documents: list[Document],
        chunks: list[Chunk],
        vectors: np.ndarray,
        counts: TermCounts,
    ) -> str:
        """Upsert the documents' points and their chunks' (lengths normalised by the average
        over the collection with these chunks in)."""
        from qdrant_client import models

        self.terms += int(counts.lengths.sum())
        self.rows += len(chunks)
        sparse = _weights(counts, self.terms / max(self.rows, 1))
        points = [_document_point(doc) for doc in documents]
        by_id = {doc.doc_id: doc for doc in documents}
        numbers: Counter[str] = Counter()
        for chunk, vector, (indices, values) in zip(chunks, vectors, sparse, strict=True):
            doc = by_id[chunk.doc_id]
            point_id = chunk_id_of(doc.doc_id, doc.sha256, numbers[doc.doc_id])
            numbers[doc.doc_id] += 1
            points.append(
                models.PointStruct(
                    id=point_id,
                    vector={
                        DENSE: vector.astype(np.float32).tolist(),
                        SPARSE: models.SparseVector(indices=indices, values=values),
                    },
                    payload={
                        "doc_id": chunk.doc_id,
                        "sha256": doc.sha256,
                        "chunk_id": chunk.chunk_id,
                        "start": chunk.start,
                        "end": chunk.end,
                        "text": chunk.text,
                        "bucket": point_id % BUCKETS,
                    },
                )
            )
        for start in range(0, len(points), _BATCH):
            self.client.upsert(self.collection, points[start : start + _BATCH], wait=True)
        return NAME

    @reached
    def vectors(self, entries: list[IndexedDocument]) -> np.ndarray:
        """The stored vectors of these documents' chunks (for the moments' delta)."""
        ids = [chunk_id_of(e.doc_id, e.sha256, n) for e in entries for n in range(e.chunks)]
        points = self.client.retrieve(self.collection, ids, with_vectors=[DENSE]) if ids else []
        by_id = {int(p.id): p.vector[DENSE] for p in points}  # type: ignore[index]
        return np.array([by_id[i] for i in ids], dtype=np.float32)

    def finish(self, table: Table, live: int, optimize: bool) -> tuple[Table, list[dict[str, Any]]]:
        """The catalog as it is, and the record of the collection (Qdrant merges its own
        segments; `optimize` has nothing to add)."""
        record = {"name": NAME, "rows": live, "files": {}, "vectors": {"kind": NAME}}
        return table, [record]

    @reached
    def retire(self, entries: list[IndexedDocument]) -> None:
        """Delete the points of these document versions (replaced or removed ones), and the
        collection the previous generation served if this build filled a new one."""
        from qdrant_client import models

        if self.served and self.served != self.collection:
            self.client.delete_collection(self.served)
        for e in entries:
            version = models.Filter(
                must=[
                    models.FieldCondition(key="doc_id", match=models.MatchValue(value=e.doc_id)),
                    models.FieldCondition(key="sha256", match=models.MatchValue(value=e.sha256)),
                ]
            )
            self.client.delete(self.collection, models.FilterSelector(filter=version), wait=True)


def _weights(counts: TermCounts, average: float) -> list[tuple[list[int], list[float]]]:
    """Each text's sparse BM25 vector (term hash, weight), as the embedded store weighs."""
    norm = K1 * (1 - B + B * counts.lengths.astype(np.float32) / average)
    tf = counts.tf.astype(np.float32)
    weights = tf * (K1 + 1) / (tf + norm[counts.rows])
    hashes = np.array([term_index(t) for t in counts.vocabulary], dtype=np.int64)
    term_of = np.repeat(hashes, np.diff(counts.indptr))
    order = np.argsort(counts.rows, kind="stable")
    bounds = np.searchsorted(counts.rows[order], np.arange(len(counts.lengths) + 1))
    out = []
    for text in range(len(counts.lengths)):
        mine = order[bounds[text] : bounds[text + 1]]
        # Two terms of one text with the same hash (rare) share one index: their weights add.
        index, at = np.unique(term_of[mine], return_inverse=True)
        out.append((index.tolist(), np.bincount(at, weights[mine]).tolist()))
    return out


def _document_point(doc: Document) -> Any:
    from qdrant_client import models

    payload = {
        "doc_id": doc.doc_id,
        "sha256": doc.sha256,
        "title": doc.title,
        "text": doc.text,
        "page_starts": list(doc.page_starts),
    }
    return models.PointStruct(
        id=chunk_id_of(doc.doc_id, doc.sha256, -1), vector={}, payload=payload
    )
