"""Answers: the reader's best span in the retrieved passages, quoted within its sentence and
cited; or an honest abstention when the reader finds no answer there."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from .config import Settings
from .japanese import has_cjk, trim_answer
from .reader import Reader, ReadSpan
from .text import sentence_spans
from .types import Answer, Citation, Document, Hit

ABSTAIN_TEXT = "The documents do not contain the answer. / 資料には答えが見つかりませんでした。"
CROSS_LINGUAL_NOTE = "(answer quoted in Japanese)"
_REACH = 300  # characters looked at around a span to find the sentence it stands in
_CLAUSE_END = "、，,;；:："  # where a sentence too long to quote whole may be cut


@dataclass(frozen=True)
class Retrieved:
    """What retrieval hands to answering for one question."""

    hits: list[Hit]
    documents: Mapping[str, Document]


def compose(
    question: str, searched: str, found: Retrieved, reader: Reader, settings: Settings
) -> Answer:
    """Read the best passages; answer with the best span and the sentence holding it, or
    abstain when the reader's "no answer" beats that span by the calibrated margin."""
    passages = found.hits[: settings.reader_passages]
    # The searched query, not the bare question: in a follow-up it carries what "それ" means.
    spans = reader.read(searched, [hit.text for hit in passages])
    if not spans:
        nothing = (
            "資料に該当する箇所がありません。" if has_cjk(question) else "nothing was retrieved"
        )
        return _abstain(question, searched, passages, nothing)
    # Ties go to the better-ranked passage, so the choice never depends on evaluation order.
    best = max(spans, key=lambda s: (s.score, -s.passage))
    hit = passages[best.passage]
    doc = found.documents[hit.doc_id]
    start, end = trim_answer(doc.text, hit.start + best.start, hit.start + best.end)
    needed = needed_margin(question, hit.text, settings)
    if best.margin < needed:
        reason = _reason(question, best, doc.text[start:end], needed, settings)
        return dataclasses.replace(
            _abstain(question, searched, passages, reason), confidence=best.margin
        )
    short = doc.text[start:end]
    quote_start, quote_end = _quote_around(doc.text, start, end, settings.quote_max_chars)
    citation = Citation(
        1,
        doc.doc_id,
        doc.title,
        quote_start,
        quote_end,
        doc.text[quote_start:quote_end],
        hit.score,
        hit,
        doc.page_of(quote_start),
        highlight=(start, end),
    )
    return Answer(
        question,
        _text(question, short, citation.quote),
        False,
        [citation],
        searched_query=searched,
        short=short,
        confidence=best.margin,
    )


def _text(question: str, short: str, quote: str) -> str:
    """The short answer and its marker first, then the quoted sentence (if it says more)."""
    note = f" {CROSS_LINGUAL_NOTE}" if not has_cjk(question) and has_cjk(quote) else ""
    lead = f"{short} [1]{note}"
    return lead if quote == short else f"{lead}\n“{quote}”"


def _abstain(question: str, searched: str, passages: list[Hit], reason: str) -> Answer:
    return Answer(
        question,
        ABSTAIN_TEXT,
        True,
        [],
        searched_query=searched,
        reason=reason,
        related=list(passages),
    )


def needed_margin(question: str, passage: str, settings: Settings) -> float:
    """The margin an answer needs: the cross-lingual one for a question without Japanese
    script answered from Japanese text, else the same-language one."""
    if has_cjk(passage) and not has_cjk(question):
        return settings.min_reader_margin_cross_lingual
    return settings.min_reader_margin


def _reason(question: str, best: ReadSpan, span: str, needed: float, settings: Settings) -> str:
    """Why the reader abstained, in the question's language."""
    n, margin = settings.reader_passages, best.margin
    if has_cjk(question):
        return (
            f"最も関連する{n}件の箇所を読みましたが、答えは見つかりませんでした（最有力の候補"
            f"「{span}」の確からしさ {margin:+.1f}、回答には {needed:+.1f} 以上が必要）。"
        )
    return (
        f"the reader found no answer in the {n} best passages: its best guess, “{span}”, "
        f"scores {margin:+.1f} against “no answer” (an answer needs {needed:+.1f} or more)"
    )


def _quote_around(text: str, start: int, end: int, max_chars: int) -> tuple[int, int]:
    """The sentence(s) holding text[start:end]; one too long is cut to whole clauses around
    the span, as many as fit in max_chars (the span itself always stays whole)."""
    lo, hi = max(0, start - _REACH), min(len(text), end + _REACH)
    inside = [
        (lo + a, lo + b) for a, b in sentence_spans(text[lo:hi]) if lo + a < end and start < lo + b
    ]
    first, last = (inside[0][0], inside[-1][1]) if inside else (start, end)
    first, last = min(first, start), max(last, end)
    if last - first <= max_chars:
        return first, last
    cuts = [i + 1 for i in range(first, last) if text[i] in _CLAUSE_END]
    starts = [c for c in [first, *cuts] if c <= start]
    ends = [c for c in [*cuts, last] if c >= end]
    a, b = starts[-1], ends[0]
    # Widen by whole clauses, alternately before and after, while the quote still fits.
    i, j = len(starts) - 1, 0
    while True:
        grown = False
        if i > 0 and b - starts[i - 1] <= max_chars:
            i -= 1
            a = starts[i]
            grown = True
        if j < len(ends) - 1 and ends[j + 1] - a <= max_chars:
            j += 1
            b = ends[j]
            grown = True
        if not grown:
            break
    while a < start and text[a].isspace():
        a += 1
    while b > end and text[b - 1].isspace():
        b -= 1
    return a, b
