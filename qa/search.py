"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused after z-normalisation."""

from __future__ import annotations

import numpy as np

from .index import Index
from .lexical import BM25
from .types import Hit


class Searcher:
    """Retrieval over one loaded index generation."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.lexical = BM25([c.text for c in index.chunks])

    def search(
        self, query: str, query_vector: np.ndarray, k: int, lexical_weight: float
    ) -> list[Hit]:
        """The k best chunks for a query, best first."""
        dense = self._dense_scores(query_vector)
        lexical = self.lexical.scores(query)
        fused = lexical_weight * _z(lexical) + (1 - lexical_weight) * _z(dense)
        best = np.argsort(-fused, kind="stable")[:k]
        return [self._hit(int(i), fused[i], dense[i], lexical[i]) for i in best]

    def _dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
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


def _z(scores: np.ndarray) -> np.ndarray:
    """z-scores; all zeros when every score is the same (e.g. a single chunk)."""
    std = float(scores.std())
    return np.zeros_like(scores) if std == 0 else (scores - scores.mean()) / std
