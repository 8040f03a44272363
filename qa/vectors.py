"""How the chunk vectors are searched: exactly (a flat inner-product index) up to a size, by
an HNSW graph above it, where scanning every vector for each question costs too much.

The layout is recorded in the manifest ("vectors"), so a reader of a generation knows what
it loads and with which parameters it searches.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import faiss

# HNSW parameters: 32 neighbours per node, and a search beam of 128 (or the number of results
# asked for, if more): recall@10 against exact search in benchmarks/bench_ann.py.
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 128
HNSW_EF_SEARCH = 128
BLOCK = 65_536  # vectors per step when summing moments (bounds the float64 copy)


def layout(count: int, ann_min_chunks: int) -> dict[str, Any]:
    """The layout for `count` vectors: flat below `ann_min_chunks`, else HNSW.

    Example: (1000, 200000) -> {"kind": "flat"}
    """
    if count < ann_min_chunks:
        return {"kind": "flat"}
    return {
        "kind": "hnsw",
        "neighbours": HNSW_NEIGHBOURS,
        "ef_construction": HNSW_EF_CONSTRUCTION,
        "ef_search": HNSW_EF_SEARCH,
    }


def build(vectors: np.ndarray, plan: dict[str, Any]) -> faiss.Index:
    """An inner-product FAISS index over unit `vectors` in the given layout."""
    import faiss

    dim = vectors.shape[1]
    if plan["kind"] == "hnsw":
        index = faiss.IndexHNSWFlat(dim, plan["neighbours"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = plan["ef_construction"]
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def search(
    index: faiss.Index, plan: dict[str, Any], query: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k best (scores, ids) for one query vector; HNSW's beam is widened to at least k."""
    import faiss

    query = np.asarray(query, dtype=np.float32).reshape(1, -1)
    if plan["kind"] == "hnsw":
        params = faiss.SearchParametersHNSW(efSearch=max(plan["ef_search"], k))
        scores, ids = index.search(query, k, params=params)
    else:
        scores, ids = index.search(query, k)
    keep = ids[0] >= 0  # HNSW may return fewer than k (-1 pads)
    return scores[0][keep], ids[0][keep].astype(np.int64)


@dataclass(frozen=True)
class Spread:
    """A score's mean and standard deviation over all chunks, for one query."""

    mean: float
    std: float

    def z(self, scores: np.ndarray) -> np.ndarray:
        """z-scores; all zeros when every chunk scored the same (e.g. a single chunk)."""
        if self.std <= 0:
            return np.zeros(np.shape(scores), dtype=np.float64)
        return (np.asarray(scores, dtype=np.float64) - self.mean) / self.std


@dataclass(frozen=True, eq=False)  # arrays: compare fields explicitly
class Moments:
    """Sums over the chunk vectors (count, Σv, Σvvᵀ): every query's cosine mean and spread
    over all chunks follow exactly, and adding or removing vectors only adds or subtracts."""

    count: int
    total: np.ndarray  # float64, (dim,)
    second: np.ndarray  # float64, (dim, dim)

    @classmethod
    def of(cls, blocks: Iterable[np.ndarray], dim: int) -> Moments:
        """The sums over vectors given in blocks of rows."""
        moments = cls(0, np.zeros(dim), np.zeros((dim, dim)))
        for block in blocks:
            moments = moments.plus(block)
        return moments

    def plus(self, vectors: np.ndarray, sign: int = 1) -> Moments:
        """These sums with `vectors` added (sign 1) or taken out (sign -1)."""
        count, total, second = self.count, self.total.copy(), self.second.copy()
        for start in range(0, len(vectors), BLOCK):
            wide = np.asarray(vectors[start : start + BLOCK], dtype=np.float64)
            count += sign * len(wide)
            total += sign * wide.sum(axis=0)
            second += sign * (wide.T @ wide)
        return Moments(count, total, second)

    def spread(self, query_vector: np.ndarray) -> Spread:
        """Mean and spread of the query's cosine with every chunk.

        Example: vectors [[1, 0], [0, 1]], query [1, 0] -> cosines [1, 0]: Spread(0.5, 0.5)
        """
        q = np.asarray(query_vector, dtype=np.float64).reshape(-1)
        n = max(self.count, 1)
        mean = float(q @ self.total) / n
        variance = float(q @ self.second @ q) / n - mean * mean
        # Rounding leaves a tiny variance where all cosines are equal: treat it as none.
        return Spread(mean, float(np.sqrt(variance)) if variance > 1e-12 else 0.0)

    def to_bytes(self) -> bytes:
        """The sums as an .npz archive of plain arrays (loadable with allow_pickle=False)."""
        buffer = io.BytesIO()
        np.savez(buffer, count=np.array([self.count]), total=self.total, second=self.second)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Moments:
        """Read sums written by `to_bytes`; ValueError if they are not consistent."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                count, total, second = int(npz["count"][0]), npz["total"], npz["second"]
        except (OSError, KeyError, IndexError, EOFError) as exc:
            raise ValueError(f"vector moments cannot be read: {exc}") from None
        if total.ndim != 1 or second.shape != (len(total), len(total)) or count < 0:
            raise ValueError("vector moments are inconsistent")
        return cls(count, total.astype(np.float64), second.astype(np.float64))
