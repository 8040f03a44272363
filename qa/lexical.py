"""BM25 over the lexical terms of `text.terms` (character bigrams for CJK, words otherwise)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from .text import terms


class BM25:
    """Okapi BM25 with Lucene's idf; term weights are precomputed so a query is a few adds."""

    def __init__(self, texts: list[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.size = len(texts)
        counts = [Counter(terms(t)) for t in texts]
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float32)
        average = float(lengths.mean()) if self.size and lengths.mean() > 0 else 1.0
        norm = k1 * (1 - b + b * lengths / average)
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for doc, counter in enumerate(counts):
            for term, tf in counter.items():
                docs, weights = postings.setdefault(term, ([], []))
                docs.append(doc)
                weights.append(tf * (k1 + 1) / (tf + norm[doc]))
        self._postings = {
            term: (
                np.array(docs, dtype=np.int64),
                np.array(w, dtype=np.float32) * self.idf_of(len(docs)),
            )
            for term, (docs, w) in postings.items()
        }

    def idf_of(self, df: int) -> float:
        """Inverse document frequency of a term found in `df` documents."""
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term (a term seen nowhere gets the highest)."""
        posting = self._postings.get(term)
        return self.idf_of(0 if posting is None else len(posting[0]))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for the query."""
        out = np.zeros(self.size, dtype=np.float32)
        for term, qtf in Counter(terms(query)).items():
            posting = self._postings.get(term)
            if posting is not None:
                np.add.at(out, posting[0], qtf * posting[1])
        return out
