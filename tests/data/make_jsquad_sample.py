"""Write tests/data/jsquad-sample.json: a small, fixed subset of JSQuAD v1.3 valid.

Source: JSQuAD v1.3 validation set, JGLUE (Yahoo Japan), CC BY-SA 4.0; the sample is under the
same licence. Rule: every 6th paragraph in file order (paragraphs 0, 6, 12, ... of 1,145: 191
paragraphs from 48 of the 59 articles), each with all its questions; the articles keep their
titles and order. To keep the file small, an answer repeated verbatim by several annotators (same
text, same start) is kept once, and the JSON is written compactly; nothing else changes.

Run from the project root: .venv/bin/python tests/data/make_jsquad_sample.py [SOURCE]
(SOURCE defaults to ../shared/data/jsquad-valid-v1.3.json.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2] / "shared" / "data" / "jsquad-valid-v1.3.json"
TARGET = HERE / "jsquad-sample.json"
STEP = 6  # every 6th paragraph: a spread over the whole file, not a few topics


def sample(data: dict) -> dict:
    """Every STEP-th paragraph of a SQuAD-format dict, counted across articles in file order."""
    articles, n = [], 0
    for article in data["data"]:
        kept = []
        for paragraph in article["paragraphs"]:
            if n % STEP == 0:
                kept.append({**paragraph, "qas": [_deduplicated(q) for q in paragraph["qas"]]})
            n += 1
        if kept:
            articles.append({**article, "paragraphs": kept})
    return {**data, "data": articles}


def _deduplicated(question: dict) -> dict:
    """The question with each distinct answer once, in first-seen order."""
    answers: list[dict] = []
    for answer in question["answers"]:
        if answer not in answers:
            answers.append(answer)
    return {**question, "answers": answers}


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    data = json.loads(source.read_text(encoding="utf-8"))
    out = sample(data)
    text = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
    TARGET.write_text(text + "\n", encoding="utf-8")
    out = out["data"]
    paragraphs = sum(len(a["paragraphs"]) for a in out)
    questions = sum(len(p["qas"]) for a in out for p in a["paragraphs"])
    print(f"{TARGET.name}: {paragraphs} paragraphs, {questions} questions, {len(out)} articles")


if __name__ == "__main__":
    main()
