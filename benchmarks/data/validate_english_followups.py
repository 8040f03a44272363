"""Check english-followups.jsonl, two-turn English conversations about english-articles.json.

Each line is a JSON object with exactly the keys id, title, first, follow_up, paragraph and
answers. Checks: every line parses, there are 96 lines (4 per article), the ids are exactly
en-a01-c1 .. en-a24-c4 in file order (so unique), title equals the title of article NN in
english-articles.json, paragraph is 0, 1 or 2, and answers is a list of 1-2 non-empty strings,
each a case-sensitive substring of that paragraph's context and of neither sibling paragraph.
first and follow_up are non-empty, end with "?" and have no Japanese characters; follow_up
contains no word of the title of 4 or more letters (case-insensitive, as a substring, so that
plurals and possessives are caught too; the title is split on non-letters) and contains at least
one referring word (it, its, he, she, ...) as a whole word. Every article has at least one
conversation per paragraph. Prints a one-line summary; exits 1 on any failure.

    .venv/bin/python benchmarks/data/validate_english_followups.py
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

from jsonl_lines import load_lines

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "english-articles.json"
PATH = HERE / "english-followups.jsonl"
KEYS = {"id", "title", "first", "follow_up", "paragraph", "answers"}
ARTICLES = 24
PER_ARTICLE = 4
PARAGRAPHS = 3
MAX_ANSWERS = 2
MIN_TITLE_WORD = 4
JAPANESE = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
REFERRING = re.compile(
    r"\b(it|its|he|she|his|her|they|their|them|there|that|this|these|those)\b", re.IGNORECASE
)


def source_articles(doc: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The (title, paragraph contexts) of every article of english-articles.json, in file order."""
    return [(art["title"], [para["context"] for para in art["paragraphs"]]) for art in doc["data"]]


def wanted_ids(n_articles: int) -> list[str]:
    """The ids the file must have, in order: en-a01-c1 .. en-aNN-c4."""
    return [
        f"en-a{a:02d}-c{k}" for a in range(1, n_articles + 1) for k in range(1, PER_ARTICLE + 1)
    ]


def title_words(title: str) -> list[str]:
    """The lower-cased words of a title of at least MIN_TITLE_WORD letters."""
    return [w.lower() for w in re.split(r"[^A-Za-z]+", title) if len(w) >= MIN_TITLE_WORD]


def check_question(errors: list[str], cid: str, key: str, text: Any) -> bool:
    """Check that a question is a non-empty string ending in "?" with no Japanese in it."""
    if not isinstance(text, str) or not text.strip():
        errors.append(f"{cid}: {key} is missing or empty")
        return False
    if not text.rstrip().endswith("?"):
        errors.append(f"{cid}: {key} does not end with '?': {text!r}")
    if JAPANESE.search(text):
        errors.append(f"{cid}: Japanese characters in {key} {text!r}")
    return True


def check_follow_up(errors: list[str], cid: str, title: str, follow_up: str) -> None:
    """Check that the follow-up names its subject only by reference, never by a title word."""
    lowered = follow_up.lower()
    for word in title_words(title):
        if word in lowered:
            errors.append(f"{cid}: follow_up contains title word {word!r}: {follow_up!r}")
    if not REFERRING.search(follow_up):
        errors.append(f"{cid}: follow_up has no referring word (it, its, they, ...): {follow_up!r}")


def check_answers(
    errors: list[str], cid: str, answers: Any, para: int, contexts: list[str]
) -> None:
    """Check that each answer is in paragraph para's context and in no sibling paragraph."""
    if not isinstance(answers, list) or not 1 <= len(answers) <= MAX_ANSWERS:
        errors.append(f"{cid}: answers must be a list of 1-{MAX_ANSWERS} strings: {answers!r}")
        return
    for answer in answers:
        if not isinstance(answer, str) or not answer.strip():
            errors.append(f"{cid}: empty or non-string answer {answer!r}")
            continue
        if answer not in contexts[para]:
            errors.append(f"{cid}: answer {answer!r} is not in paragraph {para}")
        for other, context in enumerate(contexts):
            if other != para and answer in context:
                errors.append(f"{cid}: answer {answer!r} is also in sibling paragraph {other}")


def check_row(
    errors: list[str], n: int, row: dict[str, Any], want_id: str, article: tuple[str, list[str]]
) -> int | None:
    """Check one line against its article; return its paragraph index when that is valid."""
    title, contexts = article
    cid = row.get("id")
    if cid != want_id:
        errors.append(f"line {n}: id {cid!r}, want {want_id!r}")
    cid = want_id
    if row.get("title") != title:
        errors.append(f"{cid}: title {row.get('title')!r}, want {title!r}")
    check_question(errors, cid, "first", row.get("first"))
    follow_up = row.get("follow_up")
    if check_question(errors, cid, "follow_up", follow_up):
        check_follow_up(errors, cid, title, follow_up)
    para = row.get("paragraph")
    if not isinstance(para, int) or isinstance(para, bool) or not 0 <= para < len(contexts):
        errors.append(f"{cid}: paragraph {para!r}, want 0..{PARAGRAPHS - 1}")
        return None
    check_answers(errors, cid, row.get("answers"), para, contexts)
    return para


def check_coverage(errors: list[str], covered: dict[int, set[int]], n_articles: int) -> None:
    """Check that every article has at least one conversation about each of its paragraphs."""
    for a in range(1, n_articles + 1):
        missing = sorted(set(range(PARAGRAPHS)) - covered.get(a, set()))
        if missing:
            errors.append(f"article {a:02d}: no conversation about paragraph(s) {missing}")


def main() -> int:
    """Validate the file; print a summary or the failures."""
    try:
        articles = source_articles(json.loads(SOURCE.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        print(f"{SOURCE.name}: cannot load: {e}", file=sys.stderr)
        return 1
    if len(articles) != ARTICLES or any(len(c) != PARAGRAPHS for _, c in articles):
        print(
            f"{SOURCE.name}: want {ARTICLES} articles of {PARAGRAPHS} paragraphs", file=sys.stderr
        )
        return 1
    errors: list[str] = []
    try:
        rows = load_lines(PATH, KEYS, errors)
    except OSError as e:
        print(f"{PATH.name}: cannot read: {e}", file=sys.stderr)
        return 1
    ids = wanted_ids(len(articles))
    if len(rows) != len(ids):
        errors.append(f"{len(rows)} conversations, want {len(ids)} ({PER_ARTICLE} per article)")
    seen = [row.get("id") for row in rows]
    dupes = sorted({str(i) for i in seen if seen.count(i) > 1})
    if dupes:
        errors.append(f"duplicate ids: {dupes}")
    covered: dict[int, set[int]] = {}
    for n, (row, want_id) in enumerate(zip(rows, ids, strict=False), 1):
        a = (n - 1) // PER_ARTICLE + 1
        para = check_row(errors, n, row, want_id, articles[a - 1])
        if para is not None:
            covered.setdefault(a, set()).add(para)
    check_coverage(errors, covered, len(articles))
    if errors:
        for e in errors:
            print(f"{PATH.name}: {e}", file=sys.stderr)
        print(f"{PATH.name}: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    n_answers = sum(len(row["answers"]) for row in rows)
    print(
        f"{PATH.name}: OK, {len(rows)} follow-up conversations over {len(articles)} articles "
        f"of {SOURCE.name} in order, {n_answers} answers each only in its own paragraph, "
        f"every paragraph covered"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
