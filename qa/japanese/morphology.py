"""What counts as Japanese script, and the morphological analyser (SudachiPy, mode C).

The dictionary is loaded once per process, on first use, under a lock; a SudachiPy tokenizer
must not be shared between threads, so each thread gets its own. Importing this module loads
neither.
"""

from __future__ import annotations

import re
import threading
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
