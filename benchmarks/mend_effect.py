"""Are words a typesetter broke at a line's end made whole again, and only those?

Each paragraph of the English articles written for kotae (benchmarks/data/english-articles.json)
is filled to 72 characters a line as a typesetter fills it (`calibrate_abstention.hyphen_fill`:
TeX's English patterns, and a compound broken after its own hyphen), its lines joined as a
PDF's are (`qa.formats.joined`, which mends broken words), and its words compared with the
paragraph's own. Per half (`qa.evaluation.split_of`):
- breaks: line ends where a word was broken (by a pattern or at a compound's hyphen);
- wrong: words of the mended text that are not the paragraph's (a compound's hyphen dropped,
  or a broken word left broken), counted by difflib over whitespace-split words.
    .venv/bin/python benchmarks/mend_effect.py [--show]
"""

from __future__ import annotations

import argparse
import difflib
import json
from pathlib import Path

from calibrate_abstention import hard_wrap

from qa.evaluation import split_of
from qa.formats import joined

ARTICLES = Path(__file__).resolve().parent / "data" / "english-articles.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print each wrong word")
    args = parser.parse_args()
    counts: dict[str, list[int]] = {"tuning": [0, 0], "heldout": [0, 0]}
    for article in json.loads(ARTICLES.read_text(encoding="utf-8"))["data"]:
        half = counts[split_of(article["title"])]
        for paragraph in article["paragraphs"]:
            wrapped = hard_wrap(paragraph["context"], hyphens=True)
            half[0] += sum(line.endswith("-") for line in wrapped.split("\n"))
            mended, own = joined([wrapped])[0].split(), paragraph["context"].split()
            for op, a, b, c, d in difflib.SequenceMatcher(a=own, b=mended).get_opcodes():
                if op != "equal":
                    half[1] += max(b - a, d - c)
                    if args.show:
                        print(f"{' '.join(own[a:b])!r} -> {' '.join(mended[c:d])!r}")
    for name, (breaks, wrong) in counts.items():
        print(f"{name}: {breaks} words broken at a line's end, {wrong} wrong after mending")


if __name__ == "__main__":
    main()
