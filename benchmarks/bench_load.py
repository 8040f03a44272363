"""Load on the real web chat: concurrent gradio_client users asking the seed dev questions.

Run: .venv/bin/python benchmarks/bench_load.py [--seconds 120] [--users 20] [--chat]
     [--concurrency N] [--queue-size N] [--torch-threads N]

Starts `python app.py` on a temporary copy of seeds/ (index built first with `qa build`; the
model cache is the usual one) and lets each user ask the questions of
../shared/eval/seed_qa_dev.jsonl (Japanese and English, read at run time) one after another
with no pause, through the public `answer` endpoint, for --seconds. Prints the requests
served, latency percentiles of the answered ones, errors split into deliberate "busy" replies
(the queue was full: gradio_client raises QueueError) and any other error, and throughput.
With --chat the users ask through the chat event instead, as the page does (join the queue
with its fn_index, read the stream until the streamed answer is complete): an answer then
holds its slot while it streams, not only while it is computed.
--concurrency, --queue-size and --torch-threads set QA_CONCURRENCY_LIMIT, QA_QUEUE_SIZE and
OMP_NUM_THREADS (torch's intra-op threads) for the server; unset, the defaults apply.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
from gradio_client import Client
from gradio_client.utils import QueueError

from qa.config import Settings
from qa.embedding import torch_threads
from qa.ui import free_port

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "seed_qa_dev.jsonl"
RSS_EVERY = 15  # seconds between samples of the server's memory


@dataclass
class Tally:
    """What the users saw; shared by their threads under `lock`."""

    latencies: list[float] = field(default_factory=list)  # seconds, answered requests
    error_replies: int = 0  # the endpoint answered {"error": ...} (a refused question)
    busy: int = 0  # deliberate: the queue was full
    other: list[str] = field(default_factory=list)  # anything else: a failure
    lock: threading.Lock = field(default_factory=threading.Lock)


def _questions() -> list[str]:
    lines = DEV.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise TimeoutError(f"{url} did not answer within 600 s")


class ChatClient:
    """Asks through the chat event the way the page does (no gradio_client: it is private)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=300)
        deps = self.http.get("/config").json()["dependencies"]
        self.fn_index = next(d["id"] for d in deps if d["api_name"] == "respond")

    def predict(self, question: str, api_name: str = "") -> dict[str, str]:
        """The streamed reply's final sources panel, once complete; QueueError when busy."""
        session = uuid.uuid4().hex[:12]
        body = {"data": [question, [], []], "fn_index": self.fn_index, "session_hash": session}
        joined = self.http.post("/gradio_api/queue/join", json=body)
        if joined.status_code == 503:
            raise QueueError(joined.json()["detail"])
        joined.raise_for_status()
        params = {"session_hash": session}
        with self.http.stream("GET", "/gradio_api/queue/data", params=params) as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    if not message.get("success"):
                        raise RuntimeError(str(message.get("output"))[:200])
                    return {"text": message["output"]["data"][2]}
        raise RuntimeError("the stream ended before the answer was complete")

    def close(self) -> None:
        self.http.close()


def _user(
    client: Client | ChatClient, questions: list[str], start: int, until: float, tally: Tally
) -> None:
    i = start
    while time.monotonic() < until:
        question = questions[i % len(questions)]
        i += 1
        t = time.perf_counter()
        try:
            result = client.predict(question, api_name="/answer")
        except QueueError:
            with tally.lock:
                tally.busy += 1
            time.sleep(1.0)  # "try again in a moment", as the message says
            continue
        except Exception as exc:
            with tally.lock:
                tally.other.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        elapsed = time.perf_counter() - t
        with tally.lock:
            if isinstance(result, dict) and "text" in result:
                tally.latencies.append(elapsed)
            elif isinstance(result, dict) and "error" in result:
                tally.error_replies += 1
            else:
                tally.other.append(f"unexpected reply: {result!r}"[:200])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _server_env(args: argparse.Namespace, s: Settings) -> dict[str, str]:
    env = {**os.environ, "QA_DOCS_DIR": str(s.docs_dir), "QA_INDEX_DIR": str(s.index_dir)}
    env |= {"QA_CACHE_DIR": str(s.cache_dir), "QA_HOST": "127.0.0.1", "QA_PORT": str(s.port)}
    for var, value in (
        ("QA_CONCURRENCY_LIMIT", args.concurrency),
        ("QA_QUEUE_SIZE", args.queue_size),
        ("OMP_NUM_THREADS", args.torch_threads),
    ):
        if value is not None:
            env[var] = str(value)
    return env


def run(args: argparse.Namespace) -> None:
    questions = _questions()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "seeds", work / "docs")
        s = Settings.load(docs_dir=work / "docs", index_dir=work / "index", port=free_port())
        env = _server_env(args, s)
        build = [sys.executable, "-m", "qa", "build"]
        subprocess.run(build, cwd=ROOT, env=env, check=True, capture_output=True)
        proc = _serve(env, s.port, work / "server.log")
        try:
            url = f"http://127.0.0.1:{s.port}/"
            kind = ChatClient if args.chat else partial(Client, verbose=False)
            clients: list[Client | ChatClient] = [kind(url) for _ in range(args.users)]
            clients[0].predict(questions[0], api_name="/answer")  # the model is loaded
            tally, elapsed, rss = _load(clients, questions, args.seconds, proc.pid)
            still = "text" in clients[0].predict(questions[1], api_name="/answer")
            for c in clients:
                c.close()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    _report(args, s, tally, elapsed, still, rss, len(questions))


def _load(
    clients: list[Client | ChatClient], questions: list[str], seconds: float, server: int
) -> tuple[Tally, float, list[float]]:
    """Every client asks until `seconds` have passed; the tally, elapsed time, server RSS (MB)
    sampled at the start and every RSS_EVERY seconds."""
    tally = Tally()
    rss = [_rss_mb(server)]
    started = time.monotonic()
    until = started + seconds
    users = [
        threading.Thread(target=_user, args=(c, questions, n, until, tally))
        for n, c in enumerate(clients)
    ]
    for u in users:
        u.start()
    while any(u.is_alive() for u in users):
        users[0].join(timeout=max(0.0, started + RSS_EVERY * len(rss) - time.monotonic()))
        if time.monotonic() >= started + RSS_EVERY * len(rss):
            rss.append(_rss_mb(server))
    for u in users:
        u.join()
    elapsed = time.monotonic() - started
    return tally, elapsed, [*rss, _rss_mb(server)]


def _report(
    args: argparse.Namespace,
    s: Settings,
    tally: Tally,
    elapsed: float,
    still_serving: bool,
    rss_mb: list[float],
    n_questions: int,
) -> None:
    ordered = sorted(tally.latencies)
    served = len(ordered) + tally.error_replies
    concurrency = args.concurrency or s.concurrency_limit
    queue = args.queue_size or s.queue_size
    threads = args.torch_threads or torch_threads()  # the server's rule, in its environment
    print(
        f"{args.users} {'chat' if args.chat else 'API'} users x {elapsed:.0f} s, "
        f"{n_questions} dev questions (ja + en); "
        f"server: concurrency {concurrency}, queue {queue}, torch threads {threads}; "
        f"{os.cpu_count()} cores"
    )
    print(f"  requests served          {served} ({len(ordered)} answers, "
          f"{tally.error_replies} error replies)")  # fmt: skip
    print(f"  throughput               {served / elapsed:.2f} requests/s")
    print(
        f"  latency (answered)       p50 {_pct(ordered, 0.5):.2f} s, "
        f"p95 {_pct(ordered, 0.95):.2f} s, max {_pct(ordered, 1.0):.2f} s"
    )
    print(f"  busy replies             {tally.busy} (queue full: QueueError, try again)")
    print(f"  other errors             {len(tally.other)}")
    for line in sorted(set(tally.other))[:5]:
        print(f"    {line}")
    series = " ".join(f"{r:.0f}" for r in rss_mb)
    print(
        f"  server RSS               {rss_mb[0]:.0f} MB warm -> {rss_mb[-1]:.0f} MB at the end "
        f"({100 * (rss_mb[-1] - rss_mb[0]) / rss_mb[0]:+.1f} %); every {RSS_EVERY} s: {series}"
    )
    print(f"  still serving afterwards {still_serving}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the users ask")
    parser.add_argument("--users", type=int, default=20, help="concurrent gradio_client users")
    parser.add_argument("--chat", action="store_true", help="ask through the chat, streamed")
    parser.add_argument("--concurrency", type=int, help="QA_CONCURRENCY_LIMIT for the server")
    parser.add_argument("--queue-size", type=int, help="QA_QUEUE_SIZE for the server")
    parser.add_argument("--torch-threads", type=int, help="OMP_NUM_THREADS for the server")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
