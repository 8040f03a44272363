"""Questions: validation, key terms, and follow-ups resolved against the conversation."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from itertools import zip_longest

from .errors import InvalidQuestion
from .japanese import content_words, has_cjk, refers_back
from .text import clean, match_key, terms
from .types import Hit

Turn = str | Mapping[str, str]
# How much better (dense cosine of the best-ranked passage) the question alone must match than
# the question joined to the conversation for the conversation to be left out. Chosen on the
# tuning halves of benchmarks/eval_followups.py's follow-ups and switches (0.01-0.03 scored
# alike, contains less negatives answered; follow-ups unchanged throughout), held out: English
# switches 0.818 / 0.076 → 0.833 / 0.061 contains / abstains, every follow-up row unchanged.
_ALONE_MARGIN = 0.02

_STOPWORDS = frozenset(
    (
        "a an the of to in on at for by with from and or is are was were be been do does "
        "did what which who whom whose when where why how that this these those it its as "
        "about into than they them he she his her their there then"
    ).split()
)
# English words that point back into the conversation ("Who said that?"); Japanese ones are
# read off the morphemes (`japanese.refers_back`).
_REFERRING = re.compile(
    r"\b(it|its|that|this|they|them|their|he|she|his|her|those|these|there)\b", re.IGNORECASE
)


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
    """What to retrieve with: a follow-up that refers back, or says too little on its own,
    is searched together with the previous question.

    Example: ("それはいつ？", ["Xenのドライバは？"]) -> "Xenのドライバは？ それはいつ？"
    """
    # A follow-up of a follow-up resolves through the chain, up to three turns back.
    previous = [text for text in map(_user_text, history or []) if text.strip()][-3:]
    refers = refers_back(question) or _REFERRING.search(question)
    if previous and (refers or len(content_terms(question)) < 2):
        return f"{search_query(previous[-1], previous[:-1])} {question}"
    return question


def searched_turn(
    question: str, history: Sequence[Turn] | None, search: Callable[[str], list[Hit]]
) -> tuple[str, list[Hit]]:
    """The query a turn is searched with, and the passages to read: `search_query`'s, its
    documents read where the question points (`placed`), unless the question alone finds a
    passage that matches it better by _ALONE_MARGIN (a question that names what it asks about,
    after another subject: "its" in "Which monument gets its green color?" is its own).

    Example: ("Where does it rise?", ["How long is the Danube?"]) -> the two joined
    """
    joined = search_query(question, history)
    found = search(joined)
    if joined == question:
        return question, found
    alone = search(question)
    if alone and (not found or alone[0].dense > found[0].dense + _ALONE_MARGIN):
        return question, alone
    return joined, placed(found, alone)


def placed(found: list[Hit], alone: list[Hit]) -> list[Hit]:
    """The documents of `found` (the conversation's search) in its order, each read at its
    chunks that either search found, taken in turn from the question alone's ranking and the
    conversation's: the conversation says which document, the question where in it, and in
    one long document the conversation's chunk is read too.

    Why: joined to an earlier question about another part of the same document, a follow-up
    was read at the chunk that answers the earlier one. On the tuning halves of
    benchmarks/eval_followups.py, English follow-ups 0.808 / 0.096 / 0.115 → 0.885 / 0.058 /
    0.115 (contains / abstains / negatives answered), every other row unchanged; held out,
    English 0.795 / 0.136 / 0.114 → 0.909 / 0.045 / 0.045, JaQuAD 0.770 / 0.100 / 0.247 →
    0.790 / 0.090 / 0.233. Fusing the two rankings instead cost the JaQuAD follow-ups (tuning
    contains 0.808 → 0.692). With whole articles as documents (`eval_followups.py --articles`),
    reading only the question alone's chunks cost bare Japanese follow-ups; taking the
    conversation's in turn, JaQuAD tuning 0.769 / 0.128 / 0.174 → 0.795 / 0.103 / 0.174, held
    out 0.720 / 0.120 / 0.227 → 0.730 / 0.120 / 0.216, JSQuAD tuning contains 0.780 → 0.790,
    the English rows and every switch unchanged.

    Example: found [a#0, b#0], alone [a#1, c#0] -> [a#1, b#0];
    found [a#0, a#1, a#2], alone [a#3, a#4] -> [a#3, a#0, a#4]
    """
    rank = {hit.chunk_id: r for r, hit in enumerate(alone)}
    chunks: dict[str, dict[str, Hit]] = {}
    for hit in [*found, *alone]:
        chunks.setdefault(hit.doc_id, {}).setdefault(hit.chunk_id, hit)
    in_turn: dict[str, list[Hit]] = {}
    for doc, held in chunks.items():
        by_alone = sorted(held.values(), key=lambda hit: rank.get(hit.chunk_id, len(alone)))
        by_found = [held[hit.chunk_id] for hit in found if hit.doc_id == doc]
        both = (hit for pair in zip_longest(by_alone, by_found) for hit in pair if hit is not None)
        in_turn[doc] = list({hit.chunk_id: hit for hit in both}.values())
    return [in_turn[hit.doc_id].pop(0) for hit in found]


def content_terms(text: str) -> set[str]:
    """Terms that carry meaning: the lexical terms (character bigrams) of Japanese text's
    content words (`japanese.content_words`), and words that are not stop words.

    Example: "講演したのは誰ですか？" -> {"講演"}
    """
    words = " ".join(content_words(text)) if has_cjk(text) else text
    return {t for t in terms(words) if len(t) >= 2 and t not in _STOPWORDS}


def _user_text(turn: Turn) -> str:
    if isinstance(turn, str):
        return turn
    return str(turn.get("content", "")) if turn.get("role", "user") == "user" else ""
