"""Untrusted document text in a real browser: quoted, cited and shown, never run or fetched.

A document holding a <script>, an <img onerror> and a Markdown image that points at a local
server is indexed in a temporary folder; questions (two of them carrying markup as well)
get answers that quote those lines (or, from a reader that answers nothing, refusals that
offer those passages as related), and headless Chromium must show all of it as text: no
script runs, no element of the document's markup exists, no request goes out for the image.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qa import build_index
from qa.config import Settings
from qa.ui import free_port, start

from .conftest import ANSWERS, REFUSES
from .test_browser import ANSWER_WAIT

pytestmark = pytest.mark.slow

DOC = """# 検査メモ <img src=x onerror="window.__pwned=3">

検査用の合言葉は <script>window.__pwned=1</script> です。
検査用の画像タグは <img src=x onerror="window.__pwned=2"> です。
検査用の画像リンクは次の行です。
![x]({leak}/leak.png) は外部の画像を読み込む検査用の画像リンクです。
"""
TITLE = '検査メモ <img src=x onerror="window.__pwned=3">'
QUESTIONS = [
    "検査用の合言葉は何ですか？",
    "検査用の画像タグは何ですか？",
    "外部の画像を読み込む検査用の画像リンクは何ですか？",
    # Markup in the question itself: the chat shows the question back.
    '<img src=x onerror="window.__pwned=4"> ![y]({leak}/question.png) 検査用の画像タグは？',
]
# Each must be shown by some answer or its sources (the splitter ends a sentence at the "!"
# of "![x]").
QUOTED = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "[x]({leak}/leak.png)",
]
SHOWN = "![x]({leak}/leak.png)"  # in full in a sources panel, as the passage around a quote
NOTHING_RAN = """() => ({
    pwned: typeof window.__pwned,
    onerror: document.querySelectorAll('[onerror]').length,
    scripts: [...document.scripts].filter(s => s.text.includes('__pwned')).length,
})"""


class _Recorder(BaseHTTPRequestHandler):
    """Records every request path; answers 204."""

    server: _LeakServer

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        self.send_response(204)
        self.end_headers()

    do_HEAD = do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


class _LeakServer(ThreadingHTTPServer):
    """A local HTTP server that should never be asked for anything; `seen` is what it was."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.seen: list[str] = []


@pytest.fixture
def leak() -> Iterator[tuple[str, list[str]]]:
    """The leak server's URL and the paths requested from it."""
    server = _LeakServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", server.seen
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["answers", "refuses"])
def hostile_url(
    request: pytest.FixtureRequest, leak: tuple[str, list[str]], tmp_path: Path, model_cache: Path
) -> Iterator[str]:
    """The chat serving only the hostile document (temporary docs and index folders), its
    reader answering every question or none."""
    docs = tmp_path / "hostile-docs"
    docs.mkdir()
    (docs / "memo.md").write_text(DOC.format(leak=leak[0]), encoding="utf-8")
    index = tmp_path / "hostile-index"
    minimum = ANSWERS if request.param == "answers" else REFUSES
    settings = Settings.load(
        docs_dir=docs,
        index_dir=index,
        cache_dir=model_cache,
        port=free_port(),
        reader_passages=5,  # every hostile line is read by some question, whichever ranks first
        **minimum,
    )
    build_index(settings=settings, progress=False)
    app = start(settings)
    try:
        yield app.local_url
    finally:
        app.close()


def test_document_markup_is_shown_as_text_never_run_or_fetched(
    browser, hostile_url: str, leak: tuple[str, list[str]], request: pytest.FixtureRequest
) -> None:
    leak_url, leak_seen = leak
    requested: list[str] = []
    answers, panels = [], []
    for question in (q.format(leak=leak_url) for q in QUESTIONS):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        page.on("request", lambda r: requested.append(r.url))
        page.goto(hostile_url, wait_until="domcontentloaded")
        box = page.locator("#kt-question textarea")
        box.fill(question)
        box.press("Enter")
        sources = page.locator("#kt-sources")
        done = sources.locator(".kt-src, .kt-abstain").first
        done.wait_for(state="visible", timeout=ANSWER_WAIT)
        # "More context" opened: the whole passage, the line before a quote included.
        page.evaluate("document.querySelectorAll('#kt-sources details').forEach(d => d.open = 1)")
        assert page.evaluate(NOTHING_RAN) == {"pwned": "undefined", "onerror": 0, "scripts": 0}
        assert not [u for u in requested if u.startswith(leak_url) or u.endswith("/x")]
        assert question in page.locator("#kt-chat .message.user").last.inner_text()
        answers.append(page.locator("#kt-chat .message.bot").last.inner_text())
        panels.append(sources.inner_text())
        page.close()
    assert leak_seen == []
    if request.node.callspec.params["hostile_url"] == "refuses":
        assert all(a.startswith("ℹ️") for a in answers), answers
        assert all("関連 / Related" in p for p in panels), panels  # the passages, offered
    else:
        # Shown as text somewhere: in an answer's quote, or in a card's passage around it
        # (which sentence the reader quotes for each question is the model's choice).
        for line in (q.format(leak=leak_url) for q in QUOTED):
            assert any(line in a for a in answers + panels), (line, answers, panels)
    assert any(SHOWN.format(leak=leak_url) in p for p in panels), panels
    assert all(TITLE in p for p in panels[:3]), panels
