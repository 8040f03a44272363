"""The Gradio web chat: questions in, cited answers and their sources out."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr

from . import api
from .config import Settings
from .errors import QAError
from .types import Answer

log = logging.getLogger(__name__)

EXAMPLES = [
    "講演したのは誰ですか？",
    "ノベルが開発中のXenの仮想化ドライバはどのライセンスで提供される見込みですか？",
    "Which versions of Windows does Microsoft refuse to allow to be virtualized on Linux?",
]
CSS = """
.gradio-container { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Meiryo",
  system-ui, sans-serif; }
.source { border-left: 3px solid #6366f1; padding: .4em .8em; margin: .6em 0; line-height: 1.7; }
.source mark { background: #fde68a; }
.source .meta { color: #6b7280; font-size: .85em; }
"""

Message = dict[str, str]


def build_app(settings: Settings) -> gr.Blocks:
    """The chat page bound to one configuration."""

    def respond(question: str, history: list[Message]) -> Iterator[tuple[list[Message], str, str]]:
        turns = [*history, {"role": "user", "content": question}]
        try:
            result = api.answer(question, history=history, settings=settings)
        except QAError as exc:
            yield [*turns, {"role": "assistant", "content": f"⚠️ {exc}"}], "", ""
            return
        shown = ""
        for piece in _pieces(result.text):
            shown += piece
            yield [*turns, {"role": "assistant", "content": shown}], "", ""
        yield [*turns, {"role": "assistant", "content": result.text}], "", _sources_html(result)

    def answer_endpoint(question: str) -> dict[str, Any]:
        try:
            return api.answer(question, settings=settings).to_dict()
        except QAError as exc:
            return {"error": str(exc)}

    with gr.Blocks(title="kotae — 答え") as app:
        gr.Markdown("## kotae 答え\nAsk the documents; every answer quotes and cites them.")
        chat = gr.Chatbot(label="Chat", height=420)
        sources = gr.HTML(label="Sources")
        question = gr.Textbox(placeholder="質問を入力 / Ask a question", show_label=False)
        gr.Examples(EXAMPLES, inputs=question)
        question.submit(
            respond, [question, chat], [chat, question, sources], api_visibility="private"
        )
        hidden_in, hidden_out = gr.Textbox(visible=False), gr.JSON(visible=False)
        hidden_in.change(answer_endpoint, hidden_in, hidden_out, api_name="answer")
    return app


def start(settings: Settings) -> gr.Blocks:
    """Start serving the chat on the configured host and port; returns at once."""
    app = build_app(settings)
    app.queue(max_size=64, default_concurrency_limit=1).launch(
        server_name=settings.host,
        server_port=settings.port,
        share=False,
        show_error=False,
        prevent_thread_lock=True,
        css=CSS,
    )
    return app


def launch(settings: Settings) -> None:
    """Serve the chat until interrupted."""
    start(settings).block_thread()


def _pieces(text: str, size: int = 12) -> Iterator[str]:
    """Stream a finished answer in small pieces, as a reader expects from a chat."""
    for i in range(0, len(text), size):
        yield text[i : i + size]


def _sources_html(result: Answer) -> str:
    if result.abstained:
        return f"<p class='meta'>No sources: {html.escape(result.reason)}</p>"
    parts = []
    for c in result.citations:
        passage = c.passage
        before = passage.text[: max(0, c.start - passage.start)]
        after = passage.text[max(0, c.end - passage.start) :]
        parts.append(
            f"<div class='source'><b>[{c.n}]</b> {html.escape(c.title)} "
            f"<span class='meta'>{html.escape(c.doc_id)} · score {c.score:.2f}</span><br>"
            f"{html.escape(before)}<mark>{html.escape(c.quote)}</mark>{html.escape(after)}</div>"
        )
    return "".join(parts)
