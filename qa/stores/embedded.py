"""The default store: an index generation's segments on local disk (qa/index.py), searched
with FAISS and with BM25 over their term counts. Chunk ids are row numbers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..catalog import IndexedDocument, Table
from ..index import Catalog, Index
from ..lexical import BM25, TermCounts
from ..merging import merge, to_merge
from ..segments import read_vectors, write_segment
from ..types import Chunk, Document
from ..vectors import Spread
from ..vectors import layout as vector_layout
from . import Pool, top_k

if TYPE_CHECKING:
    from ..config import Settings
    from ..embedding import Embedder


class EmbeddedStore:
    """One loaded index generation as a `Store`."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.generation = index.generation
        parts = [segment.term_counts for segment in index.segments]
        self.bm25 = BM25.from_counts(parts, index.alive)

    @property
    def size(self) -> int:
        return self.index.size

    @property
    def documents(self) -> Mapping[str, Document]:
        return self.index.documents

    def dense(self, query_vector: np.ndarray) -> DenseLeg:
        return DenseLeg(self.index, query_vector)

    def lexical(self, query: str) -> LexicalLeg:
        return LexicalLeg(self.bm25.scores(query), self.bm25.alive, self.index.size)

    def matchable_share(self, query: str) -> float:
        return self.bm25.matchable_share(query)

    def chunks(self, ids: np.ndarray) -> list[Chunk]:
        return [self.index.chunks[int(i)] for i in ids]

    def check_model(self, embedder: Embedder) -> None:
        self.index.check_model(embedder)

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine of the query with every row, dead ones included, in row order (for sweeps
        over `fuse`, which run on indexes built afresh)."""
        query = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        return self.index.all_vectors() @ query


class DenseLeg:
    """Cosines with the query: the best from FAISS, the spread from the vectors' moments."""

    def __init__(self, index: Index, query_vector: np.ndarray) -> None:
        self.index = index
        self.query = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        self.spread = index.moments.spread(self.query)

    def top(self, m: int) -> Pool:
        scores, ids = self.index.search_vectors(self.query, min(m, self.index.size))
        scores = scores.astype(np.float64)
        return Pool(ids, scores, float(scores[-1]) if len(scores) else -np.inf)

    def of(self, ids: np.ndarray) -> np.ndarray:
        return (self.index.vectors_of(ids) @ self.query).astype(np.float64)


class LexicalLeg:
    """BM25 scores of every row for the query (0 for dead rows, which are never candidates)."""

    def __init__(self, scores: np.ndarray, alive: np.ndarray | None, size: int) -> None:
        self.scores = scores
        self.alive = alive
        # The rows holding a query term (live ones: dead rows score 0), in row order, and
        # their scores: every pass after this one is over them, not over every row.
        self.matching = np.flatnonzero(scores > 0)
        self.matched = scores[self.matching]
        # Other rows score 0, so the sums over the matching rows are those over the live ones.
        n = max(size, 1)
        mean = float(self.matched.sum()) / n
        variance = float(self.matched @ self.matched) / n - mean * mean
        self.spread = Spread(mean, float(np.sqrt(variance)) if variance > 1e-12 else 0.0)
        self.size = size

    def top(self, m: int) -> Pool:
        """The m best live rows, as `top_k` over every live row orders them (ties, the zeros
        of rows without a query term included, in row order), from the matching rows alone."""
        m = min(m, self.size)
        ids = self.matching[top_k(self.matched, m)]
        if len(ids) < m:  # then rows without a query term, first come first
            zero = self.scores == 0 if self.alive is None else (self.scores == 0) & self.alive
            ids = np.concatenate([ids, np.flatnonzero(zero)[: m - len(ids)]])
        scores = self.scores[ids]
        return Pool(ids, scores, float(scores[-1]) if len(scores) else -np.inf)

    def above(self, score: float, limit: int) -> Pool | None:
        if score <= 0:  # every row without a query term would be in
            return None
        ids = self.matching[self.matched >= score]
        if len(ids) > limit:
            return None
        ids = ids[np.argsort(-self.scores[ids], kind="stable")]
        return Pool(ids, self.scores[ids], score)

    def of(self, ids: np.ndarray) -> np.ndarray:
        return self.scores[ids]


class SegmentWriter:
    """What a build writes for the embedded store: a segment per group of new chunks, and
    merges of small segments; removed rows die when the catalog stops pointing at them."""

    def __init__(self, settings: Settings, catalog: Catalog | None, rows: int) -> None:
        self.settings = settings
        self.records = catalog.segment_records if catalog else []
        self.rows = rows  # live rows before this build

    def write(
        self,
        documents: list[Document],
        chunks: list[Chunk],
        vectors: np.ndarray,
        counts: TermCounts,
    ) -> str:
        """Write the chunks as a new segment; return its name."""
        self.rows += len(chunks)
        # The layout the generation's size calls for once these rows are in.
        layout = vector_layout(self.rows, self.settings.ann_min_chunks)
        record = write_segment(self.settings.index_dir, documents, chunks, vectors, counts, layout)
        self.records.append(record)
        return str(record["name"])

    def vectors(self, entries: list[IndexedDocument]) -> np.ndarray:
        """The stored vectors of these catalog entries' rows (read from their segments)."""
        blocks = [np.empty((0, 0), dtype=np.float32)]
        by_segment: dict[str, list[IndexedDocument]] = {}
        for entry in entries:
            by_segment.setdefault(entry.segment, []).append(entry)
        for name, mine in by_segment.items():
            vectors = read_vectors(self.settings.index_dir, name)
            blocks += [vectors.reconstruct_n(e.row, e.chunks) for e in mine]
        return np.concatenate(blocks[1:]) if len(blocks) > 1 else blocks[0]

    def finish(self, table: Table, live: int, optimize: bool) -> tuple[Table, list[dict[str, Any]]]:
        """Merge segments as `merging.to_merge` says (all of them with `optimize`); return
        the catalog and the segment records the generation lists."""
        s = self.settings
        names = to_merge(self.records, table, s.segment_chunks, s.merge_factor, optimize)
        if not names:
            return table, self.records
        layout = vector_layout(live, s.ann_min_chunks)
        return merge(s.index_dir, table, self.records, names, s.segment_chunks, layout)

    def header(self) -> dict[str, Any]:
        return {"store": "embedded"}

    def retire(self, entries: list[IndexedDocument]) -> None:
        """Nothing to do: dead rows stay in their segments until a merge drops them."""
