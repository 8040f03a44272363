"""Select the JaQuAD training questions that jaquad-train-en.jsonl (300) and
jaquad-train2-en.jsonl (300 more, --second) render in English.

Rule: sort every question id of jaquad-train.json (string order, e.g. tr-000-00-000),
take ids[i * k] for i in 0..299 with k = len(ids) // 300; the second round takes
ids[i * k + k // 2], halfway between the first round's. Prints one JSON line per
question (id, question, answer, ~150-character context excerpt around the answer).

    .venv/bin/python benchmarks/data/select_jaquad_en.py [--second] [path/to/jaquad-train.json]
"""

import argparse
import json
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


def select(path=DEFAULT, second=False):
    qas = load(path)
    ids = sorted(qas)
    k = len(ids) // N
    offset = k // 2 if second else 0
    return [ids[i * k + offset] for i in range(N)], qas


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=DEFAULT, type=Path)
    parser.add_argument("--second", action="store_true", help="the second round's 300")
    args = parser.parse_args()
    chosen, qas = select(args.path, args.second)
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
