"""The web chat as a real Gradio server, called through gradio_client."""

import socket

import pytest
from gradio_client import Client

from qa.ui import start

from .conftest import SEED_ID


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(seed_settings):
    app = start(seed_settings.replace(port=_free_port()))
    yield app
    app.close()


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


def test_greeting_is_an_abstention_with_no_citations(server) -> None:
    result = Client(server.local_url, verbose=False).predict("こんにちは", api_name="/answer")
    assert result["abstained"] is True
    assert result["citations"] == []


def test_citations_are_plain_dicts_with_spans(server) -> None:
    question = "ノベルが開発中のXenの仮想化ドライバはどのライセンスで提供される見込みですか？"
    result = Client(server.local_url, verbose=False).predict(question, api_name="/answer")
    c = result["citations"][0]
    assert set(c) == {"n", "doc_id", "title", "start", "end", "quote", "score", "page"}
    assert c["end"] - c["start"] == len(c["quote"])
    assert "GPL" in c["quote"]
