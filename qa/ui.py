"""The Gradio web chat: questions in, streamed cited answers and their sources out.

Two tabs: the chat (answer on the left, sources on the right; stacked on narrow screens)
and the documents (what is indexed; add, replace, delete, rebuild: qa/ui_documents.py).
The only public API event is `answer` (question -> the structured answer as a dict); every
other event is private, and a guard in front of Gradio's routes refuses to run private
events by name. Questions (chat and API) share one bounded queue: past `queue_size`
waiting, newcomers are told to retry.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import api
from . import ui_render as render
from .config import Settings
from .errors import QAError
from .ui_documents import change_notice, documents_tab
from .ui_page import CSS, page_js

log = logging.getLogger(__name__)

STREAM_DELAY = 0.012  # seconds between streamed pieces: fast, but visibly streaming
EXAMPLES = [  # questions the seed article answers
    "ノベルが開発中のXenの仮想化ドライバはどのライセンスで提供される見込みですか？",
    "マイクロソフトがLinux上での仮想化を認めないと言ったWindowsは何ですか？",
    "サーバ統合はサーバの何を高めるのに有効ですか？",
    "Which versions of Windows does Microsoft refuse to allow to be virtualized on Linux?",
    "Under which license will Novell's Xen virtualization drivers be released?",
]
FONTS = ["Noto Sans CJK JP", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic UI",
         "Meiryo", "system-ui", "sans-serif"]  # fmt: skip
HEADER = (
    "<div class='kt-header'><h1 class='kt-logo'>kotae <span lang='ja'>答え</span></h1>"
    "<span class='kt-tagline'>資料に質問すると、引用と出典つきで答えます。"
    " Ask your documents; every answer quotes and cites them.</span></div>"
)

BUSY = (
    "混み合っています。少し待ってから、もう一度お試しください。"
    " The server is busy; please try again in a moment."
)
QUESTIONS = "questions"  # the concurrency group of every event that answers a question
_API = "/gradio_api/"
_BY_NAME = ("call", "run", "api")  # Gradio routes that run an event: _API + <route>/<name>
_PAGE_NAME = "predict"  # the name the page itself gives every fn_index call of /run
Turn = dict[str, str]
ChatUpdate = tuple[list[Turn], str, str, list[Turn]]


def build_app(settings: Settings) -> gr.Blocks:
    """The chat page bound to one configuration."""
    with gr.Blocks(title="kotae — 答え") as app:
        gr.HTML(HEADER)
        with gr.Tab("質問 / Chat", elem_id="kt-tab-chat"):
            doc_line = _chat_tab(settings)
        with gr.Tab("資料 / Documents", elem_id="kt-tab-docs") as docs_tab:
            refresh, shown = documents_tab(settings, doc_line)
        quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
        app.load(refresh, None, shown, **quiet)
        docs_tab.select(refresh, None, shown, **quiet)
        _answer_endpoint(settings)
    return app


def _chat_tab(settings: Settings) -> gr.HTML:
    """Lay out the chat; returns the line naming the documents in use (the Documents tab
    updates it)."""
    respond = _respond_fn(settings)
    turns = gr.State([])
    with gr.Row(equal_height=False, elem_id="kt-main"):
        with gr.Column(scale=3, min_width=340):
            doc_line = gr.HTML(elem_id="kt-doc-line")
            chat = gr.Chatbot(
                elem_id="kt-chat", show_label=False, height=520, feedback_options=None,
                buttons=[], placeholder=render.CHAT_PLACEHOLDER,
            )  # fmt: skip
            with gr.Row(elem_id="kt-ask-row"):
                question = gr.Textbox(
                    label="質問 / Question", placeholder="質問を入力 / Ask a question",
                    show_label=False, scale=5, max_lines=4, elem_id="kt-question",
                    autofocus=True, container=False,
                )  # fmt: skip
                ask = gr.Button(
                    "質問する / Ask", variant="primary", scale=1, min_width=110, elem_id="kt-ask"
                )
            # The page script (render.page_js) counts characters here near the limit.
            gr.HTML("<div id='kt-count' class='kt-count' aria-live='polite' hidden></div>")
        with gr.Column(scale=2, min_width=300, elem_id="kt-sources-col"):
            gr.HTML("<h2 class='kt-h' id='kt-sources-h'>出典 / Sources</h2>")
            sources = gr.HTML(render.SOURCES_PLACEHOLDER, elem_id="kt-sources")
    examples = gr.Examples(EXAMPLES, inputs=question, label="例 / Examples")
    new_chat = gr.Button("新しい会話 / New chat", size="sm", elem_id="kt-new")
    io = {"inputs": [question, chat, turns], "outputs": [chat, question, sources, turns]}
    # Progress and errors (a full queue's "busy, try again") show on the chat only: the
    # question stays readable in its box, to be sent again.
    private: dict[str, Any] = {
        "api_visibility": "private", "concurrency_id": QUESTIONS, "show_progress_on": chat,
    }  # fmt: skip
    for event in (question.submit, ask.click):
        # always_last: a question sent while an answer streams is asked next, not dropped.
        event(respond, **io, **private, trigger_mode="always_last")
    examples.load_input_event.then(respond, **io, **private)
    reset = lambda: ([], "", render.SOURCES_PLACEHOLDER, [])  # noqa: E731
    new_chat.click(reset, None, [chat, question, sources, turns], api_visibility="private")
    chat.clear(reset, None, [chat, question, sources, turns], api_visibility="private")
    return doc_line


def _respond_fn(settings: Settings) -> Any:

    def respond(question: str, chat: list[Any], turns: list[Turn]) -> Iterator[ChatUpdate]:
        shown = [_plain(m) for m in chat]
        text = question or ""
        if not text.strip() or len(text) > settings.max_question_chars:
            # The page refuses to send these (render.page_js); if one comes anyway, nothing
            # happens here either: no bubble, the box keeps what was typed.
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        # This reply's number: its [n] markers and its cards share it (render.answer_pieces).
        turn = 1 + sum(1 for m in shown if m["role"] == "assistant")
        shown.append({"role": "user", "content": render.escape_text(question)})
        yield shown, "", render.SEARCHING, turns
        draft, result = "", None
        try:
            for item in api.answer_stream(question, history=turns, settings=settings):
                if isinstance(item, api.Draft):  # the model's text as it comes, unchecked
                    draft += item.text
                    yield _reply(shown, render.draft_html(draft)), "", render.CHECKING, turns
                else:
                    result = item
        except Exception as exc:  # the UI boundary: show a message, keep serving
            msg = render.error_message(render.friendly(exc))
            yield _reply(shown, msg), question, render.SOURCES_PLACEHOLDER, turns
            return
        assert result is not None  # answer_stream always ends with the answer
        try:  # for the cards' titles, paragraphs and context
            docs = api.indexed_documents(settings=settings)
        except Exception as exc:  # the cards fall back to the passages' text
            log.warning("documents unavailable: %s", exc)
            docs = {}
        text = ""
        for piece in render.answer_pieces(result, docs=docs, turn=turn):
            text += piece
            if not draft:  # a streamed draft is replaced at once by the checked answer
                yield _reply(shown, text), "", render.SEARCHING, turns
                time.sleep(STREAM_DELAY)
        done = [*turns, {"role": "user", "content": question}]
        done.append({"role": "assistant", "content": result.text})
        yield _reply(shown, text), "", render.sources_html(result, docs, turn), done

    return respond


def _reply(shown: list[Turn], content: str) -> list[Turn]:
    return [*shown, {"role": "assistant", "content": content}]


def _index_fn(settings: Settings) -> Any:
    """A rebuild as the Documents tab runs it, off the page: full -> (notice HTML,)
    (tests/test_hardening.py reads the notice this way)."""
    return lambda full: (change_notice(lambda: api.build_index(full=full, settings=settings), []),)


def _answer_endpoint(settings: Settings) -> None:
    """The public `answer` API event: a hidden textbox in, the structured answer out.

    With an LLM configured it streams: {"draft": text so far} while the model writes (each
    update replaces the last, as gradio_client's job.outputs() shows), then the checked
    answer's dict; `predict` returns only that last value.
    """

    def answer_endpoint(question: str) -> Iterator[dict[str, Any]]:
        draft = ""
        try:
            for item in api.answer_stream(question, settings=settings):
                if isinstance(item, api.Draft):
                    draft += item.text
                    yield {"draft": draft}
                else:
                    yield item.to_dict()
        except QAError as exc:
            yield {"error": str(exc)}

    hidden_in, hidden_out = gr.Textbox(visible=False), gr.JSON(visible=False)
    hidden_in.change(
        answer_endpoint, hidden_in, hidden_out, api_name="answer", concurrency_id=QUESTIONS
    )


def start(settings: Settings) -> gr.Blocks:
    """Start serving the chat on the configured host and port; returns at once."""
    app = build_app(settings)
    public = frozenset(
        fn.api_name
        for fn in app.fns.values()
        if fn.api_visibility == "public" and isinstance(fn.api_name, str)
    )
    # api_open=False: no event skips the queue through /run/<name>, so its bounds hold for
    # every caller. Each event group (all questions are one) runs `concurrency_limit` at once;
    # the model still computes one at a time, the other slots stream (benchmarks/README.md).
    app.queue(
        max_size=settings.queue_size,
        default_concurrency_limit=settings.concurrency_limit,
        api_open=False,
    ).launch(
        server_name=settings.host,
        server_port=settings.port,
        share=False,
        show_error=False,
        prevent_thread_lock=True,
        max_file_size=settings.max_upload_bytes,
        footer_links=["api"],
        theme=theme(),
        css=CSS,
        js=page_js(settings.max_question_chars, settings.max_upload_bytes),
        mcp_server=False,
        app_kwargs={"middleware": [Middleware(ApiGuard, public=public)]},
    )
    threading.Thread(target=_warm_up, args=(settings,), daemon=True).start()
    return app


def theme() -> gr.themes.Base:
    """Gradio's Soft theme in indigo, its light colours darkened where text fell short of
    WCAG AA (4.5:1, measured by axe-core in tests/test_browser_a11y.py): the Ask button's
    white on indigo-500 (4.46), labels and titles in indigo-500 (3.6 on their badge) and
    grey-400 hints ("- or -", "Use via API": 2.4). The dark theme's colours pass as they are."""
    return gr.themes.Soft(primary_hue="indigo", font=FONTS).set(
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        body_text_color_subdued="*neutral_600",
    )


def launch(settings: Settings) -> None:
    """Serve the chat until interrupted."""
    start(settings).block_thread()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` now, as the OS picks it, to serve on when any port will do
    (`start(settings.replace(port=free_port()))`, or QA_PORT for `python app.py`); another
    process may still take it first.

    The chat itself always serves its configured port (Settings refuses 0). This is for the
    tests and benchmarks that start servers: it lives here, beside `start`, because benchmarks
    are scripts that import only `qa` and must not import the tests, and both need it.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _warm_up(settings: Settings) -> None:
    """Load the model and index in the background so the first question is quick."""
    try:
        api.search("warm up", settings=settings)
    except Exception as exc:  # the chat will show the same problem when asked
        log.warning("warm-up failed: %s", exc)


class ApiGuard:
    """ASGI middleware before Gradio's routes: events run by name only if public; busy is clear.

    Gradio's "private" only hides an event from /info and gradio_client, while
    /gradio_api/call/<name> and /gradio_api/run/<name> still run it. Here those routes answer
    404 unless <name> is public. The page is unaffected: it joins the queue with an fn_index
    (/gradio_api/queue/join) and runs its few unqueued events as /gradio_api/run/predict.
    A full queue's 503 carries BUSY instead of Gradio's "Queue is full. Max size is ...".
    """

    def __init__(self, app: ASGIApp, public: frozenset[str]) -> None:
        self.app = app
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        named = _named_event(path)
        if named is not None and not self._allowed(*named):
            await JSONResponse({"detail": "Not Found"}, status_code=404)(scope, receive, send)
            return
        if named is not None or path.rstrip("/") == _API + "queue/join":
            send = _busy_message(send)
        await self.app(scope, receive, send)

    def _allowed(self, route: str, name: str) -> bool:
        return name in self.public or (route != "call" and name == _PAGE_NAME)


def _route_path(scope: Scope) -> str:
    """The request path without the app's root path (as Starlette's router sees it)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path


def _named_event(path: str) -> tuple[str, str] | None:
    """(route, event name) of a Gradio route that runs an event by its name, else None.

    Example: "/gradio_api/call/v2/respond/" -> ("call", "respond"); "/gradio_api/info" -> None
    """
    if not path.startswith(_API):
        return None
    route, _, rest = path.removeprefix(_API).partition("/")
    if route not in _BY_NAME:
        return None
    if route == "call" and rest.startswith("v2/"):
        rest = rest.removeprefix("v2/")
    return route, rest.partition("/")[0]


def _busy_message(send: Send) -> Send:
    """`send` with the body of a 503 (queue full or stopped) replaced by BUSY."""
    replacing = False

    async def send_busy(message: Message) -> None:
        nonlocal replacing
        if message["type"] == "http.response.start" and message["status"] == 503:
            replacing = True
            body = json.dumps({"detail": BUSY}, ensure_ascii=False).encode()
            headers = [
                (k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"
            ]
            headers += [(b"content-length", str(len(body)).encode())]
            await send({**message, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
        elif not (replacing and message["type"] == "http.response.body"):
            await send(message)

    return send_busy


def _plain(message: Any) -> Turn:
    """A chat message as {role, content}: Gradio may hand content back as a list of parts."""
    if not isinstance(message, dict):
        message = {"role": getattr(message, "role", "user"), "content": message.content}
    content = message.get("content", "")
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return {"role": str(message.get("role", "user")), "content": str(content)}
