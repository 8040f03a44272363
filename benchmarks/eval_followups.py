"""Two-turn conversations on the tuning and held-out halves: follow-ups and changes of subject.

Follow-ups are built from JSQuAD v1.3 valid (JGLUE, Yahoo Japan; CC BY-SA 4.0) and JaQuAD
dev (SkelterLabs; CC BY-SA 3.0), read from ../shared/data at run time, by
`qa.evaluation_followups.conversations` (a question naming the article, then another about the
same paragraph with the article's name replaced by a pronoun), and written by hand in English
over benchmarks/data/english-articles.json (english-followups.jsonl). Each follow-up is
searched as `answer()` searches it (the first turn and the follow-up) and answered from the
same passages two ways: the reader reading the follow-up "as asked" (what kotae does) or the
"searched" query, the selector judging with the searched query either way; and, to show what
the first turn is worth, "alone" (the follow-up without the conversation). Switches
(`qa.evaluation_followups.switches`): sampled questions each asked after a question about
another article, as asked and alone; asked well, they come out as alone. Negatives: the
question again without its own paragraph, kept only when no remaining passage holds a gold
answer. With --articles each article is indexed as one document (its paragraphs a blank line
apart, as a user's long document): the conversation then says little about which chunk to read,
and a negative leaves out only the chunks of the answer's paragraph. Run (about 20 minutes on 2
cores; the paragraph indexes are those of calibrate_abstention.py, cached in --workdir, default
work/calib, or work/articles with --articles):

    .venv/bin/python benchmarks/eval_followups.py [--conversations 100] [--articles] [--sets S] \
        [--workdir W]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qa.evaluation import index_squad
from qa.evaluation_followups import (
    ask_follow_ups,
    conversations,
    switches,
    written_conversations,
)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DATA = ROOT / "benchmarks" / "data"
SETS = {  # name: (SQuAD file, follow-ups written for it, or None to build them)
    "jsquad": (SHARED / "jsquad-valid-v1.3.json", None),
    "jaquad": (SHARED / "jaquad-dev.json", None),
    "english": (DATA / "english-articles.json", DATA / "english-followups.jsonl"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100, help="per split and set")
    parser.add_argument("--articles", action="store_true", help="one document per article")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS), help="default: all")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    workdir = args.workdir or ROOT / "work" / ("articles" if args.articles else "calib")

    print(f"{'':28}{'reader reads':>14}{'n':>6}{'contains':>10}{'abstains':>10}", end="")
    print(f"{'neg n':>7}{'neg ans':>9}")
    for name in args.sets:
        path, written = SETS[name]
        indexed = index_squad(path, workdir / name, articles=args.articles)
        paragraphs = indexed.paragraphs
        follow_ups = (
            written_conversations(written, paragraphs)
            if written
            else conversations(paragraphs, args.conversations)
        )
        for kind, cases, readings in (
            ("follow-up", follow_ups, ("as asked", "searched", "alone")),
            ("switch", switches(paragraphs, args.conversations), ("as asked", "alone")),
        ):
            for reading in readings:
                for split, m in ask_follow_ups(cases, indexed, reading).items():
                    print(
                        f"{f'{name} {kind} {split}':28}{reading:>14}{m.conversations:>6}"
                        f"{m.contained:>10.3f}{m.abstained:>10.3f}{m.negatives:>7}"
                        f"{m.negatives_answered:>9.3f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
