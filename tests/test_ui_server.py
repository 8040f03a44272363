"""The web chat as a real Gradio server, called through gradio_client; the server's entry
points (`python app.py`, `qa serve`) and the torch threads they run with."""

import json
import os
import subprocess
import sys

import gradio as gr
import pytest
from gradio_client import Client

from qa.embedding import torch_threads
from qa.ui import _respond_fn, free_port, start

from .conftest import ANSWERS, REFUSES, ROOT, SEED_ID


@pytest.fixture(scope="module")
def server(seed_settings):
    """The chat over the seed article, its reader answering every question."""
    port = free_port()
    app = start(seed_settings.replace(port=port, **ANSWERS))
    assert app.local_url == f"http://127.0.0.1:{port}/"
    yield app
    app.close()


@pytest.fixture(scope="module")
def refusing(seed_settings):
    """The chat over the seed article, its reader finding no answer to any question."""
    app = start(seed_settings.replace(port=free_port(), **REFUSES))
    yield app
    app.close()


def test_blank_or_overlong_chat_question_changes_nothing(seed_settings) -> None:
    """The page does not send these (tests/test_browser.py); sent anyway, nothing happens."""
    respond = _respond_fn(seed_settings)
    for question in ("  \n", "長" * (seed_settings.max_question_chars + 1)):
        assert list(respond(question, [], [])) == [(gr.skip(),) * 4]


def test_answer_endpoint_returns_the_structured_answer(server) -> None:
    client = Client(server.local_url, verbose=False)
    result = client.predict("講演したのは誰ですか？", api_name="/answer")
    assert result["abstained"] is False
    assert result["citations"][0]["doc_id"] == SEED_ID
    assert result["citations"][0]["quote"] in result["text"]


def test_bad_question_is_a_message_not_a_crash(server) -> None:
    client = Client(server.local_url, verbose=False)
    assert "empty" in client.predict("   ", api_name="/answer")["error"]
    assert client.predict("GPLとは？", api_name="/answer")["text"]  # still serving


def test_only_the_answer_endpoint_is_public(server) -> None:
    api = Client(server.local_url, verbose=False).view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/answer"]
    assert api["unnamed_endpoints"] == {}


def test_an_abstention_has_no_citations_and_lists_the_passages_read(refusing) -> None:
    result = Client(refusing.local_url, verbose=False).predict("こんにちは", api_name="/answer")
    assert result["abstained"] is True and result["short"] == ""
    assert result["citations"] == [] and result["related"]
    assert {"doc_id", "start", "end", "text"} <= set(result["related"][0])


def test_citations_are_plain_dicts_with_spans(server) -> None:
    question = "ノベルが開発中のXenの仮想化ドライバはどのライセンスで提供される見込みですか？"
    result = Client(server.local_url, verbose=False).predict(question, api_name="/answer")
    c = result["citations"][0]
    fields = {"n", "doc_id", "title", "start", "end", "quote", "score", "page", "highlight"}
    assert set(c) == fields
    assert c["end"] - c["start"] == len(c["quote"])
    assert "GPL" in c["quote"]
    a, b = c["highlight"]  # the short answer, inside the quote
    assert c["start"] <= a < b <= c["end"]
    assert c["quote"][a - c["start"] : b - c["start"]] == result["short"]


# Runs an entry point in a fresh interpreter with its server replaced by what the server's
# warm-up does first, loading the embedding model; the model itself is not loaded (a stand-in
# raises right after the policy would have been applied). Prints torch's threads then.
ENTRY_POINT = """
import json, os, runpy, sys
from unittest import mock

import qa.embedding, qa.ui

class NoModel(Exception):
    pass

def no_model(name, cache_dir):
    raise NoModel

def serve(settings):
    try:
        qa.embedding.load_embedder(settings.embed_model, settings.cache_dir)
    except NoModel:
        pass
    import torch
    print(json.dumps({"threads": torch.get_num_threads(), "port": settings.port}))

with (
    mock.patch.object(qa.embedding, "_load_sentence_transformer", no_model),
    mock.patch.object(qa.ui, "launch", serve),
):
    if sys.argv[1] == "app.py":
        runpy.run_path("app.py", run_name="__main__")
    else:
        from qa.cli import main
        sys.exit(main(["serve", "--port", "7861"]))
"""


@pytest.mark.parametrize("omp", [None, "3"], ids=["OMP_NUM_THREADS unset", "OMP_NUM_THREADS=3"])
@pytest.mark.parametrize("entry", ["app.py", "qa serve"])
def test_every_entry_point_runs_torch_with_the_same_threads(entry: str, omp: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if omp:
        env["OMP_NUM_THREADS"] = omp
    result = subprocess.run(
        [sys.executable, "-c", ENTRY_POINT, entry],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["threads"] == (int(omp) if omp else 1), (entry, seen)


@pytest.mark.parametrize(
    ("value", "threads"), [(None, 1), ("", 1), ("2", 2), (" 4 ", 4), ("0", 1), ("many", 1)]
)
def test_torch_threads_is_omp_num_threads_or_one(monkeypatch, value, threads) -> None:
    if value is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert torch_threads() == threads


def test_this_process_runs_torch_with_the_policy(embedder) -> None:
    """The test session loaded the real model (the `embedder` fixture) through the same loader."""
    import torch

    assert torch.get_num_threads() == torch_threads()
