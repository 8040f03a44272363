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
# A sentence ends after Japanese or Latin terminators (and closing brackets), or at a line end.
_SENTENCE_END = re.compile(r"[。！？!?]+[」』）)\"'”’]*|\.(?=\s)|\.$|\n")


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
    """Character spans of the sentences of `text`, surrounding whitespace excluded.

    Example: "東京。 大阪。" -> [(0, 3), (4, 7)]
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    return [s for s in (_strip_span(text, a, b) for a, b in spans) if s[0] < s[1]]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
