"""Follow-up questions on the tuning and held-out halves: what the reader should read.

Conversations are built from JSQuAD v1.3 valid (JGLUE, Yahoo Japan; CC BY-SA 4.0) and JaQuAD
dev (SkelterLabs; CC BY-SA 3.0), read from ../shared/data at run time, by
`qa.evaluation_followups.conversations`: a question naming the article, then another about the
same paragraph with the article's name replaced by a pronoun. Each follow-up is searched as
`answer()` searches it (the first turn and the follow-up) and answered from the same passages
two ways: the reader reading the follow-up "as asked" (what kotae does) or the "searched"
query (what it did before this round), the selector judging with the searched query either
way. Negatives: the follow-up again without its own paragraph, kept only when no remaining
passage holds a gold answer. Run (about 6 minutes on 2 cores; the indexes are those of
calibrate_abstention.py, cached in --workdir):

    .venv/bin/python benchmarks/eval_followups.py [--conversations 100] [--workdir work/calib]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qa.evaluation import index_squad
from qa.evaluation_followups import ask_follow_ups, conversations

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SETS = {"jsquad": SHARED / "jsquad-valid-v1.3.json", "jaquad": SHARED / "jaquad-dev.json"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100, help="per split and set")
    parser.add_argument("--workdir", type=Path, default=ROOT / "work" / "calib")
    args = parser.parse_args()

    print(f"{'':16}{'reader reads':>14}{'n':>6}{'contains':>10}{'abstains':>10}", end="")
    print(f"{'neg n':>7}{'neg ans':>9}")
    for name, path in SETS.items():
        indexed = index_squad(path, args.workdir / name)
        cases = conversations(indexed.paragraphs, args.conversations)
        for reading in ("as asked", "searched"):
            for split, m in ask_follow_ups(cases, indexed, reading).items():
                print(
                    f"{name + ' ' + split:16}{reading:>14}{m.conversations:>6}{m.contained:>10.3f}"
                    f"{m.abstained:>10.3f}{m.negatives:>7}{m.negatives_answered:>9.3f}"
                )


if __name__ == "__main__":
    main()
