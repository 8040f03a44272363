"""What Japanese questions ask: their content words, whether they point back into the
conversation, their topic, and the kind of answer they ask for."""

from __future__ import annotations

from .morphology import Morpheme, morphemes

# Question words, and the noun each stands for when a clause asks for it ("…したのは誰" asks
# for the person: "…した人").
_ASKING = {
    "誰": "人", "だれ": "人", "どこ": "場所", "いつ": "時期", "なぜ": "理由", "何故": "理由",
    "いくら": "金額", "いくつ": "数", "何": "もの", "なに": "もの", "どれ": "もの", "どの": "もの",
    "どんな": "もの", "どういう": "もの", "どう": "方法",
}  # fmt: skip
_ABOUT = ("名詞", "形状詞", "接頭辞")  # what a question is about: nouns, adjectival nouns
_ANALYSED = 4096  # characters analysed at once (the analyser refuses much more)


def content_words(text: str) -> list[str]:
    """The content words of Japanese text, neighbours joined (nouns, adjectival nouns and
    prefixes in a row: a compound), question words such as 何人 and いくつ left out. As the
    selector's `cover`, they scored as the character-class rule they replace did (bigrams
    without hiragana, 何 or 誰), the selector refitted: held-out contains unchanged, negatives
    answered JSQuAD 0.233 → 0.238, JaQuAD 0.351 → 0.356 (benchmarks/calibrate_abstention.py).

    Example: "日米和親条約はいつ締結されたか" -> ["日米和親条約", "締結"]
    """
    words: list[str] = []
    for at in range(0, len(text), _ANALYSED):
        last = -1
        for m in morphemes(text[at : at + _ANALYSED]):
            if m.pos[0] not in _ABOUT or m.surface.startswith(tuple(_ASKING)):
                continue
            if m.start == last:
                words[-1] += m.surface
            else:
                words.append(m.surface)
            last = m.end
    return words


def refers_back(question: str) -> bool:
    """Whether a Japanese question points back into the conversation: a demonstrative
    (それ, その, そこ, あの …), 彼 or 彼女, or 同社 and 同氏, as whole words (not the あれ of
    あれば, the この of どこの or the それ of それぞれ).

    Example: "その大統領選挙はいつ？" -> True; "どこの大学を卒業したの？" -> False
    """
    return any(
        (m.pos[0] in ("代名詞", "連体詞") and m.surface.startswith(("こ", "そ", "あ", "彼")))
        or m.surface in ("同社", "同氏")
        for m in morphemes(question[:_ANALYSED])
    )


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


# The kinds of answer a question may ask for ("person", "place", "time", "number"), and what
# marks a span as one of them.
_WORD_KINDS = {
    "だれ": "person", "何者": "person", "何処": "place", "いくつ": "number", "いくら": "number",
    "どれくらい": "number", "どのくらい": "number", "どれぐらい": "number", "どれほど": "number",
}  # fmt: skip
_PREFIX_KINDS = (("誰", "person"), ("どこ", "place"), ("いつ", "time"))  # 誰が, どこで, いつ頃
# Counters of time: 何年 and 何世紀 ask for a time, 何人 and 何メートル for a number.
_TIME_COUNTERS = {
    "年", "月", "日", "時", "分", "秒", "世紀", "年代", "時代", "年間", "年度", "時頃", "頃",
}  # fmt: skip
_ERAS = {"明治", "大正", "昭和", "平成", "令和", "江戸時代"}
_NUMERALS = set("一二三四五六七八九十百千万億")
_SPAN_ANALYSED = 512  # characters of a span analysed (an answer is far shorter)


def asked_kind(question: str) -> str | None:
    """The kind of answer a Japanese question asks for, by its first question word: "person"
    (誰), "place" (どこ), "time" (いつ, 何年) or "number" (いくつ, 何人); None for any other
    (何, なぜ, どの …).

    Example: "日米和親条約はいつ締結されたか" -> "time"; "何人が参加したか" -> "number"
    """
    pieces = morphemes(question[:_ANALYSED])
    for m, after in zip(pieces, [*pieces[1:], None], strict=True):
        word = m.surface
        kind = _WORD_KINDS.get(word) or next(
            (kind for prefix, kind in _PREFIX_KINDS if word.startswith(prefix)), None
        )
        if kind:
            return kind
        if _ASKING.get(word[:2]) == "理由":  # 何故: why
            continue
        if word.startswith("何") and len(word) > 1:  # one morpheme: 何年, 何人
            return "time" if word[1:] in _TIME_COUNTERS else "number"
        if word == "何" and after is not None:  # 何 and a counter: 何 / 世紀
            if after.surface in _TIME_COUNTERS:
                return "time"
            if after.pos[:2] == ("接尾辞", "名詞的") or after.pos[2] == "助数詞":
                return "number"
    return None


def held_kinds(text: str) -> set[str]:
    """The kinds of answer Japanese text holds: a numeral ("number"; "time" when a counter of
    time follows it), a person's or a place's name, or a time word (an era, 午後).

    Example: "1854年に" -> {"number", "time"}; "ペリー提督" -> {"person"}
    """
    kinds = {"number"} if any(c.isdigit() or c in _NUMERALS for c in text) else set()
    pieces = morphemes(text[:_SPAN_ANALYSED])
    for m, after in zip(pieces, [*pieces[1:], None], strict=True):
        if m.pos[1] == "数詞":
            kinds.add("number")
            if after is not None and after.surface in _TIME_COUNTERS:
                kinds.add("time")
        if m.pos[1] == "固有名詞" and m.pos[2] in ("人名", "地名"):
            kinds.add("person" if m.pos[2] == "人名" else "place")
        if m.pos[2] == "時間" or m.surface in _ERAS:
            kinds.add("time")
    return kinds
