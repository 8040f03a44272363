"""Pack what a GPU run of train_reader.py needs into work/gpu, under the device's 64 MiB.

The GPU machine gets the repository and carried folders only (64 MiB in all), and
multilingual-e5-small is 236 MB as float32, most of it the embeddings of 250,002 pieces. The
training data uses about 21,000 of them. The pack holds the encoder with its vocabulary cut
to the pieces that the data's texts tokenize to (a Unigram model over a subset of its pieces
segments those texts as before: checked here on every one of them), the lower layers that
training keeps frozen (the upper ones come from `--init qa/weights/reader.safetensors`), as
float16, and JaQuAD train gzipped. Data: JaQuAD train and dev (SkelterLabs, CC BY-SA 3.0)
and JSQuAD valid (JGLUE, CC BY-SA 4.0) from ../shared/data, and the English versions of
benchmarks/data.

    .venv/bin/python benchmarks/pack_reader_base.py [--out work/gpu] [--frozen 6]

Then, on the GPU machine (`device` run, carry ["work/gpu"]), see benchmarks/README.md,
"On a GPU".
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm
from train_reader import base_folder

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SQUAD_FILES = [
    SHARED / f for f in ("jaquad-train.json", "jaquad-dev.json", "jsquad-valid-v1.3.json")
]
WORDS = "embeddings.word_embeddings.weight"


def texts_of(squad_files: list[Path], english_files: list[Path]) -> list[str]:
    """Every context and question of the SQuAD-format files, and every English version."""
    texts = []
    for path in squad_files:
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for p in article["paragraphs"]:
                texts += [p["context"], *(q["question"] for q in p["qas"])]
    for path in english_files:
        for line in filter(None, path.read_text(encoding="utf-8").splitlines()):
            texts += [v for v in json.loads(line).values() if isinstance(v, str)]
    return texts


def token_ids(tokenizer, texts: list[str]) -> list[list[int]]:
    """Each text's piece ids, with <s> and </s>."""
    out: list[list[int]] = []
    for at in tqdm(range(0, len(texts), 2000), desc="tokenizing", unit="batch"):
        out += tokenizer(texts[at : at + 2000])["input_ids"]
    return out


def cut_tokenizer(tokenizer_json: dict, kept: list[int]) -> dict:
    """The tokenizer.json of a Unigram vocabulary cut to `kept` (old ids, ascending)."""
    new_id = {old: new for new, old in enumerate(kept)}
    out = json.loads(json.dumps(tokenizer_json))
    model = out["model"]
    model["vocab"] = [model["vocab"][old] for old in kept]
    model["unk_id"] = new_id[model["unk_id"]]
    for token in out["added_tokens"]:
        token["id"] = new_id[token["id"]]
    for special in out["post_processor"]["special_tokens"].values():
        special["ids"] = [new_id[i] for i in special["ids"]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="converted e5 folder (default: kotae's cache)")
    parser.add_argument("--out", type=Path, default=ROOT / "work" / "gpu")
    parser.add_argument("--frozen", type=int, default=6, help="lower layers packed (train_reader)")
    args = parser.parse_args()
    from transformers import AutoTokenizer, PreTrainedTokenizerFast, XLMRobertaModel

    base = args.base or base_folder()
    english = sorted((ROOT / "benchmarks" / "data").glob("*-en.jsonl"))
    texts = texts_of(SQUAD_FILES, english)
    full = AutoTokenizer.from_pretrained(base)
    ids = token_ids(full, texts)
    tokenizer_json = json.loads((base / "tokenizer.json").read_text(encoding="utf-8"))
    specials = {t["id"] for t in tokenizer_json["added_tokens"]}
    kept = sorted(specials.union(*map(set, ids)))

    folder = args.out / "base"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "tokenizer.json").write_text(
        json.dumps(cut_tokenizer(tokenizer_json, kept), ensure_ascii=False), encoding="utf-8"
    )
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(base / name, folder / name)
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(json.dumps({**config, "vocab_size": len(kept)}, indent=2))
    lower = tuple(f"encoder.layer.{i}." for i in range(args.frozen))
    state = load_file(base / "model.safetensors")
    packed = {
        name: (tensor[kept] if name == WORDS else tensor).half().contiguous()
        for name, tensor in state.items()
        if name.startswith("embeddings.") or name.startswith(lower)
    }
    save_file(packed, folder / "model.safetensors", metadata={"format": "pt"})
    with gzip.open(args.out / "jaquad-train.json.gz", "wb") as gz:
        gz.write((SHARED / "jaquad-train.json").read_bytes())

    # The cut tokenizer must segment every text as the whole one did, and the packed layers
    # compute what the base's do (float16 aside).
    cut = PreTrainedTokenizerFast.from_pretrained(folder)
    new_id = {old: new for new, old in enumerate(kept)}
    differ = sum(
        [new_id[i] for i in old] != new for old, new in zip(ids, token_ids(cut, texts), strict=True)
    )
    sample = texts[:: max(1, len(texts) // 64)][:64]
    with torch.no_grad():
        whole = XLMRobertaModel.from_pretrained(base, add_pooling_layer=False).eval()
        small = XLMRobertaModel.from_pretrained(
            folder, add_pooling_layer=False, dtype=torch.float32
        ).eval()
        gap = 0.0
        for text in sample:
            a = full(text, return_tensors="pt", truncation=True, max_length=256)
            b = cut(text, return_tensors="pt", truncation=True, max_length=256)
            h = whole(**a, output_hidden_states=True).hidden_states[args.frozen]
            g = small(**b, output_hidden_states=True).hidden_states[args.frozen]
            gap = max(gap, ((h - g).abs().max() / h.abs().max()).item())
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"{len(texts)} texts, {len(kept)} of {len(full)} pieces kept; texts segmented")
    print(f"differently: {differ}; layer {args.frozen}'s output, largest gap / largest value:")
    print(f"{gap:.1e} over {len(sample)} texts; {args.out}: {size / 2**20:.1f} MiB")
    if differ:
        raise SystemExit("the cut vocabulary segments some texts differently: not packed")


if __name__ == "__main__":
    main()
