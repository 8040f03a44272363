"""Select the 100 held-out JSQuAD valid questions that jsquad-heldout-en.jsonl renders in English.

Held-out articles: int(sha256(title).hexdigest(), 16) % 2 == 1 (the others are for tuning).
Rule: list the held-out paragraphs with titles in sorted order and, within an article, in
file order; number them p = 0, 1, 2, ...; paragraph p offers one question, qas[p % len(qas)].
Take paragraphs p = i * k for i in 0..99 with k = len(paragraphs) // 100. A candidate whose
id is in SKIP (no faithful English rendering, or no gold answer lying in the text after
" [SEP] ") is replaced by paragraph p + 1 (then p + 2, ...). Prints one JSON line per question.

    .venv/bin/python benchmarks/data/select_jsquad_en.py [path/to/jsquad-valid-v1.3.json]
"""

import hashlib
import json
import sys
from pathlib import Path

N = 100
DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "jsquad-valid-v1.3.json"
SEP = " [SEP] "
# Candidates replaced by the next paragraph's question (see the docstring), decided by hand:
SKIP = {
    # 住居表示: "地番を用いた住所の表示とは？" has no coherent reading its gold answers fit
    "a73860p18q4",
    "a14985p86q2",  # 日本共産党: asks who founded the JCP; the gold span founded a different party
}


def held_out(title):
    return int(hashlib.sha256(title.encode("utf-8")).hexdigest(), 16) % 2 == 1


def paragraphs(path=DEFAULT):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for article in sorted(data["data"], key=lambda a: a["title"]):
        if held_out(article["title"]):
            out.extend((article["title"], para) for para in article["paragraphs"])
    return out


def in_text(para, qa):
    """True when some gold answer is a span of the text after the title separator."""
    cut = para["context"].find(SEP)
    body = cut + len(SEP) if cut >= 0 else 0
    return any(
        a["answer_start"] >= body
        and para["context"][a["answer_start"] : a["answer_start"] + len(a["text"])] == a["text"]
        for a in qa["answers"]
    )


def select(path=DEFAULT):
    paras = paragraphs(path)
    k = len(paras) // N
    chosen = []
    for i in range(N):
        p = i * k
        while True:
            title, para = paras[p]
            qa = para["qas"][p % len(para["qas"])]
            if qa["id"] not in SKIP and in_text(para, qa):
                break
            p += 1
            if p >= (i + 1) * k:
                raise SystemExit(f"no usable candidate for slot {i}")
        chosen.append((title, para, qa))
    return chosen


def main():
    for title, para, qa in select(sys.argv[1] if len(sys.argv) > 1 else DEFAULT):
        print(
            json.dumps(
                {
                    "id": qa["id"],
                    "title": title,
                    "question": qa["question"],
                    "answers": [a["text"] for a in qa["answers"]],
                    "context": para["context"].split(SEP, 1)[-1],
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
