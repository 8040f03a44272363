"""Does the generative mode help? EM / char-F1 on JSQuAD v1.3 valid (reading comprehension).

Each question gets its gold paragraph (the leading "title [SEP] " stripped) as the single
passage. Compared: (a) the generator's raw answer, (b) the grounded answer (ungrounded ->
empty), and (c) a trivial extractive baseline, the sentence with the most character bigrams
in common with the question. JSQuAD: JGLUE, CC BY-SA 4.0.

Run: .venv/bin/python benchmarks/bench_generation.py [--questions 200] [--threads 1] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from qa.embedding import apply_torch_threads
from qa.generation import Generator, grounded_span, load_generator
from qa.text import match_key

ROOT = Path(__file__).resolve().parent.parent
JSQUAD = ROOT.parent / "shared" / "data" / "jsquad-valid-v1.3.json"
MAX_ANSWER_CHARS = 60  # the grounding cap used by the answering mode

Case = tuple[str, str, list[str]]  # question, passage, gold answers


def _cases(n: int) -> list[Case]:
    """(question, passage, gold answers): the first question of each paragraph, then the next."""
    paragraphs = [p for a in json.loads(JSQUAD.read_text())["data"] for p in a["paragraphs"]]
    cases = []
    for round_ in range(max(len(p["qas"]) for p in paragraphs)):
        for p in paragraphs:
            if round_ < len(p["qas"]):
                qa = p["qas"][round_]
                passage = p["context"].split(" [SEP] ", 1)[-1]
                cases.append((qa["question"], passage, [a["text"] for a in qa["answers"]]))
    return cases[:n]


def _norm(text: str) -> str:
    return "".join(match_key(text).split())


def _em(pred: str, golds: list[str]) -> float:
    return float(any(_norm(pred) == _norm(g) for g in golds))


def _f1(pred: str, golds: list[str]) -> float:
    def one(gold: str) -> float:
        p, g = Counter(_norm(pred)), Counter(_norm(gold))
        common = sum((p & g).values())
        if not common:
            return 0.0
        precision, recall = common / sum(p.values()), common / sum(g.values())
        return 2 * precision * recall / (precision + recall)

    return max(one(g) for g in golds)


def _bigrams(text: str) -> set[str]:
    key = _norm(text)
    return {key[i : i + 2] for i in range(len(key) - 1)}


def _baseline(question: str, passage: str) -> str:
    """The sentence (split on 。) sharing the most character bigrams with the question."""
    sentences = [s for s in passage.split("。") if s.strip()] or [passage]
    wanted = _bigrams(question)
    return max(sentences, key=lambda s: len(_bigrams(s) & wanted))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: kotae's rule)")
    parser.add_argument("--model", default="gemma3-270m")
    parser.add_argument("--cache-dir", type=Path, help="reuse a converted model (default: fresh)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        apply_torch_threads()  # as in the app, where the embedder is always loaded first
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generator = load_generator(args.model, args.cache_dir or Path(tmp))
        load = time.perf_counter() - start
        _run(generator, _cases(args.questions), load, args.verbose)


def _run(generator: Generator, cases: list[Case], load: float, verbose: bool) -> None:
    scores: dict[str, list[tuple[float, float]]] = {"raw": [], "grounded": [], "baseline": []}
    latencies: list[float] = []
    accepted = 0
    for question, passage, golds in cases:
        start = time.perf_counter()
        raw = generator.extract(question, [passage]) or ""
        latencies.append(time.perf_counter() - start)
        span = grounded_span(raw, [passage], MAX_ANSWER_CHARS)
        grounded = passage[span[1] : span[2]] if span else ""
        accepted += span is not None
        baseline = _baseline(question, passage)
        for name, pred in (("raw", raw), ("grounded", grounded), ("baseline", baseline)):
            scores[name].append((_em(pred, golds), _f1(pred, golds)))
        if verbose:
            print(f"{question} -> {raw!r} {'OK' if span else 'ungrounded'} | gold {golds[0]!r}")
    n = len(cases)
    print(f"JSQuAD v1.3 valid, {n} questions, model {generator.name!r}")
    print(f"load (GGUF conversion included on first use): {load:.1f} s")
    print(
        f"latency per question: mean {statistics.mean(latencies):.2f} s, "
        f"median {statistics.median(latencies):.2f} s"
    )
    print(f"grounded (accepted) answers: {accepted}/{n} = {accepted / n:.1%}")
    for name, rows in scores.items():
        em = statistics.mean(r[0] for r in rows)
        f1 = statistics.mean(r[1] for r in rows)
        print(f"{name:>9}: EM {em:.3f}  F1 {f1:.3f}")


if __name__ == "__main__":
    main()
