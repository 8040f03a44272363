"""Does `qa.japanese.trim_answer` help exact match without hurting it? Measured on gold spans.

JaQuAD dev (SkelterLabs, CC BY-SA 3.0), read from ../shared/data. For each gold answer:
- damage: trimming the exact gold span changes it (lower is better; it costs EM);
- recovery: the gold span with a particle glued on, as a reader's tokens do ("1928年に"),
  trims back to exactly the gold. "after" glues the 1-2 characters that follow the gold when
  they are one of the common particles below; "before" glues a one-character particle that
  precedes it ("の阿部孝"). The particle lists are fixed strings, not the analyser, so the
  analyser is not graded by itself.
Choices are made on the tuning half (`qa.evaluation.split_of`); both halves are reported.
    .venv/bin/python benchmarks/trim_effect.py [--show 10] [--unwrap] [--alone]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from qa.evaluation import split_of
from qa.japanese import trim_answer

ROOT = Path(__file__).resolve().parent.parent
JAQUAD_DEV = ROOT.parent / "shared" / "data" / "jaquad-dev.json"
# Two-character particles first, so that "から" is glued whole, not as "か".
PARTICLES_AFTER = (
    "から まで より には では とは への との での に で が を は の と も へ や".split()
)
PARTICLES_BEFORE = list("のはがをにでとも")


def golds(path: Path) -> list[tuple[str, str, int, int]]:
    """(split, context, start, end) of every gold answer whose offsets match its text."""
    out = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        split = split_of(article["title"])
        for p in article["paragraphs"]:
            context = p["context"]
            for q in p["qas"]:
                for a in q["answers"]:
                    start, end = a["answer_start"], a["answer_start"] + len(a["text"])
                    if context[start:end] == a["text"]:
                        out.append((split, context, start, end))
    return out


def glued_after(context: str, end: int) -> int | None:
    """The end of the gold with the particle that follows it glued on, if one does."""
    return next((end + len(p) for p in PARTICLES_AFTER if context.startswith(p, end)), None)


def glued_before(context: str, start: int) -> int | None:
    """The start of the gold with the particle before it glued on, if one is there."""
    return start - 1 if start > 0 and context[start - 1] in PARTICLES_BEFORE else None


def trimmer(unwrap: bool, alone: bool) -> Callable[[str, int, int], tuple[int, int]]:
    """trim_answer in its text, or (alone) on the span by itself, out of its sentence."""

    def trim(context: str, start: int, end: int) -> tuple[int, int]:
        if alone:
            a, b = trim_answer(context[start:end], 0, end - start, unwrap=unwrap)
            return start + a, start + b
        return trim_answer(context, start, end, unwrap=unwrap)

    return trim


def measure(
    cases: list[tuple[str, str, int, int]],
    trim: Callable[[str, int, int], tuple[int, int]],
    show: int,
) -> Counter[tuple[str, str]]:
    """Counts by (split, what): golds, damaged, glued after/before and recovered."""
    count: Counter[tuple[str, str]] = Counter()
    for split, context, start, end in cases:
        gold = context[start:end]
        count[split, "gold"] += 1
        spans = [("damaged", start, end)]
        if (after := glued_after(context, end)) is not None:
            spans.append(("after", start, after))
        if (before := glued_before(context, start)) is not None:
            spans.append(("before", before, end))
        for what, g0, g1 in spans:
            count[split, what] += what != "damaged"
            a, b = trim(context, g0, g1)
            if (a, b) == (start, end):
                count[split, what + " recovered"] += what != "damaged"
                continue
            count[split, what] += what == "damaged"
            if split == "tuning" and count["shown", what] < show:
                count["shown", what] += 1
                print(f"  {what}: {context[g0:g1]!r} -> {context[a:b]!r} (gold {gold!r})")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=JAQUAD_DEV)
    parser.add_argument("--unwrap", action="store_true", help="trim_answer(unwrap=True)")
    parser.add_argument("--alone", action="store_true", help="analyse each span without its text")
    parser.add_argument("--show", type=int, default=0, help="print N tuning-half failures")
    args = parser.parse_args()

    cases = golds(args.data)
    began = time.perf_counter()
    count = measure(cases, trimmer(args.unwrap, args.alone), args.show)
    elapsed = time.perf_counter() - began
    calls = sum(v for (split, what), v in count.items() if what in ("gold", "after", "before"))

    alone = ", each span analysed alone" if args.alone else ""
    print(f"trim_answer(unwrap={args.unwrap}) on JaQuAD dev gold spans{alone}")
    print("split     golds  damaged         glued after  recovered       glued before  recovered")
    for split in ("tuning", "heldout"):
        n, damaged = count[split, "gold"], count[split, "damaged"]
        after, before = count[split, "after"], count[split, "before"]
        rec_a, rec_b = count[split, "after recovered"], count[split, "before recovered"]
        print(
            f"{split:8} {n:6}  {damaged:4} ({damaged / n:6.2%})  {after:11}  {rec_a:5} "
            f"({rec_a / after:6.2%})  {before:12}  {rec_b:5} ({rec_b / before:6.2%})"
        )
    print(f"{calls} trims in {elapsed:.1f} s ({elapsed / calls * 1000:.2f} ms each, load incl.)")


if __name__ == "__main__":
    main()
