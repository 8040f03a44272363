"""Answer quality on a QA JSONL file (see DESIGN.md), overall and per language: `qa eval --qa`."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

from . import api
from .config import Settings
from .errors import InvalidEvalFile, InvalidSetting
from .evaluation_answers import contains_answer
from .index import load_index
from .types import Answer, Hit

_EVIDENCE_DEPTH = 3  # the evidence must be in one of this many passages


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


def evaluate_qa(
    path: Path, *, limit: int | None = None, settings: Settings | None = None
) -> QAReport:
    """Answer every case of a QA JSONL file (see DESIGN.md) and score the answers."""
    s = settings or Settings.load()
    cases = load_qa(path)[: checked_limit(limit)]
    started = perf_counter()
    answers = [(case, api.answer(case["question"], settings=s)) for case in cases]
    hits = [api.search(case["question"], k=_EVIDENCE_DEPTH, settings=s) for case in cases]
    texts = {d: doc.text for d, doc in load_index(s.index_dir).documents.items()}
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


def load_qa(path: Path, question: tuple[str, ...] = ("question",)) -> list[dict[str, Any]]:
    """The cases of a QA JSONL file; each needs a `question` (or one of the named fields) and
    `answers`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        cases = [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvalFile(f"cannot read {path}: {exc}") from None
    for n, case in enumerate(cases, start=1):
        if (
            not isinstance(case, dict)
            or not any(isinstance(case.get(field), str) for field in question)
            or not (isinstance(case.get("answers"), list))
        ):
            named = " / ".join(f"`{field}`" for field in question)
            raise InvalidEvalFile(f"{path} case {n} lacks a {named} or `answers` list")
    return cases


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two spans overlap by at least half of the shorter one.

    Example: (0, 10), (5, 30) -> True (5 of the shorter span's 10 characters)
    """
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    return overlap > 0 and overlap >= 0.5 * min(a[1] - a[0], b[1] - b[0])


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


def checked_limit(limit: int | None) -> int | None:
    """A `--limit` as given, or InvalidSetting when it is not a positive number."""
    if limit is not None and limit < 1:
        raise InvalidSetting(f"the limit must be a positive number, got {limit}")
    return limit
