"""Check jaquad-train-en.jsonl, jaquad-train2-en.jsonl, jsquad-heldout-en.jsonl,
jsquad-tuning-en.jsonl and jsquad-tuning2-en.jsonl against their sources.

Every line parses; ids exist in the source, are unique and are exactly the ones the
select_*.py rules pick (in order); answers are the source's gold answers and are substrings
of their context (JSQuAD: of the text after " [SEP] "); counts are 300, 300, 100, 100 and 200; the
two JaQuAD files share no question; English
questions are non-empty and contain no kana or kanji; each JSQuAD file's articles lie in its
half (qa.evaluation.split_of's rule), and the two tuning files share no paragraph.

    .venv/bin/python benchmarks/data/validate_en.py
"""

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import select_jaquad_en  # noqa: E402
import select_jsquad_en  # noqa: E402

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def rows(path):
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise SystemExit(f"{path.name}:{n}: not JSON: {e}") from None
    return out


def check_english(name, row):
    q = row.get("question_en", "")
    assert isinstance(q, str) and q.strip(), f"{name} {row['id']}: empty question_en"
    assert not CJK.search(q), f"{name} {row['id']}: Japanese characters in question_en: {q}"


def check_jaquad(second=False):
    path = HERE / ("jaquad-train2-en.jsonl" if second else "jaquad-train-en.jsonl")
    data = rows(path)
    chosen, qas = select_jaquad_en.select(second=second)
    ids = [r["id"] for r in data]
    assert len(data) == 300, f"{path.name}: {len(data)} lines, want 300"
    assert len(set(ids)) == len(ids), f"{path.name}: duplicate ids"
    assert ids == chosen, f"{path.name}: ids differ from select_jaquad_en.py's"
    for r in data:
        assert set(r) == {"id", "question_en", "answer"}, f"{r['id']}: keys {sorted(r)}"
        _, context, qa = qas[r["id"]]
        assert r["answer"] == qa["answers"][0]["text"], f"{r['id']}: answer differs from the gold"
        assert r["answer"] in context, f"{r['id']}: answer not in context"
        check_english(path.name, r)
    return set(ids)


def check_jsquad(split, second=False):
    path = HERE / ("jsquad-tuning2-en.jsonl" if second else f"jsquad-{split}-en.jsonl")
    data = rows(path)
    chosen = select_jsquad_en.select_second() if second else select_jsquad_en.select(split=split)
    by_id = {qa["id"]: (title, para, qa) for title, para, qa in chosen}
    ids = [r["id"] for r in data]
    assert len(data) == len(chosen), f"{path.name}: {len(data)} lines, want {len(chosen)}"
    assert len(set(ids)) == len(ids), f"{path.name}: duplicate ids"
    assert ids == [qa["id"] for _, _, qa in chosen], (
        f"{path.name}: ids differ from select_jsquad_en.py's"
    )
    paras = [i[: i.rindex("q")] for i in ids]
    assert len(set(paras)) == len(paras), f"{path.name}: two questions of one paragraph"
    for r in data:
        assert set(r) == {"id", "title", "question_en", "question_ja", "answers"}, (
            f"{r['id']}: keys {sorted(r)}"
        )
        title, para, qa = by_id[r["id"]]
        assert select_jsquad_en.split_of(title) == split and r["title"] == title, (
            f"{r['id']}: not an article of the {split} half"
        )
        assert r["question_ja"] == qa["question"], f"{r['id']}: question_ja differs"
        assert r["answers"] == [a["text"] for a in qa["answers"]], f"{r['id']}: answers differ"
        text = para["context"].split(select_jsquad_en.SEP, 1)[-1]
        for a in r["answers"]:
            assert a in text, f"{r['id']}: answer {a!r} not in the paragraph text"
        assert select_jsquad_en.in_text(para, qa), f"{r['id']}: no gold span after [SEP]"
        check_english(path.name, r)
    return len(data), {r["title"] for r in data}, set(paras)


if __name__ == "__main__":
    jaquad, jaquad2 = check_jaquad(), check_jaquad(second=True)
    assert not jaquad & jaquad2, f"questions in both JaQuAD files: {sorted(jaquad & jaquad2)}"
    n2, heldout, _ = check_jsquad("heldout")
    n3, tuning, first = check_jsquad("tuning")
    n4, tuning2, second = check_jsquad("tuning", second=True)
    assert not heldout & (tuning | tuning2), (
        f"articles in held-out and tuning files: {sorted(heldout & (tuning | tuning2))}"
    )
    assert not first & second, f"paragraphs in both tuning files: {sorted(first & second)}"
    print(
        f"ok: jaquad-train-en.jsonl {len(jaquad)} and jaquad-train2-en.jsonl {len(jaquad2)}"
        " questions, none in both; "
        f"jsquad-heldout-en.jsonl {n2} questions over {len(heldout)} articles; "
        f"jsquad-tuning-en.jsonl {n3} questions over {len(tuning)} articles; "
        f"jsquad-tuning2-en.jsonl {n4} questions over {len(tuning2)} articles; "
        "no article both held out and tuning, no paragraph in both tuning files"
    )
