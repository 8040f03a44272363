"""Answers end to end on the tuning and held-out halves, at the chosen abstention thresholds.

Data from ../shared/data, read at run time: JSQuAD v1.3 valid (JGLUE, Yahoo Japan; CC BY-SA
4.0) and JaQuAD dev (SkelterLabs; CC BY-SA 3.0), each paragraph one document of its own index,
plus the hand-written English questions of benchmarks/data (jsquad-tuning-en.jsonl and
jsquad-tuning2-en.jsonl choose, jsquad-heldout-en.jsonl only reports) and its English articles with
English questions (english-articles.json, all 144, and their Japanese versions). Articles are
split by `qa.evaluation.split_of`.

With --articles each article is one document instead (its paragraphs a blank line apart, the
indexes of eval_followups.py --articles): a user's long document. With --wrap every paragraph
is hard-wrapped first, as PDF lines and wrapped text files are (`hard_wrap`); with --wrap pages
it is also broken over two numbered pages, joined as a PDF's are (`paged`); with --wrap headed
each page also opens with a running header (`headed`); with --wrap hyphens the pages' English
lines are filled as a typesetter fills them, breaking words with a hyphen (`hyphenated`).

Positives: sampled questions asked of the whole index. Negatives: the same questions with their
own paragraph left out of the results (the chunks that overlap it: in an article, its
neighbours stay), kept only when no remaining passage holds a gold answer (Wikipedia repeats
facts). Each question goes through `answering.compose` once with abstention
off (`qa.evaluation_answers.read_cases`), keeping the answer's log-odds; `choose_threshold`
picks the strictest minimum at which at most a share of the tuning half's answerable questions
abstain (`ABSTENTION_BUDGET`: 5% of Japanese ones, 10% of English ones over Japanese text, 5%
of English ones over English text, 10% of Japanese ones over English text), for each pairing
separately (and at 5% for all together), and every row is reported at the chosen minimums and
at the configured ones (QA_MIN_ANSWER_LOGIT*, which benchmarks/fit_selector.py chose the same
way). Run (about 17 minutes on 2 cores; the indexes are cached in --workdir, default work/calib,
or work/articles with --articles):

    .venv/bin/python benchmarks/calibrate_abstention.py [--questions 300] [--articles] \\
        [--wrap [lines|pages|headed|hyphens]] [--sets ...]
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from dataclasses import asdict
from pathlib import Path

from qa.answering import minimums
from qa.evaluation import asked_cases, index_squad, sample_cases, translated_cases
from qa.evaluation_answers import (
    ABSTENTION_BUDGET,
    ReadCase,
    choose_threshold,
    grouped,
    read_cases,
    table,
)
from qa.formats import joined
from qa.japanese import has_cjk

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SETS = {  # name: (SQuAD file, files of its questions in the other language)
    "jsquad": (
        SHARED / "jsquad-valid-v1.3.json",
        [
            ROOT / "benchmarks" / "data" / f"jsquad-{half}-en.jsonl"
            for half in ("tuning", "heldout", "tuning2")
        ],
    ),
    "jaquad": (SHARED / "jaquad-dev.json", []),
    # English passages and questions written for kotae (in the repo), and Japanese versions
    "english": (
        ROOT / "benchmarks" / "data" / "english-articles.json",
        [ROOT / "benchmarks" / "data" / "english-articles-ja.jsonl"],
    ),
}


def hard_wrap(text: str, hyphens: bool = False) -> str:
    """The text in lines of at most 72 characters, broken at spaces (English), or of 40 in
    Japanese (a full-width character is about twice as wide), as a PDF or a wrapped file has it;
    each of its own lines (JaQuAD's paragraphs hold some) is wrapped on its own. With hyphens,
    English lines are filled as a typesetter fills them (`hyphen_fill`)."""
    if has_cjk(text):
        cut = [[line[i : i + 40] for i in range(0, len(line), 40)] for line in text.split("\n")]
        return "\n".join("\n".join(pieces) for pieces in cut)
    fill = hyphen_fill if hyphens else textwrap.fill
    return "\n".join(fill(line, 72) for line in text.split("\n"))


_WORD = re.compile(r"([^\W\d_]+)(\W*)$")


def hyphen_fill(line: str, width: int) -> str:
    """The line filled to `width`, a word that does not fit broken with a hyphen where TeX's
    English patterns allow (pyphen, en_US) and the head fits, as LaTeX and word processors
    print justified text; a compound breaks after its own hyphen, as `textwrap` breaks it."""
    import pyphen  # a benchmark's dependency (the test extra), not the package's

    patterns = pyphen.Pyphen(lang="en_US")
    lines, current = [], ""
    pieces = [p for word in line.split() for p in re.findall(r"[^-]+-?|-", word)]
    glued = [False] + [prev.endswith("-") for prev in pieces[:-1]]  # no space inside a compound
    for piece, inside in zip(pieces, glued, strict=True):
        gap = "" if inside or not current else " "
        while len(current) + len(gap) + len(piece) > width and current:
            word = _WORD.match(piece)
            heads = [
                (head, tail)
                for head, tail in patterns.iterate(word.group(1))
                if len(current) + len(gap) + len(head) + 1 <= width
            ] if word and piece == word.group(0) else []  # fmt: skip
            if heads:
                head, tail = heads[0]  # the longest that fits
                lines.append(f"{current}{gap}{head}-")
                piece = tail + word.group(2)
            else:
                lines.append(current)
            current, gap = "", ""
        current += gap + piece
    return "\n".join([*lines, current])


def paged(text: str, header: bool = False, hyphens: bool = False) -> str:
    """`hard_wrap`'s lines over two pages, the first half on page 1, each page with its number
    on a last line of its own, joined as a PDF's pages are (`qa.formats.joined`). With a
    header, each page also opens with a running header line, as reports and papers print."""
    lines = hard_wrap(text, hyphens).split("\n")
    if len(lines) < 2:
        return "\n".join(lines)
    half = (len(lines) + 1) // 2
    pages = [lines[:half], lines[half:]]
    top = [RUNNING_HEADER[has_cjk(text)]] if header else []
    return joined(["\n".join([*top, *page, str(n)]) for n, page in enumerate(pages, start=1)])[0]


# A header that says nothing about the page's text, as a publication's name does.
RUNNING_HEADER = {False: "Reference Library, Volume 3", True: "社内資料　第3巻"}


def headed(text: str) -> str:
    """`paged` with a running header atop each page."""
    return paged(text, header=True)


def hyphenated(text: str) -> str:
    """`paged` with English lines filled as a typesetter fills them (`hyphen_fill`)."""
    return paged(text, hyphens=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300, help="sampled per split and set")
    parser.add_argument("--articles", action="store_true", help="one document per article")
    parser.add_argument(
        "--wrap",
        nargs="?",
        const="lines",
        choices=["lines", "pages", "headed", "hyphens"],
        help="hard-wrap paragraphs",
    )
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS), help="default: all")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--weights", type=Path, help="reader weights (default: the shipped)")
    args = parser.parse_args()
    shape = "articles" if args.articles else "calib"
    folder = f"{shape}-{args.wrap}" if args.wrap else shape
    workdir = args.workdir or ROOT / "work" / folder
    wraps = {"lines": hard_wrap, "pages": paged, "headed": headed, "hyphens": hyphenated}
    wrap = wraps[args.wrap] if args.wrap else None

    cases: dict[str, list[ReadCase]] = {}
    configured: dict[str, float] = {}
    for name in args.sets:
        path, translated = SETS[name]
        indexed = index_squad(path, workdir / name, articles=args.articles, wrap=wrap)
        s = (
            indexed.settings.replace(reader_weights=args.weights)
            if args.weights
            else indexed.settings
        )
        configured = minimums(s)
        paragraphs, places = indexed.paragraphs, indexed.places
        sample = sample_cases(asked_cases(paragraphs, places), args.questions)
        for extra in translated:
            sample += translated_cases(extra, paragraphs, places)
        cases[name] = list(read_cases(sample, s, progress=True))
        (workdir / f"{name}-cases.jsonl").write_text(
            "".join(json.dumps(asdict(c)) + "\n" for c in cases[name]), encoding="utf-8"
        )
    every = [c for rows in cases.values() for c in rows]
    tuning = [c for c in every if c.split == "tuning"]
    chosen = {
        lang: choose_threshold((c for c in tuning if c.lang == lang), ABSTENTION_BUDGET[lang])
        for lang in sorted({c.lang for c in tuning})
    }
    joint = choose_threshold(c for c in tuning)
    print(f"chosen on the tuning rows: {chosen} (one minimum for all: {joint:+.1f})")
    for name, rows in cases.items():
        print(f"\n{name} at the chosen minimums")
        print(table(grouped(rows, chosen)))
        print(f"{name} at one minimum for all, {joint:+.1f}")
        print(table(grouped(rows, dict.fromkeys(chosen, joint))))
        print(f"{name} at the configured minimums, {configured}")
        print(table(grouped(rows, configured)))


if __name__ == "__main__":
    main()
