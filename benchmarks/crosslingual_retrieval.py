"""Cross-lingual retrieval: dense alone, the fixed-weight fusion, and the fusion whose lexical
weight follows the query's matchable term mass (`Searcher.query_weight`).

R@1 and R@5 of the gold paragraph (each paragraph is one document, as in `qa eval --squad`):
  (a) JSQuAD v1.3 valid questions of the tuning half of its articles (`split_of`)
  (b) the same for the held-out half
  (c) benchmarks/data/jsquad-heldout-en.jsonl: 100 English questions about held-out JSQuAD
      paragraphs, over the same index (held out: never used to choose anything)
  (d) benchmarks/data/jaquad-train-en.jsonl: 300 English versions of JaQuAD train questions,
      over an index of their paragraphs plus 2 other paragraphs of each article (seeded); with
      (d-ja), the original Japanese questions over that index
  (e) benchmarks/data/jsquad-tuning-en.jsonl and jsquad-tuning2-en.jsonl: 300 English
      questions about tuning JSQuAD paragraphs, over the JSQuAD index
Columns: dense alone, the fusion at a fixed weight and at the query weight over the question
alone, and "+ dictionary", what `Searcher.search` does: the lexical leg searches the question
with JMdict's Japanese headwords of its English words (qa/dictionary.py; `--sweep` also prints
the tuning rows for 0 to 20 headwords a word, `Settings.dictionary_terms`).
Every choice is made on the tuning rows, (a), (d), (d-ja) and (e); (b) and (c) only report. The
query weight is lexical_weight w scaled in odds by the square of the share s,
w·s² / (w·s² + 1 − w): `--sweep` prints the tuning rows for w·s^p and for the odds form of
w·s^p at other weights and powers. The odds form keeps w = 1 meaning "terms alone"; the square
had the best R@1 over the four tuning rows, weighted by their questions.
Data from ../shared/data, not copied: JSQuAD (JGLUE, Yahoo Japan; CC BY-SA 4.0) and JaQuAD
train (SkelterLabs; CC BY-SA 3.0).

    .venv/bin/python benchmarks/crosslingual_retrieval.py [--workdir work/crosslingual]

The indexes (about 1,150 and 820 paragraphs) and the query vectors are cached in the workdir:
the first run embeds for several minutes on 2 cores, later runs take seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.embedding import Embedder
from qa.evaluation import (
    SEARCH_DEPTH,
    RankMetrics,
    SquadIndex,
    document_rank,
    index_squad,
    split_of,
)
from qa.questions import check_question
from qa.search import Searcher, fuse
from qa.stores import top_k

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
JSQUAD = SHARED / "jsquad-valid-v1.3.json"
JAQUAD = SHARED / "jaquad-train.json"
ENGLISH_HELDOUT = ROOT / "benchmarks" / "data" / "jsquad-heldout-en.jsonl"
ENGLISH_TUNING = ROOT / "benchmarks" / "data" / "jaquad-train-en.jsonl"
JSQUAD_ENGLISH_TUNING = [
    ROOT / "benchmarks" / "data" / f"jsquad-{name}-en.jsonl" for name in ("tuning", "tuning2")
]
DISTRACTORS_PER_ARTICLE = 2
SEED = 14
TODAY = 0.3  # the fixed lexical weight before the query weight (Settings.lexical_weight)
DICTIONARY_TERMS = (0, 1, 2, 3, 4, 5, 8, 12, 20)


@dataclass(frozen=True)
class QuestionSet:
    """Questions with the document that answers each, asked of one index."""

    label: str
    split: str  # "tuning" or "heldout"
    questions: list[str]
    gold: list[str]  # doc ids (p0000.txt...)
    index: SquadIndex


@dataclass(frozen=True)
class Scored:
    """One question's scores over every chunk, computed once for all methods: the lexical leg
    of the question alone, and of what `Searcher.lexical_query` searches (for an English
    question, with JMdict's Japanese headwords of its words; qa/dictionary.py)."""

    query: str
    gold: str
    dense: np.ndarray
    lexical: np.ndarray
    terms: str
    translated: np.ndarray


Method = Callable[[Searcher, Scored, float], np.ndarray]
METHODS: dict[str, Method] = {
    "dense only": lambda searcher, s, w: fuse(s.dense, s.lexical, 0.0),
    "fusion (fixed w)": lambda searcher, s, w: fuse(s.dense, s.lexical, w),
    "fusion (query w)": lambda searcher, s, w: fuse(
        s.dense, s.lexical, searcher.query_weight(s.query, w)
    ),
    "+ dictionary": lambda searcher, s, w: fuse(
        s.dense, s.translated, searcher.query_weight(s.terms, w)
    ),
}


def main() -> None:
    """Build or reuse both indexes, score every question once, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "work" / "crosslingual")
    parser.add_argument("--weight", type=float, default=TODAY, help="lexical_weight (0.3)")
    parser.add_argument("--sweep", action="store_true", help="alternatives, tuning rows only")
    args = parser.parse_args()
    sets = question_sets(args.workdir)
    if args.sweep:
        sweep([qs for qs in sets if qs.split == "tuning"], args.workdir / "queries")
        return
    print(
        "JSQuAD v1.3 valid (JGLUE, CC BY-SA 4.0) and JaQuAD train (CC BY-SA 3.0); "
        f"lexical_weight {args.weight}; documents among the top {SEARCH_DEPTH} chunks"
    )
    header = "".join(f"{name:>20}" for name in METHODS)
    print(f"{'question set':34}{'n':>5}{header}{'mean query w':>14}")
    print(f"{'':39}" + "".join(f"{'R@1   R@5':>20}" for _ in METHODS))
    for qs in sets:
        scored = score(qs, args.workdir / "queries")
        searcher = qs.index.searcher
        cells = []
        for method in METHODS.values():
            m = metrics(searcher, scored, method, args.weight)
            cells.append(f"{m.r_at_1:.3f} {m.r_at_5:.3f}")
        mean_w = np.mean([searcher.query_weight(s.query, args.weight) for s in scored])
        row = "".join(f"{c:>20}" for c in cells)
        print(f"{qs.label:34}{len(scored):>5}{row}{mean_w:>14.3f}")


def sweep(sets: list[QuestionSet], cache: Path) -> None:
    """R@1/R@5 on the tuning rows for lexical_weight w times share^p ("w·s^p"), and for the
    odds form of w·s^p, w·s^p / (w·s^p + 1 − w), which keeps w = 1 meaning "terms alone";
    w 0 is dense alone."""
    print(f"{'form':>6}{'w':>5}{'p':>3}" + "".join(f"{qs.label[:20]:>22}" for qs in sets))
    scored = [score(qs, cache) for qs in sets]
    grid = [("w·s^p", 0.3, p) for p in (1, 2, 3, 4)] + [("w·s^p", w, 1) for w in (0.2, 0.4)]
    grid += [("odds", w, 1) for w in (0.2, 0.25, 0.3)] + [("odds", 0.3, p) for p in (2, 3, 4)]
    for form, w, p in [*grid, ("odds", 0.0, 1)]:

        def method(
            searcher: Searcher, s: Scored, w: float, p: int = p, form: str = form
        ) -> np.ndarray:
            share = searcher.store.matchable_share(s.query) ** p
            weight = w * share / (w * share + 1 - w) if form == "odds" else w * share
            return fuse(s.dense, s.lexical, weight)

        cells = [
            metrics(qs.index.searcher, sc, method, w) for qs, sc in zip(sets, scored, strict=True)
        ]
        line = f"{form:>6}{w:>5}{p:>3}"
        print(line + "".join(f"{m.r_at_1:>16.3f}{m.r_at_5:>6.3f}" for m in cells))
    print(f"\nJMdict headwords per English word (Settings.dictionary_terms), query w at {TODAY}")
    for n in DICTIONARY_TERMS:
        cells = []
        for qs, sc in zip(sets, scored, strict=True):
            searcher = Searcher(
                qs.index.searcher.store, replace(qs.index.searcher.dictionary, terms=n)
            )
            bm25 = searcher.store.bm25
            fused = []
            for s in sc:
                terms = searcher.lexical_query(s.query)
                fused.append(fuse(s.dense, bm25.scores(terms), searcher.query_weight(terms, TODAY)))
            cells.append(rank_metrics(searcher, sc, fused))
        print(f"{n:>14}" + "".join(f"{m.r_at_1:>16.3f}{m.r_at_5:>6.3f}" for m in cells))


def question_sets(workdir: Path) -> list[QuestionSet]:
    """(a), (d), (d-ja), (e) for tuning, then (b), (c) held out."""
    jsquad = index_squad(JSQUAD, workdir / "jsquad")
    by_split: dict[str, tuple[list[str], list[str]]] = {"tuning": ([], []), "heldout": ([], [])}
    where: dict[str, str] = {}  # JSQuAD question id: its paragraph's doc id
    for n, (title, paragraph) in enumerate(_paragraphs(JSQUAD)):
        questions, gold = by_split[split_of(title)]
        for qa in paragraph["qas"]:
            questions.append(qa["question"])
            gold.append(_doc_id(n))
            where[qa["id"]] = _doc_id(n)
    english = _jsonl(ENGLISH_HELDOUT)
    assert all(split_of(e["title"]) == "heldout" for e in english), "(c) must be held out"

    subset, jaquad_gold = jaquad_subset(JAQUAD, [e["id"] for e in _jsonl(ENGLISH_TUNING)])
    subset_path = workdir / "jaquad" / "subset.json"
    subset_path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(subset, ensure_ascii=False)
    if not subset_path.is_file() or subset_path.read_text(encoding="utf-8") != text:
        subset_path.write_text(text, encoding="utf-8")
    jaquad = index_squad(subset_path, workdir / "jaquad")
    tuning_en = _jsonl(ENGLISH_TUNING)
    japanese = {qa["id"]: qa["question"] for _, p in _paragraphs(subset_path) for qa in p["qas"]}
    return [
        QuestionSet("(a) JSQuAD tuning half, ja", "tuning", *by_split["tuning"], jsquad),
        QuestionSet(
            "(d) JaQuAD train, en",
            "tuning",
            [e["question_en"] for e in tuning_en],
            [jaquad_gold[e["id"]] for e in tuning_en],
            jaquad,
        ),
        QuestionSet(
            "(d-ja) the same questions, ja",
            "tuning",
            [japanese[e["id"]] for e in tuning_en],
            [jaquad_gold[e["id"]] for e in tuning_en],
            jaquad,
        ),
        QuestionSet(
            "(e) JSQuAD tuning, en",
            "tuning",
            [e["question_en"] for path in JSQUAD_ENGLISH_TUNING for e in _jsonl(path)],
            [where[e["id"]] for path in JSQUAD_ENGLISH_TUNING for e in _jsonl(path)],
            jsquad,
        ),
        QuestionSet("(b) JSQuAD held-out half, ja", "heldout", *by_split["heldout"], jsquad),
        QuestionSet(
            "(c) JSQuAD held-out, en",
            "heldout",
            [e["question_en"] for e in english],
            [where[e["id"]] for e in english],
            jsquad,
        ),
    ]


def jaquad_subset(path: Path, ids: list[str]) -> tuple[dict, dict[str, str]]:
    """A SQuAD-format file of the questions' paragraphs and distractors from the same articles,
    in file order, and each question's doc id in it."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    wanted = set(ids)
    rng = random.Random(SEED)
    articles, gold = [], {}
    for article in data:
        paragraphs = article["paragraphs"]
        golden = [i for i, p in enumerate(paragraphs) if any(qa["id"] in wanted for qa in p["qas"])]
        if not golden:
            continue
        others = [i for i in range(len(paragraphs)) if i not in golden]
        keep = sorted(golden + rng.sample(others, min(DISTRACTORS_PER_ARTICLE, len(others))))
        articles.append({"title": article["title"], "paragraphs": [paragraphs[i] for i in keep]})
    n = 0
    for article in articles:
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                if qa["id"] in wanted:
                    gold[qa["id"]] = _doc_id(n)
            n += 1
    missing = wanted - gold.keys()
    assert not missing, f"questions not in {path.name}: {sorted(missing)[:3]}"
    return {"version": "jaquad-train-subset", "data": articles}, gold


def score(qs: QuestionSet, cache: Path) -> list[Scored]:
    """Dense and lexical scores of every question, as `Searcher.search` computes them."""
    s, searcher = qs.index.settings, qs.index.searcher
    questions = [check_question(q, s.max_question_chars) for q in qs.questions]
    vectors = query_vectors(qs.index.embedder, questions, cache)
    bm25 = searcher.store.bm25
    scored = []
    for q, gold, v in zip(questions, qs.gold, vectors, strict=True):
        terms = searcher.lexical_query(q)
        lexical = bm25.scores(q)
        translated = lexical if terms == q else bm25.scores(terms)
        scored.append(Scored(q, gold, searcher.store.dense_scores(v), lexical, terms, translated))
    return scored


def query_vectors(embedder: Embedder, questions: list[str], cache: Path) -> np.ndarray:
    """encode_query of every question, cached by model fingerprint and question text."""
    key = hashlib.sha256("\n".join([embedder.fingerprint, *questions]).encode()).hexdigest()
    path = cache / f"{key[:24]}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    vectors = np.stack([embedder.encode_query(q) for q in questions])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors, allow_pickle=False)
    return vectors


def metrics(searcher: Searcher, scored: list[Scored], method: Method, w: float) -> RankMetrics:
    """Recall of the gold documents when chunks are ranked by `method`."""
    return rank_metrics(searcher, scored, [method(searcher, s, w) for s in scored])


def rank_metrics(searcher: Searcher, scored: list[Scored], fused: list[np.ndarray]) -> RankMetrics:
    """Recall of the gold documents when each question's chunks are ranked by its scores."""
    doc_ids = [c.doc_id for c in searcher.store.index.chunks]
    ranks = [
        document_rank((doc_ids[i] for i in top_k(f, SEARCH_DEPTH)), s.gold)
        for s, f in zip(scored, fused, strict=True)
    ]
    return RankMetrics.of(ranks)


def _paragraphs(path: Path) -> list[tuple[str, dict]]:
    """(article title, paragraph) in file order, as `load_squad` numbers them."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [(a["title"], p) for a in data for p in a["paragraphs"]]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _doc_id(n: int) -> str:
    return f"p{n:04d}.txt"


if __name__ == "__main__":
    main()
