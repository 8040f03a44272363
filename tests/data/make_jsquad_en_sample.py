"""Write the English held-out fixture: tests/data/jsquad-heldout-en.jsonl and jsquad-en-sample.json.

jsquad-heldout-en.jsonl: the first 40 of the 100 English questions of
benchmarks/data/jsquad-heldout-en.jsonl (written by hand for kotae about JSQuAD v1.3 valid
paragraphs of the held-out half; CC BY-SA 4.0 like their source). jsquad-en-sample.json: the
JSQuAD v1.3 valid paragraphs those questions are about (JGLUE, Yahoo Japan; CC BY-SA 4.0),
in SQuAD format with their Japanese questions, leaving out the paragraphs jsquad-sample.json
already holds. Tests index both files together, so each English question is asked over about
230 paragraphs, its own among them.

Run from the project root: .venv/bin/python tests/data/make_jsquad_en_sample.py [SOURCE]
(SOURCE defaults to ../shared/data/jsquad-valid-v1.3.json.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from make_jsquad_sample import SOURCE, _deduplicated

HERE = Path(__file__).resolve().parent
ENGLISH = HERE.parents[1] / "benchmarks" / "data" / "jsquad-heldout-en.jsonl"
QUESTIONS = HERE / "jsquad-heldout-en.jsonl"
PARAGRAPHS = HERE / "jsquad-en-sample.json"
SAMPLE = HERE / "jsquad-sample.json"
COUNT = 40


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    data = json.loads(source.read_text(encoding="utf-8"))
    rows = ENGLISH.read_text(encoding="utf-8").splitlines()[:COUNT]
    wanted = {json.loads(row)["id"] for row in rows}
    held = json.loads(SAMPLE.read_text(encoding="utf-8"))
    have = {q["id"] for a in held["data"] for p in a["paragraphs"] for q in p["qas"]}
    articles = []
    for article in data["data"]:
        kept = [
            {**p, "qas": [_deduplicated(q) for q in p["qas"]]}
            for p in article["paragraphs"]
            if {q["id"] for q in p["qas"]} & wanted and not {q["id"] for q in p["qas"]} & have
        ]
        if kept:
            articles.append({**article, "paragraphs": kept})
    out = {**data, "data": articles}
    PARAGRAPHS.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    QUESTIONS.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    paragraphs = sum(len(a["paragraphs"]) for a in articles)
    print(f"{QUESTIONS.name}: {len(rows)} questions; {PARAGRAPHS.name}: {paragraphs} paragraphs")


if __name__ == "__main__":
    main()
