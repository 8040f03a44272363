"""Calibrate abstention on negatives constructed from JSQuAD, never on the seed dev cases.

Positives: JSQuAD v1.3 valid questions (JGLUE, Yahoo Japan; CC BY-SA 4.0) asked of the index
of all 1,145 paragraphs. Hard negatives: the same questions with their own paragraph taken
out of the results, so the passages are on a related topic but lack the answer (some are
still answered by a sibling paragraph: JSQuAD repeats facts across a Wikipedia article).
Easy negatives: the same questions asked of an index of the seed article alone. For each
pair of (min_term_coverage, min_dense_same_language) it runs the real abstention rule and
prints the share of positives that would abstain and of negatives that would be answered.

The defaults come from this table: the strictest pair that keeps positive abstentions at or
under 2%, since every false abstention costs answer containment.

Run: .venv/bin/python benchmarks/calibrate_abstention.py --workdir DIR [--questions 1000]
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
from pathlib import Path

from qa import build_index
from qa.answering import _abstention_reason
from qa.config import Settings
from qa.embedding import load_embedder
from qa.evaluation import load_squad, write_paragraphs
from qa.index import load_index
from qa.questions import content_terms
from qa.search import Searcher

ROOT = Path(__file__).resolve().parent.parent
JSQUAD = ROOT.parent / "shared" / "data" / "jsquad-valid-v1.3.json"
COVERAGES = (0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
SAME_LANGUAGE_DENSES = (0.88, 0.9, 0.92, 1.01)  # 1.01: dense alone never vouches
PASSAGES = 3  # as answering looks at the best three


def _searcher(s: Settings) -> Searcher:
    build_index(settings=s, progress=True)
    return Searcher(load_index(s.index_dir))


def _case(searcher: Searcher, s: Settings, question: str, skip: str | None) -> tuple:
    """What the abstention rule sees: the question, its best passages, its weighted key terms."""
    embedder = load_embedder(s.embed_model, s.cache_dir)
    vector = embedder.encode_query(question)
    hits = searcher.search(question, vector, 30, s.lexical_weight)
    top = [h for h in hits if h.doc_id != skip][:PASSAGES]
    wanted = {t: searcher.lexical.idf(t) for t in content_terms(question)}
    return question, top, wanted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=1000)
    args = parser.parse_args()
    base = Settings.load()
    paragraphs = load_squad(JSQUAD)
    squad = base.replace(docs_dir=args.workdir / "docs", index_dir=args.workdir / "index")
    write_paragraphs(squad.docs_dir, [p.context for p in paragraphs])
    seed = base.replace(docs_dir=args.workdir / "seed-docs", index_dir=args.workdir / "seed-index")
    shutil.copytree(ROOT / "seeds", seed.docs_dir, dirs_exist_ok=True)
    questions = [(q, f"p{n:04d}.txt") for n, p in enumerate(paragraphs) for q in p.questions]
    questions = random.Random(5).sample(questions, min(args.questions, len(questions)))
    on_squad, on_seed = _searcher(squad), _searcher(seed)
    sets = {
        "positives abstain": [_case(on_squad, squad, q, None) for q, _ in questions],
        "hard answered": [_case(on_squad, squad, q, gold) for q, gold in questions],
        "easy answered": [_case(on_seed, seed, q, None) for q, _ in questions],
    }
    print(f"{len(questions)} questions; min_dense_cross_lingual {base.min_dense_cross_lingual}")
    print(f"{'coverage':>8} {'dense':>6}" + "".join(f"{name:>19}" for name in sets))
    for coverage, dense in itertools.product(COVERAGES, SAME_LANGUAGE_DENSES):
        s = base.replace(min_term_coverage=coverage, min_dense_same_language=dense)
        rates = []
        for name, cases in sets.items():
            answered = sum(not _abstention_reason(q, top, wanted, s) for q, top, wanted in cases)
            share = answered / len(cases)
            rates.append(1 - share if name.startswith("positives") else share)
        print(f"{coverage:>8} {dense:>6}" + "".join(f"{r:>19.3f}" for r in rates))


if __name__ == "__main__":
    main()
