"""Which read passage answers, and whether any does: a logistic model over what the reader and
retrieval say of each passage, fitted on the tuning halves (benchmarks/fit_selector.py).

Why a model over several signals, not the reader's margin alone (span score less "no answer"
score): a sibling paragraph of the same article, without the question's own terms, still
holds a plausible span. Asked with their own paragraph left out, held-out JSQuAD questions
were answered 0.234 of the time by this model against 0.325 by the margin, and JaQuAD dev ones
0.350 against 0.537, with 5% of the tuning half's answerable questions abstaining under each
(300 questions per half, 2 passages read, the fifth reader run; `fit_selector.py`). Answers
contained the gold about as often (JSQuAD 0.910 against 0.887, JaQuAD 0.823 against 0.827).
English questions over Japanese text, at 10% of their tuning questions abstaining, contain the
gold more often (0.620 against 0.570) and their negatives are answered less often (0.514
against 0.622); English questions over English text (66 held-out, 5%) as often (0.848 both),
with fewer negatives answered (0.197 against 0.288).

Chosen on the tuning halves (benchmarks/README.md has the rows): the label, "the quoted
sentence holds a gold answer" rather than "the span matches one" (Japanese negatives answered
0.270 / 0.327 against 0.326 / 0.377); reading 2 passages, not 1 or 3 (with the third reader
run, contains less negatives answered summed over both Japanese sets 0.991 against 0.966 and
0.991, and 3 is slower; with the fourth, all three were within noise, so 2 stayed), and 2 for
English over Japanese text (tuning containment 0.643 → 0.677, `answering.reading_depth`); the
question's content terms (`questions.content_terms`) for `cover`, not all its bigrams (a
question's own wording, のは or ですか, is in no passage and made short questions look
unanswered); and, for an English question, the share of its words (`Dictionary.units`) a
passage holds as written or as a JMdict headword: at every minimum tried it contained more and
answered fewer negatives for the same abstention (tuning, at the chosen minimums: contains
0.643 → 0.677, abstains 0.047 → 0.033).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dictionary import Dictionary
from .errors import ModelUnavailable
from .japanese import asked_kind, has_cjk, held_kinds
from .questions import content_terms
from .reader import ReadSpan
from .text import sentence_spans, terms
from .types import Hit

# One column per signal, in this order; "cross_" ones are the signal when one of question and
# passage has Japanese script and the other none (the reader is far less sure across
# languages), else 0.
FEATURES = (
    "margin",  # span score less "no answer" score
    "span",  # the span's start + end logits
    "null",  # the passage's "no answer" logits
    "cosine",  # the passage's dense similarity to the question
    "cosine_gap",  # that similarity less the best retrieved passage's
    "log_rank",  # log(1 + retrieval rank)
    "cover",  # share of the question's content terms (questions.content_terms) it holds
    "near_cover",  # the same share in the sentence(s) holding the span
    "span_chars",  # log(1 + the span's length in characters)
    "cross",
    "cross_margin",
    "cross_cosine",
    "cross_cosine_gap",
    "cross_cover",
    "cross_units",  # share of an English question's words (qa/dictionary.py units) it holds
    "cross_near_units",  # the same share in the sentence(s) holding the span
    # 1 for a Japanese question over text without Japanese script, the other way across (its
    # log-odds sit apart from English-over-Japanese ones: on the tuning rows its contains less
    # negatives answered went 0.128 → 0.244 with these two, English over Japanese 0.021 → 0.010)
    "reverse",
    "reverse_margin",
    # A Japanese question's kind of answer (japanese.asked_kind: a person, a place, a time, a
    # number) that the span is (`kinds`) or is not; both 0 for a question asking for no kind or
    # without Japanese script. Adopted by a rule written before it ran: 5-fold cross-validation
    # within the tuning halves, folds by article (fit_selector.py --cv 5), contains less
    # negatives answered summed over the five rows 1.898 → 2.020 (JaQuAD negatives answered
    # 0.357 → 0.290). Held out, 2.193 → 2.314; JaQuAD contains / negatives answered 0.823 /
    # 0.338 → 0.827 / 0.305 (benchmarks/README.md, "Answer types, adopted").
    "kind_held",
    "kind_missing",
)
# What marks a span without Japanese script as a kind of answer: a year or a month (a time), a
# capitalised word (a name: a person or a place), a digit (a number).
_YEAR_OR_MONTH = re.compile(
    r"\b1[0-9]{3}\b|\b20[0-9]{2}\b|\b(January|February|March|April|May|June|July|August"
    r"|September|October|November|December)\b"
)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+")


def cross_lingual(question: str, passage: str) -> bool:
    """Whether the question and the passage differ in script: one holds Japanese, the other
    none (an English question over Japanese text, or a Japanese one over English text)."""
    return has_cjk(passage) != has_cjk(question)


def pairing(question: str, passage: str) -> str:
    """Which minimum an answer from `passage` is held to, by the scripts of question and
    passage: "ja" (Japanese over Japanese), "en" (a question without Japanese script over
    Japanese text), "ja-en" (a Japanese question over text without it) or "en-en" (neither;
    English over English). The selector's log-odds sit at a different level for each
    (Settings has one minimum per pairing).

    Example: ("Who spoke?", "ラムジ氏が講演した。") -> "en"
    Example: ("誰が講演した？", "Ramji spoke.") -> "ja-en"
    """
    asked, read = has_cjk(question), has_cjk(passage)
    return {(True, True): "ja", (False, True): "en", (True, False): "ja-en"}.get(
        (asked, read), "en-en"
    )


def kinds(span: str) -> set[str]:
    """The kinds of answer a span is ("person", "place", "time", "number"), by
    `japanese.held_kinds` for one with Japanese script.

    Example: "in 1854" -> {"number", "time"}; "ペリー提督" -> {"person"}
    """
    if has_cjk(span):
        return held_kinds(span)
    found = {"number"} if any(c.isdigit() for c in span) else set()
    if _YEAR_OR_MONTH.search(span):
        found.add("time")
    if _CAPITALISED.search(span):
        found |= {"person", "place"}
    return found


def features(
    question: str,
    hits: Sequence[Hit],
    spans: Sequence[ReadSpan],
    dictionary: Dictionary | None = None,
) -> np.ndarray:
    """One row of FEATURES per span; `span.passage` indexes `hits`, which are ranked. The
    units of an English question come from `dictionary` (none without one)."""
    asked = content_terms(question)
    units = dictionary.units(question) if dictionary and not has_cjk(question) else []

    def cover(text: str) -> float:
        return len(asked & set(terms(text))) / len(asked) if asked else 0.0

    def held(text: str) -> float:
        """The share of units the text holds: the word itself, or one of its headwords."""
        words = set(terms(text))
        found = sum(w in words or any(h in text for h in heads) for w, heads in units)
        return found / len(units) if units else 0.0

    kind = asked_kind(question) if has_cjk(question) else None
    best_cosine = hits[0].dense if hits else 0.0
    rows = []
    for span in spans:
        hit = hits[span.passage]
        near = [(a, b) for a, b in sentence_spans(hit.text) if a < span.end and span.start < b]
        around = hit.text[near[0][0] : near[-1][1]] if near else hit.text[span.start : span.end]
        margin, gap, covered = span.margin, hit.dense - best_cosine, cover(hit.text)
        cross = float(cross_lingual(question, hit.text))
        reverse = cross * has_cjk(question)
        is_kind = kind in kinds(hit.text[span.start : span.end]) if kind else None
        rows.append(
            [
                margin,
                span.score,
                span.null,
                hit.dense,
                gap,
                math.log1p(span.passage),
                covered,
                cover(around),
                math.log1p(span.end - span.start),
                cross,
                cross * margin,
                cross * hit.dense,
                cross * gap,
                cross * covered,
                held(hit.text) if cross else 0.0,
                held(around) if cross else 0.0,
                reverse,
                reverse * margin,
                float(is_kind is True),
                float(is_kind is False),
            ]
        )
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))


def best(logits: Sequence[float], passages: Sequence[int]) -> int:
    """The position of the highest log-odds; a tie goes to the better-ranked passage, so the
    choice never depends on evaluation order."""
    return max(range(len(logits)), key=lambda i: (logits[i], -passages[i]))


@dataclass(frozen=True, eq=False)  # arrays: compare fields explicitly
class Selector:
    """Logistic weights over standardised FEATURES: `logits` are log-odds that a span is a
    right answer (that the sentence quoted around it holds a gold answer, in the data it was
    fitted on)."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logits(
        self,
        question: str,
        hits: Sequence[Hit],
        spans: Sequence[ReadSpan],
        dictionary: Dictionary | None = None,
    ) -> np.ndarray:
        """The log-odds of each span being right, in span order."""
        return self.of(features(question, hits, spans, dictionary))

    def of(self, rows: np.ndarray) -> np.ndarray:
        """The log-odds of rows of FEATURES."""
        return ((rows - self.mean) / self.scale) @ self.weights + self.bias

    def to_json(self, provenance: str) -> str:
        """The selector as JSON (names, numbers and where they came from; no pickle)."""
        return json.dumps(
            {
                "features": list(FEATURES),
                "mean": self.mean.tolist(),
                "scale": self.scale.tolist(),
                "weights": self.weights.tolist(),
                "bias": self.bias,
                "provenance": provenance,
            },
            indent=1,
        )

    @classmethod
    def load(cls, path: Path) -> Selector:
        """Read `to_json`'s output; ModelUnavailable if the file is missing or does not fit."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data["features"] != list(FEATURES):
                raise ValueError(f"its features are {data['features']}, not {list(FEATURES)}")
            arrays = [np.array(data[k], dtype=np.float64) for k in ("mean", "scale", "weights")]
            if any(a.shape != (len(FEATURES),) for a in arrays):
                raise ValueError("an array has the wrong length")
            return cls(*arrays, float(data["bias"]))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ModelUnavailable(f"cannot read the answer selector {path}: {e}") from e
