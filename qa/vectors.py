"""How the chunk vectors are searched: exactly (a flat inner-product index) up to a size, by
an HNSW graph above it, where scanning every vector for each question costs too much.

The layout is recorded in the manifest ("vectors"), so a reader of a generation knows what
it loads and with which parameters it searches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import faiss

# HNSW parameters: 32 neighbours per node, and a search beam of 128 (or the number of results
# asked for, if more): recall@10 against exact search in benchmarks/bench_ann.py.
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 128
HNSW_EF_SEARCH = 128


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
