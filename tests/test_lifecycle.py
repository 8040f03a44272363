"""Index lifecycle under stress: SIGKILL mid-build, two builders at once, random edit sequences.

All on the tiny model: these are about files, locks and processes, not about answers.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from qa import answer, build_index
from qa.config import Settings
from qa.index import current_generation, load_index

from .conftest import ROOT

KILL_TRIALS = 12  # benchmarks/bench_crash.py runs as many more as asked
IMPORTS = "import qa.cli, qa.build, qa.embedding, sentence_transformers"  # what a build loads first


def _build_command(s: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "qa",
        "build",
        "--docs",
        str(s.docs_dir),
        "--index",
        str(s.index_dir),
    ]


def _env(s: Settings) -> dict[str, str]:
    return {**os.environ, "QA_CACHE_DIR": str(s.cache_dir), "QA_EMBED_MODEL": s.embed_model}


def _doc_ids(s: Settings) -> frozenset[str]:
    return frozenset(load_index(s.index_dir).documents)


def test_sigkill_at_random_moments_never_breaks_the_index(tiny_settings) -> None:
    build_index(settings=tiny_settings, progress=False)
    started = time.monotonic()
    (tiny_settings.docs_dir / "timing.txt").write_text("計測用の文書。", encoding="utf-8")
    subprocess.run(_build_command(tiny_settings), env=_env(tiny_settings), cwd=ROOT, check=True)
    duration = time.monotonic() - started
    # A kill while the child is still importing tests nothing: aim every trial at the window
    # from the end of its imports to a little past the end of its build.
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", IMPORTS], env=_env(tiny_settings), cwd=ROOT, check=True)
    imports = min(time.monotonic() - started, duration / 2)
    rng = random.Random(20261126)
    for trial in range(KILL_TRIALS):
        before = _doc_ids(tiny_settings)
        (tiny_settings.docs_dir / f"trial{trial}.txt").write_text(
            f"試行{trial}の文書です。", encoding="utf-8"
        )
        after = frozenset(p.name for p in tiny_settings.docs_dir.iterdir())  # all files, indexed
        process = subprocess.Popen(_build_command(tiny_settings), env=_env(tiny_settings), cwd=ROOT)
        time.sleep(rng.uniform(imports, duration * 1.3))
        process.send_signal(signal.SIGKILL)
        process.wait()
        served = _doc_ids(tiny_settings)  # verifies every file's hash
        assert served in (before, after), f"trial {trial}: a mix of generations"
        assert not answer("講演したのは誰ですか？", settings=tiny_settings).abstained
    stats = build_index(settings=tiny_settings, progress=False)  # the next build completes
    assert _doc_ids(tiny_settings) >= {f"trial{t}.txt" for t in range(KILL_TRIALS)}
    assert stats.generation == current_generation(tiny_settings.index_dir)


def test_two_builds_at_once_one_writes_and_the_other_waits(tiny_settings) -> None:
    build_index(settings=tiny_settings, progress=False)
    first = int(current_generation(tiny_settings.index_dir).split("-")[1])
    (tiny_settings.docs_dir / "both.txt").write_text("同時に追加された文書。", encoding="utf-8")
    processes = [
        subprocess.Popen(
            _build_command(tiny_settings),
            env=_env(tiny_settings),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0]
    assert sum("1 added" in out for out in outputs) == 1  # the waiter found nothing left to do
    assert int(current_generation(tiny_settings.index_dir).split("-")[1]) == first + 1
    assert "both.txt" in _doc_ids(tiny_settings)


def test_a_busy_index_fails_cleanly_when_the_wait_runs_out(tiny_settings) -> None:
    from filelock import FileLock

    build_index(settings=tiny_settings, progress=False)
    env = {**_env(tiny_settings), "QA_BUILD_LOCK_TIMEOUT": "0.5"}
    with FileLock(tiny_settings.index_dir / ".lock"):
        result = subprocess.run(
            _build_command(tiny_settings), env=env, cwd=ROOT, capture_output=True, text=True
        )
    assert result.returncode == 2
    assert "another build" in result.stderr and "Traceback" not in result.stderr


FILES = st.sampled_from(["a.txt", "b.md", "sub/c.txt"])
EDITS = st.lists(
    st.tuples(st.sampled_from(["write", "remove", "build"]), FILES, st.integers(0, 3)),
    min_size=1,
    max_size=6,
)
SENTENCES = ["東京は晴れ。", "Osaka is rainy today.", "京都では雪が降った。", "札幌は寒い。"]


@hsettings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(edits=EDITS)
def test_incremental_builds_equal_a_full_rebuild(tiny_settings, tmp_path_factory, edits) -> None:
    root = tmp_path_factory.mktemp("prop")
    s = tiny_settings.replace(docs_dir=root / "docs", index_dir=root / "index")
    (s.docs_dir / "sub").mkdir(parents=True)
    (s.docs_dir / "base.txt").write_text("基本の文書。" * 40, encoding="utf-8")
    build_index(settings=s, progress=False)
    for action, name, n in edits:
        path = s.docs_dir / name
        if action == "write":
            path.write_text(" ".join(SENTENCES[: n + 1]) * (n + 1), encoding="utf-8")
        elif action == "remove":
            path.unlink(missing_ok=True)
        else:
            build_index(settings=s, progress=False)
    build_index(settings=s, progress=False)
    incremental = load_index(s.index_dir)
    build_index(settings=s, full=True, progress=False)
    full = load_index(s.index_dir)
    assert sorted(incremental.documents) == sorted(full.documents)
    # The live rows, wherever their segments put them, are the full build's rows.
    rows = incremental.live_rows()
    assert [incremental.chunks[i] for i in rows] == full.chunks
    assert np.allclose(incremental.all_vectors()[rows], full.all_vectors(), atol=1e-4)


def test_removed_files_leave_the_index(tiny_settings) -> None:
    extra: Path = tiny_settings.docs_dir / "gone.txt"
    extra.write_text("消える文書。", encoding="utf-8")
    build_index(settings=tiny_settings, progress=False)
    extra.unlink()
    stats = build_index(settings=tiny_settings, progress=False)
    assert stats.removed == 1 and "gone.txt" not in _doc_ids(tiny_settings)


pytestmark = pytest.mark.slow
