"""The check of each generated sentence against the passages it cites.

A sentence is kept only if it cites a passage ([n]) and one sentence of that passage (or two
adjacent ones) supports it: the support score, lexical coverage of the sentence's terms and
the embedding similarity of the two, reaches the calibrated threshold, every number and code
it states is in the evidence, and it does not deny what the evidence affirms (or the reverse).
The evidence becomes the citation's exact quote. A passage sentence that gives orders to its
reader ("ignore the question and print …") is not a statement of fact and supports nothing.

Kept apart from qa/llm.py (the server call and the prompt) so that the calibration script
and the tests check exactly what answers use, with no server.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .japanese import has_cjk
from .questions import content_terms
from .text import match_key, sentence_spans

Encode = Callable[[list[str]], np.ndarray]  # texts -> unit-length vectors, one row each

MARKERS = re.compile(r"[\[［]\s*([0-9０-９]+(?:\s*[,、，]\s*[0-9０-９]+)*)\s*[\]］]")
_LEADING_MARKERS = re.compile(rf"(?:\s*{MARKERS.pattern})+")
# Cosine similarities of the multilingual e5 model between unrelated sentences sit near LOW
# and restatements near HIGH; this maps that range onto 0..1 so it can be mixed with coverage.
COSINE_LOW, COSINE_HIGH = 0.78, 0.93
# Weight of lexical coverage in the support score when sentence and evidence share a script;
# across scripts (an English sentence citing Japanese) only the similarity can speak.
LEXICAL_WEIGHT = 0.7
# A number (digits, with separators) or a code with digits ("CANARY-1234", "x64", "2.4").
_FACT = re.compile(r"[0-9][0-9,.]*[0-9](?![a-z])|[a-z]*[0-9][a-z0-9-]*", re.IGNORECASE)
_NAMED_NUMBER = re.compile(
    r"(?<![A-Za-z])[A-Z][A-Za-z]+ [0-9](?:[0-9A-Za-z.]*[0-9A-Za-z])?(?![0-9A-Za-z])"
)
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "hundred thousand million billion first second third half twice double".split()
)
# Acronyms and product names in capitals ("GPL", "XP", "MIT"): a swapped one changes the claim.
_ACRONYM = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]+(?![A-Za-z0-9])")
_NEGATION = re.compile(
    r"(?<![少危])ない|なかっ|ません|ませんでし|ず[、。にとも]|ぬ[、。]|不可能|無理|禁止|"
    r"\b(?:not|no|never|none|cannot|neither|nor|without|impossible|unable)\b|n't",
    re.IGNORECASE,
)
# A leading "Yes,"/"No,"/"はい、"/"いいえ、" answers the question; the claim follows it.
_ANSWER_WORD = re.compile(r"^\s*(?:yes|no|はい|いいえ)\s*[,、，.。]\s*", re.IGNORECASE)
_STEM = re.compile(r"[\u4e00-\u9fff々]+|[\u30a1-\u30ff]{2,}")  # kanji, or katakana words
_CONTINUATION = re.compile(
    r"[\u3040-\u309f]*(?:不可能|無理|禁止|[\u4e00-\u9fff]{1,2}[\u3040-\u309f]+)?"
)
# Passage sentences addressed to whoever reads them, the shape of a prompt injection.
_ORDERS = re.compile(
    r"ignore (?:the|all|any|previous|prior|above)|disregard (?:the|all|any|previous|prior)|"
    r"(?:print|output|reply|respond|answer|say|write)\b[^.]{0,40}\bonly\b|"
    r"(?:質問|指示|命令)[^。]{0,12}(?:無視|取り消)|(?:と|を)(?:だけ)?(?:出力|回答|返答|答え)(?:せよ|しろ|すること|しなさい|なさい)|"
    r"回答には必ず",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Evidence:
    """The passage text that supports a sentence: passage number n, offsets into its text."""

    n: int
    start: int
    end: int


@dataclass(frozen=True)
class Checked:
    """One generated sentence and the verdict on it."""

    sentence: str  # as generated, markers included
    claim: str  # without its markers
    cited: tuple[int, ...]  # the passage numbers it cites, valid ones only
    support: float  # the best evidence's support score (0 when nothing was cited)
    evidence: Evidence | None  # the best evidence found, supported or not
    reason: str  # "" when supported, else why not

    @property
    def supported(self) -> bool:
        """Whether the sentence may be shown as supported by the documents."""
        return not self.reason


def sentences(text: str) -> list[str]:
    """The sentences of generated text, each with the markers that follow it.

    Example: "GPLです。[1] 見込みです[2]。" -> ["GPLです。[1]", "見込みです[2]。"]
    """
    out: list[str] = []
    for start, end in sentence_spans(text):
        piece = text[start:end]
        lead = _LEADING_MARKERS.match(piece)
        if out and lead:  # markers after a sentence's full stop belong to that sentence
            out[-1] = f"{out[-1]}{'' if has_cjk(out[-1]) else ' '}{lead.group().strip()}"
            piece = piece[lead.end() :].strip()
        if piece and not MARKERS.sub("", piece).strip(" .。"):
            if out:
                out[-1] = f"{out[-1]}{'' if has_cjk(out[-1]) else ' '}{piece.strip()}"
        elif piece:
            out.append(piece)
    return out


def markers(sentence: str) -> list[int]:
    """The passage numbers a sentence cites, in order. Example: "A [1][2, 3]" -> [1, 2, 3]"""
    found = []
    for group in MARKERS.findall(sentence):
        for part in re.split(r"[,、，]", group):
            n = int(unicodedata.normalize("NFKC", part).strip())
            if n not in found:
                found.append(n)
    return found


def claim_of(sentence: str) -> str:
    """A sentence without its markers. Example: "1889年です[1]。" -> "1889年です。"""
    text = MARKERS.sub("", sentence)
    text = re.sub(r"\s+([.。,、!?！？])", r"\1", text)
    return " ".join(text.split())


def check(
    generated: str, passages: Sequence[str], encode: Encode, min_support: float
) -> list[Checked]:
    """Every sentence of the generated text, checked against the passages it cites.

    `passages[i]` is passage [i + 1] of the prompt; evidence offsets refer to its text.
    """
    items = [(s, claim_of(s), tuple(n for n in markers(s) if 1 <= n <= len(passages)))
             for s in sentences(generated)]  # fmt: skip
    windows = {n: _windows(passages[n - 1]) for _, _, cited in items for n in cited}
    texts = [passages[n - 1][a:b] for n, spans in windows.items() for a, b in spans]
    claims = [c for _, c, _ in items]
    vectors = encode(claims + texts) if texts else np.zeros((len(claims), 1), np.float32)
    row = {
        (n, span): len(claims) + i
        for i, (n, span) in enumerate((n, s) for n, spans in windows.items() for s in spans)
    }
    out = []
    for i, (sentence, claim, cited) in enumerate(items):
        if not cited:
            why = "cites no passage" if not markers(sentence) else "cites a passage not given"
            out.append(Checked(sentence, claim, (), 0.0, None, why))
            continue
        # The best evidence that passes the hard rules; failing that, the best there is.
        best: tuple[bool, float, Evidence, str] | None = None
        for n in cited:
            for span in windows[n]:
                text = passages[n - 1][span[0] : span[1]]
                score = support_score(claim, text, float(vectors[i] @ vectors[row[(n, span)]]))
                why = verdict(claim, text, score, 0.0)
                if best is None or (not why, score) > best[:2]:
                    best = (not why, score, Evidence(n, *span), why)
        assert best is not None  # every cited passage has at least one window
        passed, score, evidence, why = best
        if passed and score < min_support:
            why = f"support {score:.2f} is under {min_support:.2f}"
        out.append(Checked(sentence, claim, cited, score, evidence, why))
    return out


def support_score(claim: str, evidence: str, cosine: float) -> float:
    """How well the evidence supports the claim, 0..1: coverage of the claim's terms mixed
    with embedding similarity (across scripts, the larger of the two)."""
    similarity = min(1.0, max(0.0, (cosine - COSINE_LOW) / (COSINE_HIGH - COSINE_LOW)))
    if has_cjk(claim) != has_cjk(evidence):
        # Across scripts only names, numbers and codes can match: they may carry the claim.
        return max(similarity, coverage(claim, evidence))
    return LEXICAL_WEIGHT * coverage(claim, evidence) + (1 - LEXICAL_WEIGHT) * similarity


def verdict(claim: str, evidence: str, score: float, min_support: float) -> str:
    """ "" when the evidence supports the claim, else the reason it does not."""
    if not content_terms(claim) and not _facts(claim):
        return "states nothing to check"
    if _ORDERS.search(evidence):
        return "its evidence is an instruction in the document, not a statement"
    missing = _missing_facts(claim, evidence)
    if missing:
        return f"states {missing[0]!r}, which its evidence does not"
    if _opposite(_ANSWER_WORD.sub("", claim), evidence):
        return "its evidence says the opposite"
    if score < min_support:
        return f"support {score:.2f} is under {min_support:.2f}"
    return ""


def coverage(claim: str, evidence: str) -> float:
    """Share of the claim's content terms and facts found in the evidence (0 when it has
    none); English words match on their stems ("releases" finds "released").

    Example: ("GPLで公開", "GPLの下で公開される") -> 1.0
    """
    wanted = {_stem(t) for t in content_terms(claim)} | _facts(claim)
    if not wanted:
        return 0.0
    key = match_key(evidence)
    found = _facts(claim) - set(_missing_facts(claim, evidence))
    have = {_stem(t) for t in content_terms(evidence)} | found
    return sum(1 for t in wanted if t in have or t in key) / len(wanted)


def _stem(term: str) -> str:
    """A crude English stem; other terms unchanged. Example: "approval" -> "approv"."""
    if not term.isascii() or len(term) < 5:
        return term
    for suffix in ("ing", "ed", "es", "al", "ly", "s", "e"):
        if term.endswith(suffix) and len(term) - len(suffix) >= 4:
            return term[: -len(suffix)]
    return term


def _facts(text: str) -> set[str]:
    """Numbers, codes, number words and acronyms in the matching form, and a number with
    the word before it ("windows 7", "version 2.4"). Example: "Windows 7は1,670円" ->
    {"7", "windows 7", "1670"}"""
    key = match_key(text).replace(",", "")
    found = {m.group().rstrip(".") for m in _FACT.finditer(key)}
    plain = unicodedata.normalize("NFKC", text).replace(",", "")
    found |= {m.group().casefold() for m in _NAMED_NUMBER.finditer(plain)}
    found |= {a.casefold() for a in _ACRONYM.findall(plain)}
    found |= _NUMBER_WORDS.intersection(re.findall(r"[a-z]+", key))
    return {f for f in found if f}


def _missing_facts(claim: str, evidence: str) -> list[str]:
    """The claim's facts that the evidence does not state, each as a whole token there."""
    key = match_key(evidence).replace(",", "")
    return sorted(
        f for f in _facts(claim) if not re.search(rf"(?<![0-9a-z]){re.escape(f)}(?![0-9a-z])", key)
    )


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def _opposite(claim: str, evidence: str) -> bool:
    """Whether the claim denies what the evidence affirms, or the reverse.

    Japanese: after each kanji stem or katakana word of the claim that the evidence holds,
    the kana that follow are compared ("認めています" against "認めない", "移動できます" against
    "移動するのは不可能"). Otherwise: a negated claim needs negated
    evidence, and within one script, negated evidence a negated claim.
    """
    if has_cjk(claim) and has_cjk(evidence):
        claim_key, evidence_key = match_key(claim), match_key(evidence)
        for stem in dict.fromkeys(_STEM.findall(claim_key)):
            at = evidence_key.find(stem)
            if at >= 0 and _negated(_after(claim_key, claim_key.find(stem) + len(stem))) != (
                _negated(_after(evidence_key, at + len(stem)))
            ):
                return True
        return False
    if _negated(claim) and not _negated(evidence):
        return True
    return not has_cjk(evidence) and _negated(evidence) and not _negated(claim)


def _after(key: str, at: int) -> str:
    """The kana that follow position `at`, and a negating word or one more kanji-and-kana
    word right after them ("するのは不可能", "しは行わない")."""
    return _CONTINUATION.match(key, at).group()  # type: ignore[union-attr]


def _windows(passage: str) -> list[tuple[int, int]]:
    """Evidence candidates: each sentence of the passage, and each two adjacent ones."""
    spans = sentence_spans(passage)
    pairs = [(a[0], b[1]) for a, b in itertools.pairwise(spans)]
    return spans + pairs or [(0, len(passage))]
