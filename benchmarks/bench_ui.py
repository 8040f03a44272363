"""Web chat figures: `python app.py` cold start to HTTP 200, and time to the first streamed token.

Run: .venv/bin/python benchmarks/bench_ui.py   (needs /usr/bin/chromium; uses a temporary
copy of seeds/ and its own index; the model cache is the usual one, converted if missing)

The first-token time is measured in a real headless Chromium from pressing Enter to the
first answer text in the chat; bare answer() is timed in this process on the same questions.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from qa import answer, build_index
from qa.config import Settings
from qa.ui import free_port

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "seed_qa_dev.jsonl"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip
BOT = "#kt-chat .message.bot"


def _wait_http_200(url: str, timeout: float = 300.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def _ask_in_browser(page, question: str) -> tuple[float, float]:
    """Seconds from Enter to the first answer text, and to the sources panel being filled."""
    before = page.locator(BOT).count()
    box = page.locator("#kt-question textarea")
    box.fill(question)
    start = time.perf_counter()
    box.press("Enter")
    # The chat shows an empty "pending" bubble at once; the first token is the first text in it.
    script = f"""() => {{ const m = document.querySelectorAll('{BOT}');
        return m.length > {before} ? m[m.length - 1].innerText.trim().length : 0; }}"""
    while not page.evaluate(script):
        if time.perf_counter() - start > 120:
            raise TimeoutError(f"no answer to {question!r}")
        time.sleep(0.01)
    first = time.perf_counter() - start
    page.locator("#kt-sources .kt-busy").wait_for(state="detached", timeout=120_000)
    return first, time.perf_counter() - start


def _browser_times(url: str, questions: list[str]) -> list[tuple[float, float]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        times = []
        for q in questions:  # a fresh page each: no history, like the bare answer() calls
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url, wait_until="domcontentloaded")
            page.locator("#kt-question textarea").wait_for(state="visible", timeout=120_000)
            times.append(_ask_in_browser(page, q))
            page.close()
        browser.close()
    return times


def _serve(env: dict[str, str], port: int) -> tuple[subprocess.Popen[bytes], float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_http_200(f"http://127.0.0.1:{port}/")
    return proc, time.perf_counter() - started


def main() -> None:
    cases = [json.loads(line) for line in DEV.read_text().splitlines() if line.strip()]
    questions = [c["question"] for c in cases if c["answers"]][:8]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "seeds", work / "docs")
        s = Settings.load(docs_dir=work / "docs", index_dir=work / "index")
        build_index(settings=s, progress=False)
        port = free_port()
        env = {**os.environ, "QA_DOCS_DIR": str(s.docs_dir), "QA_INDEX_DIR": str(s.index_dir)}
        env |= {"QA_PORT": str(port), "QA_CACHE_DIR": str(s.cache_dir)}
        proc, cold = _serve(env, port)
        try:
            times = _browser_times(f"http://127.0.0.1:{port}/", questions)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        answer(questions[0], settings=s)  # warm-up: model and index loaded in this process
        bare = []
        for q in questions * 2:  # the second pass is warm, as in the server
            t = time.perf_counter()
            answer(q, settings=s)
            bare.append(time.perf_counter() - t)
        bare = bare[len(questions) :]
    _report(cold, times, bare)


def _report(cold: float, times: list[tuple[float, float]], bare: list[float]) -> None:
    firsts, fulls = [t[0] for t in times], [t[1] for t in times]
    rows = [
        ("cold start: `python app.py` -> GET / 200", f"{cold:.2f} s"),
        ("first question: Enter -> first streamed token", f"{firsts[0]:.2f} s"),
        ("warm median: Enter -> first streamed token", f"{statistics.median(firsts[1:]):.3f} s"),
        ("warm median: Enter -> answer and sources shown", f"{statistics.median(fulls[1:]):.3f} s"),
        (
            "bare answer() median (warm), same questions, same run",
            f"{statistics.median(bare):.3f} s",
        ),
    ]
    print(f"questions: {len(times)} (seed dev set, answerable), machine: {os.cpu_count()} cores")
    for name, value in rows:
        print(f"  {name:<50} {value}")


if __name__ == "__main__":
    main()
