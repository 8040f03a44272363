"""Extractive answers: the best sentences of the retrieved passages, quoted verbatim and cited."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .embedding import Embedder
from .errors import InvalidQuestion
from .lexical import BM25
from .text import clean, match_key, sentence_spans, terms
from .types import Answer, Citation, Document, Hit

ABSTAIN_TEXT = "The documents do not contain the answer. / 資料には答えが見つかりませんでした。"

Turn = str | Mapping[str, str]

_HIRAGANA = re.compile("[\u3040-\u309f]")
_QUESTION_WORDS = re.compile("[何誰]")
_STOPWORDS = frozenset(
    (
        "a an the of to in on at for by with from and or is are was were be been do does "
        "did what which who whom whose when where why how that this these those it its as "
        "about into than"
    ).split()
)
_PASSAGES = 3  # sentences are drawn from the best few passages only


@dataclass(frozen=True)
class _Sentence:
    hit: Hit
    start: int  # in the document
    end: int
    coverage: float  # idf-weighted share of the question's content terms found in it
    dense: float  # cosine with the question


def check_question(question: object, max_chars: int) -> str:
    """The cleaned question, or InvalidQuestion if it is empty, too long or not text."""
    if not isinstance(question, str):
        raise InvalidQuestion("the question must be text")
    # Reject absurd input before normalising it (NFKC can expand a character 18-fold).
    if len(question) > 4 * max_chars:
        raise InvalidQuestion(f"the question is too long (over {max_chars:,} characters)")
    cleaned = clean(question).strip()
    if not match_key(cleaned).strip():
        raise InvalidQuestion("the question is empty")
    if len(cleaned) > max_chars or len(match_key(cleaned)) > max_chars:
        raise InvalidQuestion(f"the question is too long (over {max_chars:,} characters)")
    return cleaned


def search_query(question: str, history: Sequence[Turn] | None) -> str:
    """What to retrieve with: a follow-up without content terms borrows the last question's."""
    previous = [_user_text(t) for t in history or [] if _user_text(t)]
    if previous and len(content_terms(question)) < 2:
        return f"{previous[-1]} {question}"
    return question


def content_terms(text: str) -> set[str]:
    """Terms that carry meaning: kanji/katakana bigrams and words that are not stop words.

    Example: "講演したのは誰ですか？" -> {"講演"}
    """
    return {
        t
        for t in terms(text)
        if len(t) >= 2
        and not _HIRAGANA.search(t)
        and not _QUESTION_WORDS.search(t)
        and t not in _STOPWORDS
    }


def compose(
    question: str,
    searched: str,
    hits: list[Hit],
    documents: Mapping[str, Document],
    lexical: BM25,
    embedder: Embedder,
    query_vector: np.ndarray,
    *,
    max_sentences: int,
    min_term_coverage: float,
    min_dense_score: float,
) -> Answer:
    """Answer from the hits, quoting the documents they come from."""
    passages = hits[:_PASSAGES]
    if not passages:
        return _abstain(question, searched, "nothing was retrieved")
    wanted = {t: lexical.idf(t) for t in content_terms(searched)}
    coverage = max(_coverage(h.text, wanted) for h in passages)
    dense = max(h.dense for h in passages)
    # Abstain only when neither signal vouches for the passages: lexical coverage carries
    # same-language questions, dense similarity carries cross-lingual ones.
    if coverage < min_term_coverage and dense < min_dense_score:
        return _abstain(
            question,
            searched,
            f"the best passages cover {coverage:.0%} of the question's key terms "
            f"and their similarity {dense:.2f} is below {min_dense_score:.2f}",
        )
    ranked = sorted(
        _sentences(passages, documents, wanted, embedder, query_vector), key=_rank, reverse=True
    )
    best = ranked[0]
    chosen = [best] + [s for s in ranked[1:max_sentences] if _rank(s) >= 0.9 * _rank(best)]
    chosen.sort(key=lambda s: (s.hit.doc_id, s.start))
    citations = [_cite(n, s, documents[s.hit.doc_id]) for n, s in enumerate(chosen, start=1)]
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return Answer(question, text, False, citations, searched_query=searched)


def _rank(s: _Sentence) -> float:
    return s.coverage + 2.0 * s.dense + 0.05 * s.hit.score


def _sentences(
    passages: list[Hit],
    documents: Mapping[str, Document],
    wanted: Mapping[str, float],
    embedder: Embedder,
    query_vector: np.ndarray,
) -> list[_Sentence]:
    """Every sentence of the passages, scored against the question (overlaps counted once)."""
    spans: dict[tuple[str, int, int], Hit] = {}
    for hit in passages:
        for a, b in sentence_spans(hit.text):
            spans.setdefault((hit.doc_id, hit.start + a, hit.start + b), hit)
    quotes = [documents[doc].text[a:b] for doc, a, b in spans]
    dense = embedder.encode_sentences(quotes) @ query_vector
    return [
        _Sentence(hit, a, b, _coverage(quote, wanted), float(score))
        for ((_, a, b), hit), quote, score in zip(spans.items(), quotes, dense, strict=True)
    ]


def _coverage(text: str, wanted: Mapping[str, float]) -> float:
    """idf-weighted share of the wanted terms that occur in the text."""
    total = sum(wanted.values())
    if total == 0:
        return 0.0
    present = set(terms(text))
    return sum(w for t, w in wanted.items() if t in present) / total


def _cite(n: int, s: _Sentence, doc: Document) -> Citation:
    quote = doc.text[s.start : s.end]
    page = doc.page_of(s.start)
    return Citation(n, doc.doc_id, doc.title, s.start, s.end, quote, s.hit.score, s.hit, page)


def _abstain(question: str, searched: str, reason: str) -> Answer:
    return Answer(question, ABSTAIN_TEXT, True, [], searched_query=searched, reason=reason)


def _user_text(turn: Turn) -> str:
    if isinstance(turn, str):
        return turn
    return str(turn.get("content", "")) if turn.get("role", "user") == "user" else ""
