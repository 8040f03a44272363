"""The measurements behind `qa eval`: retrieval on SQuAD-format data, answers on QA JSONL.

Retrieval defaults were tuned on JSQuAD v1.3 valid (JGLUE, Yahoo Japan; CC BY-SA 4.0).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from time import perf_counter
from typing import Any

from . import api
from .answering import minimums
from .build import build_index
from .config import Settings
from .dictionary import load_dictionary
from .embedding import Embedder, load_embedder
from .errors import InvalidEvalFile, InvalidQuestion
from .evaluation_answers import (
    NOWHERE,
    AskedCase,
    Located,
    ReadingMetrics,
    grouped,
    read_cases,
    table,
)
from .evaluation_qa import checked_limit, load_qa
from .index import load_index
from .search import Searcher
from .selection import pairing
from .stores.embedded import EmbeddedStore
from .text import clean

# Chunks retrieved per question: recall counts documents, and one may own several chunks.
SEARCH_DEPTH = 30
_EVIDENCE_DEPTH = 3  # the evidence must be in one of this many passages
SAMPLE_SEED = 5  # the answered sample is the same on every run
_DOCUMENT_FILE = re.compile(r"[pa]\d{4,}\.txt")  # written by write_documents


@dataclass(frozen=True)
class RankMetrics:
    """Recall at 1, 5 and 10 and MRR@10 of the gold documents' ranks."""

    r_at_1: float
    r_at_5: float
    r_at_10: float
    mrr_at_10: float

    @classmethod
    def of(cls, ranks: list[int]) -> RankMetrics:
        """Metrics of 1-based ranks, 0 meaning not retrieved.

        Example: [1, 2, 0, 7] -> R@1 0.25, R@5 0.5, R@10 0.75, MRR@10 (1 + 1/2 + 1/7) / 4
        """
        n = max(1, len(ranks))
        return cls(
            sum(r == 1 for r in ranks) / n,
            sum(0 < r <= 5 for r in ranks) / n,
            sum(0 < r <= 10 for r in ranks) / n,
            sum(1 / r for r in ranks if 0 < r <= 10) / n,
        )


@dataclass(frozen=True)
class SquadReport:
    """Document retrieval on SQuAD-format data: each paragraph is one document."""

    dataset: str
    questions: int
    documents: int
    chunks: int
    r_at_1: float
    r_at_5: float
    r_at_10: float
    mrr_at_10: float
    search_seconds: float  # every question through search(), query encoding included
    build_seconds: float  # bringing the index up to date (0 chunks embedded when reused)
    chunks_embedded: int
    lexical_weight: float
    # With `qa eval --squad FILE --answers N`: per "split/language", each at its threshold.
    answers: dict[str, ReadingMetrics] | None = None
    thresholds: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)

    def summary(self) -> str:
        """What `qa eval --squad` prints."""
        per_question = 1000 * self.search_seconds / max(1, self.questions)
        return (
            f"retrieval on {self.dataset}: {self.questions} questions, {self.documents} documents, "
            f"{self.chunks} chunks (lexical_weight {self.lexical_weight})\n"
            f"R@1 {self.r_at_1:.3f}  R@5 {self.r_at_5:.3f}  R@10 {self.r_at_10:.3f}  "
            f"MRR@10 {self.mrr_at_10:.3f}\n"
            f"search {self.search_seconds:.1f} s ({per_question:.1f} ms/question); "
            f"index {self.build_seconds:.1f} s ({self.chunks_embedded} chunks embedded)"
            + (
                f"\nanswers at log-odds thresholds {self.thresholds}:\n" + table(self.answers)
                if self.answers
                else ""
            )
        )


def evaluate_squad(
    path: Path,
    *,
    limit: int | None = None,
    answers: int = 0,
    translated: Path | None = None,
    splits: tuple[str, ...] = ("tuning", "heldout"),
    workdir: Path,
    settings: Settings | None = None,
    progress: bool = False,
) -> SquadReport:
    """Index the first `limit` paragraphs of a SQuAD file (all by default) and rank their questions;
    with `answers`, also answer a fixed random sample of that many questions of each split
    (`split_of`; those in `splits`) from the whole index, and every question of `translated`
    (JSONL of `id`, `question_en` or `question_ja`, `answers`, the id a question of the file).

    Each paragraph becomes `workdir/docs/p0000.txt`...; the index in `workdir/index` is built
    incrementally, so a second run reuses every vector.
    """
    paragraphs = load_squad(path)[: checked_limit(limit)]
    s = (settings or Settings.load()).replace(
        docs_dir=workdir / "docs", index_dir=workdir / "index"
    )
    write_paragraphs(s.docs_dir, [p.context for p in paragraphs])
    load_embedder(s.embed_model, s.cache_dir)  # so that the build time is the build's own
    started = perf_counter()
    stats = api.build_index(settings=s, progress=progress)
    build_seconds = perf_counter() - started
    asked = asked_cases(paragraphs)
    started = perf_counter()
    ranks = [_rank(c.question, c.place.doc_id, s) for c in _progress(asked, progress)]
    search_seconds = perf_counter() - started
    sample = sample_cases(asked, answers, splits)
    if translated and answers:
        sample += translated_cases(translated, paragraphs)
    cases = list(read_cases(sample, s, progress)) if sample else []
    return SquadReport(
        dataset=path.name,
        questions=len(ranks),
        documents=stats.added + stats.updated + stats.unchanged,
        chunks=stats.chunks_total,
        **asdict(RankMetrics.of(ranks)),
        search_seconds=search_seconds,
        build_seconds=build_seconds,
        chunks_embedded=stats.chunks_embedded,
        lexical_weight=s.lexical_weight,
        answers=grouped(cases, minimums(s)) if cases else None,
        thresholds=minimums(s),
    )


def asked_cases(
    paragraphs: list[SquadParagraph], places: list[Located] | None = None
) -> list[AskedCase]:
    """Every question of the paragraphs, keyed by the languages of question and paragraph
    (`selection.pairing`); paragraph n is where `places` says (`SquadIndex.places`), by default
    the document `paragraph_id(n)`."""
    where = places or _paragraphs(paragraphs)[1]
    return [
        AskedCase(q, pairing(q, p.context), split_of(p.title), n, where[n], p.context, gold)
        for n, p in enumerate(paragraphs)
        for q, gold in zip(p.questions, p.answers, strict=True)
    ]


def sample_cases(
    cases: list[AskedCase], per_split: int, splits: tuple[str, ...] = ("tuning", "heldout")
) -> list[AskedCase]:
    """A fixed random sample of answerable questions from each split, the same on every run."""
    chosen = []
    for split in splits:
        rng = random.Random(f"{SAMPLE_SEED}-{split}")  # a split's sample never depends on others
        pool = [c for c in cases if c.split == split and c.answers]
        chosen += rng.sample(pool, min(per_split, len(pool)))
    return chosen


# The fields a translated question may be in (`translated_cases`).
TRANSLATED = ("question_en", "question_ja")


def translated_cases(
    path: Path, paragraphs: list[SquadParagraph], places: list[Located] | None = None
) -> list[AskedCase]:
    """The questions of a JSONL file written in another language than the paragraphs (`id`,
    `question_en` or `question_ja`, `answers`), each over its original question's paragraph
    (placed as in `asked_cases`) and keyed by `selection.pairing`."""
    at = places or _paragraphs(paragraphs)[1]
    where = {qid: n for n, p in enumerate(paragraphs) for qid in p.ids}
    rows = load_qa(path, question=TRANSLATED)
    missing = [r["id"] for r in rows if r.get("id") not in where]
    if missing:
        raise InvalidEvalFile(f"{path}: ids not among the evaluated paragraphs: {missing[:3]}")
    cases = []
    for r in rows:
        question = next(r[f] for f in TRANSLATED if isinstance(r.get(f), str))
        paragraph = paragraphs[where[r["id"]]]
        cases.append(
            AskedCase(
                question,
                pairing(question, paragraph.context),
                split_of(paragraph.title),
                where[r["id"]],
                at[where[r["id"]]],
                paragraph.context,
                [str(a) for a in r["answers"]],
            )
        )
    return cases


@dataclass(frozen=True)
class SquadParagraph:
    """One paragraph of a SQuAD-format file: its text, questions and their accepted answers."""

    title: str  # of the article (what `split_of` splits by)
    context: str  # without JSQuAD's leading "title [SEP] "
    questions: list[str]
    answers: list[list[str]]  # per question (empty lists when the file has none)
    ids: list[str]  # per question


@dataclass(frozen=True)
class SquadIndex:
    """A SQuAD file indexed in a work folder, ready to search (for benchmarks)."""

    paragraphs: list[SquadParagraph]
    places: list[Located]  # per paragraph
    settings: Settings
    embedder: Embedder
    searcher: Searcher


def index_squad(
    path: Path,
    workdir: Path,
    settings: Settings | None = None,
    *,
    articles: bool = False,
    omit: frozenset[int] = frozenset(),
    wrap: Callable[[str], str] | None = None,
) -> SquadIndex:
    """Write one document per paragraph (`paragraph_id`) to `workdir/docs`, or with `articles`
    one per article (its paragraphs in file order, a blank line apart: a user's long document),
    and bring `workdir/index` up to date (with `settings`, default the environment's, pointed
    there). The paragraphs numbered in `omit` are left out of the documents (their places are
    then `NOWHERE`). `wrap` rewrites each paragraph first (hard-wrapped text, as in a PDF)."""
    paragraphs = [replace(p, context=wrap(p.context)) if wrap else p for p in load_squad(path)]
    # Embedded whatever QA_STORE says: sweeps score every chunk, from the local segments.
    s = (settings or Settings.load()).replace(
        docs_dir=workdir / "docs", index_dir=workdir / "index", store="embedded"
    )
    texts, places = (_articles if articles else _paragraphs)(paragraphs, omit)
    write_documents(s.docs_dir, texts)
    embedder = load_embedder(s.embed_model, s.cache_dir)
    build_index(s, embedder, progress=True)
    return SquadIndex(
        paragraphs,
        places,
        s,
        embedder,
        Searcher(
            EmbeddedStore(load_index(s.index_dir)), load_dictionary(s.cache_dir, s.dictionary_terms)
        ),
    )


def article_places(paragraphs: list[SquadParagraph]) -> list[Located]:
    """Where `index_squad(..., articles=True)` puts each paragraph, without indexing anything."""
    return _articles(paragraphs)[1]


def _paragraphs(
    paragraphs: list[SquadParagraph], omit: frozenset[int] = frozenset()
) -> tuple[dict[str, str], list[Located]]:
    texts = {paragraph_id(n): p.context for n, p in enumerate(paragraphs) if n not in omit}
    ids = [paragraph_id(n) for n in range(len(paragraphs))]
    return texts, [Located(i, 0, len(clean(texts[i]))) if i in texts else NOWHERE for i in ids]


def _articles(
    paragraphs: list[SquadParagraph], omit: frozenset[int] = frozenset()
) -> tuple[dict[str, str], list[Located]]:
    titles = sorted({p.title for p in paragraphs})
    names = {title: f"a{n:04d}.txt" for n, title in enumerate(titles)}
    parts: dict[str, list[str]] = {}
    ends: dict[str, int] = {}
    places = []
    for n, p in enumerate(paragraphs):
        if n in omit:
            places.append(NOWHERE)
            continue
        name = names[p.title]
        # Documents are stored `clean`ed: spans count in that text, paragraphs "\n\n" apart.
        start = ends[name] + 2 if name in ends else 0
        ends[name] = start + len(clean(p.context))
        parts.setdefault(name, []).append(p.context)
        places.append(Located(name, start, ends[name]))
    return {name: "\n\n".join(texts) for name, texts in parts.items()}, places


def load_squad(path: Path) -> list[SquadParagraph]:
    """Every paragraph of a SQuAD-format file, in file order."""
    data = _read_json(path)
    try:
        return [
            SquadParagraph(
                str(article.get("title", "")),
                _strip_title(p["context"]),
                [q["question"] for q in p["qas"]],
                [[a["text"] for a in q.get("answers", [])] for q in p["qas"]],
                [str(q.get("id", "")) for q in p["qas"]],
            )
            for article in data["data"]
            for p in article["paragraphs"]
        ]
    except (KeyError, TypeError) as exc:
        raise InvalidEvalFile(f"{path} is not in SQuAD format ({exc!r})") from None


def write_paragraphs(folder: Path, contexts: list[str]) -> None:
    """Make `folder` hold exactly p0000.txt... with these texts (`write_documents`)."""
    write_documents(folder, {paragraph_id(n): text for n, text in enumerate(contexts)})


def write_documents(folder: Path, texts: dict[str, str]) -> None:
    """Make `folder` hold exactly these documents among its p0000.txt / a0000.txt files."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if _DOCUMENT_FILE.fullmatch(old.name) and old.name not in texts:
            old.unlink()
    for name, text in texts.items():
        target = folder / name
        data = text.encode()
        # Builds compare content hashes, so this only saves writes on a rerun.
        if not target.is_file() or target.read_bytes() != data:
            target.write_bytes(data)


def split_of(title: str) -> str:
    """The fixed half an article belongs to: "tuning" (choices are made here) or "heldout".

    By article, not question, so that no held-out paragraph was ever seen while tuning.
    """
    return "heldout" if int(hashlib.sha256(title.encode("utf-8")).hexdigest(), 16) % 2 else "tuning"


def document_rank(doc_ids: Iterable[str], gold: str) -> int:
    """1-based rank of `gold` among the distinct documents of ranked chunks, 0 if absent.

    Example: ["b", "b", "a"], "a" -> 2
    """
    documents = list(dict.fromkeys(doc_ids))
    return documents.index(gold) + 1 if gold in documents else 0


def _rank(question: str, gold: str, s: Settings) -> int:
    try:
        hits = api.search(question, k=SEARCH_DEPTH, settings=s)
    except InvalidQuestion:
        return 0  # an empty question in the data counts as a miss
    return document_rank((h.doc_id for h in hits), gold)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvalFile(f"cannot read {path}: {exc}") from None


def _strip_title(context: str) -> str:
    """JSQuAD contexts start with "title [SEP] "; the document is what follows."""
    _, sep, rest = context.partition(" [SEP] ")
    return (rest if sep else context).strip()


def paragraph_id(n: int) -> str:
    """The document of the file's paragraph n in an index_squad index."""
    return f"p{n:04d}.txt"


def _progress(items: list[Any], enabled: bool) -> Iterable[Any]:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="questions", unit="q")
