"""Answers: the best span the reader finds in the retrieved passages, as the selector
(qa/selection.py) judges it, quoted within its sentence and cited; or an honest abstention
when no span is likely enough to be right."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from .config import Settings
from .dictionary import Dictionary
from .japanese import has_cjk, trim_answer
from .reader import Reader
from .selection import Selector, best, cross_lingual, pairing
from .text import sentence_spans
from .types import Answer, Citation, Document, Hit

ABSTAIN_TEXT = "The documents do not contain the answer. / 資料には答えが見つかりませんでした。"
CROSS_LINGUAL_NOTE = "(answer quoted in Japanese)"
CROSS_LINGUAL_NOTE_JA = "（英語の原文から引用）"  # a Japanese question answered from English text
_REACH = 300  # characters looked at around a span to find the sentence it stands in
_CLAUSE_END = "、，,;；:："  # where a sentence too long to quote whole may be cut


@dataclass(frozen=True)
class Retrieved:
    """What retrieval hands to answering for one question."""

    hits: list[Hit]
    documents: Mapping[str, Document]


def compose(
    question: str,
    searched: str,
    found: Retrieved,
    reader: Reader,
    selector: Selector,
    settings: Settings,
) -> Answer:
    """Read the best passages; answer with the span the selector rates most likely right and
    the sentence holding it, or abstain when its log-odds fall under the calibrated minimum.

    In a follow-up the reader reads the question as asked, and the searched query (earlier
    turns and the question) is what the selector judges with, what decides how many passages
    are read and which minimum applies: retrieval and the selector learn what "それ" means from
    it. A reader given the searched query answered the earlier turn again (constructed
    follow-ups, held-out halves, `benchmarks/eval_followups.py`: answers held the gold 0.760 →
    0.900 for JSQuAD and 0.650 → 0.770 for JaQuAD; negatives answered 0.324 → 0.268 and
    0.438 → 0.274; abstained 0.030 → 0.040 and 0.030 → 0.080)."""
    passages = found.hits[: reading_depth(searched, found.hits, settings)]
    spans = reader.read(question, [hit.text for hit in passages])
    if not spans:
        nothing = (
            "資料に該当する箇所がありません。" if has_cjk(question) else "nothing was retrieved"
        )
        return _abstain(question, searched, passages, nothing)
    dictionary = Dictionary(settings.cache_dir, settings.dictionary_terms)
    logits = selector.logits(searched, passages, spans, dictionary)
    at = best(logits, [span.passage for span in spans])
    chosen, logit = spans[at], float(logits[at])
    hit = passages[chosen.passage]
    doc = found.documents[hit.doc_id]
    start, end = trim_answer(doc.text, hit.start + chosen.start, hit.start + chosen.end)
    needed = needed_logit(searched, hit.text, settings)
    if logit < needed:
        reason = _reason(question, logit, doc.text[start:end], needed, len(passages))
        return dataclasses.replace(_abstain(question, searched, passages, reason), confidence=logit)
    short = doc.text[start:end]
    quote_start, quote_end = quote_around(doc.text, start, end, settings.quote_max_chars)
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
        confidence=logit,
    )


def _text(question: str, short: str, quote: str) -> str:
    """The short answer and its marker first, then the quoted sentence (if it says more)."""
    note = ""
    if has_cjk(question) != has_cjk(quote):
        note = f" {CROSS_LINGUAL_NOTE_JA if has_cjk(question) else CROSS_LINGUAL_NOTE}"
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


def reading_depth(searched: str, hits: list[Hit], settings: Settings) -> int:
    """How many passages the reader reads: more for a question across languages
    (`selection.cross_lingual`), whose best passage is right far less often (R@1 0.567 for 300
    English tuning questions over JSQuAD, 0.912 for Japanese ones)."""
    if hits and cross_lingual(searched, hits[0].text):
        return settings.reader_passages_cross_lingual
    return settings.reader_passages


def minimums(settings: Settings) -> dict[str, float]:
    """The log-odds an answer needs, by `selection.pairing` of question and passage."""
    return {
        "ja": settings.min_answer_logit,
        "en": settings.min_answer_logit_cross_lingual,
        "en-en": settings.min_answer_logit_english,
        "ja-en": settings.min_answer_logit_japanese_over_english,
    }


def needed_logit(question: str, passage: str, settings: Settings) -> float:
    """The log-odds an answer from `passage` needs: the minimum of the pair's languages."""
    return minimums(settings)[pairing(question, passage)]


def _reason(question: str, logit: float, span: str, needed: float, read: int) -> str:
    """Why the answer abstained, in the question's language."""
    if has_cjk(question):
        return (
            f"最も関連する{read}件の箇所を読みましたが、答えは見つかりませんでした（最有力の候補"
            f"「{span}」の確からしさ {logit:+.1f}、回答には {needed:+.1f} 以上が必要）。"
        )
    where = "the best passage" if read == 1 else f"the {read} best passages"
    return (
        f"the reader found no answer in {where}: its best guess, “{span}”, "
        f"scores {logit:+.1f} in log-odds of being right (an answer needs {needed:+.1f} or more)"
    )


def quote_around(text: str, start: int, end: int, max_chars: int) -> tuple[int, int]:
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
