"""The measurements behind `qa eval`: retrieval on SQuAD-format data, answers on QA JSONL.

Retrieval defaults were tuned on JSQuAD v1.3 valid (JGLUE, Yahoo Japan; CC BY-SA 4.0).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

from . import api
from .build import build_index
from .config import Settings
from .embedding import Embedder, load_embedder
from .errors import InvalidEvalFile, InvalidQuestion, InvalidSetting
from .index import load_index
from .search import Searcher
from .text import match_key
from .types import Answer, Hit

# Chunks retrieved per question: recall counts documents, and one may own several chunks.
SEARCH_DEPTH = 30
_EVIDENCE_DEPTH = 3  # the evidence must be in one of this many passages
SAMPLE_SEED = 5  # the answered sample is the same on every run
_PARAGRAPH_FILE = re.compile(r"p\d{4,}\.txt")


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
class AnswerMetrics:
    """Answers to SQuAD questions asked of the whole index (the full retrieval setting)."""

    questions: int
    containment: float  # share whose answer text contains a gold answer (abstentions count 0)
    abstained: float  # share of abstentions
    median_chars: float  # of the answers given

    @classmethod
    def of(cls, results: list[tuple[bool, bool, int]]) -> AnswerMetrics:
        """Aggregate (contains gold, abstained, answer length) per question."""
        n = max(1, len(results))
        lengths = [length for _, abstained, length in results if not abstained]
        return cls(
            len(results),
            sum(ok for ok, _, _ in results) / n,
            sum(abstained for _, abstained, _ in results) / n,
            float(statistics.median(lengths)) if lengths else 0.0,
        )

    def summary(self) -> str:
        """One line for `qa eval --squad --answers N`."""
        return (
            f"answers to {self.questions} sampled questions: contain a gold answer "
            f"{self.containment:.3f}, abstained {self.abstained:.3f}, "
            f"median {self.median_chars:.0f} characters"
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
    answers: AnswerMetrics | None = None  # with `qa eval --squad FILE --answers N`

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
            + (f"\n{self.answers.summary()}" if self.answers else "")
        )


@dataclass(frozen=True)
class QACaseResult:
    """How one QA case went."""

    id: str
    lang: str
    answerable: bool
    abstained: bool
    contained: bool  # the answer text contains one of the accepted answers
    evidence_cited: bool  # a citation overlaps the evidence span
    evidence_retrieved: bool  # one of the top passages overlaps the evidence span
    chars: int  # length of the answer text


@dataclass(frozen=True)
class QAMetrics:
    """Answer metrics over a set of cases; rates are None when nothing was there to count."""

    cases: int
    answerable: int
    unanswerable: int
    answer_containment: float | None  # share of answerable cases whose answer contains one
    citation_evidence_rate: float | None  # share of answerable cases citing the evidence
    evidence_at_3: float | None  # share of answerable cases with the evidence in the top 3
    correct_abstentions: int  # abstentions on unanswerable cases
    false_abstentions: int  # abstentions on answerable cases
    abstention_accuracy: float | None  # share of all cases where abstaining (or not) was right
    median_chars: float | None  # of the answers given to answerable cases

    @classmethod
    def of(cls, results: list[QACaseResult]) -> QAMetrics:
        """Aggregate case results."""
        answerable = [r for r in results if r.answerable]
        unanswerable = [r for r in results if not r.answerable]
        lengths = [r.chars for r in answerable if not r.abstained]
        return cls(
            len(results),
            len(answerable),
            len(unanswerable),
            _share(r.contained for r in answerable),
            _share(r.evidence_cited for r in answerable),
            _share(r.evidence_retrieved for r in answerable),
            sum(r.abstained for r in unanswerable),
            sum(r.abstained for r in answerable),
            _share(r.abstained != r.answerable for r in results),
            float(statistics.median(lengths)) if lengths else None,
        )


@dataclass(frozen=True)
class QAReport:
    """Answer quality on a QA JSONL file, overall and per language."""

    dataset: str
    overall: QAMetrics
    by_language: dict[str, QAMetrics]
    results: list[QACaseResult]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)

    def summary(self) -> str:
        """What `qa eval --qa` prints: a table of metrics and the cases that went wrong."""
        lines = [
            f"answers on {self.dataset}: {self.overall.cases} cases in {self.seconds:.1f} s",
            f"{'':6}{'cases':>6}{'contains':>10}{'cites ev.':>11}{'ev.@3':>7}"
            f"{'right abst.':>13}{'false abst.':>13}{'abst. acc.':>12}{'median chars':>14}",
        ]
        for name, m in [("all", self.overall), *sorted(self.by_language.items())]:
            lines.append(
                f"{name:6}{m.cases:>6}{_rate(m.answer_containment):>10}"
                f"{_rate(m.citation_evidence_rate):>11}{_rate(m.evidence_at_3):>7}"
                f"{f'{m.correct_abstentions}/{m.unanswerable}':>13}"
                f"{f'{m.false_abstentions}/{m.answerable}':>13}{_rate(m.abstention_accuracy):>12}"
                f"{'-' if m.median_chars is None else f'{m.median_chars:.1f}':>14}"
            )
        misses = [f"{r.id} ({', '.join(_problems(r))})" for r in self.results if _problems(r)]
        lines.append("problems: " + ("; ".join(misses) if misses else "none"))
        return "\n".join(lines)


def evaluate_squad(
    path: Path,
    *,
    limit: int | None = None,
    answers: int = 0,
    workdir: Path,
    settings: Settings | None = None,
    progress: bool = False,
) -> SquadReport:
    """Index the first `limit` paragraphs of a SQuAD file (all by default) and rank their questions;
    with `answers`, also answer a fixed random sample of that many questions from the whole index.

    Each paragraph becomes `workdir/docs/p0000.txt`...; the index in `workdir/index` is built
    incrementally, so a second run reuses every vector.
    """
    paragraphs = load_squad(path)[: _checked(limit)]
    s = (settings or Settings.load()).replace(
        docs_dir=workdir / "docs", index_dir=workdir / "index"
    )
    write_paragraphs(s.docs_dir, [p.context for p in paragraphs])
    load_embedder(s.embed_model, s.cache_dir)  # so that the build time is the build's own
    started = perf_counter()
    stats = api.build_index(settings=s, progress=progress)
    build_seconds = perf_counter() - started
    questions = [
        (q, _paragraph_id(n), gold)
        for n, p in enumerate(paragraphs)
        for q, gold in zip(p.questions, p.answers, strict=True)
    ]
    started = perf_counter()
    ranks = [_rank(q, doc, s) for q, doc, _ in _progress(questions, progress)]
    search_seconds = perf_counter() - started
    sample = random.Random(SAMPLE_SEED).sample(questions, min(answers, len(questions)))
    answered = [_answer(q, gold, s) for q, _, gold in _progress(sample, progress)]
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
        answers=AnswerMetrics.of(answered) if answered else None,
    )


@dataclass(frozen=True)
class SquadParagraph:
    """One paragraph of a SQuAD-format file: its text, questions and their accepted answers."""

    context: str  # without JSQuAD's leading "title [SEP] "
    questions: list[str]
    answers: list[list[str]]  # per question (empty lists when the file has none)


@dataclass(frozen=True)
class SquadIndex:
    """A SQuAD file indexed in a work folder, ready to search (for benchmarks)."""

    paragraphs: list[SquadParagraph]
    settings: Settings
    embedder: Embedder
    searcher: Searcher


def index_squad(path: Path, workdir: Path) -> SquadIndex:
    """Write one document per paragraph to `workdir/docs` and bring `workdir/index` up to date."""
    paragraphs = load_squad(path)
    s = Settings.load(docs_dir=workdir / "docs", index_dir=workdir / "index")
    write_paragraphs(s.docs_dir, [p.context for p in paragraphs])
    embedder = load_embedder(s.embed_model, s.cache_dir)
    build_index(s, embedder, progress=True)
    return SquadIndex(paragraphs, s, embedder, Searcher(load_index(s.index_dir)))


def load_squad(path: Path) -> list[SquadParagraph]:
    """Every paragraph of a SQuAD-format file, in file order."""
    data = _read_json(path)
    try:
        return [
            SquadParagraph(
                _strip_title(p["context"]),
                [q["question"] for q in p["qas"]],
                [[a["text"] for a in q.get("answers", [])] for q in p["qas"]],
            )
            for article in data["data"]
            for p in article["paragraphs"]
        ]
    except (KeyError, TypeError) as exc:
        raise InvalidEvalFile(f"{path} is not in SQuAD format ({exc!r})") from None


def write_paragraphs(folder: Path, contexts: list[str]) -> None:
    """Make `folder` hold exactly p0000.txt... with these texts (other p*.txt are removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {_paragraph_id(n): text for n, text in enumerate(contexts)}
    for old in folder.iterdir():
        if _PARAGRAPH_FILE.fullmatch(old.name) and old.name not in wanted:
            old.unlink()
    for name, text in wanted.items():
        target = folder / name
        data = text.encode()
        # Builds compare content hashes, so this only saves writes on a rerun.
        if not target.is_file() or target.read_bytes() != data:
            target.write_bytes(data)


def evaluate_qa(
    path: Path, *, limit: int | None = None, settings: Settings | None = None
) -> QAReport:
    """Answer every case of a QA JSONL file (see DESIGN.md) and score the answers."""
    s = settings or Settings.load()
    cases = load_qa(path)[: _checked(limit)]
    started = perf_counter()
    answers = [(case, api.answer(case["question"], settings=s)) for case in cases]
    hits = [api.search(case["question"], k=_EVIDENCE_DEPTH, settings=s) for case in cases]
    texts = {d: e.document.text for d, e in load_index(s.index_dir).documents.items()}
    results = [_judge(case, a, top, texts) for (case, a), top in zip(answers, hits, strict=True)]
    seconds = perf_counter() - started
    languages = sorted({r.lang for r in results})
    return QAReport(
        path.name,
        QAMetrics.of(results),
        {lang: QAMetrics.of([r for r in results if r.lang == lang]) for lang in languages},
        results,
        seconds,
    )


def load_qa(path: Path) -> list[dict[str, Any]]:
    """The cases of a QA JSONL file; each needs `question` and `answers`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        cases = [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvalFile(f"cannot read {path}: {exc}") from None
    for n, case in enumerate(cases, start=1):
        if (
            not isinstance(case, dict)
            or not isinstance(case.get("question"), str)
            or not (isinstance(case.get("answers"), list))
        ):
            raise InvalidEvalFile(f"{path} case {n} lacks a `question` or `answers` list")
    return cases


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two spans overlap by at least half of the shorter one.

    Example: (0, 10), (5, 30) -> True (5 of the shorter span's 10 characters)
    """
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    return overlap > 0 and overlap >= 0.5 * min(a[1] - a[0], b[1] - b[0])


def contains_answer(text: str, answers: list[str]) -> bool:
    """Whether any accepted answer occurs in the text, after NFKC, lowercasing and no spaces.

    Example: "Windows Vista と XP", ["windows vista"] -> True
    """
    haystack = _squash(text)
    return any(_squash(a) and _squash(a) in haystack for a in answers)


def char_f1(predicted: str, gold: str) -> float:
    """F1 over the characters two answers share (JaQuAD's metric), after the same squashing.

    Example: "1928年に", "1928年" -> 0.909
    """
    p, g = _squash(predicted), _squash(gold)
    common = sum((Counter(p) & Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def split_of(title: str) -> str:
    """The fixed half an article belongs to: "tuning" (choices are made here) or "heldout".

    By article, not question, so that no held-out paragraph was ever seen while tuning.
    """
    return "heldout" if int(hashlib.sha256(title.encode("utf-8")).hexdigest(), 16) % 2 else "tuning"


def _judge(case: dict[str, Any], a: Answer, top: list[Hit], texts: dict[str, str]) -> QACaseResult:
    answers = [str(x) for x in case["answers"]]
    spans = _evidence_spans(str(case.get("evidence", "")), texts)
    return QACaseResult(
        id=str(case.get("id", case["question"])),
        lang=str(case.get("lang", "?")),
        answerable=bool(answers),
        abstained=a.abstained,
        contained=not a.abstained and contains_answer(a.text, answers),
        evidence_cited=any(_in_spans(c.doc_id, (c.start, c.end), spans) for c in a.citations),
        evidence_retrieved=any(_in_spans(h.doc_id, (h.start, h.end), spans) for h in top),
        chars=len(a.text),
    )


def _evidence_spans(evidence: str, texts: dict[str, str]) -> list[tuple[str, int, int]]:
    """Every occurrence of the evidence text in the indexed documents."""
    if not evidence:
        return []
    found = []
    for doc_id, text in texts.items():
        start = text.find(evidence)
        while start >= 0:
            found.append((doc_id, start, start + len(evidence)))
            start = text.find(evidence, start + 1)
    return found


def _in_spans(doc_id: str, span: tuple[int, int], spans: list[tuple[str, int, int]]) -> bool:
    return any(d == doc_id and overlaps(span, (a, b)) for d, a, b in spans)


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


def _answer(question: str, gold: list[str], s: Settings) -> tuple[bool, bool, int]:
    try:
        a = api.answer(question, settings=s)
    except InvalidQuestion:
        return False, True, 0
    return not a.abstained and contains_answer(a.text, gold), a.abstained, len(a.text)


def _checked(limit: int | None) -> int | None:
    if limit is not None and limit < 1:
        raise InvalidSetting(f"the limit must be a positive number, got {limit}")
    return limit


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvalFile(f"cannot read {path}: {exc}") from None


def _strip_title(context: str) -> str:
    """JSQuAD contexts start with "title [SEP] "; the document is what follows."""
    _, sep, rest = context.partition(" [SEP] ")
    return (rest if sep else context).strip()


def _paragraph_id(n: int) -> str:
    return f"p{n:04d}.txt"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", match_key(text))


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return sum(values) / len(values) if values else None


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _problems(r: QACaseResult) -> list[str]:
    if not r.answerable:
        return [] if r.abstained else ["answered an unanswerable question"]
    if r.abstained:
        return ["false abstention"]
    checks = [(r.contained, "answer missing"), (r.evidence_cited, "evidence not cited")]
    return [message for ok, message in checks if not ok]


def _progress(items: list[Any], enabled: bool) -> Iterable[Any]:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="questions", unit="q")
