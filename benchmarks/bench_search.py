"""Search latency and index build speed on JSQuAD v1.3 valid (1,145 paragraphs as documents).

JSQuAD: JGLUE (Yahoo Japan), CC BY-SA 4.0, read from ../shared/data (not copied here).

    .venv/bin/python benchmarks/bench_search.py [--workdir DIR] [--queries 300] [--no-build]

Prints, without asserting anything:
- build: wall time of a full build of the 1,145 paragraphs and its chunks/s, next to the bare
  `encode_documents` throughput on the same chunks in the same run (their ratio is the cost of
  everything but the model: loading, chunking, token counting, BM25 counts, writing);
- search: p50/p95 of `qa.search()` for one query on the warm index, next to the bare
  `encode_query` time, and the lexical leg + fusion overhead (p50), measured separately.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from time import perf_counter

import numpy as np

from qa import search
from qa.build import build_index
from qa.config import Settings
from qa.embedding import Embedder, load_embedder
from qa.evaluation import load_squad, write_paragraphs
from qa.index import load_index
from qa.search import Searcher, fuse
from qa.stores import top_k
from qa.stores.embedded import EmbeddedStore

JSQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "jsquad-valid-v1.3.json"


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="reuse documents and index here")
    parser.add_argument("--queries", type=int, default=300, help="questions to time")
    parser.add_argument("--no-build", action="store_true", help="skip the build timing")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kotae-bench-"))
    paragraphs = load_squad(JSQUAD)
    s = Settings.load(docs_dir=workdir / "docs", index_dir=workdir / "index")
    write_paragraphs(s.docs_dir, [p.context for p in paragraphs])
    embedder = load_embedder(s.embed_model, s.cache_dir)
    print(f"JSQuAD v1.3 valid (JGLUE, CC BY-SA 4.0); {os.cpu_count()} CPUs; index {s.index_dir}")
    if args.no_build:
        build_index(s, embedder, progress=False)  # no-op when the index is current
    else:
        bench_build(s, embedder)
    questions = [q for p in paragraphs for q in p.questions]
    step = max(1, len(questions) // args.queries)
    bench_search(s, embedder, questions[::step][: args.queries])


def bench_build(s: Settings, embedder: Embedder) -> None:
    """Full build wall time vs the bare model throughput on the same chunks."""
    started = perf_counter()
    stats = build_index(s, embedder, full=True, progress=False)
    wall = perf_counter() - started
    chunks = [c.text for c in load_index(s.index_dir).chunks]
    started = perf_counter()
    embedder.encode_documents(chunks, s.batch_size, progress=False)
    bare = perf_counter() - started
    print(
        f"build (full): {stats.added} documents, {stats.chunks_total} chunks in {wall:.1f} s "
        f"= {stats.chunks_total / wall:.1f} chunks/s\n"
        f"bare encode_documents, same chunks: {bare:.1f} s = {len(chunks) / bare:.1f} chunks/s; "
        f"build / bare = {wall / bare:.2f}"
    )


def bench_search(s: Settings, embedder: Embedder, questions: list[str]) -> None:
    """Latency of search() and its parts, interleaved per question so that load hits all alike."""
    store = EmbeddedStore(load_index(s.index_dir))
    searcher = Searcher(store)
    for q in questions[:20]:  # warm up: model, caches, the searcher that search() keeps
        search(q, settings=s)
    times: dict[str, list[float]] = {
        k: [] for k in ("search", "encode", "dense", "hybrid", "lexical+fusion")
    }
    for q in questions:
        times["search"].append(_timed(lambda q=q: search(q, settings=s)))
        times["encode"].append(_timed(lambda q=q: embedder.encode_query(q)))
        vector = embedder.encode_query(q)
        times["dense"].append(_timed(lambda v=vector: top_k(store.dense_scores(v), s.top_k)))
        times["hybrid"].append(
            _timed(lambda q=q, v=vector: searcher.search(q, v, s.top_k, s.lexical_weight))
        )
        dense = store.dense_scores(vector)
        times["lexical+fusion"].append(
            _timed(
                lambda q=q, d=dense: top_k(fuse(d, store.bm25.scores(q), s.lexical_weight), s.top_k)
            )
        )
    _report(times, len(store.index.chunks), len(questions))


def _timed(work) -> float:
    started = perf_counter()
    work()
    return 1000 * (perf_counter() - started)


def _report(times: dict[str, list[float]], chunks: int, n: int) -> None:
    p = {k: (np.percentile(v, 50), np.percentile(v, 95)) for k, v in times.items()}
    print(f"search latency over {chunks} chunks, {n} questions, ms (p50 / p95):")
    labels = {
        "search": "qa.search() end to end",
        "encode": "bare encode_query",
        "dense": "dense leg only (FAISS + top k)",
        "hybrid": "Searcher.search (dense + lexical + fusion)",
        "lexical+fusion": "lexical leg + fusion alone",
    }
    for key, label in labels.items():
        print(f"  {label:44} {p[key][0]:7.2f} / {p[key][1]:7.2f}")
    print(
        f"  overhead of lexical + fusion at p50: {p['hybrid'][0] - p['dense'][0]:.2f} ms "
        f"(hybrid - dense-only), {p['lexical+fusion'][0]:.2f} ms (timed alone)"
    )


if __name__ == "__main__":
    main()
