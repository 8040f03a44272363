"""The records that flow through the pipeline: Document → Chunk → Hit → Answer (with Citations)."""

from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """A loaded document; `text` is what every character span refers to."""

    doc_id: str  # path relative to the docs folder, with forward slashes
    title: str
    text: str
    sha256: str  # of the file's bytes
    page_starts: tuple[int, ...] = ()  # PDF: offset in `text` where each page begins

    def page_of(self, offset: int) -> int | None:
        """1-based page number of a character offset (None for formats without pages)."""
        return bisect.bisect_right(self.page_starts, offset) or None


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: `text == document.text[start:end]`."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the two scores it came from."""

    doc_id: str
    chunk_id: str
    start: int
    end: int
    text: str
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True)
class Citation:
    """A verbatim quote backing part of an answer: `quote == document.text[start:end]`."""

    n: int
    doc_id: str
    title: str
    start: int
    end: int
    quote: str
    score: float
    passage: Hit  # the retrieved chunk the quote was taken from, for context
    page: int | None = None  # 1-based, for documents with pages (PDF)
    # The short answer inside the quote, as document offsets: start <= a < b <= end.
    highlight: tuple[int, int] | None = None


def probability(log_odds: float) -> float:
    """The logistic of a log-odds (-inf gives 0), written with tanh so it never overflows."""
    return 0.5 * (1.0 + math.tanh(log_odds / 2))


@dataclass(frozen=True)
class Answer:
    """The answer to one question; `text` carries [n] markers that refer to `citations`."""

    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    searched_query: str = ""
    reason: str = ""
    # The LLM whose checked sentences make up `text` (generated mode), else "".
    generator: str = ""
    short: str = ""  # the exact answer span (citations[0]'s highlight); "" when abstaining
    # The log-odds that the chosen span is right, as the selector (qa/selection.py) rates it
    # (None when nothing was read): the answer is given when this reaches
    # Settings.min_answer_logit (or its cross-lingual counterpart).
    confidence: float | None = None
    # When abstaining: the passages that were read and found not to answer, best first.
    related: list[Hit] = field(default_factory=list)
    # Generated mode: sentences the model wrote that its cited passages do not support,
    # removed from `text` (shown, if at all, only as unsupported).
    unsupported: list[str] = field(default_factory=list)
    # A one-line note for people about how the answer was made, e.g. why the generated
    # answer fell back to the extractive one, or that passages were cut to fit the model.
    notice: str = ""

    @property
    def probability(self) -> float | None:
        """How likely the quoted sentence holds the answer: `confidence` as a probability
        (None when nothing was read). The selector is a logistic model, and on the held-out
        halves its probabilities match how often the quote held the gold (benchmarks/README.md,
        "How sure an answer is")."""
        return None if self.confidence is None else probability(self.confidence)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (citations without their passage), with `probability`."""
        data = asdict(self)
        for c in data["citations"]:
            c.pop("passage")
        data["probability"] = self.probability
        return data


@dataclass(frozen=True)
class BuildStats:
    """What one index build did, counted in documents and chunks."""

    added: int
    updated: int
    removed: int
    unchanged: int
    chunks_total: int  # in the new index
    chunks_embedded: int  # sent to the model; the rest reuse stored vectors
    chunks_removed: int  # of the previous index, gone with removed or changed documents
    skipped: list[str]  # "path: reason" for files that could not be loaded
    truncated: list[str]  # "doc_id: reason" for documents indexed only up to the chunk cap
    generation: str

    @property
    def documents_total(self) -> int:
        """Documents in the new index."""
        return self.added + self.updated + self.unchanged

    def summary(self, lang: str = "en") -> str:
        """The one-line report of the build, as `qa build` prints it and the web chat shows it.

        Example (en): "g0002: documents 2 (1 added, 0 updated, 1 unchanged; 0 removed,
        0 skipped, 0 truncated); chunks 9 (4 embedded, 0 removed)"; lang="ja": the same
        counts in Japanese ("g0002: 文書2件（追加1件、更新0件、変更なし1件…）…").
        """
        if lang == "ja":
            return (
                f"{self.generation}: 文書{self.documents_total}件（追加{self.added}件、"
                f"更新{self.updated}件、変更なし{self.unchanged}件、削除{self.removed}件、"
                f"除外{len(self.skipped)}件、一部のみ{len(self.truncated)}件）、"
                f"チャンク{self.chunks_total}件（埋め込み{self.chunks_embedded}件、"
                f"削除{self.chunks_removed}件）"
            )
        return (
            f"{self.generation}: documents {self.documents_total} ({self.added} added, "
            f"{self.updated} updated, {self.unchanged} unchanged; {self.removed} removed, "
            f"{len(self.skipped)} skipped, {len(self.truncated)} truncated); "
            f"chunks {self.chunks_total} ({self.chunks_embedded} embedded, "
            f"{self.chunks_removed} removed)"
        )
