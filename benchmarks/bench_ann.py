"""HNSW against exact search: recall@10 and query time of `qa.vectors` layouts.

Two sets, printed without asserting anything:
- real: the chunk vectors of an index built by kotae (default: the JaQuAD dev calibration index
  of benchmarks/calibrate_abstention.py, work/calib/jaquad/index), queried with --queries of
  its own chunks' vectors perturbed (a question lands near, not on, a passage);
- synthetic: --synthetic vectors, each a real one perturbed (cosine about 0.9 with it), so the
  set keeps the real vectors' clusters at a size the 2 cores here cannot embed; queried the
  same way. (Gaussian random vectors were tried and dropped: in 384 dimensions every point is
  about equally far from every other, so "the 10 nearest" means little; recall@10 was 0.67 at
  ef 128 on 20,000 of them.)
Recall@10 is the share of the exact top 10 that HNSW returns in its top 10; times are p50 per
query on one thread, flat and HNSW, measured in the same run.

    .venv/bin/python benchmarks/bench_ann.py [--index work/calib/jaquad/index] [--synthetic 200000]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from time import perf_counter

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    args = _arguments()
    import faiss

    faiss.omp_set_num_threads(1)
    from qa.index import load_index

    rng = np.random.default_rng(0)
    real = load_index(args.index).all_vectors()
    synthetic = _near(real[rng.integers(0, len(real), args.synthetic)], rng)
    sets = []
    for name, vectors in (("real", real), ("synthetic", synthetic)):
        queries = _near(vectors[rng.choice(len(vectors), args.queries, replace=False)], rng)
        sets.append((name, vectors, queries))
    print("| set | vectors | HNSW build (s) | recall@10 | flat p50 (ms) | HNSW p50 (ms) |")
    print("|---|---|---|---|---|---|")
    for name, vectors, queries in sets:
        print(_row(name, vectors, queries))


def _row(name: str, vectors: np.ndarray, queries: np.ndarray) -> str:
    from qa import vectors as layouts

    flat = layouts.build(vectors, {"kind": "flat"})
    plan = layouts.layout(len(vectors), 1)
    started = perf_counter()
    graph = layouts.build(vectors, plan)
    built = perf_counter() - started
    recalls, times = [], {"flat": [], "hnsw": []}
    for q in queries:
        t0 = perf_counter()
        _, exact = layouts.search(flat, {"kind": "flat"}, q, 10)
        t1 = perf_counter()
        _, found = layouts.search(graph, plan, q, 10)
        t2 = perf_counter()
        times["flat"].append(t1 - t0)
        times["hnsw"].append(t2 - t1)
        recalls.append(len(set(exact.tolist()) & set(found.tolist())) / len(exact))
    p50 = {k: 1000 * float(np.median(v)) for k, v in times.items()}
    return (
        f"| {name} | {len(vectors):,} | {built:.1f} | {np.mean(recalls):.3f} | "
        f"{p50['flat']:.2f} | {p50['hnsw']:.2f} |"
    )


def _near(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors about 0.9 in cosine from the given ones (noise of half their length)."""
    return _unit(vectors + 0.5 * _unit(rng.normal(size=vectors.shape)))


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "work" / "calib" / "jaquad" / "index")
    parser.add_argument("--synthetic", type=int, default=200_000, help="perturbed vectors")
    parser.add_argument("--queries", type=int, default=500)
    return parser.parse_args()


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
