"""Questions: validation, key terms, and follow-ups resolved against the conversation."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from .errors import InvalidQuestion
from .text import clean, match_key, terms

Turn = str | Mapping[str, str]

_HIRAGANA = re.compile("[\u3040-\u309f]")
_QUESTION_WORDS = re.compile("[何誰]")
_WHO = re.compile(r"誰|どなた|\bwho(m|se)?\b", re.IGNORECASE)
_WHAT_CALLED = re.compile(r"(何|なん|なに)(と|て)(いう|言う|いい|言い|呼|称|訳)|どう(訳|呼)")
# A question word marked as a source or limit ("誰から", "いつまで", "何より"); its answer is a
# noun phrase with the same particle. Other particles (で, に, が…) mark too much to help.
_SLOT = re.compile(r"(?:誰|何|どこ|いつ|どれ)(から|まで|より)(の)?")
_NOUN_END = "A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3005\u30a0-\u30ff\u4e00-\u9fff"
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


# Question words that documents tend to express another way: a title is given in quotes or
# with 題 (「…」と題された講演). In JSQuAD valid, 4 of the 12 passages that answer a タイトル or
# 題名 question lack the word, and all 4 hold a 「…」 or 『…』 quote.
_EXPRESSED_AS = {  # the word's terms -> how passages say it
    frozenset(terms(word)): re.compile(r"[「『][^」』]+[」』]|と題|題名|表題|タイトル")
    for word in ("タイトル", "題名")
}


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


def _user_text(turn: Turn) -> str:
    if isinstance(turn, str):
        return turn
    return str(turn.get("content", "")) if turn.get("role", "user") == "user" else ""


def asks_who(question: str) -> bool:
    """Whether the question asks for a person.

    Example: "講演したのは誰ですか？" -> True
    """
    return bool(_WHO.search(question))


def asks_name(question: str) -> bool:
    """Whether the question asks what something is called.

    Example: "ほとんど雨が降らない梅雨を何と呼ぶか" -> True
    """
    return bool(_WHAT_CALLED.search(question))


def answer_slot(question: str) -> re.Pattern[str] | None:
    """What a phrase answering the question word looks like, when its particle says: a noun
    and that particle, followed by の only if the question's is (どこからの撤退).

    Example: "誰から聞かれますか" -> a pattern that finds "開発者からは", not "Councilからの"
    """
    asked = _SLOT.search(question)
    if asked is None:
        return None
    particle, adnominal = asked.groups()
    return re.compile(f"[{_NOUN_END}]{particle}" + ("の" if adnominal else "(?!の)"))


def implied_terms(passage: str, wanted: Collection[str]) -> set[str]:
    """The wanted terms of question words that the passage expresses in other words.

    Example: ("「On the Wire」と題された講演", {"タイ", "イト", "トル", "講演"})
             -> {"タイ", "イト", "トル"}
    """
    wanted = set(wanted)
    asked = [(word, form) for word, form in _EXPRESSED_AS.items() if word & wanted]
    if not asked:
        return set()  # the usual case: no such word asked, no need to look at the passage
    key = match_key(passage)
    return {t for word, form in asked if form.search(key) for t in word & wanted}
