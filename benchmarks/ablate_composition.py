"""Answer containment on JSQuAD with each composition rule switched off, in one process.

JSQuAD: JGLUE (Yahoo Japan), CC BY-SA 4.0, read from ../shared/data (not copied here).

    .venv/bin/python benchmarks/ablate_composition.py --workdir DIR [--questions 1000]
        [--only REGEX]

DIR holds (or receives) the documents and index of `qa eval --squad ... --workdir DIR`. The
sample is the one `qa eval --squad ... --answers N` answers, and each question is retrieved
once; the default row equals that command's containment. The other rows patch one rule of
qa.answering out (or change the support rank), so every row shares the same retrieval.
--only answers every JSQuAD valid question that matches REGEX instead of the sample, to
measure a rule on the questions it is for.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

from qa import answering
from qa.answering import Retrieved, compose
from qa.errors import InvalidQuestion
from qa.evaluation import SAMPLE_SEED, contains_answer, index_squad
from qa.questions import check_question

JSQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "jsquad-valid-v1.3.json"


# Each variant: attributes of qa.answering replaced while it runs.
ABLATIONS: dict[str, dict[str, object]] = {
    "default": {},
    "support rank 0.8 (was the default)": {"_SUPPORT_RANK": 0.8},
    "support rank 0.6": {"_SUPPORT_RANK": 0.6},
    "no 'what is it called' rule": {"asks_name": lambda q: False},
    "no 'who' rules": {"asks_who": lambda q: False},
    "no slot rule (誰から ~ 開発者から)": {"answer_slot": lambda q: None},
    "no title realisation (タイトル ~ 「…」)": {"implied_terms": lambda text, wanted: set()},
    "clause windows may cut brackets": {
        "_balanced": lambda quote: True,
        "_whole_pairs": lambda text, start, end, lo, hi: (start, end),
    },
}


def main() -> None:
    """Print containment, abstention and median length of each variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="documents and index")
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--only", type=re.compile, help="every question matching this instead")
    args = parser.parse_args()
    squad = index_squad(JSQUAD, args.workdir)
    s, embedder, searcher = squad.settings, squad.embedder, squad.searcher
    documents = {d: e.document for d, e in searcher.index.documents.items()}
    questions = [
        (q, gold) for p in squad.paragraphs for q, gold in zip(p.questions, p.answers, strict=True)
    ]
    if args.only:
        sample = [(q, gold) for q, gold in questions if args.only.search(q)]
    else:
        sample = random.Random(SAMPLE_SEED).sample(questions, min(args.questions, len(questions)))
    retrieved: list[tuple[str, Retrieved, list[str]]] = []
    for question, gold in sample:
        try:
            cleaned = check_question(question, s.max_question_chars)
        except InvalidQuestion:
            continue  # counted as a miss below, as qa eval does
        vector = embedder.encode_query(cleaned)
        hits = searcher.search(cleaned, vector, s.top_k, s.lexical_weight)
        retrieved.append((cleaned, Retrieved(hits, documents, searcher.lexical, vector), gold))
    print(
        f"{len(sample)} questions"
        + (f" matching {args.only.pattern}" if args.only else f" (seed {SAMPLE_SEED})")
    )
    print(f"{'variant':45s} contains  abstained  median chars (of answers given)")
    for name, patches in ABLATIONS.items():
        contained, abstained, lengths = 0, len(sample) - len(retrieved), []
        with ExitStack() as stack:
            for attribute, value in patches.items():
                stack.enter_context(mock.patch.object(answering, attribute, value))
            for question, found, gold in retrieved:
                a = compose(question, question, found, embedder, s)
                contained += not a.abstained and contains_answer(a.text, gold)
                abstained += a.abstained
                if not a.abstained:
                    lengths.append(len(a.text))
        median = statistics.median(lengths) if lengths else 0
        print(
            f"{name:45s} {contained / len(sample):8.3f}  {abstained / len(sample):9.3f}  "
            f"{median:12.0f}"
        )


if __name__ == "__main__":
    main()
