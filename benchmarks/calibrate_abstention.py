"""Calibrate abstention on negatives constructed from JSQuAD, never on the seed dev cases.

Positives: JSQuAD v1.3 valid questions (JGLUE, Yahoo Japan; CC BY-SA 4.0) asked of the index
of all 1,145 paragraphs. Hard negatives: the same questions with their own paragraph taken
out of the results, so the passages are on a related topic but lack the answer. Easy
negatives: the same questions asked of an index of the seed article alone. For each pair of
thresholds it prints the share of positives that would abstain and the share of negatives
that would be answered.

Run: .venv/bin/python benchmarks/calibrate_abstention.py --workdir DIR [--questions 1000]
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

from qa import build_index
from qa.answering import _coverage
from qa.config import Settings
from qa.embedding import load_embedder
from qa.evaluation import load_squad, write_paragraphs
from qa.index import load_index
from qa.questions import content_terms
from qa.search import Searcher
from qa.types import Hit

ROOT = Path(__file__).resolve().parent.parent
JSQUAD = ROOT.parent / "shared" / "data" / "jsquad-valid-v1.3.json"
COVERAGES = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
DENSES = (0.82, 0.83, 0.84, 0.85, 0.86, 0.87)


def _searcher(s: Settings) -> Searcher:
    build_index(settings=s, progress=True)
    return Searcher(load_index(s.index_dir))


def _features(searcher: Searcher, s: Settings, question: str, skip: str | None) -> tuple:
    embedder = load_embedder(s.embed_model, s.cache_dir)
    hits: list[Hit] = searcher.search(
        question, embedder.encode_query(question), 30, s.lexical_weight
    )
    top = [h for h in hits if h.doc_id != skip][:3]
    wanted = {t: searcher.lexical.idf(t) for t in content_terms(question)}
    return max(_coverage(h.text, wanted) for h in top), max(h.dense for h in top)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=1000)
    args = parser.parse_args()
    base = Settings.load()
    paragraphs = load_squad(JSQUAD)
    squad = base.replace(docs_dir=args.workdir / "docs", index_dir=args.workdir / "index")
    write_paragraphs(squad.docs_dir, [context for context, _ in paragraphs])
    seed = base.replace(docs_dir=args.workdir / "seed-docs", index_dir=args.workdir / "seed-index")
    shutil.copytree(ROOT / "seeds", seed.docs_dir, dirs_exist_ok=True)
    questions = [(q, f"p{n:04d}.txt") for n, (_, qs) in enumerate(paragraphs) for q in qs]
    questions = random.Random(5).sample(questions, min(args.questions, len(questions)))
    on_squad, on_seed = _searcher(squad), _searcher(seed)
    positives = [_features(on_squad, squad, q, None) for q, _ in questions]
    hard = [_features(on_squad, squad, q, gold) for q, gold in questions]
    easy = [_features(on_seed, seed, q, None) for q, _ in questions]
    print(f"{len(questions)} questions; rows: min_term_coverage, min_dense_score")
    print(
        f"{'cov':>5} {'dense':>6} {'pos abstain':>12} {'hard answered':>14} {'easy answered':>14}"
    )
    for c in COVERAGES:
        for d in DENSES:
            answered = [
                sum(f[0] >= c or f[1] >= d for f in fs) / len(fs) for fs in (positives, hard, easy)
            ]
            print(
                f"{c:>5} {d:>6} {1 - answered[0]:>12.3f} {answered[1]:>14.3f} {answered[2]:>14.3f}"
            )


if __name__ == "__main__":
    main()
