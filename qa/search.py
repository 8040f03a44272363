"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused after z-normalisation.

Why z-scores: cosines of e5 bunch up near 0.8 while BM25 is unbounded and mostly zero, so
each leg is put on the scale of its own spread over the chunks before the weighted sum.
On JSQuAD valid (JGLUE, CC BY-SA 4.0) the fusion beats either leg alone (see
`benchmarks/README.md`); the dense leg is what carries cross-lingual questions.
"""

from __future__ import annotations

import numpy as np

from .index import Index
from .lexical import BM25
from .types import Hit


class Searcher:
    """Retrieval over one loaded index generation."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.lexical = BM25.from_counts(index.term_counts)

    def search(
        self, query: str, query_vector: np.ndarray, k: int, lexical_weight: float
    ) -> list[Hit]:
        """The k best chunks for a query, best first (ties keep chunk order)."""
        dense = self.dense_scores(query_vector)
        lexical = self.lexical.scores(query)
        fused = fuse(dense, lexical, lexical_weight)
        return [self._hit(int(i), fused[i], dense[i], lexical[i]) for i in top_k(fused, k)]

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine of the query with every chunk, in chunk order."""
        # Every chunk's cosine is needed for the z-normalisation, so ask FAISS for all of them.
        n = self.index.vectors.ntotal
        scores, ids = self.index.vectors.search(query_vector.reshape(1, -1), n)
        dense = np.empty(n, dtype=np.float32)
        dense[ids[0]] = scores[0]
        return dense

    def _hit(self, i: int, score: float, dense: float, lexical: float) -> Hit:
        c = self.index.chunks[i]
        return Hit(
            c.doc_id, c.chunk_id, c.start, c.end, c.text, float(score), float(dense), float(lexical)
        )


def fuse(dense: np.ndarray, lexical: np.ndarray, lexical_weight: float) -> np.ndarray:
    """lexical_weight · z(lexical) + (1 − lexical_weight) · z(dense).

    Example: dense [0.8, 0.9], lexical [0, 2], weight 0.3 -> [-1.0, 1.0]
    """
    return lexical_weight * _z(lexical) + (1 - lexical_weight) * _z(dense)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first; equal scores keep their order.

    Example: [0.1, 0.5, 0.5, 0.2], k=2 -> [1, 2]
    """
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    # Partition first: sorting every chunk would cost more than scoring it on a large index.
    threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
    candidates = np.flatnonzero(scores >= threshold)
    return candidates[np.argsort(-scores[candidates], kind="stable")][:k]


def _z(scores: np.ndarray) -> np.ndarray:
    """z-scores; all zeros when every score is the same (e.g. a single chunk)."""
    std = float(scores.std())
    return np.zeros_like(scores) if std == 0 else (scores - scores.mean()) / std
