"""Does an answer's stated confidence (`Answer.probability`) match how often it is right?

Reuses the reads `benchmarks/fit_selector.py` caches (work/calib/selector-reads-*.jsonl: JSQuAD
v1.3 valid, JGLUE, CC BY-SA 4.0; JaQuAD dev, CC BY-SA 3.0; the English questions and articles
of benchmarks/data), so run that first. Each read question, answerable or asked with its own
paragraph left out, gets the shipped selector's best span among the passages an answer reads;
its probability is set against whether the sentence quoted around the span holds a gold answer
(always false for a negative). Per half (`qa.evaluation.split_of`) and pairing of languages:
the mean probability, the share right, and the expected calibration error over ten bins of
probability (the share-weighted gap between a bin's mean probability and its share right);
then the bins of all pairings together.

With --cases, the questions are those `calibrate_abstention.py` answered end to end through
`answering.compose` (its <set>-cases.jsonl in its work folder): each answer's log-odds against
whether the answer's text holds a gold answer, and each negative's against false.
    .venv/bin/python benchmarks/sureness.py [--reads work/calib] [--cases]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from fit_selector import _best, _passages, cached, featured

from qa.config import Settings
from qa.selection import Selector
from qa.types import probability

ROOT = Path(__file__).resolve().parent.parent
BINS = 10


def calibration_error(p: np.ndarray, right: np.ndarray) -> float:
    """Expected calibration error over BINS equal-width bins of probability."""
    bins = np.minimum((p * BINS).astype(int), BINS - 1)
    gaps = [abs(p[bins == b].mean() - right[bins == b].mean()) * (bins == b).sum()
            for b in range(BINS) if (bins == b).any()]  # fmt: skip
    return float(sum(gaps) / len(p))


def from_reads(folder: Path) -> list[tuple[str, str, float, bool]]:
    """(split, pairing, log-odds, right) of each read question's best span, as answers choose."""
    s = Settings.load()
    selector = Selector.load(s.selector_weights)
    ks = _passages(s.reader_passages, s.reader_passages_cross_lingual)
    rows = []
    for path in sorted(folder.glob("selector-reads-*.jsonl")):
        for r in featured(cached(path, list)):
            logit, where = _best(r, ks[r.lang], selector.of)
            if where is not None:
                rows.append((r.split, r.lang, logit, r.contains[where]))
    return rows


def from_cases(folder: Path) -> list[tuple[str, str, float, bool]]:
    """(split, pairing, log-odds, right) of each answer and each negative of the cases."""
    rows = []
    for path in sorted(folder.glob("*-cases.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            c = json.loads(line)
            rows.append((c["split"], c["lang"], c["confidence"], c["contained"]))
            if c["negative"] is not None:
                rows.append((c["split"], c["lang"], c["negative"], False))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reads", type=Path, default=ROOT / "work" / "calib", help="the reads' (or cases') folder"
    )
    parser.add_argument("--cases", action="store_true", help="answers end to end")
    args = parser.parse_args()
    made_by = "calibrate_abstention.py" if args.cases else "fit_selector.py"
    logits = (from_cases if args.cases else from_reads)(args.reads)
    if not logits:
        sys.exit(f"nothing read in {args.reads}: run benchmarks/{made_by} first")
    rows = [(split, lang, probability(x), right) for split, lang, x, right in logits]
    for split in ("tuning", "heldout"):
        for lang in [*sorted({lang for _, lang, _, _ in rows}), "all"]:
            mine = [(p, y) for sp, la, p, y in rows if sp == split and lang in (la, "all")]
            p, right = (np.array(column, dtype=float) for column in zip(*mine, strict=True))
            print(
                f"{split:>8} {lang:>6}: n {len(p):5d}  mean probability {p.mean():.3f}"
                f"  right {right.mean():.3f}  calibration error {calibration_error(p, right):.3f}"
            )
        bins = np.minimum((p * BINS).astype(int), BINS - 1)
        for b in range(BINS):
            if (bins == b).any():
                m = bins == b
                print(f"{'':>17}{b / BINS:.1f}-{(b + 1) / BINS:.1f}: n {m.sum():4d}"
                      f"  mean {p[m].mean():.2f}  right {right[m].mean():.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
