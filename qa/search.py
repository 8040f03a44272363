"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused after z-normalisation.

Why z-scores: cosines of e5 bunch up near 0.8 while BM25 is unbounded and mostly zero, so
each leg is put on the scale of its own spread over the chunks before the weighted sum.
On JSQuAD valid (JGLUE, CC BY-SA 4.0) the fusion beats either leg alone (see
`benchmarks/README.md`).

The lexical leg's weight is set per query: `lexical_weight` scaled by the share of the query's
idf mass that occurs in the index at all (`BM25.matchable_share`; see `query_weight`). A
Japanese question over Japanese text keeps nearly all of it. An English one keeps only the
share of its words that some passage happens to hold (numbers, names, a stray "the"), and
none when no word matches: then the dense leg, which carries cross-lingual questions, ranks
alone. With a fixed weight, the few chunks matching one stray Latin word stood far above the
rest in z-score and outranked the dense leg's choice (benchmarks/crosslingual_retrieval.py).
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
        fused = fuse(dense, lexical, self.query_weight(query, lexical_weight))
        return [self._hit(int(i), fused[i], dense[i], lexical[i]) for i in top_k(fused, k)]

    def query_weight(self, query: str, lexical_weight: float) -> float:
        """The lexical leg's weight for this query, what `fuse` is given: `lexical_weight`
        scaled in odds by the share s of the query's idf mass the index holds
        (`BM25.matchable_share`), w·s / (w·s + 1 − w): w for a query whose terms all occur,
        0 when none does (dense alone ranks), and 1 stays "terms alone" whatever s is.

        Example: w 0.3, s 0.5 -> 0.176; w 1.0, s 0.5 -> 1.0
        """
        # The odds form ties the plain product w·s on the tuning rows (JSQuAD tuning half
        # R@1 0.913 vs 0.912, English JaQuAD 0.610 vs 0.613; crosslingual_retrieval.py --sweep)
        # and keeps the meaning of lexical_weight = 1, which the product would not.
        weighted = lexical_weight * self.lexical.matchable_share(query)
        rest = 1.0 - lexical_weight
        return weighted / (weighted + rest) if weighted + rest > 0 else 0.0

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
    """lexical_weight · z(lexical) + (1 − lexical_weight) · z(dense), for one query.

    `Searcher.search` passes the query's own weight (`Searcher.query_weight`); 0 ranks by
    dense alone. Example: dense [0.9, 0.8], lexical [0, 2] -> weight 0.3: [0.4, -0.4];
    weight 0.6: [-0.2, 0.2]; weight 0 (no query term in the index): [1.0, -1.0]
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
