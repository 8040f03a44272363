"""Everything Japanese-specific: what counts as Japanese script, and, by a maintained
morphological analyser, answer spans trimmed to morpheme boundaries and what questions ask.

The analyser is SudachiPy with the sudachidict-core dictionary (Works Applications), chosen
over fugashi (MeCab) with unidic-lite after measuring both on 300 JaQuAD dev paragraphs on
the 2-core development machine:

- speed: SudachiPy analysed about twice as many characters a second (270k against 140k,
  the part of speech read for each morpheme); loading took 0.1 s against 0.01 s, once a
  process, and mapped the dictionary into memory (about 115 MB resident either way);
- size: SudachiPy and its dictionary install as two wheels (79 MB to download, 198 MB on
  disk); unidic-lite is a source distribution that pip must build (47 MB, 251 MB on disk);
- licence: Apache-2.0 for SudachiPy and its dictionary; fugashi is MIT and BSD-3 (MeCab),
  unidic-lite MIT with UniDic 2.1.2 under BSD: all fit kotae's MIT licence;
- upkeep: sudachidict-core is re-released several times a year; unidic-lite still ships
  UniDic 2.1.2 (2013) and has not changed since 2020.

Both tag in UniDic's part-of-speech scheme (助詞, 助動詞, 補助記号, 接尾辞 ...), which is what
`trim_answer` reads. The dictionary is loaded once per process, on first use, under a lock;
a SudachiPy tokenizer must not be shared between threads, so each thread gets its own.
Importing this module loads neither.

benchmarks/trim_effect.py measures `trim_answer` on JaQuAD dev's gold answers: on the tuning
half it left 1,657 of 1,658 exact gold spans unchanged and brought 99.9% of golds with a
particle glued after them (1928年に) back to the exact gold, 97% with one glued before.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any, NamedTuple

# The one definition of "Japanese script" (kana, CJK ideographs, 々 〆 ー); `qa.text` builds
# its lexical terms from it. Half-width katakana is not listed: `match_key` folds it first.
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u3006\u30fc"
_CJK_CHAR = re.compile(f"[{CJK_CHARS}]")


def has_cjk(text: str) -> bool:
    """Whether the text holds Japanese (or other CJK) script.

    Example: "Who is ラムジ?" -> True
    Example: "Linux 2.6" -> False
    """
    return _CJK_CHAR.search(text) is not None


# ---------------------------------------------------------------------------------------------
# The analyser: one dictionary a process, one tokenizer a thread, both made on first use.

_lock = threading.Lock()
_dictionary: Any = None
_local = threading.local()
_SURROGATE = re.compile("[\ud800-\udfff]")


def _tokenizer() -> Any:
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        global _dictionary
        with _lock:
            from sudachipy import Dictionary, SplitMode

            if _dictionary is None:
                _dictionary = Dictionary(dict="core")
            # Mode C, the longest units: 東京都 and 阿部孝 stay whole words.
            tokenizer = _dictionary.tokenizer(SplitMode.C)
        _local.tokenizer = tokenizer
    return tokenizer


class Morpheme(NamedTuple):
    """One morpheme: its text, its offsets, UniDic's part of speech (six levels, "*" when
    unset) and its dictionary form."""

    surface: str
    start: int
    end: int
    pos: tuple[str, ...]
    lemma: str


def morphemes(text: str) -> list[Morpheme]:
    """The morphemes of `text` in order, with offsets into it, as SudachiPy (mode C) finds them.

    The analyser refuses more than about 16,000 characters at once: pass a sentence.
    Example: "1928年に" -> [Morpheme("1928", 0, 4, ("名詞", "数詞", ...), "1928"),
    Morpheme("年", 4, 5, ...), Morpheme("に", 5, 6, ("助詞", "格助詞", ...), "に")]
    """
    if not text:
        return []
    text = _SURROGATE.sub("\ufffd", text)  # the analyser takes UTF-8; same length, same offsets
    return [
        Morpheme(m.surface(), m.begin(), m.end(), tuple(m.part_of_speech()), m.dictionary_form())
        for m in _tokenizer().tokenize(text)
    ]


# ---------------------------------------------------------------------------------------------
# Answer trimming.

# What a morpheme is, for trimming. The first five kinds go at either end (a span without
# Japanese script loses only the first two); the ある of である goes at the end.
_SPACE, _PUNCT, _PARTICLE, _AUX, _CONJ_PARTICLE = "space", "punct", "particle", "aux", "conj"
_OPEN, _CLOSE, _QUOTE = "open", "close", "quote"
_SUPPORT, _INFLECTING, _CONTENT = "support", "inflecting", "content"
_LATIN_DROPS = {_SPACE, _PUNCT}  # a span without Japanese script loses only these (and brackets)
_JAPANESE_DROPS = {_SPACE, _PUNCT, _PARTICLE, _AUX, _CONJ_PARTICLE}
_QUOTES = {'"', "'"}  # the same character opens and closes
_TERMINATORS = ("。", "！", "？", "!", "?", "\n")  # what ends a sentence, for the context
_CONTEXT = 128  # characters of context analysed on each side of a span, within its sentence
_EDGE = 1024  # a longer span is analysed at its two ends only (the analyser caps its input)
_TILDES = {"~", "〜", "～"}  # range marks: "1928年〜" loses it like punctuation
# "About": part of a quantity, like 程度 and 頃 (nouns). Chosen on JaQuAD's tuning half, whose
# gold keeps ほど (約20kgほど) and never leaves it out.
_APPROXIMATIONS = {"ほど", "くらい", "ぐらい"}


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    kind: str
    surface: str


def _kind(surface: str, pos: tuple[str, ...], lemma: str) -> str:
    major, minor = pos[0], pos[1] if len(pos) > 1 else "*"
    if major == "空白" or surface.isspace():
        return _SPACE
    if major in ("助詞", "助動詞", "動詞") and _hiragana(surface):
        kind = _function_kind(surface, major, minor, lemma)
        if kind:
            return kind
    if surface in _QUOTES:
        return _QUOTE
    if major == "補助記号":
        return _symbol_kind(surface, minor)
    if major in ("動詞", "形容詞"):
        return _INFLECTING
    # Nouns, names, numbers, prefixes (約) and suffixes: counters (人, 年) and honorifics
    # (氏, さん, 様) alike. JaQuAD's gold keeps 氏 where it names a clan (山名氏, 毛利氏).
    return _CONTENT


def _hiragana(surface: str) -> bool:
    """Particles and auxiliaries are written in hiragana: a katakana ナ tagged 助動詞 is a
    syllable of a name (ナ・ヌー), not the copula."""
    return all("\u3041" <= c <= "\u309f" for c in surface)


def _function_kind(surface: str, major: str, minor: str, lemma: str) -> str | None:
    """The kind of a particle, an auxiliary verb, or the ある of である; None for a verb."""
    if major == "動詞":
        # The ある of the copula である goes at the end, like だ.
        return _SUPPORT if lemma == "ある" and minor == "非自立可能" else None
    if major == "助動詞":
        return _AUX
    if surface in ("て", "で") and minor == "接続助詞":
        return _CONJ_PARTICLE  # the te-form stays with its verb: 生まれて
    if lemma in _APPROXIMATIONS:
        return _CONTENT
    return _PARTICLE


def _symbol_kind(surface: str, minor: str) -> str:
    """Brackets; punctuation, which goes; currency signs, emoji and other symbols, which stay."""
    if minor == "括弧開":
        return _OPEN
    if minor == "括弧閉":
        return _CLOSE
    if all(unicodedata.category(c).startswith("P") or c in _TILDES for c in surface):
        return _PUNCT
    return _CONTENT


def _context(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence (or sentences) around text[start:end], at most _CONTEXT chars each side."""
    left = max(0, start - _CONTEXT)
    right = min(len(text), end + _CONTEXT)
    left = max([left] + [text.rfind(t, left, start) + 1 for t in _TERMINATORS])
    ends = [i + len(t) for t in _TERMINATORS if (i := text.find(t, end, right)) >= 0]
    return left, min([right, *ends])


def _pieces(text: str, start: int, end: int) -> list[_Piece]:
    """The morphemes covering text[start:end], analysed in context and clipped to the span.

    A morpheme cut by the span's edge keeps its kind; characters no analysed window covers
    (the middle of a very long span) form one content piece, which trimming never passes.
    """
    left, right = _context(text, start, end)
    if right - left <= 2 * _EDGE:
        windows = [(left, right)]
    else:
        windows = [(left, min(right, start + _EDGE)), (max(left, end - _EDGE), right)]
    found: dict[int, _Piece] = {}
    for w0, w1 in windows:
        for m in morphemes(text[w0:w1]):
            a, b = max(m.start + w0, start), min(m.end + w0, end)
            if a < b and a not in found:
                found[a] = _Piece(a, b, _kind(m.surface, m.pos, m.lemma), text[a:b])
    out: list[_Piece] = []
    position = start
    for a in sorted(found):
        if a < position:  # overlap between the two windows: keep the first analysis
            continue
        if a > position:
            out.append(_Piece(position, a, _CONTENT, text[position:a]))
        out.append(found[a])
        position = found[a].end
    if position < end:
        out.append(_Piece(position, end, _CONTENT, text[position:end]))
    return out


def _partner(pieces: list[_Piece], i: int, j: int) -> int:
    """Index of the closing bracket that pieces[i] opens, within pieces[i:j]; -1 if none."""
    if pieces[i].kind == _QUOTE:
        return next((k for k in range(i + 1, j) if pieces[k].surface == pieces[i].surface), -1)
    depth = 0
    for k in range(i, j):
        depth += {_OPEN: 1, _CLOSE: -1}.get(pieces[k].kind, 0)
        if depth == 0:
            return k
    return -1


def _opened(pieces: list[_Piece], i: int, j: int) -> bool:
    """Whether the closing bracket pieces[j - 1] closes one opened inside pieces[i:j - 1]."""
    if pieces[j - 1].kind == _QUOTE:
        return sum(p.surface == pieces[j - 1].surface for p in pieces[i:j]) % 2 == 0
    depth = 0
    for k in range(j - 1, i - 1, -1):
        depth += {_CLOSE: 1, _OPEN: -1}.get(pieces[k].kind, 0)
        if depth == 0:
            return True
    return False


def _drop_tail(pieces: list[_Piece], i: int, j: int, drops: set[str]) -> bool:
    """Whether the last piece of pieces[i:j] goes."""
    last = pieces[j - 1]
    tail = (_AUX, _CONJ_PARTICLE, _SUPPORT)
    if last.kind not in drops and not (last.kind == _SUPPORT and _AUX in drops):
        return False
    if last.kind in tail:
        # An inflection stays with its verb or adjective: 生まれた, 美しかった, 行われて;
        # after a noun it is a copula and goes: 東京だった, 東京である -> 東京.
        k = j - 1
        while k > i and pieces[k - 1].kind in tail:
            k -= 1
        return k == i or pieces[k - 1].kind != _INFLECTING
    if last.surface == "." and j - 1 > i:
        before = pieces[j - 2].surface
        return not (len(before) == 1 and before.isascii() and before.isalpha())  # U.S.
    return True


def _trim(pieces: list[_Piece], drops: set[str], unwrap: bool) -> tuple[int, int]:
    """The kept pieces, pieces[i:j]. Each step drops a leading piece, a bracket pair or a
    trailing piece, in that order of preference, but only if something other than whitespace
    is left; when no step can, trimming stops."""
    i, j = 0, len(pieces)
    while True:
        first, last = pieces[i], pieces[j - 1]
        partner = _partner(pieces, i, j) if first.kind in (_OPEN, _QUOTE) else None
        steps = []
        # -1: a bracket whose partner the span lost; a closing one at the start closes nothing
        if first.kind in drops or partner == -1 or first.kind == _CLOSE:
            steps.append((i + 1, j))
        if unwrap and partner == j - 1 and j - i > 2:  # one bracketed phrase: 「東京」
            steps.append((i + 1, j - 1))
        if (
            _drop_tail(pieces, i, j, drops)
            or last.kind == _OPEN  # it opens nothing in the span
            or (last.kind in (_CLOSE, _QUOTE) and not _opened(pieces, i, j))
        ):
            steps.append((i, j - 1))
        step = next((s for s in steps if any(p.kind != _SPACE for p in pieces[s[0] : s[1]])), None)
        if step is None:
            return i, j
        i, j = step


def trim_answer(text: str, start: int, end: int, *, unwrap: bool = False) -> tuple[int, int]:
    """Shrink the answer span text[start:end] to the morphemes that carry the answer.

    A reader's token span glues particles and punctuation onto an answer; this drops, at
    both ends, whole particles (助詞), auxiliary verbs (助動詞) after a noun (the copulas だ,
    です, である), punctuation and whitespace, as the morphemes of the span's sentence divide
    it. It never cuts inside a morpheme (an end the reader put inside a word stays where it
    is), never extends the span, and never empties it: it stops before dropping the last
    piece that is not whitespace, so a span that is only a particle stays that particle.
    A span without Japanese script only loses whitespace, punctuation and stray brackets.
    A stray bracket is one at either end that pairs with nothing in the span, such as an
    opening one at the end: 「丹後丸」( is 「丹後丸」 (JaQuAD dev tuning half, 600 questions, gold
    given: EM 0.617 -> 0.620; held out 0.630 -> 0.632; JSQuAD valid EM unchanged). One inside
    the span stays: cut there, the part kept held the gold as often as the part dropped.

    Kept: suffixes (counters such as 人 and 年; honorifics 氏, さん, 様, part of the name
    phrase: JaQuAD's gold keeps 山名氏, and never leaves 氏 or さん out), the inflection of
    a verb or adjective (生まれた, 生まれて), ほど/くらい (約20kgほど), currency signs, and
    brackets that pair inside the span. A span that is one bracketed phrase keeps its
    brackets, as JaQuAD's gold does (『ノルウェイの森』: removing them changed 7% of the
    tuning half's gold answers), unless `unwrap` is set. Offsets are into `text`.

    Example: ("彼は1928年に生まれた。", 2, 8) -> (2, 7), "1928年に" -> "1928年"
    Example: ("「東京」の阿部孝氏", 4, 9) -> (5, 9), "の阿部孝氏" -> "阿部孝氏"
    Example: ("「東京」で", 0, 5) -> (0, 4), "「東京」で" -> "「東京」"; with unwrap, (1, 3)
    Example: ("He was born in 1928.", 15, 20) -> (15, 19), "1928." -> "1928"
    Example: ("「丹後丸」(", 0, 6) -> (0, 5), "「丹後丸」(" -> "「丹後丸」"
    """
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"span {start}:{end} is not inside a text of {len(text)} characters")
    span = text[start:end]
    if not span.strip():
        return start, end
    pieces = _pieces(text, start, end)
    drops = _JAPANESE_DROPS if has_cjk(span) else _LATIN_DROPS
    i, j = _trim(pieces, drops, unwrap)
    return pieces[i].start, pieces[j - 1].end


# ---------------------------------------------------------------------------------------------
# Questions: what they are about, and whether they point back into the conversation.

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
