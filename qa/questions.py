"""Questions: validation, key terms, and follow-ups resolved against the conversation."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .errors import InvalidQuestion
from .japanese import Morpheme, morphemes
from .text import clean, match_key, terms

Turn = str | Mapping[str, str]

_HIRAGANA = re.compile("[\u3040-\u309f]")
_QUESTION_WORDS = re.compile("[何誰]")
_STOPWORDS = frozenset(
    (
        "a an the of to in on at for by with from and or is are was were be been do does "
        "did what which who whom whose when where why how that this these those it its as "
        "about into than they them he she his her their there then"
    ).split()
)
# Words that point back into the conversation ("それはいつ？", "Who said that?").
_REFERRING = re.compile(
    r"それ|その|そこ|あれ|あの|これ|この|彼|彼女|同氏|同社|\b(it|its|that|this|they|them|"
    r"their|he|she|his|her|those|these|there)\b",
    re.IGNORECASE,
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
    if previous and (_REFERRING.search(question) or len(content_terms(question)) < 2):
        return f"{search_query(previous[-1], previous[:-1])} {question}"
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


# Question words, and the noun each stands for when a clause asks for it ("…したのは誰" asks
# for the person: "…した人").
_ASKING = {
    "誰": "人", "だれ": "人", "どこ": "場所", "いつ": "時期", "なぜ": "理由", "何故": "理由",
    "いくら": "金額", "いくつ": "数", "何": "もの", "なに": "もの", "どれ": "もの", "どの": "もの",
    "どんな": "もの", "どういう": "もの", "どう": "方法",
}  # fmt: skip
_NOUN = ("名詞", "代名詞", "接尾辞", "接頭辞")
_TOPIC_MAX = 40  # characters: a longer topic reads worse than the question itself


def asked_topic(question: str) -> str | None:
    """What a Japanese question of the form "X は 〈question word〉 ですか" asks about, as a
    noun phrase (a clause ending in の gets the noun its question word stands for); None for
    any other shape, which a caller then quotes whole. Used to word refusals.

    Example: "講演が行われたのはどの都市ですか？" -> "講演が行われた都市";
    "2007年の売上高はいくらですか？" -> "2007年の売上高"; "何がリリースされましたか" -> None
    """
    pieces = [m for m in morphemes(question) if not m.pos[0].endswith("記号")]
    topic_at = next(
        (i for i, m in enumerate(pieces) if m.surface == "は" and m.pos[1] == "係助詞"), None
    )
    if not topic_at:
        return None
    before, after = pieces[:topic_at], pieces[topic_at + 1 :]
    if before[-1].surface == "と" and len(before) > 1:  # "X とは何ですか"
        before = before[:-1]
    asking = [m.surface for m in after if m.surface in _ASKING]
    # The rest may only name the question word, its noun and the copula: "どの都市ですか"
    # (a verb there, as in "X は誰が雇ったのですか", asks something the topic alone misses).
    if any(m.pos[0] in ("動詞", "形容詞") and m.lemma != "いう" for m in after):
        return None
    if before[-1].pos[1] == "準体助詞":
        nouns = "".join(m.surface for m in after if m.pos[0] in _NOUN and m.surface not in _ASKING)
        if not nouns and not asking:
            return None
        topic = _joined(question, before[:-1]) + (nouns or _ASKING[asking[0]])
    elif before[-1].pos[0] in _NOUN:
        topic = _joined(question, before)
    else:
        return None
    # "それは…" names nothing by itself: a topic needs a noun that is not a pronoun.
    named = any(m.pos[0] == "名詞" for m in before) or not asking
    return topic if named and len(topic) <= _TOPIC_MAX else None


def _joined(question: str, pieces: list[Morpheme]) -> str:
    return question[pieces[0].start : pieces[-1].end]


def _user_text(turn: Turn) -> str:
    if isinstance(turn, str):
        return turn
    return str(turn.get("content", "")) if turn.get("role", "user") == "user" else ""
