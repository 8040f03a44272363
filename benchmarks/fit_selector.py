"""Fit the answer selector (qa/selection.py) on the tuning halves; report it on the held-out ones.

Data from ../shared/data, read at run time: JSQuAD v1.3 valid (JGLUE, Yahoo Japan; CC BY-SA
4.0) and JaQuAD dev (SkelterLabs; CC BY-SA 3.0), each paragraph one document of its own index
(and with `--shapes ... articles`, each article one document: its paragraphs a blank line apart),
plus the hand-written English questions of benchmarks/data over JSQuAD (the two tuning files
fit, the held-out file only reports) and its English articles with English questions
(english-articles.json) and Japanese versions of them (english-articles-ja.jsonl). Articles
are split by `qa.evaluation.split_of`.

Each question is searched over the whole index (a positive) and with its own paragraph left out
(a negative: the chunks that overlap it, so that in an article its neighbours stay; kept only
when no passage read holds a gold answer); the reader reads the best
`--depth` passages of each sampled question in its paragraphs' language, and `--depth-cross` of
each translated one. Every span read becomes one row of `selection.FEATURES`, labelled by
`--label`: "contains", the sentence quoted around the span holds a gold answer (what answers
are measured by), or "right", the span itself has character F1 ≥ 0.5 with one (a negative's
spans are never either). A logistic regression (scikit-learn) is fitted on the tuning rows for
each pair of passage counts K (same language, across languages: one varies while the other
stays at --passages or --passages-cross); an answer is the span with the highest log-odds among
the first K passages, and the minimum for each pairing of languages (`selection.pairing`) is
the strictest at which at most its share of the tuning half's answerable questions abstain
(`choose_threshold`; `ABSTENTION_BUDGET`: 5% within a language, 10% across languages). The
table shows, for every K and both halves, answers containing the gold, false abstentions and
negatives answered, with the reader's margin alone (what answers used before) beside it. Run
(25 minutes on 2 cores per shape; the indexes and the reads are cached under --workdir, in
calib/ and articles/, so a refit takes seconds: delete the selector-reads-*.jsonl files there
after changing retrieval or the reader):

    .venv/bin/python benchmarks/fit_selector.py [--passages 2] [--passages-cross 2] \\
        [--shapes paragraphs articles] [--write qa/weights/selector.json]

A change to the selector is judged inside the tuning half, by a rule written before it runs:
`--cv 5` prints contains less negatives answered, summed over the five rows, of answers given
by k-fold cross-validation (folds by article; each fold answered by a selector and minimums
fitted on the others), and `--without NAME ...` zeroes FEATURES columns, for the same figure
without them. Held-out rows tell whether a choice carried, not which to make: with 300
questions a half, in-sample tuning sums and held-out sums have disagreed three times.
"""

from __future__ import annotations

import argparse
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import product
from pathlib import Path

import numpy as np
from calibrate_abstention import SETS

from qa.answering import quote_around
from qa.config import Settings
from qa.dictionary import Dictionary
from qa.evaluation import (
    TRANSLATED,
    AskedCase,
    asked_cases,
    index_squad,
    sample_cases,
    translated_cases,
)
from qa.evaluation_answers import (
    ABSTENTION_BUDGET,
    ReadCase,
    ReadingMetrics,
    char_f1,
    choose_threshold,
    contains_answer,
)
from qa.japanese import trim_answer
from qa.reader import ReadSpan, build_reader
from qa.selection import FEATURES, Selector, best, features
from qa.types import Hit

ROOT = Path(__file__).resolve().parent.parent
Passages = dict[str, int]  # passages read, by selection.pairing
DEPTH = 30  # chunks searched, to find the best ones outside the gold paragraph
# The shapes of document fitted on, and their folders under --workdir: one document per
# paragraph (calibrate_abstention.py's indexes) or per article (eval_followups.py --articles').
SHAPES = {"paragraphs": "calib", "articles": "articles"}


@dataclass
class Read:
    """One question's reading of its best passages: what retrieval and the reader said (so
    that features can change without reading again), and each span's labels."""

    set: str
    split: str
    lang: str
    negative: bool
    question: str
    hits: list[dict]  # the Hits read, as their fields
    spans: list[dict]  # the ReadSpans, as their fields
    right: list[bool]  # per span: char F1 >= 0.5 with a gold answer (never for a negative)
    contains: list[bool]  # per span: the quoted sentence holds a gold answer
    f1: list[float]
    rows: list[list[float]] | None = None  # FEATURES per span, filled by `featured`

    @property
    def passage(self) -> list[int]:
        """The rank of each span's passage."""
        return [span["passage"] for span in self.spans]


def featured(reads: list[Read], without: Sequence[str] = ()) -> list[Read]:
    """The reads with their FEATURES rows computed by qa.selection, as answers compute them;
    the columns named in `without` zeroed (a logistic fit then gives them no weight)."""
    s = Settings.load()
    dictionary = Dictionary(s.cache_dir, s.dictionary_terms)
    zeroed = [FEATURES.index(name) for name in without]
    for r in reads:
        hits = [Hit(**h) for h in r.hits]
        spans = [ReadSpan(**span) for span in r.spans]
        rows = features(r.question, hits, spans, dictionary)
        rows[:, zeroed] = 0.0
        r.rows = rows.tolist()
    return reads


def read_all(
    name: str,
    path: Path,
    translated: list[Path],
    args: argparse.Namespace,
    cross: bool,
    shape: str,
) -> list[Read]:
    """The sampled Japanese questions of one set (`cross` False), read to --depth passages,
    or its translated questions (`cross` True), read to --depth-cross; positives and
    negatives, over one document per paragraph or per article (`shape`)."""
    from tqdm import tqdm

    articles = shape == "articles"
    indexed = index_squad(path, args.workdir / SHAPES[shape] / name, articles=articles)
    s, embedder = indexed.settings, indexed.embedder
    reader = build_reader(embedder.transformer, embedder.tokenizer, s.reader_weights)
    paragraphs, places = indexed.paragraphs, indexed.places
    if cross:
        cases = [c for extra in translated for c in translated_cases(extra, paragraphs, places)]
    else:
        cases = sample_cases(asked_cases(paragraphs, places), args.questions)
    depth = args.depth_cross if cross else args.depth
    title = f"{name} articles" if articles else name
    out = []
    for case in tqdm(cases, desc=title, unit="q"):
        hits = indexed.searcher.search(
            case.question, embedder.encode_query(case.question), DEPTH, s.lexical_weight
        )
        others = [h for h in hits if not case.place.holds(h)][:depth]
        out.append(_read(title, case, hits[:depth], False, reader, s.quote_max_chars))
        if not any(contains_answer(h.text, case.answers) for h in others):
            out.append(_read(title, case, others, True, reader, s.quote_max_chars))
    return out


def _read(name: str, case: AskedCase, hits: list, negative: bool, reader, quote: int) -> Read:
    spans = reader.read(case.question, [h.text for h in hits])
    f1s, contains = [], []
    for span in spans:
        text = hits[span.passage].text
        start, end = trim_answer(text, span.start, span.end)
        f1s.append(max(char_f1(text[start:end], g) for g in case.answers))
        contains.append(
            contains_answer(text[slice(*quote_around(text, start, end, quote))], case.answers)
        )
    return Read(
        name,
        case.split,
        case.lang,
        negative,
        case.question,
        [vars(h) for h in hits],
        [vars(span) for span in spans],
        [not negative and f >= 0.5 for f in f1s],
        [not negative and c for c in contains],
        [0.0 if negative else f for f in f1s],
    )


def fit(reads: list[Read], ks: Passages, label: str) -> Selector:
    """Logistic regression on every span among the first K passages of the reads (K of the
    read's language, `ks`), labelled by the `label` field ("contains" or "right")."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([row for r in reads for i, row in enumerate(r.rows) if r.passage[i] < ks[r.lang]])
    y = np.array(
        [
            getattr(r, label)[i]
            for r in reads
            for i in range(len(r.rows))
            if r.passage[i] < ks[r.lang]
        ]
    )
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=5000).fit((x - mean) / scale, y)
    return Selector(mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


def decided(
    reads: list[Read],
    ks: Passages,
    score: Callable[[np.ndarray], np.ndarray],
    first: tuple[Passages, dict[str, float]] | None = None,
) -> list[tuple[Read, ReadCase]]:
    """Each positive with its ReadCase: the best span's score as confidence, and the score of
    its negative (which directly follows it in `read_all`'s order) attached. With `first`
    (passages by pairing, and minimums), the span is the best of those first passages where it
    reaches its minimum, and the best of all `ks` only where it does not (a second look, which
    answers were not given: benchmarks/README.md); whether it answers is the same either way."""
    out = []
    for i, r in enumerate(reads):
        if r.negative:
            continue
        best, where = _best(r, ks[r.lang], score)
        if first:
            looked, at = _best(r, first[0][r.lang], score)
            where = at if looked >= first[1][r.lang] else where
        follows = reads[i + 1] if i + 1 < len(reads) and reads[i + 1].negative else None
        case = ReadCase(
            r.split,
            r.lang,
            best,
            where is not None and r.contains[where],
            False,
            r.f1[where] if where is not None else 0.0,
            0,
            False,
            0.0,
            _best(follows, ks[r.lang], score)[0] if follows else None,
        )
        out.append((r, case))
    return out


def _best(r: Read, k: int, score: Callable[[np.ndarray], np.ndarray]) -> tuple[float, int | None]:
    """The best score among the spans of the first k passages, and that span's row."""
    at = [i for i, p in enumerate(r.passage) if p < k]
    if not at:
        return float("-inf"), None
    s = score(np.array([r.rows[i] for i in at]))
    j = best(s, [r.passage[i] for i in at])  # as answering.compose chooses
    return float(s[j]), at[j]


def report(
    reads: list[Read], ks: Passages, name: str, score, first: Passages | None = None
) -> dict[str, float]:
    """Print one line per set and language; return the thresholds chosen on the tuning half.
    With `first`, the first passages are read and the rest of `ks` only on a second look."""
    cases = decided(reads, ks, score)
    chosen = {
        lang: choose_threshold(
            (c for r, c in cases if r.split == "tuning" and r.lang == lang),
            ABSTENTION_BUDGET[lang],
        )
        for lang in sorted({r.lang for r in reads})
    }
    if first:
        cases = decided(reads, ks, score, (first, chosen))
    for st, lang in sorted({(r.set, r.lang) for r in reads}):
        k = f"{first[lang]}+{ks[lang] - first[lang]}" if first else f"{ks[lang]}"
        line = f"{name:>9} K={k} {st}/{lang} (at {chosen[lang]:+.1f})"
        for split in ("tuning", "heldout"):
            mine = [c for r, c in cases if (r.set, r.split, r.lang) == (st, split, lang)]
            m = ReadingMetrics.of(mine, chosen[lang])
            line += (
                f"  {split}: n {m.questions} contains {m.contained:.3f} F1 {m.short_f1:.3f}"
                f" abst {m.abstained:.3f} neg.ans {m.negatives_answered:.3f} ({m.negatives})"
            )
        print(line)
    return chosen


def articles(reads: list[Read]) -> list[str]:
    """Each read's article title, found by its question in the files it was asked from (SETS;
    a translated question by its original's id): the reads do not record it."""
    from qa.evaluation_qa import load_qa

    title: dict[tuple[str, str], str] = {}
    for name, (path, translated) in SETS.items():
        by_id = {}
        for article in json.loads(path.read_text("utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    by_id[qa["id"]] = article["title"]
                    title.setdefault((name, qa["question"]), article["title"])
        for extra in translated:
            for row in load_qa(extra, question=TRANSLATED):
                asked = next(row[f] for f in TRANSLATED if isinstance(row.get(f), str))
                title.setdefault((name, asked), by_id[row["id"]])
    return [title[(r.set, r.question)] for r in reads]


def cross_validated(reads: list[Read], ks: Passages, label: str, folds: int) -> float:
    """Contains less negatives answered, summed over the (set, language) rows of the tuning
    half's answers, each answered by the selector and minimums fitted on the other folds
    (articles by a CRC-32 of their title); one line per row printed."""
    tuning = [r for r in reads if r.split == "tuning"]
    fold = [zlib.crc32(title.encode("utf-8")) % folds for title in articles(tuning)]
    answered: dict[tuple[str, str], list[tuple[ReadCase, float]]] = {}
    for f in range(folds):
        rest = [r for r, at in zip(tuning, fold, strict=True) if at != f]
        own = [r for r, at in zip(tuning, fold, strict=True) if at == f]
        selector = fit(rest, ks, label)
        fitted = decided(rest, ks, selector.of)
        chosen = {
            lang: choose_threshold((c for r, c in fitted if r.lang == lang), budget)
            for lang, budget in ABSTENTION_BUDGET.items()
            if any(r.lang == lang for r in rest)
        }
        for r, case in decided(own, ks, selector.of):
            answered.setdefault((r.set, r.lang), []).append((case, chosen[r.lang]))
    total = 0.0
    for (st, lang), cases in sorted(answered.items()):
        contains = np.mean([c.contained and c.confidence >= at for c, at in cases])
        negatives = [c.negative >= at for c, at in cases if c.negative is not None]
        answers = float(np.mean(negatives)) if negatives else 0.0
        total += contains - answers
        print(f"  {folds}-fold {st}/{lang}  n {len(cases)}", end="")
        print(f" contains {contains:.3f} neg.ans {answers:.3f}")
    print(f"  {folds}-fold cross-validated within the tuning half: sum {total:.3f}")
    return total


def _passages(same: int, cross: int) -> Passages:
    """K by pairing: questions in their text's language read `same` (Settings.reader_passages
    serves both), those across languages `cross` (reader_passages_cross_lingual)."""
    return {"ja": same, "en-en": same, "en": cross, "ja-en": cross}


def cached(path: Path, read: Callable[[], list[Read]]) -> list[Read]:
    """The reads stored at `path`, or `read()`'s, stored there."""
    if path.exists():
        return [Read(**json.loads(line)) for line in path.read_text("utf-8").splitlines()]
    reads = read()
    path.write_text("".join(json.dumps(vars(r)) + "\n" for r in reads), encoding="utf-8")
    return reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300, help="sampled per split and set")
    parser.add_argument("--depth", type=int, default=3, help="passages read per question")
    parser.add_argument("--depth-cross", type=int, default=10, help="the same, translated ones")
    parser.add_argument("--passages", type=int, default=2, help="K of the selector written")
    parser.add_argument("--passages-cross", type=int, default=2, help="the same, translated")
    parser.add_argument("--label", choices=["contains", "right"], default="contains")
    parser.add_argument(
        "--shapes", nargs="+", choices=list(SHAPES), default=["paragraphs"], help="fitted on"
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "work")
    parser.add_argument("--write", type=Path, help="write the selector fitted at --passages*")
    parser.add_argument(
        "--cv", type=int, metavar="FOLDS", help="only the tuning half cross-validated by article"
    )
    parser.add_argument(
        "--without", nargs="+", choices=FEATURES, default=[], metavar="NAME", help="FEATURES zeroed"
    )
    args = parser.parse_args()

    reads = []
    for shape, (name, (path, translated)) in product(args.shapes, SETS.items()):
        for cross, depth, what in (
            (False, args.depth, args.questions),
            (True, args.depth_cross, "translated"),
        ):
            if cross and not translated:
                continue
            where = args.workdir / SHAPES[shape] / f"selector-reads-{name}-{what}-{depth}.jsonl"
            reads += cached(where, partial(read_all, name, path, translated, args, cross, shape))
    reads = featured(reads, without=args.without)
    chosen_ks = _passages(args.passages, args.passages_cross)
    if args.cv:
        cross_validated(reads, chosen_ks, args.label, args.cv)
        return
    tuning = [r for r in reads if r.split == "tuning"]
    margin = FEATURES.index("margin")
    tried = [_passages(k, args.passages_cross) for k in range(1, args.depth + 1)]
    tried += [_passages(args.passages, k) for k in range(1, args.depth_cross + 1)]
    for ks in [ks for i, ks in enumerate(tried) if ks not in tried[:i]]:
        report(reads, ks, "margin", lambda x: x[:, margin])
        selector = fit(tuning, ks, args.label)
        chosen = report(reads, ks, "selector", selector.of)
        if args.write and ks == chosen_ks:
            provenance = (
                f"benchmarks/fit_selector.py --questions {args.questions} --depth {args.depth} "
                f"--depth-cross {args.depth_cross} --passages {args.passages} "
                f"--passages-cross {args.passages_cross} --label {args.label} "
                f"--shapes {' '.join(args.shapes)}: tuning halves of JSQuAD v1.3 valid, JaQuAD "
                f"dev and english-articles.json (with -ja); "
                f"thresholds at {ABSTENTION_BUDGET} false abstentions: {chosen}"
            )
            args.write.write_text(selector.to_json(provenance) + "\n", encoding="utf-8")
            print(f"wrote {args.write}")
    # A second look (tried, not kept: benchmarks/README.md): the first passages read, and n
    # more only where their best span falls under its minimum.
    for n in range(1, args.depth - args.passages + 1):
        ks = _passages(args.passages + n, args.passages_cross + n)
        report(reads, ks, "2nd look", fit(tuning, ks, args.label).of, chosen_ks)


if __name__ == "__main__":
    main()
