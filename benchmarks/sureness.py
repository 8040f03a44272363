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
    .venv/bin/python benchmarks/sureness.py [--reads work/calib]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from fit_selector import _best, _passages, cached, featured

from qa.config import Settings
from qa.selection import Selector

ROOT = Path(__file__).resolve().parent.parent
BINS = 10


def calibration_error(p: np.ndarray, right: np.ndarray) -> float:
    """Expected calibration error over BINS equal-width bins of probability."""
    bins = np.minimum((p * BINS).astype(int), BINS - 1)
    gaps = [abs(p[bins == b].mean() - right[bins == b].mean()) * (bins == b).sum()
            for b in range(BINS) if (bins == b).any()]  # fmt: skip
    return float(sum(gaps) / len(p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=Path, default=ROOT / "work" / "calib")
    args = parser.parse_args()
    paths = sorted(args.reads.glob("selector-reads-*.jsonl"))
    if not paths:
        sys.exit(f"no reads in {args.reads}: run benchmarks/fit_selector.py first")
    s = Settings.load()
    selector = Selector.load(s.selector_weights)
    ks = _passages(s.reader_passages, s.reader_passages_cross_lingual)
    rows = []  # (split, pairing, probability, right)
    for path in paths:
        for r in featured(cached(path, list)):
            logit, where = _best(r, ks[r.lang], selector.of)
            if where is not None:
                rows.append((r.split, r.lang, 1 / (1 + np.exp(-logit)), r.contains[where]))
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
