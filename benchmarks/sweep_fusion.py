"""Sweep the fusion weight (and BM25's k1, b) on JSQuAD v1.3 valid, encoding each question once.

JSQuAD: JGLUE (Yahoo Japan), CC BY-SA 4.0, read from ../shared/data (not copied here).

    .venv/bin/python benchmarks/sweep_fusion.py --workdir DIR [--k1 0.5] [--b 0.4]

DIR holds (or receives) the documents and index of `qa eval --squad ... --workdir DIR`, so
each row equals what `QA_LEXICAL_WEIGHT=w qa eval --squad ...` prints, at a fraction of the time:
like search(), each question's lexical weight is w times its matchable share
(`Searcher.query_weight`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qa.evaluation import SEARCH_DEPTH, RankMetrics, document_rank, index_squad
from qa.lexical import BM25, K1, B
from qa.questions import check_question
from qa.search import fuse
from qa.stores import top_k

JSQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "jsquad-valid-v1.3.json"
WEIGHTS = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.7, 1.0)


def main() -> None:
    """Print R@1, R@5, R@10 and MRR@10 for each fusion weight."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="documents and index")
    parser.add_argument("--k1", type=float, default=K1, help=f"BM25 k1 (default {K1})")
    parser.add_argument("--b", type=float, default=B, help=f"BM25 b (default {B})")
    args = parser.parse_args()
    squad = index_squad(JSQUAD, args.workdir)
    s, embedder, searcher = squad.settings, squad.embedder, squad.searcher
    store = searcher.store
    parts = [segment.term_counts for segment in store.index.segments]
    store.bm25 = BM25.from_counts(parts, store.index.alive, args.k1, args.b)
    doc_ids = [c.doc_id for c in store.index.chunks]
    ranks: dict[float, list[int]] = {w: [] for w in WEIGHTS}
    for n, paragraph in enumerate(squad.paragraphs):
        for raw in paragraph.questions:
            question = check_question(raw, s.max_question_chars)  # as search() does
            dense = store.dense_scores(embedder.encode_query(question))
            lexical = store.bm25.scores(question)
            for w, found in ranks.items():
                weight = searcher.query_weight(question, w)
                best = top_k(fuse(dense, lexical, weight), SEARCH_DEPTH)
                found.append(document_rank((doc_ids[i] for i in best), f"p{n:04d}.txt"))
    print(f"JSQuAD v1.3 valid (JGLUE, CC BY-SA 4.0), BM25 k1={args.k1} b={args.b}")
    print(f"{'lexical_weight':>14}  R@1    R@5    R@10   MRR@10")
    for w, found in ranks.items():
        m = RankMetrics.of(found)
        print(f"{w:>14}  {m.r_at_1:.3f}  {m.r_at_5:.3f}  {m.r_at_10:.3f}  {m.mrr_at_10:.3f}")


if __name__ == "__main__":
    main()
