"""Negatives as a user has them: each article indexed without one of its paragraphs, re-chunked,
and every question of that paragraph asked of it.

`calibrate_abstention.py --articles` builds a negative by leaving out the chunks that overlap the
question's paragraph. That depends on the chunker: a chunk that joins the end of one paragraph to
the start of the next takes some of the neighbours' text away with it, so two chunkers are not
judged on the same negatives. Here the paragraph is really gone: one paragraph per article (the
one asked most, counting the questions written in the other language; ties go to the first) is
left out of a second index of the articles (`index_squad(..., omit=...)`), and every question of
it is asked there (`qa.evaluation_answers.absent_negatives`), kept only when no passage read
holds a gold answer. Reported per split and language at the configured minimums
(QA_MIN_ANSWER_LOGIT*): the share of negatives answered.

Same data as calibrate_abstention.py (its SETS). Run (about 10 minutes on 2 cores; the indexes
are cached in --workdir, default work/absent):

    .venv/bin/python benchmarks/absent_negatives.py
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from calibrate_abstention import SETS

from qa.answering import minimums
from qa.evaluation import (
    AskedCase,
    article_places,
    asked_cases,
    index_squad,
    load_squad,
    translated_cases,
)
from qa.evaluation_answers import absent_negatives

ROOT = Path(__file__).resolve().parent.parent


def left_out(cases: list[AskedCase]) -> frozenset[int]:
    """Per article, the paragraph with the most questions (the first of a tie)."""
    asked = Counter(c.paragraph for c in cases)
    best: dict[str, int] = {}
    for case in sorted(cases, key=lambda c: c.paragraph):
        article = case.place.doc_id
        if article not in best or asked[case.paragraph] > asked[best[article]]:
            best[article] = case.paragraph
    return frozenset(best.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "work" / "absent")
    args = parser.parse_args()

    print(f"{'set':10}{'group':16}{'asked':>7}{'kept':>6}{'answered':>10}")
    for name, (path, translated) in SETS.items():
        paragraphs = load_squad(path)
        places = article_places(paragraphs)
        cases = asked_cases(paragraphs, places)
        for extra in translated:
            cases += translated_cases(extra, paragraphs, places)
        omit = left_out(cases)
        without = index_squad(path, args.workdir / f"{name}-without", articles=True, omit=omit)
        asked = [c for c in cases if c.paragraph in omit and c.answers]
        configured = minimums(without.settings)
        confidences = list(absent_negatives(asked, without.settings, progress=True))
        for group in sorted(
            {(c.split, c.lang) for c in asked}, key=lambda g: (g[0] != "tuning", g)
        ):
            kept = [
                m
                for c, m in zip(asked, confidences, strict=True)
                if (c.split, c.lang) == group and m is not None
            ]
            answered = sum(m >= configured[group[1]] for m in kept) / max(1, len(kept))
            n = sum((c.split, c.lang) == group for c in asked)
            print(f"{name:10}{'/'.join(group):16}{n:>7}{len(kept):>6}{answered:>10.3f}")


if __name__ == "__main__":
    main()
