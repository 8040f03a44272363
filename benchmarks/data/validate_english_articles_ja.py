"""Check english-articles-ja.jsonl, the Japanese versions of english-articles.json's questions.

Each line is a JSON object with exactly the keys id, question_ja and answers. Checks: every
line parses, the ids are those of english-articles.json's questions, exactly and in file
order, answers equal the question's answer texts there (unchanged, in order), and every
question_ja is a non-empty string with Japanese script (hiragana, katakana or kanji) in it.
A question_ja that contains its own answer verbatim (answers longer than 3 characters,
case-sensitive) is reported as a warning only. Prints a one-line summary; exits 1 on any
failure.

    .venv/bin/python benchmarks/data/validate_english_articles_ja.py
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

from jsonl_lines import load_lines

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "english-articles.json"
PATH = HERE / "english-articles-ja.jsonl"
KEYS = {"id", "question_ja", "answers"}
JAPANESE = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
MIN_LEAK = 4


def source_questions(doc: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The (id, answer texts) of every question of english-articles.json, in file order."""
    return [
        (qa["id"], [ans["text"] for ans in qa["answers"]])
        for art in doc["data"]
        for para in art["paragraphs"]
        for qa in para["qas"]
    ]


def check_row(
    errors: list[str], warnings: list[str], n: int, row: dict[str, Any], want: tuple[str, list[str]]
) -> None:
    """Check one line against the source question it should be the Japanese version of."""
    want_id, want_answers = want
    qid = row.get("id")
    if qid != want_id:
        errors.append(f"line {n}: id {qid!r}, want {want_id!r}")
    answers = row.get("answers")
    if answers != want_answers:
        errors.append(f"{want_id}: answers {answers!r}, want {want_answers!r}")
    question = row.get("question_ja")
    if not isinstance(question, str) or not question.strip():
        errors.append(f"{want_id}: question_ja is missing or empty")
        return
    if not JAPANESE.search(question):
        errors.append(f"{want_id}: no Japanese script in question_ja {question!r}")
    for answer in want_answers:
        if len(answer) >= MIN_LEAK and answer in question:
            warnings.append(f"{want_id}: question_ja contains its answer {answer!r}")


def main() -> int:
    """Validate the file; print a summary or the failures."""
    try:
        wanted = source_questions(json.loads(SOURCE.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        print(f"{SOURCE.name}: cannot load: {e}", file=sys.stderr)
        return 1
    errors: list[str] = []
    warnings: list[str] = []
    try:
        rows = load_lines(PATH, KEYS, errors)
    except OSError as e:
        print(f"{PATH.name}: cannot read: {e}", file=sys.stderr)
        return 1
    if len(rows) != len(wanted):
        errors.append(f"{len(rows)} questions, want {len(wanted)} (as in {SOURCE.name})")
    for n, (row, want) in enumerate(zip(rows, wanted, strict=False), 1):
        check_row(errors, warnings, n, row, want)
    for w in warnings:
        print(f"{PATH.name}: warning: {w}", file=sys.stderr)
    if errors:
        for e in errors:
            print(f"{PATH.name}: {e}", file=sys.stderr)
        print(f"{PATH.name}: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(
        f"{PATH.name}: OK, {len(rows)} Japanese questions matching {SOURCE.name} in order, "
        f"answers unchanged, {len(warnings)} warning(s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
