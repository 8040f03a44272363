"""Text normalisation: cleaning of untrusted text, the NFKC matching key, sentences and terms."""

from __future__ import annotations

import re
import unicodedata

from .japanese import CJK_CHARS, has_cjk

_SURROGATE = re.compile("[\ud800-\udfff]")
# Invisible and bidirectional controls: they change nothing a reader sees, so they must not
# change what matches (U+200B–200D, U+2060, U+202A–202E, U+2066–2069, tags, variation selectors).
_INVISIBLE = re.compile(
    "[\u200b-\u200d\u2060\u202a-\u202e\u2066-\u2069\ufe00-\ufe0f\ufeff\U000e0000-\U000e007f]"
)
# C0/C1 controls other than tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TERM = re.compile(f"[{CJK_CHARS}]+|[^\\W{CJK_CHARS}]+")  # CJK runs, or runs of other word chars
# A sentence ends after Japanese or Latin terminators (and closing brackets), or at a line end
# that is not a soft wrap (`_hard_break`). Over hard-wrapped articles, when every line end was a
# sentence end, quotes were single lines; with soft wraps, answers held the gold more often on
# every tuning row, and held out (English 0.742 → 0.833, JSQuAD 0.827 → 0.893;
# `calibrate_abstention.py --articles --wrap`).
_CLOSING = "[」』）)\"'”’]*"  # brackets and quotes that close a sentence after its terminator
_SENTENCE_END = re.compile(rf"[。！？!?]+{_CLOSING}|\.(?=\s)|\.$|\n")
_ENDS_SENTENCE = re.compile(rf"[。！？!?.]+{_CLOSING}\s*$")
# A line that is a block of its own, as in Markdown: a heading, a list item (Markdown's markers
# and the Japanese ones), a quote or a table row. A line break before or after one is hard.
_BLOCK_LINE = re.compile(r"[ \t　]*(?:#|[-*+>|•・●■◆※]|\d+[.)](?:\s|$))")


def clean(text: str) -> str:
    """Make untrusted text safe to store and display: surrogates, controls, newlines.

    Example: "a\\r\\nb\\ud800" -> "a\\nb\\ufffd"
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", text)
    return _CONTROL.sub("", text.removeprefix("\ufeff"))


def visible(text: str) -> str:
    """Text without invisible and bidi control characters (and lone surrogates).

    Example: "CANA\u200bRY" -> "CANARY"
    """
    return _INVISIBLE.sub("", _SURROGATE.sub("\ufffd", text))


def match_key(text: str) -> str:
    """The form used for matching: NFKC, case-folded, without invisible characters.

    Example: "ＡＢＣ１２３ ｶﾀｶﾅ" -> "abc123 カタカナ"
    """
    return unicodedata.normalize("NFKC", visible(text)).casefold()


def terms(text: str) -> list[str]:
    """Lexical terms: character bigrams inside CJK runs, whole words elsewhere.

    Example: "Linux上で仮想化" -> ["linux", "上で", "で仮", "仮想", "想化"]
    """
    out: list[str] = []
    for match in _TERM.finditer(match_key(text)):
        run = match.group()
        if has_cjk(run):
            out.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
        else:
            out.append(run)
    return out


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, surrounding whitespace excluded; a line
    wrapped inside a paragraph does not end its sentence.

    Example: "東京。 大阪。" -> [(0, 3), (4, 7)]
    Example: "The CEO of\nAcme is Al." -> [(0, 22)]
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group() == "\n" and not _hard_break(text, match.start()):
            continue
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    return [s for s in (_strip_span(text, a, b) for a, b in spans) if s[0] < s[1]]


def ends_sentence(text: str) -> bool:
    """Whether the text ends with a sentence terminator (closing brackets or quotes after it).

    Example: "「認めない」と語った。" -> True
    Example: "the board named" -> False
    """
    return bool(_ENDS_SENTENCE.search(text))


def _hard_break(text: str, at: int) -> bool:
    """Whether the line break at text[at] ends a sentence. Inside a paragraph a line break is a
    soft wrap, as Markdown reads it (hard-wrapped text, PDF lines): the sentence goes on. It is
    hard at a blank line or the end of the text, before or after a block line (a heading, a
    list item, a table row), and after a line less than half as wide as the next (`_width`): a
    wrapped line is filled to near the width of the next, so a short one is a line of its own
    (a plain heading such as "Introduction" or 「概要」 over its first sentence). Over the 2,648
    paragraphs of JSQuAD valid, JaQuAD dev and the English articles, each hard-wrapped, paged
    and headed as `benchmarks/calibrate_abstention.py --wrap` does, that last test changed the
    sentences of two, whose source breaks lines oddly (a line holding only ")", and "HCO−" cut
    from its "3)")."""
    line_start = text.rfind("\n", 0, at) + 1
    line_end = text.find("\n", at + 1)
    following = text[at + 1 : line_end if line_end >= 0 else len(text)]
    return (
        not following.strip()
        or bool(_BLOCK_LINE.match(following))
        or bool(_BLOCK_LINE.match(text, line_start))
        or 2 * _width(text[line_start:at]) < _width(following)
    )


def _width(line: str) -> int:
    """How wide the line prints, in columns: a wide (CJK) character takes two, as in a PDF a
    Japanese glyph is about two Latin ones wide (so a line of kanji above one of English words
    is not "short")."""
    return sum(1 + (unicodedata.east_asian_width(c) in "WF") for c in line.strip())


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
