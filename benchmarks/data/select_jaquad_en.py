"""Select the 300 JaQuAD training questions that jaquad-train-en.jsonl renders in English.

Rule: sort every question id of jaquad-train.json (string order, e.g. tr-000-00-000),
take ids[i * k] for i in 0..299 with k = len(ids) // 300. Prints one JSON line per
question (id, question, answer, ~150-character context excerpt around the answer).

    .venv/bin/python benchmarks/data/select_jaquad_en.py [path/to/jaquad-train.json]
"""

import json
import sys
from pathlib import Path

N = 300
DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "jaquad-train.json"


def load(path):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = {}
    for article in data["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                out[qa["id"]] = (article["title"], para["context"], qa)
    return out


def select(path=DEFAULT):
    qas = load(path)
    ids = sorted(qas)
    k = len(ids) // N
    return [ids[i * k] for i in range(N)], qas


def main():
    chosen, qas = select(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)
    for qid in chosen:
        title, context, qa = qas[qid]
        ans = qa["answers"][0]
        start = ans["answer_start"]
        lo, hi = max(0, start - 75), min(len(context), start + len(ans["text"]) + 75)
        print(
            json.dumps(
                {
                    "id": qid,
                    "title": title,
                    "question": qa["question"],
                    "answer": ans["text"],
                    "excerpt": context[lo:hi],
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
