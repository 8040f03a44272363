"""Check english-articles.json, kotae's original English reading-comprehension set.

The file is SQuAD v1.1 JSON. Checks: 24 articles with unique titles, 3 paragraphs each of
70-120 words (whitespace-separated), 2 questions per paragraph, ids unique and of the form
en-aNN-pP-qQ matching their position, each answer found at its answer_start, no answer text
in a sibling paragraph of the same article (case-sensitive substring), no Japanese or other CJK
characters anywhere, and every question ending with "?". Prints a one-line summary and the
number of articles in each half (qa.evaluation.split_of's rule); exits 1 on any failure.

    .venv/bin/python benchmarks/data/validate_english_articles.py
"""

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

PATH = Path(__file__).resolve().parent / "english-articles.json"
VERSION = "kotae-english-articles-1"
ARTICLES = 24
PARAGRAPHS = 3
QUESTIONS = 2
MIN_WORDS, MAX_WORDS = 70, 120
ID = re.compile(r"en-a(\d{2})-p(\d)-q(\d)")
CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def split_of(title: str) -> str:
    """The half an article belongs to, by the rule kotae uses for JSQuAD."""
    return "heldout" if int(hashlib.sha256(title.encode("utf-8")).hexdigest(), 16) % 2 else "tuning"


def check_answer(
    errors: list[str], qid: str, ans: dict[str, Any], p: int, context: str, siblings: list[str]
) -> None:
    """The answer lies at its answer_start and in no sibling paragraph."""
    text, start = ans.get("text", ""), ans.get("answer_start", -1)
    if not text or context[start : start + len(text)] != text:
        errors.append(f"{qid}: answer {text!r} is not at answer_start {start}")
    if CJK.search(text):
        errors.append(f"{qid}: CJK characters in the answer")
    for s, sibling in enumerate(siblings, 1):
        if s != p and text and text in sibling:
            errors.append(f"{qid}: answer {text!r} also in paragraph {s}")


def check_question(
    errors: list[str], want: str, qa: dict[str, Any], p: int, siblings: list[str]
) -> str:
    """Check one question's id, wording and answer; return its id."""
    qid = qa.get("id", "")
    if not ID.fullmatch(qid) or qid != want:
        errors.append(f"question {want}: id is {qid!r}")
    question = qa.get("question", "")
    if not question.strip().endswith("?"):
        errors.append(f"{qid}: question does not end with '?': {question!r}")
    if CJK.search(question):
        errors.append(f"{qid}: CJK characters in the question")
    answers = qa.get("answers", [])
    if len(answers) != 1:
        errors.append(f"{qid}: {len(answers)} answers, want 1")
    for ans in answers:
        check_answer(errors, qid, ans, p, siblings[p - 1], siblings)
    return qid


def check_paragraph(
    errors: list[str], ids: set[str], a: int, p: int, siblings: list[dict[str, Any]]
) -> int:
    """Check paragraph p of article a and its questions; return how many questions it has."""
    where = f"article {a} paragraph {p}"
    para = siblings[p - 1]
    context = para.get("context", "")
    words = len(context.split())
    if not MIN_WORDS <= words <= MAX_WORDS:
        errors.append(f"{where}: {words} words, want {MIN_WORDS}-{MAX_WORDS}")
    if CJK.search(context):
        errors.append(f"{where}: CJK characters in the context")
    qas = para.get("qas", [])
    if len(qas) != QUESTIONS:
        errors.append(f"{where}: {len(qas)} questions, want {QUESTIONS}")
    contexts = [sib.get("context", "") for sib in siblings]
    for q, qa in enumerate(qas, 1):
        qid = check_question(errors, f"en-a{a:02d}-p{p}-q{q}", qa, p, contexts)
        if qid in ids:
            errors.append(f"{qid}: duplicate id")
        ids.add(qid)
    return len(qas)


def check(doc: dict[str, Any], errors: list[str]) -> tuple[int, int]:
    """Check the whole document; return the numbers of paragraphs and questions."""
    if doc.get("version") != VERSION:
        errors.append(f"version {doc.get('version')!r}, want {VERSION!r}")
    articles = doc.get("data", [])
    if len(articles) != ARTICLES:
        errors.append(f"{len(articles)} articles, want {ARTICLES}")
    titles = [art.get("title", "") for art in articles]
    for title in sorted({t for t in titles if titles.count(t) > 1}):
        errors.append(f"duplicate title {title!r}")
    ids: set[str] = set()
    paragraphs = questions = 0
    for a, art in enumerate(articles, 1):
        if CJK.search(art.get("title", "")):
            errors.append(f"article {a}: CJK characters in the title")
        paras = art.get("paragraphs", [])
        if len(paras) != PARAGRAPHS:
            errors.append(f"article {a} ({art.get('title')!r}): {len(paras)} paragraphs")
        for p in range(1, len(paras) + 1):
            paragraphs += 1
            questions += check_paragraph(errors, ids, a, p, paras)
    return paragraphs, questions


def main() -> int:
    """Validate the file; print a summary or the failures."""
    try:
        doc = json.loads(PATH.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        print(f"{PATH.name}: cannot load: {e}", file=sys.stderr)
        return 1
    errors: list[str] = []
    paragraphs, questions = check(doc, errors)
    if errors:
        for e in errors:
            print(f"{PATH.name}: {e}", file=sys.stderr)
        print(f"{PATH.name}: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    halves = [split_of(art["title"]) for art in doc["data"]]
    print(
        f"{PATH.name}: OK, {len(doc['data'])} articles, {paragraphs} paragraphs, {questions} "
        f"questions; tuning {halves.count('tuning')} articles, "
        f"held-out {halves.count('heldout')} articles"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
