"""Crash safety at scale: SIGKILL `qa build` at random moments, N times (default 200).

After every kill the index must load and verify, serve exactly the old or the new set of
documents, and answer a question. Run: .venv/bin/python benchmarks/bench_crash.py [N]
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from qa import answer, build_index
from qa.config import Settings
from qa.index import load_index

ROOT = Path(__file__).resolve().parent.parent


def main(trials: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        s = Settings.load(docs_dir=Path(tmp) / "docs", index_dir=Path(tmp) / "index")
        shutil.copytree(ROOT / "seeds", s.docs_dir)
        build_index(settings=s, progress=False)
        command = [sys.executable, "-m", "qa", "build", "--docs", str(s.docs_dir)]
        command += ["--index", str(s.index_dir)]
        env = {**os.environ, "QA_CACHE_DIR": str(s.cache_dir)}
        started = time.monotonic()
        (s.docs_dir / "first.txt").write_text("最初の文書。", encoding="utf-8")
        subprocess.run(command, env=env, check=True, capture_output=True)
        duration = time.monotonic() - started
        rng, outcomes = random.Random(7), Counter()
        for trial in range(trials):
            before = frozenset(load_index(s.index_dir).documents)
            (s.docs_dir / f"t{trial}.txt").write_text(f"試行{trial}。", encoding="utf-8")
            after = frozenset(p.name for p in s.docs_dir.iterdir())
            process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.1, duration * 1.6))
            process.send_signal(signal.SIGKILL)
            process.wait()
            served = frozenset(load_index(s.index_dir).documents)
            outcome = "old" if served == before else "new" if served == after else "MIXED"
            outcomes[outcome] += 1
            answer("講演したのは誰ですか？", settings=s)
        build_index(settings=s, progress=False)
    print(f"{trials} kills over a {duration:.1f} s build: {dict(outcomes)}")
    print("every kill left a verifying index that answered" if not outcomes["MIXED"] else "FAILED")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
