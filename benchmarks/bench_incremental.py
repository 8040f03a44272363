"""Incremental vs full builds: add one small document to corpora of 100 and 1,000 documents.

Documents are JSQuAD v1.3 valid paragraphs (JGLUE, Yahoo Japan; CC BY-SA 4.0), read from
../shared/data. Run: .venv/bin/python benchmarks/bench_incremental.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from qa import build_index
from qa.config import Settings
from qa.embedding import load_embedder

SQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "jsquad-valid-v1.3.json"
SIZES = (100, 1000)


def _paragraphs() -> list[str]:
    data = json.loads(SQUAD.read_text(encoding="utf-8"))
    return [
        p["context"].split("[SEP]", 1)[-1].strip()
        for article in data["data"]
        for p in article["paragraphs"]
    ]


def _timed_build(s: Settings, full: bool = False) -> tuple[float, int]:
    start = time.perf_counter()
    stats = build_index(settings=s, full=full, progress=False)
    return time.perf_counter() - start, stats.chunks_embedded


def main() -> None:
    paragraphs = _paragraphs()
    defaults = Settings.load()
    load_embedder(defaults.embed_model, defaults.cache_dir)  # model loading is not timed
    print(
        f"{'documents':>9} {'full build':>11} {'add one (incremental)':>22} {'chunks embedded':>16}"
    )
    for size in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            s = Settings.load(docs_dir=Path(tmp) / "docs", index_dir=Path(tmp) / "index")
            s.docs_dir.mkdir()
            for i, text in enumerate(paragraphs[:size]):
                (s.docs_dir / f"p{i:04d}.txt").write_text(text, encoding="utf-8")
            full, _ = _timed_build(s, full=True)
            (s.docs_dir / "new.txt").write_text("新しく追加した短い文書です。", encoding="utf-8")
            incremental, embedded = _timed_build(s)
        print(f"{size:>9} {full:>10.2f}s {incremental:>21.2f}s {embedded:>16}")


if __name__ == "__main__":
    main()
