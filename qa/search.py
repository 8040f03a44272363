"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused after z-normalisation.

Why z-scores: cosines of e5 bunch up near 0.8 while BM25 is unbounded and mostly zero, so
each leg is put on the scale of its own spread over the chunks before the weighted sum.
On JSQuAD valid (JGLUE, CC BY-SA 4.0) the fusion beats either leg alone (see
`benchmarks/README.md`).

Without scoring every chunk: each leg's mean and spread over all chunks come from corpus
statistics (the dense leg's from the vectors' mean and second moment, since the mean of q·v
is q·mean(v) and its square's mean is qᵀ·mean(v vᵀ)·q; the lexical leg's from its sparse
scores), so only a pool of the best candidates of each leg is fused. The pool grows until
no chunk outside it can beat the k-th fused score (Fagin's threshold algorithm): the result
is the one fusing every chunk would give, at the cost of a top-M search.

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
from .vectors import Spread

POOL = 64  # candidates per leg to start with; grown while a chunk outside could still win


class Searcher:
    """Retrieval over one loaded index generation."""

    def __init__(self, index: Index, pool: int = POOL) -> None:
        self.index = index
        self.pool = pool
        parts = [segment.term_counts for segment in index.segments]
        self.lexical = BM25.from_counts(parts, index.alive)

    def search(
        self, query: str, query_vector: np.ndarray, k: int, lexical_weight: float
    ) -> list[Hit]:
        """The k best chunks for a query, best first (ties keep chunk order): the same as
        `fuse` over every chunk, from pools of each leg's best."""
        n = self.index.size
        k = min(k, n)
        if k <= 0:
            return []
        weight = self.query_weight(query, lexical_weight)
        lexical = self.lexical.scores(query)
        alive = self.lexical.alive  # None when no row is dead
        spreads = (
            self.index.moments.spread(query_vector),
            _spread(lexical if alive is None else lexical[alive]),
        )
        # Dead rows are never candidates (their BM25 score is 0, which may rank).
        ranked = lexical if alive is None else np.where(alive, lexical, -np.inf)
        pool = max(self.pool, k)
        while True:
            dense_top, lexical_top, dense = self._pools(query_vector, ranked, pool)
            ids = np.union1d(dense_top, lexical_top)  # ascending: ties keep chunk order
            fused = self._fused(weight, spreads, dense, lexical, ids, query_vector)
            best = top_k(fused, k)
            # Anything outside both pools scores at most what each pool's last member does.
            bound = (1 - weight) * spreads[0].z(dense[dense_top[-1]]) + weight * spreads[1].z(
                lexical[lexical_top[-1]]
            )
            if pool >= n or fused[best[-1]] > bound:
                break
            pool *= 4
        return [
            self._hit(int(ids[i]), fused[i], dense.get(int(ids[i])), lexical[ids[i]]) for i in best
        ]

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

    def _pools(
        self, query_vector: np.ndarray, lexical: np.ndarray, pool: int
    ) -> tuple[np.ndarray, np.ndarray, dict[int, float]]:
        """Each leg's `pool` best live rows, and the cosines FAISS gave for its own."""
        pool = min(pool, self.index.size)
        scores, ids = self.index.search_vectors(query_vector, pool)
        dense = dict(zip(ids.tolist(), scores.tolist(), strict=True))
        return ids, top_k(lexical, pool), dense

    def _fused(
        self,
        weight: float,
        spreads: tuple[Spread, Spread],
        dense: dict[int, float],
        lexical: np.ndarray,
        ids: np.ndarray,
        query_vector: np.ndarray,
    ) -> np.ndarray:
        """The fused scores of the candidates `ids`; cosines FAISS did not return are computed
        from the stored vectors (and remembered in `dense`)."""
        missing = [int(i) for i in ids if int(i) not in dense]
        if missing:
            vectors = self.index.vectors_of(np.asarray(missing, dtype=np.int64))
            cosines = vectors @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
            dense.update(zip(missing, cosines.tolist(), strict=True))
        cosine = np.array([dense[int(i)] for i in ids])
        return (1 - weight) * spreads[0].z(cosine) + weight * spreads[1].z(lexical[ids])

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine of the query with every row, dead ones included, in row order (for sweeps
        over `fuse`, which run on indexes built afresh)."""
        query = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        return self.index.all_vectors() @ query

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
    return _spread(scores).z(scores)


def _spread(scores: np.ndarray) -> Spread:
    return Spread(float(scores.mean()), float(scores.std())) if len(scores) else Spread(0, 0)
