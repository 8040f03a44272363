"""Soak: thousands of sequential questions through qa.answer() in one process; does memory grow?

Run: .venv/bin/python benchmarks/bench_soak.py [--questions 2000] [--warmup 100] [--paragraphs 200]

Indexes a temporary copy of seeds/ plus the first --paragraphs JSQuAD v1.3 valid paragraphs
(../shared/data, read at run time; JGLUE, CC BY-SA 4.0), then asks, alternately, a seed dev
question (tests/data/seed_qa_dev.jsonl) in one of a few variations (one of them unique to
each ask) and a JSQuAD question of those paragraphs, so that the reader reads ever new
passages. Prints the process RSS (VmRSS) after the warm-up and then every 250 questions, its
growth from warm-up to the end, and the latency.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from qa import answer, build_index
from qa.config import Settings
from qa.errors import QAError
from qa.types import Answer

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "seed_qa_dev.jsonl"
JSQUAD = ROOT.parent / "shared" / "data" / "jsquad-valid-v1.3.json"
CHECKPOINT = 250


def rss_mb() -> float:
    """This process's resident memory (VmRSS), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _jsquad(paragraphs: int) -> tuple[list[str], list[str]]:
    """The first paragraphs of JSQuAD valid (title prefix stripped) and their questions."""
    data = json.loads(JSQUAD.read_text(encoding="utf-8"))["data"]
    found = itertools.islice((p for article in data for p in article["paragraphs"]), paragraphs)
    texts, questions = [], []
    for p in found:
        texts.append(p["context"].split(" [SEP] ", 1)[-1])
        questions += [qa["question"] for qa in p["qas"]]
    return texts, questions


def _questions(dev: list[str], jsquad: list[str]) -> Iterator[str]:
    """Endless: a dev question in a variation, then a JSQuAD question, and so on."""
    variations = ["{q}", "ところで、{q}", "{q} 詳しく教えてください。", "{q} ({n})"]
    dev_asks = ((v, q) for v in itertools.cycle(variations) for q in dev)
    others = itertools.cycle(jsquad or dev)
    for n, (variation, q) in enumerate(dev_asks):
        yield variation.format(q=q, n=n)
        yield next(others)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000, help="questions after warm-up")
    parser.add_argument("--warmup", type=int, default=100, help="questions before the baseline")
    parser.add_argument("--paragraphs", type=int, default=200, help="JSQuAD paragraphs indexed")
    args = parser.parse_args()
    dev = [json.loads(line)["question"] for line in DEV.read_text().splitlines() if line.strip()]
    texts, jsquad = _jsquad(args.paragraphs)
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(ROOT / "seeds", docs)
        for i, text in enumerate(texts):
            (docs / f"p{i:04d}.txt").write_text(text, encoding="utf-8")
        s = Settings.load(docs_dir=docs, index_dir=Path(tmp) / "index")
        t = time.perf_counter()
        build_index(settings=s, progress=False)
        print(f"index: seed article + {len(texts)} JSQuAD paragraphs, built in "
              f"{time.perf_counter() - t:.0f} s; {len(dev)} dev questions, "
              f"{len(jsquad)} JSQuAD questions")  # fmt: skip
        _soak(_questions(dev, jsquad), args.warmup, args.questions, s)


def _soak(questions: Iterator[str], warmup: int, total: int, s: Settings) -> None:
    for _ in range(warmup):
        _ask(next(questions), s)
    base = rss_mb()
    print(f"after {warmup} warm-up questions: RSS {base:.0f} MB")
    latencies, failures, abstained = [], 0, 0
    for n in range(1, total + 1):
        start = time.perf_counter()
        result = _ask(next(questions), s)
        latencies.append(time.perf_counter() - start)
        failures += result is None
        abstained += bool(result and result.abstained)
        if n % CHECKPOINT == 0 or n == total:
            now = rss_mb()
            window = sorted(latencies[-CHECKPOINT:])
            print(f"  {n:>5} questions: RSS {now:.0f} MB ({100 * (now - base) / base:+.1f} %), "
                  f"latency of the last {len(window)}: "
                  f"p50 {1000 * _pct(window, 0.5):.0f} ms, "
                  f"p95 {1000 * _pct(window, 0.95):.0f} ms")  # fmt: skip
    end = rss_mb()
    ordered = sorted(latencies)
    print(
        f"RSS {base:.0f} MB after warm-up -> {end:.0f} MB after {total} more questions: "
        f"growth {100 * (end - base) / base:+.1f} %"
    )
    print(
        f"answer() latency p50 {1000 * _pct(ordered, 0.5):.0f} ms, "
        f"p95 {1000 * _pct(ordered, 0.95):.0f} ms; "
        f"{abstained} abstentions, {failures} refused questions"
    )


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ask(question: str, s: Settings) -> Answer | None:
    try:
        return answer(question, settings=s)
    except QAError:
        return None


if __name__ == "__main__":
    main()
