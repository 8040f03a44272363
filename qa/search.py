"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused after z-normalisation.

Why z-scores: cosines of e5 bunch up near 0.8 while BM25 is unbounded and mostly zero, so
each leg is put on the scale of its own spread over the chunks before the weighted sum.
On JSQuAD valid (JGLUE, CC BY-SA 4.0) the fusion beats either leg alone (see
`benchmarks/README.md`).

Without scoring every chunk: each leg's mean and spread over all chunks come from the store
(qa/stores/) as corpus statistics (the dense leg's from the vectors' mean and second moment,
since the mean of q·v is q·mean(v) and its square's mean is qᵀ·mean(v vᵀ)·q; the lexical
leg's from its sparse scores), so only a pool of the best candidates of each leg is fused.
The pool grows until no chunk outside it can beat the k-th fused score (Fagin's threshold
algorithm): the result is the one fusing every chunk would give, at the cost of a top-M
search.

The lexical leg's weight is set per query: `lexical_weight` scaled by the share of the query's
idf mass that occurs in the index at all (`BM25.matchable_share`; see `query_weight`). A
Japanese question over Japanese text keeps nearly all of it. An English one keeps only the
share of its words that some passage happens to hold (numbers, names, a stray "the"), and
none when no word matches: then the dense leg, which carries cross-lingual questions, ranks
alone. With a fixed weight, the few chunks matching one stray Latin word stood far above the
rest in z-score and outranked the dense leg's choice (benchmarks/crosslingual_retrieval.py).

What the lexical leg searches for an English question also holds the Japanese headwords
JMdict gives for its words, those the index holds (`lexical_query`, qa/dictionary.py), so
its terms can match Japanese text after all.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .dictionary import Dictionary
from .stores import Leg, LexicalLeg, Pool, Store, top_k
from .types import Hit
from .vectors import Spread

POOL = 64  # candidates per leg to start with; grown while a chunk outside could still win
_DENSE = ThreadPoolExecutor(max_workers=8, thread_name_prefix="kotae-dense")


class Searcher:
    """Retrieval over one store (qa/stores/): the fusion is the same whichever holds the index."""

    def __init__(
        self, store: Store, dictionary: Dictionary | None = None, pool: int = POOL
    ) -> None:
        self.store = store
        self.dictionary = dictionary
        self.pool = pool

    def search(
        self, query: str, query_vector: np.ndarray, k: int, lexical_weight: float
    ) -> list[Hit]:
        """The k best chunks for a query, best first (ties keep chunk order): the same as
        `fuse` over every chunk, from pools of each leg's best."""
        n = self.store.size
        k = min(k, n)
        if k <= 0:
            return []
        dense = self.store.dense(query_vector)
        pool = max(self.pool, k)
        # FAISS (or a Qdrant request) runs without the GIL while BM25 scores the query.
        first = _DENSE.submit(dense.top, pool)
        terms = self.lexical_query(query)
        weight = self.query_weight(terms, lexical_weight)
        weights = (1 - weight, weight)
        lexical = self.store.lexical(terms)
        legs: tuple[Leg, Leg] = (dense, lexical)
        pools = [first.result(), lexical.top(pool)]
        while True:
            ids, scores, fused, best = self._fuse(legs, weights, pools, k)
            # Anything outside both pools scores at most what each pool's bound does.
            bound = sum(
                w * leg.spread.z(p.bound) for w, leg, p in zip(weights, legs, pools, strict=True)
            )
            if pool >= n or fused[best[-1]] > bound:
                break
            # A chunk outside the dense pool beats the k-th only with a lexical score above
            # the one that makes up the difference: take every such chunk, and the fusion is
            # exact without asking FAISS for more (it did, 4 times more, for 9 in 10 questions
            # at 1.27M chunks).
            wider = self._above(
                lexical, weight, fused[best[-1]] - weights[0] * dense.spread.z(pools[0].bound), pool
            )
            if wider is not None:
                pools[1] = wider
                ids, scores, fused, best = self._fuse(legs, weights, pools, k)
                break
            pool *= 4
            pools = [leg.top(pool) for leg in legs]
        chunks = self.store.chunks(ids[best])
        return [
            Hit(
                c.doc_id,
                c.chunk_id,
                c.start,
                c.end,
                c.text,
                float(fused[i]),
                float(scores[0][i]),
                float(scores[1][i]),
            )
            for c, i in zip(chunks, best, strict=True)
        ]

    @staticmethod
    def _fuse(
        legs: tuple[Leg, Leg], weights: tuple[float, float], pools: list[Pool], k: int
    ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]:
        """The pooled candidates (ascending: ties keep chunk order), each leg's scores of
        them, their fused scores and the positions of the k best."""
        ids = np.union1d(pools[0].ids, pools[1].ids)
        scores = [_scores_of(leg, p, ids) for leg, p in zip(legs, pools, strict=True)]
        fused = sum(w * leg.spread.z(x) for w, leg, x in zip(weights, legs, scores, strict=True))
        return ids, scores, fused, top_k(fused, k)

    @staticmethod
    def _above(lexical: LexicalLeg, weight: float, needed: float, pool: int) -> Pool | None:
        """Every chunk whose lexical leg adds at least `needed` to the fused score (up to
        16 pools' worth), or None."""
        if weight <= 0 or lexical.spread.std <= 0:
            return None
        score = lexical.spread.mean + lexical.spread.std * needed / weight
        return lexical.above(score, 16 * pool)

    def lexical_query(self, query: str) -> str:
        """What the lexical leg searches: an English question with the Japanese headwords of
        its words that the index holds (`Dictionary.lexical_query`), else the query."""
        if self.dictionary is None:
            return query
        return self.dictionary.lexical_query(query, self._holds)

    def _holds(self, text: str) -> bool:
        return self.store.matchable_share(text) >= 1.0

    def query_weight(self, query: str, lexical_weight: float) -> float:
        """The lexical leg's weight for this query, what `fuse` is given: `lexical_weight`
        scaled in odds by the square of the share s of the query's idf mass the index holds
        (`BM25.matchable_share`), w·s² / (w·s² + 1 − w): w for a query whose terms all occur,
        0 when none does (dense alone ranks), and 1 stays "terms alone" whatever s is.

        Example: w 0.3, s 0.5 -> 0.097; w 1.0, s 0.5 -> 1.0
        """
        # The odds form keeps the meaning of lexical_weight = 1, which a plain product would
        # not, and ties it on the tuning rows. The square, chosen on the tuning rows of
        # crosslingual_retrieval.py --sweep (question-weighted R@1 over its four sets, best at
        # s² among s, s², s³, s⁴): an English question over Japanese text shares a few Latin
        # words and numbers with it, and at s their BM25 scores outranked the dense leg
        # (300 English JSQuAD tuning questions: R@1 0.503 at s, 0.567 at s², 0.580 dense
        # alone), while Japanese questions, whose terms nearly all occur, hardly change
        # (JSQuAD tuning half R@1 0.913 at s, 0.912 at s²).
        weighted = lexical_weight * self.store.matchable_share(query) ** 2
        rest = 1.0 - lexical_weight
        return weighted / (weighted + rest) if weighted + rest > 0 else 0.0


def _scores_of(leg: Leg, pool: Pool, ids: np.ndarray) -> np.ndarray:
    """The leg's scores of `ids` (sorted): its pool's own, the rest asked of the leg."""
    out = np.empty(len(ids), dtype=np.float64)
    at = np.searchsorted(ids, pool.ids)
    out[at] = pool.scores
    known = np.zeros(len(ids), dtype=bool)
    known[at] = True
    if not known.all():
        out[~known] = leg.of(ids[~known])
    return out


def fuse(dense: np.ndarray, lexical: np.ndarray, lexical_weight: float) -> np.ndarray:
    """lexical_weight · z(lexical) + (1 − lexical_weight) · z(dense), for one query.

    `Searcher.search` passes the query's own weight (`Searcher.query_weight`); 0 ranks by
    dense alone. Example: dense [0.9, 0.8], lexical [0, 2] -> weight 0.3: [0.4, -0.4];
    weight 0.6: [-0.2, 0.2]; weight 0 (no query term in the index): [1.0, -1.0]
    """
    return lexical_weight * _z(lexical) + (1 - lexical_weight) * _z(dense)


def _z(scores: np.ndarray) -> np.ndarray:
    """z-scores; all zeros when every score is the same (e.g. a single chunk)."""
    return _spread(scores).z(scores)


def _spread(scores: np.ndarray) -> Spread:
    return Spread(float(scores.mean()), float(scores.std())) if len(scores) else Spread(0, 0)
