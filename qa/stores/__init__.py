"""Where chunks, their vectors and lexical weights live, behind what search asks of them.

Two stores: `embedded` (the default: segments on local disk, FAISS and bigram BM25, see
qa/index.py) and `qdrant` (a Qdrant collection, for an index that outgrows one machine),
chosen by `Settings.store` (QA_STORE). Search (qa/search.py) fuses the two legs of a store
without knowing which it is: each leg gives its best candidates, the score of any candidate,
and its mean and spread over every live chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..vectors import Spread

if TYPE_CHECKING:
    from ..catalog import IndexedDocument, Table
    from ..config import Settings
    from ..embedding import Embedder
    from ..index import Catalog
    from ..lexical import TermCounts
    from ..types import Chunk, Document


@dataclass(frozen=True, eq=False)  # arrays: compare fields explicitly
class Pool:
    """A leg's best candidates, best first, and the most any chunk outside them scores."""

    ids: np.ndarray  # int64 chunk ids
    scores: np.ndarray  # float64
    bound: float


class Leg(Protocol):
    """One way of scoring every live chunk for one query (dense or lexical)."""

    spread: Spread  # mean and standard deviation over every live chunk

    def top(self, m: int) -> Pool:
        """The m best live chunks (fewer if fewer can score above the rest)."""
        ...

    def of(self, ids: np.ndarray) -> np.ndarray:
        """The scores of these chunks, in that order."""
        ...


class LexicalLeg(Leg, Protocol):
    """The BM25 leg, which can also list every chunk above a score."""

    def above(self, score: float, limit: int) -> Pool | None:
        """Every live chunk scoring at least `score`, best first (bound: `score`); None when
        more than `limit` do, or when they cannot be listed (chunks without a query term)."""
        ...


class Store(Protocol):
    """A loaded, consistent view of the index: what `Searcher` and the answerer read."""

    generation: str  # the catalog generation it serves

    @property
    def size(self) -> int:
        """How many chunks are live."""
        ...

    @property
    def documents(self) -> Mapping[str, Document]:
        """The live documents, with their text, by doc_id."""
        ...

    def dense(self, query_vector: np.ndarray) -> Leg:
        """The cosine leg for this query vector."""
        ...

    def lexical(self, query: str) -> LexicalLeg:
        """The BM25 leg for this query."""
        ...

    def matchable_share(self, query: str) -> float:
        """The share of the query's idf mass that some live chunk holds (see `BM25`)."""
        ...

    def chunks(self, ids: np.ndarray) -> list[Chunk]:
        """The chunks with these ids, in that order."""
        ...

    def check_model(self, embedder: Embedder) -> None:
        """Refuse to search vectors of another model."""
        ...


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


class Writer(Protocol):
    """What a build writes to a store."""

    def write(
        self,
        documents: list[Document],
        chunks: list[Chunk],
        vectors: np.ndarray,
        counts: TermCounts,
    ) -> str:
        """Store new documents' chunks; return where (the catalog's segment name)."""
        ...

    def vectors(self, entries: list[IndexedDocument]) -> np.ndarray:
        """The stored vectors of these documents' chunks, in order."""
        ...

    def finish(self, table: Table, live: int, optimize: bool) -> tuple[Table, list[dict[str, Any]]]:
        """Tidy up before the generation is written (merges); the catalog and the records of
        what the generation reads."""
        ...

    def header(self) -> dict[str, Any]:
        """What the generation's manifest records of the store."""
        ...

    def retire(self, entries: list[IndexedDocument]) -> None:
        """After the generation switched: let go of these document versions."""
        ...


def open_writer(settings: Settings, dim: int, previous: Catalog | None, rows: int) -> Writer:
    """The writer of the store the settings name, continuing `previous` (None: afresh)."""
    if settings.store == "qdrant":
        from .qdrant_writer import QdrantWriter

        return QdrantWriter(settings, dim, previous)
    from .embedded import SegmentWriter

    return SegmentWriter(settings, previous, rows)


def open_store(settings: Settings, previous: Store | None = None) -> Store:
    """The store the settings name, at its current generation; parts of `previous` (a store
    opened before) that did not change are reused."""
    if settings.store == "qdrant":
        from .qdrant import QdrantStore

        return QdrantStore.open(settings)
    from ..index import load_index
    from .embedded import EmbeddedStore

    held = previous.index if isinstance(previous, EmbeddedStore) else None
    return EmbeddedStore(load_index(settings.index_dir, held))


def titles(settings: Settings, catalog: Catalog) -> dict[str, str]:
    """Each catalog document's title by doc_id (what `qa status` lists)."""
    if catalog.manifest.get("store") == "qdrant":
        from .qdrant import titles as qdrant_titles

        return qdrant_titles(settings, catalog)
    from ..segments import read_titles

    by_segment = {r["name"]: read_titles(settings.index_dir, r) for r in catalog.segment_records}
    # A replaced document is in two segments: its entry says which copy is live.
    return {e.doc_id: by_segment[e.segment][e.doc_id] for e in catalog.entries.values()}
