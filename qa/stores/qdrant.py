"""The Qdrant store: chunks, vectors and BM25 weights in a Qdrant collection, for an index that
outgrows one machine (QA_STORE=qdrant; QA_QDRANT_URL names the server, or is empty for
qdrant-client's local mode in the index folder, one process at a time).

Each chunk is a point with a dense vector ("dense", dot product: e5 vectors are unit) and a
sparse one ("bm25"): kotae's BM25 weight of each of its terms, tf·(k1+1)/(tf + k1·(1 − b +
b·len/avg)), at the term's hash. Qdrant's IDF modifier multiplies a query term's weight by
ln(1 + (N − df + 0.5)/(df + 0.5)), kotae's own idf, so a query whose sparse vector holds
each term's count scores what the embedded store's BM25 does. The average chunk length is the
one when a chunk was written: a collection grown over time drifts from it a little until
`qa build --full`. Each document is also a point without vectors, holding its text.

Writing (qa/stores/qdrant_writer.py): the index folder keeps what a build needs to know
cheaply, the catalog of documents (which, in which version) and the live vectors' moments,
in a generation as the embedded store's.
Points are written before the generation switches and the old version's deleted after, and
search keeps only points of the catalog's versions: a crash leaves the previous generation
serving, and a reader never sees a half-applied build.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ..errors import IncompatibleIndex, IndexNotFound, StoreUnavailable
from ..index import Catalog, load_catalog, load_moments
from ..text import terms
from ..types import Chunk, Document
from ..vectors import Moments, Spread
from . import Pool

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from ..config import Settings
    from ..embedding import Embedder

NAME = "qdrant"  # the catalog's segment name for every document in the store
DENSE, SPARSE = "dense", "bm25"
BUCKETS = 1024  # points are spread over buckets by id; the lexical spread samples some
# About this many points estimate a query's BM25 mean and spread (every point, below). On a
# 127k-chunk index (benchmarks/spread_sampling.py, 200 JaQuAD train questions) 4,096 erred by
# 2.4% of σ and kept the exact top 1 for 98.5% of questions; 16,384: 1.2% and 99.5%.
SAMPLE = 16_384
_BATCH = 256  # points per retrieve request
_clients: dict[str, QdrantClient] = {}
_clients_lock = threading.Lock()
Result = TypeVar("Result")


def reached(method: Callable[..., Result]) -> Callable[..., Result]:
    """The method, with Qdrant's failures (unreachable, refused, timed out) as
    StoreUnavailable: a message for the user, not a traceback."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Result:
        from qdrant_client.http.exceptions import ApiException

        try:
            return method(*args, **kwargs)
        except ApiException as exc:
            raise StoreUnavailable(f"Qdrant did not answer: {exc}") from None

    return wrapper


def client(settings: Settings) -> QdrantClient:
    """One client per location for the process (local mode allows no second one)."""
    try:
        from qdrant_client import QdrantClient
    except ImportError:
        raise StoreUnavailable(
            "QA_STORE=qdrant needs qdrant-client: pip install 'kotae[qdrant]'"
        ) from None

    location = settings.qdrant_url or str(settings.index_dir / "qdrant")
    with _clients_lock:
        if location not in _clients:
            if settings.qdrant_url:
                key = settings.qdrant_api_key
                _clients[location] = QdrantClient(
                    url=settings.qdrant_url,
                    api_key=key.get_secret_value() if key else None,
                    timeout=int(settings.qdrant_timeout),
                    check_compatibility=False,  # a version request before any work: noise
                )
            else:
                Path(location).mkdir(parents=True, exist_ok=True)
                try:
                    _clients[location] = QdrantClient(path=location)
                except RuntimeError as exc:  # the folder is locked by another process
                    raise StoreUnavailable(
                        f"{exc}; Qdrant's local mode serves one process at a time: run a "
                        "Qdrant server and set QA_QDRANT_URL"
                    ) from None
                # Closed before the interpreter tears down the modules its close needs.
                atexit.register(_clients[location].close)
        return _clients[location]


@reached
def titles(settings: Settings, catalog: Catalog) -> dict[str, str]:
    """The catalog's documents' titles, from their points in the collection."""
    ids = [chunk_id_of(e.doc_id, e.sha256, -1) for e in catalog.table.entries()]
    collection = catalog.manifest[NAME]["collection"]
    out = {}
    for start in range(0, len(ids), _BATCH):
        points = client(settings).retrieve(
            collection, ids[start : start + _BATCH], with_payload=["doc_id", "title"]
        )
        out.update({p.payload["doc_id"]: p.payload["title"] for p in points if p.payload})
    return out


def chunk_id_of(doc_id: str, sha256: str, n: int) -> int:
    """The point id of a document version's n-th chunk (n = -1: the document's own point)."""
    digest = hashlib.blake2b(f"{doc_id}\0{sha256}\0{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1  # Qdrant ids are unsigned 64-bit


def term_index(term: str) -> int:
    """A term's sparse index: 32 bits of its hash (collisions merge two rare terms' counts)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little")


def query_vector(query: str) -> tuple[list[int], list[float]]:
    """The query's sparse vector: each term's count at its index."""
    counts: Counter[int] = Counter(term_index(t) for t in terms(query))
    return list(counts), [float(c) for c in counts.values()]


class QdrantStore:
    """A collection as a `Store`, at the generation of the index folder's catalog."""

    def __init__(self, catalog: Catalog, settings: Settings, moments: Moments) -> None:
        self.catalog = catalog
        self.generation = catalog.generation
        self.client = client(settings)
        self.collection = catalog.manifest[NAME]["collection"]
        self.moments = moments
        self.versions = {e.doc_id: e.sha256 for e in catalog.table.entries()}
        self._documents = Documents(self)
        self._sampled: dict[int, int] = {}  # points in the first buckets, by bucket count

    @classmethod
    @reached
    def open(cls, settings: Settings) -> QdrantStore:
        catalog = load_catalog(settings.index_dir)
        if catalog.manifest.get("store") != NAME:
            raise IncompatibleIndex(
                f"the index in {settings.index_dir} is not kept in Qdrant; "
                "build it with QA_STORE=qdrant `qa build --full`"
            )
        store = cls(catalog, settings, load_moments(settings.index_dir, catalog))
        if not store.client.collection_exists(store.collection):
            raise IndexNotFound(f"Qdrant has no collection {store.collection!r}; run `qa build`")
        return store

    @property
    def size(self) -> int:
        return self.moments.count

    @property
    def documents(self) -> Mapping[str, Document]:
        return self._documents

    def dense(self, query_vector: np.ndarray) -> QdrantLeg:
        vector = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        return QdrantLeg(self, DENSE, vector.tolist(), self.moments.spread(vector))

    def lexical(self, query: str) -> QdrantLeg:
        from qdrant_client import models

        indices, values = query_vector(query)
        sparse = models.SparseVector(indices=indices, values=values)
        leg = QdrantLeg(self, SPARSE, sparse, Spread(0.0, 0.0))
        leg.spread = self._lexical_spread(leg) if indices else Spread(0.0, 0.0)
        return leg

    @reached
    def _lexical_spread(self, leg: QdrantLeg) -> Spread:
        """Mean and spread of the query's BM25 over the points of a fixed sample of buckets
        (every point, up to SAMPLE live chunks: then exact)."""
        from qdrant_client import models

        buckets = min(BUCKETS, math.ceil(BUCKETS * SAMPLE / max(self.size, 1)))
        if buckets == BUCKETS:
            scores, n = leg.scored(limit=self.size), self.size
        else:
            scores = leg.scored(limit=2 * SAMPLE, bucket_below=buckets)
            if buckets not in self._sampled:  # the same for every query of this generation
                within = models.FieldCondition(key="bucket", range=models.Range(lt=buckets))
                count = self.client.count(self.collection, models.Filter(must=[within]))
                self._sampled[buckets] = count.count
            n = self._sampled[buckets]
        x = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
        mean = float(x.sum()) / max(n, 1)
        variance = float(x @ x) / max(n, 1) - mean * mean
        return Spread(mean, float(np.sqrt(variance)) if variance > 1e-12 else 0.0)

    @reached
    def matchable_share(self, query: str) -> float:
        """As `BM25.matchable_share`: each term's idf read back from its best point's score
        (score = idf · weight, and the point's weight of the term is stored)."""
        from qdrant_client import models

        counts = Counter(terms(query))
        if not counts or not self.size:
            return 0.0
        requests = [
            models.QueryRequest(
                query=models.SparseVector(indices=[term_index(t)], values=[1.0]),
                using=SPARSE,
                limit=1,
                with_vector=[SPARSE],
            )
            for t in counts
        ]
        answers = self.client.query_batch_points(self.collection, requests)
        unmatched = math.log(1 + (self.size + 0.5) / 0.5)
        found = total = 0.0
        for (term, qtf), answer in zip(counts.items(), answers, strict=True):
            if answer.points:
                best = answer.points[0]
                sparse = best.vector[SPARSE]  # type: ignore[index]
                weight = sparse.values[sparse.indices.index(term_index(term))]
                found += qtf * best.score / weight
                total += qtf * best.score / weight
            else:
                total += qtf * unmatched
        return found / total if total else 0.0

    @reached
    def chunks(self, ids: np.ndarray) -> list[Chunk]:
        points = self.client.retrieve(self.collection, [int(i) for i in ids], with_payload=True)
        by_id = {int(p.id): p.payload or {} for p in points}
        return [_chunk(by_id[int(i)]) for i in ids]

    def check_model(self, embedder: Embedder) -> None:
        self.catalog.check_model(embedder)

    def live(self, payload: dict[str, Any]) -> bool:
        """Whether a point belongs to a document version the catalog serves."""
        return self.versions.get(payload.get("doc_id", "")) == payload.get("sha256")


class QdrantLeg:
    """One leg (dense or BM25) of a query, asked of the collection."""

    def __init__(self, store: QdrantStore, using: str, query: Any, spread: Spread) -> None:
        self.store, self.using, self.query, self.spread = store, using, query, spread

    @reached
    def scored(
        self,
        limit: int,
        ids: list[int] | None = None,
        bucket_below: int | None = None,
        threshold: float | None = None,
    ) -> dict[int, float]:
        """Scores of the best `limit` live points (of `ids`, or of the buckets below one; at
        least `threshold`), best first."""
        from qdrant_client import models

        must: list[Any] = []
        if ids is not None:
            must.append(models.HasIdCondition(has_id=ids))
        if bucket_below is not None and bucket_below < BUCKETS:
            must.append(models.FieldCondition(key="bucket", range=models.Range(lt=bucket_below)))
        found = self.store.client.query_points(
            self.store.collection,
            query=self.query,
            using=self.using,
            query_filter=models.Filter(must=must) if must else None,
            limit=max(limit, 1),
            score_threshold=threshold,
            with_payload=["doc_id", "sha256"],
        ).points
        self.last = found[-1].score if len(found) == limit and found else None
        return {int(p.id): p.score for p in found if self.store.live(p.payload or {})}

    def top(self, m: int) -> Pool:
        if self.using == SPARSE and not self.query.indices:
            return _pool({}, 0.0)
        scores = self.scored(m)
        # Past a short answer nothing is left: no other chunk holds a query term (BM25 0).
        floor = 0.0 if self.using == SPARSE else -np.inf
        bound = floor if self.last is None else self.last
        return _pool(scores, float(bound))

    def above(self, score: float, limit: int) -> Pool | None:
        if score <= 0:  # chunks without a query term score 0: Qdrant does not list them
            return None
        if self.using == SPARSE and not self.query.indices:
            return _pool({}, score)  # nothing scores above 0
        scores = self.scored(limit + 1, threshold=score)
        if self.last is not None:  # limit + 1 came back: more than `limit` score that much
            return None
        return _pool(scores, score)

    def of(self, ids: np.ndarray) -> np.ndarray:
        if self.using == SPARSE and not self.query.indices:
            return np.zeros(len(ids))
        wanted = [int(i) for i in ids]
        scores = self.scored(len(wanted), ids=wanted)
        return np.array([scores.get(i, 0.0) for i in wanted], dtype=np.float64)


class Documents(Mapping[str, Document]):
    """The catalog's documents, their text fetched from the collection when asked for."""

    def __init__(self, store: QdrantStore) -> None:
        self.store = store
        self._cache: dict[str, Document] = {}

    @reached
    def __getitem__(self, doc_id: str) -> Document:
        if doc_id not in self._cache:
            sha256 = self.store.versions[doc_id]  # KeyError: not a live document
            point_id = chunk_id_of(doc_id, sha256, -1)
            (point,) = self.store.client.retrieve(self.store.collection, [point_id])
            p = point.payload or {}
            self._cache[doc_id] = Document(
                p["doc_id"], p["title"], p["text"], p["sha256"], tuple(p["page_starts"])
            )
        return self._cache[doc_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.store.versions)

    def __len__(self) -> int:
        return len(self.store.versions)


def _pool(scores: dict[int, float], bound: float) -> Pool:
    """A Pool of scores by point id, in their order (best first, as Qdrant returned them)."""
    return Pool(
        np.fromiter(scores, dtype=np.int64, count=len(scores)),
        np.fromiter(scores.values(), dtype=np.float64, count=len(scores)),
        bound,
    )


def _chunk(payload: dict[str, Any]) -> Chunk:
    return Chunk(
        payload["chunk_id"], payload["doc_id"], payload["start"], payload["end"], payload["text"]
    )
