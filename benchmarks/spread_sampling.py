"""What the Qdrant store's sampled lexical spread changes in the ranking, on a large index.

Qdrant returns BM25 scores only for the best points, so the Qdrant store estimates the
lexical leg's mean and spread over every chunk from a fixed sample (the points of the first
hash buckets of 1,024, about SAMPLE = 16,384; exact up to that many chunks:
qa/stores/qdrant.py). This
replays that estimate on an embedded index, where the exact spread is known: the same rows
(by the point ids Qdrant would give them), the same fusion, and counts how often the top 10
and the top 1 differ from the exact ones.

    .venv/bin/python benchmarks/bench_scale.py --chunks 100000 --workdir work/scale-small
    .venv/bin/python benchmarks/spread_sampling.py work/scale-small/n100000 [--sample 4096]

Prints, asserting nothing: the chunk count, the sample size, the median relative error of the
estimated mean and standard deviation, and the share of queries whose top 10 (as a list) and
top 1 equal the exact ones. Questions are JaQuAD train's (SkelterLabs, CC BY-SA 3.0, read from
../shared/data at run time).
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

import numpy as np
from bench_scale import JAQUAD, questions

from qa.config import Settings
from qa.embedding import load_embedder
from qa.index import Index, load_index
from qa.search import Searcher
from qa.stores.embedded import EmbeddedStore, LexicalLeg
from qa.stores.qdrant import BUCKETS, SAMPLE, chunk_id_of
from qa.vectors import Spread


class SampledStore(EmbeddedStore):
    """The embedded store with the lexical spread estimated as the Qdrant store does."""

    def __init__(self, index: Index, sample: int) -> None:
        super().__init__(index)
        buckets = min(BUCKETS, math.ceil(BUCKETS * sample / max(index.size, 1)))
        sha = {d: doc.sha256 for d, doc in index.documents.items()}
        first: dict[str, int] = {}
        bucket = np.full(len(index.chunks), BUCKETS, dtype=np.int64)  # dead rows: none
        for row in np.flatnonzero(index.alive).tolist():
            chunk = index.chunks[row]
            n = first.setdefault(chunk.doc_id, row)
            bucket[row] = chunk_id_of(chunk.doc_id, sha[chunk.doc_id], row - n) % BUCKETS
        self.sample = np.flatnonzero(bucket < buckets)

    def lexical(self, query: str) -> LexicalLeg:
        leg = super().lexical(query)
        x = leg.scores[self.sample]
        mean = float(x.mean())
        variance = float(x @ x) / len(x) - mean * mean
        leg.spread = Spread(mean, math.sqrt(variance) if variance > 1e-12 else 0.0)
        return leg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a bench_scale size folder (docs/, index/)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--sample", type=int, default=SAMPLE, help="points to sample, about")
    args = parser.parse_args()
    s = Settings.load(docs_dir=args.root / "docs", index_dir=args.root / "index")
    s = s.replace(embed_model=str(args.root.parent / "tiny-model"))
    embedder = load_embedder(s.embed_model, s.cache_dir)
    index = load_index(s.index_dir)
    exact, sampled = EmbeddedStore(index), SampledStore(index, args.sample)
    asked = random.Random(2).sample(questions(JAQUAD), args.queries)
    errors, same10, same1 = [], 0, 0
    for q in asked:
        v = embedder.encode_query(q)
        a, b = exact.lexical(q).spread, sampled.lexical(q).spread
        if a.std > 0:
            errors.append((abs(b.mean - a.mean) / a.std, abs(b.std - a.std) / a.std))
        top_a = [h.chunk_id for h in Searcher(exact).search(q, v, 10, s.lexical_weight)]
        top_b = [h.chunk_id for h in Searcher(sampled).search(q, v, 10, s.lexical_weight)]
        same10 += top_a == top_b
        same1 += top_a[:1] == top_b[:1]
    mean_err, std_err = np.median(np.array(errors), axis=0)
    print(
        f"{index.size:,} chunks, sample {len(sampled.sample):,}: median error of the mean "
        f"{mean_err:.3f} σ, of σ {100 * std_err:.1f}%; same top 10 {same10 / len(asked):.3f}, "
        f"same top 1 {same1 / len(asked):.3f} ({len(asked)} questions)"
    )


if __name__ == "__main__":
    main()
