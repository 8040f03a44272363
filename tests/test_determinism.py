"""The same question and history over the same index give the same Answer in every process,
under any hash seed, whatever was asked before (issue 14, item 6).

Three fresh subprocesses with different PYTHONHASHSEEDs ask one fixed list of questions in
different orders, twice over, and the test process asks them once more after whatever other
tests asked; every Answer must be equal, field for field, scores included. Most of its time
goes to the three model loads.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from qa import answer

from .conftest import DATA, ROOT, dev_cases

# Reported: answered under PYTHONHASHSEED 1 and 3 and abstained under 2 and 4, in a fresh
# process ("hold 50% of the question's key terms (needed 50%)").
REPORTED = ("講演したのは誰ですか？", ["Xenの仮想化ドライバのライセンスは？"])
_FOLLOW_UPS = [
    json.loads(line)
    for line in (DATA / "followups.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]
QUESTIONS: list[tuple[str, list[str]]] = [
    REPORTED,
    *((str(c["question"]), []) for c in dev_cases()),
    *((c["turns"][1], [c["turns"][0]]) for c in _FOLLOW_UPS[::3]),
]
_CHILD = """
import json, sys
from pathlib import Path
from qa import answer
asked = json.loads(Path(sys.argv[1]).read_text("utf-8"))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for i, question, history in asked:
        a = answer(question, history=history)
        out.write(json.dumps([i, a.to_dict()], ensure_ascii=False) + "\\n")
"""


def _orders() -> dict[int, list[int]]:
    """The order each subprocess asks in, by hash seed: the reported follow-up first, in a
    fresh process, under a seed on either side of the report; and after other questions."""
    forward = list(range(len(QUESTIONS)))
    shuffled = forward[1:]
    random.Random(14).shuffle(shuffled)
    middle = len(shuffled) // 2
    return {
        1: forward,
        2: forward[:1] + forward[:0:-1],
        3: shuffled[:middle] + forward[:1] + shuffled[middle:],
    }


def _as_json(a) -> dict[str, object]:
    return json.loads(json.dumps(a.to_dict(), ensure_ascii=False))


def test_answers_are_the_same_in_every_process_and_order(seed_settings, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QA_INDEX_DIR": str(seed_settings.index_dir),
        "QA_DOCS_DIR": str(seed_settings.docs_dir),
        "QA_CACHE_DIR": str(seed_settings.cache_dir),
    }
    children: dict[int, subprocess.Popen[bytes]] = {}
    runs: dict[str, list[list]] = {}
    try:
        for seed, order in _orders().items():
            # Twice over: in the given order, then backwards.
            plan = [[i, *QUESTIONS[i]] for i in order + order[::-1]]
            asked = tmp_path / f"asked-{seed}.json"
            asked.write_text(json.dumps(plan, ensure_ascii=False), "utf-8")
            with open(tmp_path / f"stderr-{seed}", "w") as err:
                children[seed] = subprocess.Popen(
                    [sys.executable, "-c", _CHILD, str(asked), str(tmp_path / f"said-{seed}")],
                    cwd=ROOT,
                    env={**env, "PYTHONHASHSEED": str(seed)},
                    stderr=err,
                )
        # Meanwhile this process, after whatever earlier tests asked.
        here = [
            [i, _as_json(answer(q, history=h, settings=seed_settings))]
            for i, (q, h) in enumerate(QUESTIONS)
        ]
        runs["this process"] = here
        for seed, child in children.items():
            assert child.wait(timeout=600) == 0, (tmp_path / f"stderr-{seed}").read_text()
            lines = (tmp_path / f"said-{seed}").read_text("utf-8").splitlines()
            assert len(lines) == 2 * len(QUESTIONS)
            runs[f"PYTHONHASHSEED={seed}"] = [json.loads(line) for line in lines]
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()
                child.wait()
    reference = dict(runs["PYTHONHASHSEED=1"][: len(QUESTIONS)])
    for run, answers in runs.items():
        for i, got in answers:
            expected = reference[i]
            differing = {k: (got[k], expected[k]) for k in expected if got[k] != expected[k]}
            assert not differing, (run, "vs PYTHONHASHSEED=1", QUESTIONS[i], differing)
