"""The extractive reader: the best answer span of each passage and its no-answer score.

An XLM-R question-answering head fine-tuned from the bundled multilingual-e5-small encoder
(benchmarks/train_reader.py, JaQuAD train). The shipped weights hold the upper encoder layers
and the span head as int8 rows with a float16 scale each; the rest is the loaded embedder's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelUnavailable
from .text import visible

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase, XLMRobertaForQuestionAnswering

WORD_EMBEDDINGS = "roberta.embeddings.word_embeddings.weight"
_SCALE = ".scale"


@dataclass(frozen=True)
class ReadSpan:
    """The best span of one passage: character offsets into it, and how sure the reader is."""

    passage: int  # index into the passages read
    start: int
    end: int
    score: float  # start + end logits of the span
    null: float  # start + end logits of "no answer in this passage"

    @property
    def margin(self) -> float:
        """How far the span beats "no answer": positive means the reader would answer."""
        return self.score - self.null


class Reader:
    """Reads passages for a question: one forward pass over every window of every passage."""

    def __init__(
        self,
        model: XLMRobertaForQuestionAnswering,
        tokenizer: PreTrainedTokenizerBase,
        max_tokens: int = 256,
        stride: int = 64,
        max_answer_tokens: int = 30,
    ) -> None:
        self._model = model.eval()
        self._tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.stride = stride
        self.max_answer_tokens = max_answer_tokens
        self._lock = threading.Lock()  # torch modules are not safe to call from two threads

    def read(self, question: str, passages: list[str]) -> list[ReadSpan]:
        """The best span of each passage, in passage order (empty spans never come back)."""
        if not passages:
            return []
        # Invisible characters change the tokens, not what a reader sees (as for the embedder).
        enc = windows(self._tokenizer, visible(question), passages, self.max_tokens, self.stride)
        start, end = self._logits(enc["input_ids"])
        best: dict[int, ReadSpan] = {}
        null: dict[int, float] = {}
        for w, passage in enumerate(enc["overflow_to_sample_mapping"]):
            span = self._best_in_window(enc, w, passage, start[w], end[w])
            if span is None:
                continue
            # A passage's no-answer score is its most confident window's (the SQuAD 2.0 rule).
            null[passage] = min(null.get(passage, span.null), span.null)
            if passage not in best or span.score > best[passage].score:
                best[passage] = span
        return [replace(best[p], null=null[p]) for p in sorted(best)]

    def _logits(self, input_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        pad = self._tokenizer.pad_token_id
        width = max(len(ids) for ids in input_ids)
        ids = torch.full((len(input_ids), width), pad, dtype=torch.long)
        for row, seq in enumerate(input_ids):
            ids[row, : len(seq)] = torch.tensor(seq)
        with self._lock, torch.inference_mode():
            out = self._model(input_ids=ids, attention_mask=(ids != pad).long())
        return out.start_logits.float().numpy(), out.end_logits.float().numpy()

    def _best_in_window(
        self, enc: Any, w: int, passage: int, start: np.ndarray, end: np.ndarray
    ) -> ReadSpan | None:
        context = [t for t, s in enumerate(enc.sequence_ids(w)) if s == 1]
        if not context:
            return None
        first, last = context[0], context[-1]
        offsets = enc["offset_mapping"][w]
        # Scores of every (start, end) pair inside the context, end >= start, bounded length.
        s = start[first : last + 1, None] + end[None, first : last + 1]
        n = last - first + 1
        rows, cols = np.indices((n, n))
        s = np.where((cols >= rows) & (cols - rows < self.max_answer_tokens), s, -np.inf)
        i, j = np.unravel_index(int(np.argmax(s)), s.shape)
        char_start, char_end = offsets[first + i][0], offsets[first + j][1]
        if char_end <= char_start:
            return None
        null = float(start[0] + end[0])
        return ReadSpan(passage, int(char_start), int(char_end), float(s[i, j]), null)


def windows(
    tokenizer: PreTrainedTokenizerBase,
    question: str,
    passages: list[str],
    max_tokens: int,
    stride: int,
) -> Any:
    """Question + passage token windows (overlapping by `stride`), with character offsets."""
    return tokenizer(
        [question] * len(passages),
        passages,
        truncation="only_second",
        max_length=max_tokens,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )


def quantize(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Matrices as int8 rows with one float16 scale per row; everything else float16."""
    import torch

    out: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        t = tensor.detach().float().cpu()
        if t.ndim == 2 and min(t.shape) >= 64:
            scale = t.abs().amax(dim=1).clamp(min=1e-8) / 127.0
            out[name] = torch.round(t / scale[:, None]).clamp(-127, 127).to(torch.int8)
            out[name + _SCALE] = scale.to(torch.float16)
        else:
            out[name] = t.to(torch.float16)
    return out


def dequantize(stored: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The float32 state dict of `quantize`'s output."""
    out = {}
    for name, tensor in stored.items():
        if name.endswith(_SCALE):
            continue
        scale = stored.get(name + _SCALE)
        value = tensor.float()
        out[name] = value * scale.float()[:, None] if scale is not None else value
    return out


def build_reader(transformer: Any, tokenizer: PreTrainedTokenizerBase, weights: Path) -> Reader:
    """A reader made of `weights` over the modules of `transformer` that they leave out.

    The shipped weights hold the upper encoder layers and the span head; the embeddings and
    lower layers the reader was trained with frozen are the embedder's own modules, shared
    rather than copied, so the encoder exists once in memory.
    """
    import copy

    from safetensors import SafetensorError
    from safetensors.torch import load_file
    from transformers import XLMRobertaForQuestionAnswering

    try:
        state = dequantize(load_file(weights))
    except (OSError, SafetensorError) as e:
        raise ModelUnavailable(f"cannot read the reader weights {weights}: {e}") from e
    if "qa_outputs.weight" not in state:
        raise ModelUnavailable(f"{weights} holds no span head (qa_outputs): not reader weights")
    # Built with a vocabulary of just the padding row; the real matrix is the embedder's.
    config = copy.deepcopy(transformer.config)
    config.vocab_size = config.pad_token_id + 1
    model = XLMRobertaForQuestionAnswering(config)
    own = model.roberta
    if any(name.startswith("roberta.embeddings.") for name in state):
        own.embeddings.word_embeddings = transformer.embeddings.word_embeddings
    else:
        own.embeddings = transformer.embeddings
    for i, layer in enumerate(transformer.encoder.layer):
        if not any(name.startswith(f"roberta.encoder.layer.{i}.") for name in state):
            own.encoder.layer[i] = layer
    missing, unexpected = model.load_state_dict(state, strict=False)
    shared = {n for n, _ in model.named_parameters(remove_duplicate=False)} - state.keys()
    if unexpected or not set(missing) <= shared | {WORD_EMBEDDINGS}:
        raise ModelUnavailable(
            f"the reader weights {weights} do not fit the embedding model: "
            f"{sorted(unexpected or set(missing) - shared)[:3]}"
        )
    return Reader(model, tokenizer)
