"""Everything Japanese-specific, one package: what counts as Japanese script and the
morphological analyser (`morphology`), answer spans trimmed to morpheme boundaries
(`trimming`), and what questions ask (`asking`). Import from here.

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
`trim_answer` reads. Importing this package loads neither the analyser nor its dictionary.
"""

from .asking import asked_kind, asked_topic, content_words, held_kinds, refers_back
from .morphology import CJK_CHARS, Morpheme, has_cjk, morphemes
from .trimming import trim_answer

__all__ = [
    "CJK_CHARS",
    "Morpheme",
    "asked_kind",
    "asked_topic",
    "content_words",
    "has_cjk",
    "held_kinds",
    "morphemes",
    "refers_back",
    "trim_answer",
]
