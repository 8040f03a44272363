"""Pure HTML rendering for the web chat: answers, sources and index status (no Gradio here).

Everything that comes from a document or a question is escaped: documents are untrusted,
and the chat renders Markdown, so text is written with HTML entities for every character
that Markdown or HTML could interpret.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from .types import Answer, Citation

if TYPE_CHECKING:
    from .api import IndexStatus

_MARKER = re.compile(r"\[(\d+)\]")
# Characters that Markdown (or HTML) would turn into markup; written as numeric entities.
_MARKUP_CHARS = frozenset("\\`*_{}[]()#+-.!|<>&~\"'=:$^")
_SENTENCE_END = re.compile(r"(?<=[。．！？!?])|(?<=[.;])\s|\n")
CONTEXT_CHARS = 100  # context shown on each side of a quote before "more context"

SOURCES_PLACEHOLDER = (
    "<div class='kt-empty'>出典はここに表示されます。<br>Sources appear here after you ask.</div>"
)
CHAT_PLACEHOLDER = (
    "<div class='kt-empty'>資料について質問してください。<br>Ask a question about the documents."
    "</div>"
)
SEARCHING = "<div class='kt-empty kt-busy'>資料を検索中… / Searching the documents…</div>"


def escape_text(text: str) -> str:
    """Text made inert for a Markdown-and-HTML renderer.

    Example: "**hi** <b>" -> "&#42;&#42;hi&#42;&#42; &#60;b&#62;"
    """
    return "".join(f"&#{ord(ch)};" if ch in _MARKUP_CHARS else ch for ch in text)


def answer_pieces(answer: Answer, size: int = 6) -> Iterator[str]:
    """The chat message for an answer, in small pieces to stream (joined: the whole message).

    Markers stay whole, so every prefix of the stream is valid markup.
    Example: "A [1]" -> "A ", "<sup class='kt-cite'>[1]</sup>"
    """
    if answer.abstained:
        yield "ℹ️ "
    pos = 0
    for m in _MARKER.finditer(answer.text):
        yield from _text_pieces(answer.text[pos : m.start()], size)
        yield f"<sup class='kt-cite'>[{m.group(1)}]</sup>"
        pos = m.end()
    yield from _text_pieces(answer.text[pos:], size)


def answer_markup(answer: Answer) -> str:
    """The whole chat message for an answer."""
    return "".join(answer_pieces(answer))


def error_message(message: str) -> str:
    """A friendly chat message for an error."""
    return "⚠️ " + escape_text(message[:1].upper() + message[1:])


def sources_html(answer: Answer) -> str:
    """The sources panel: one card per citation, or a note that the answer has none."""
    searched = ""
    if answer.searched_query and answer.searched_query != answer.question:
        # A follow-up was searched together with earlier questions: say so.
        searched = (
            "<div class='kt-searched'>検索した内容 / Searched: "
            f"{html.escape(answer.searched_query)}</div>"
        )
    if answer.abstained or not answer.citations:
        reason = (
            f"<div class='kt-reason'>{html.escape(answer.reason)}</div>" if answer.reason else ""
        )
        return (
            "<div class='kt-empty kt-abstain'><b>出典なし / No sources</b><br>"
            "資料にはこの質問の答えがありません。The documents do not answer this question."
            f"{reason}</div>{searched}"
        )
    cards = "".join(citation_html(c) for c in answer.citations)
    return f"{searched}<div class='kt-sources'>{cards}</div>"


def citation_html(c: Citation) -> str:
    """One source card: number, title, score, the quote highlighted in its context."""
    before, quote, after = _split_passage(c)
    short = _context(before, after, CONTEXT_CHARS)
    full = _context(before, after, None)
    more = ""
    if short != full:
        more = (
            "<details class='kt-more'><summary>前後をもっと見る / More context</summary>"
            f"<p class='kt-ctx'>{_highlight(full, quote)}</p></details>"
        )
    return (
        f"<article class='kt-src' id='kt-src-{c.n}'>"
        f"<header><span class='kt-n'>{c.n}</span>"
        f"<span class='kt-title'>{html.escape(c.title)}</span>"
        f"<span class='kt-score' title='retrieval score'>score {c.score:.2f}</span></header>"
        f"<div class='kt-doc'>{html.escape(c.doc_id)} · {c.start:,}–{c.end:,}</div>"
        f"<p class='kt-ctx'>{_highlight(short, quote)}</p>{more}</article>"
    )


def status_html(status: IndexStatus) -> str:
    """The index status: model, chunk settings, size and whether it is stale."""
    m = status.manifest
    model = m.get("model", {})
    chunking = m.get("chunking", {})
    counts = m.get("counts", {})
    if status.stale:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in status.stale)
        state = f"<span class='kt-badge kt-stale'>要再構築 / stale</span><ul>{items}</ul>"
    else:
        state = "<span class='kt-badge kt-fresh'>最新 / up to date</span>"
    return (
        f"<div class='kt-status'>{state}<dl>"
        f"<dt>Model</dt><dd>{html.escape(str(model.get('id', '?')))}"
        f" ({html.escape(str(model.get('dim', '?')))} dims)</dd>"
        f"<dt>Chunks</dt><dd>{chunking.get('chunk_size', '?')} characters, overlap "
        f"{chunking.get('chunk_overlap', '?')}</dd>"
        f"<dt>Size</dt><dd>{counts.get('documents', 0)} documents, "
        f"{counts.get('chunks', 0)} chunks</dd>"
        f"<dt>Generation</dt><dd>{html.escape(status.generation)} · built "
        f"{html.escape(_when(str(m.get('created_at', ''))))}</dd></dl></div>"
    )


def document_rows(status: IndexStatus) -> list[list[str]]:
    """One table row per indexed document: title, id, chunks ("2 of 7" when capped), when."""
    rows = [
        [d.document.title, d.document.doc_id, status.chunk_count(d), _when(d.indexed_at)]
        for d in status.documents
    ]
    return sorted(rows, key=lambda r: r[1])


def notice_html(message: str, kind: str = "info") -> str:
    """A short message box (kind: info, ok or error)."""
    return f"<div class='kt-notice kt-{kind}'>{html.escape(message)}</div>"


def notices_html(messages: Sequence[tuple[str, str]]) -> str:
    """Several (kind, message) notices, one per line."""
    return "".join(notice_html(text, kind) for kind, text in messages)


def _text_pieces(text: str, size: int) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield escape_text(text[i : i + size])


def _split_passage(c: Citation) -> tuple[str, str, str]:
    """The passage text before the quote, the quote, and after it."""
    p = c.passage
    start = min(max(c.start - p.start, 0), len(p.text))
    end = min(max(c.end - p.start, start), len(p.text))
    if p.text[start:end] != c.quote:  # quote outside this passage: show the quote alone
        return "", c.quote, ""
    return p.text[:start], c.quote, p.text[end:]


def _context(before: str, after: str, limit: int | None) -> tuple[str, str]:
    """Whole sentences of context on each side, up to `limit` characters per side."""
    if limit is None:
        return before, after
    return _tail_sentences(before, limit), _head_sentences(after, limit)


def _tail_sentences(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    bounds = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() >= cut]
    return "…" + text[bounds[0] :] if bounds else "…" + text[cut:]


def _head_sentences(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    bounds = [m.end() for m in _SENTENCE_END.finditer(text) if 0 < m.end() <= limit]
    return (text[: bounds[-1]] if bounds else text[:limit]) + "…"


def _highlight(context: tuple[str, str], quote: str) -> str:
    before, after = context
    return f"{html.escape(before)}<mark>{html.escape(quote)}</mark>{html.escape(after)}"


def _when(iso: str) -> str:
    """An ISO timestamp shown to the minute.

    Example: "2026-11-26T05:51:34+00:00" -> "2026-11-26 05:51 UTC"
    """
    if len(iso) < 16:
        return iso
    zone = " UTC" if iso.endswith(("+00:00", "Z")) else ""
    return f"{iso[:10]} {iso[11:16]}{zone}"


CSS = """
:root { --kt-accent: #4f46e5; --kt-mark: #fde68a; --kt-muted: #6b7280; }
.gradio-container { max-width: 1280px !important; margin: 0 auto !important;
  font-family: "Noto Sans CJK JP", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic UI",
  "Meiryo", system-ui, sans-serif; }
.kt-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3em 1em; }
.kt-logo { font-size: 1.6em; font-weight: 700; color: var(--kt-accent); letter-spacing: .02em; }
.kt-tagline { color: var(--kt-muted); font-size: .95em; }
.kt-h { margin: .2em 0 .4em; font-size: 1.05em; font-weight: 600; }
#kt-chat .message, #kt-chat .prose { line-height: 1.85; font-size: 1.02em;
  overflow-wrap: anywhere; word-break: normal; line-break: strict; }
.kt-cite { color: var(--kt-accent); font-weight: 700; font-size: .8em; margin: 0 .1em; }
#kt-sources { max-height: 640px; overflow-y: auto; }
.kt-sources { display: flex; flex-direction: column; gap: .7em; }
.kt-src { border: 1px solid #e5e7eb; border-left: 4px solid var(--kt-accent); border-radius: 8px;
  padding: .6em .9em; background: var(--block-background-fill, #fff); }
.kt-src header { display: flex; align-items: center; gap: .55em; }
.kt-n { flex: none; display: inline-flex; justify-content: center; align-items: center;
  min-width: 1.6em; height: 1.6em; border-radius: 999px; background: var(--kt-accent); color: #fff;
  font-weight: 700; font-size: .85em; }
.kt-title { font-weight: 600; flex: 1; overflow-wrap: anywhere; }
.kt-score { flex: none; font-size: .78em; color: var(--kt-muted); background: #f3f4f6;
  border-radius: 999px; padding: .1em .6em; font-variant-numeric: tabular-nums; }
.kt-doc { color: var(--kt-muted); font-size: .78em; margin: .15em 0 .3em 2.15em;
  overflow-wrap: anywhere; }
.kt-ctx { margin: .2em 0; line-height: 1.85; font-size: .95em; color: #374151;
  overflow-wrap: anywhere; line-break: strict; white-space: pre-line; }
.kt-ctx mark { background: var(--kt-mark); color: #111827; padding: 0 .1em;
  border-radius: 3px; }
.kt-more summary { cursor: pointer; color: var(--kt-accent); font-size: .85em; margin-top: .2em; }
.kt-more[open] summary { margin-bottom: .2em; }
.kt-empty { color: var(--kt-muted); border: 1px dashed #d1d5db; border-radius: 8px; padding: 1em;
  line-height: 1.8; text-align: center; }
.kt-abstain { text-align: left; border-style: solid; background: #f9fafb; }
.kt-searched { color: #6b7280; font-size: .85em; margin: 0 0 .6em; }
.kt-reason { font-size: .8em; margin-top: .4em; }
.kt-busy { animation: kt-pulse 1.4s ease-in-out infinite; }
@keyframes kt-pulse { 50% { opacity: .45; } }
.kt-status dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em .9em;
  margin: .5em 0; }
#kt-docs table, #kt-docs th, #kt-docs td, #kt-docs span { font-family: inherit !important; }
.kt-status dt { color: var(--kt-muted); }
.kt-status dd { margin: 0; overflow-wrap: anywhere; }
.kt-status ul { margin: .3em 0 0 1.2em; font-size: .9em; }
.kt-badge { display: inline-block; border-radius: 999px; padding: .1em .7em; font-size: .85em;
  font-weight: 600; }
.kt-fresh { background: #dcfce7; color: #166534; }
.kt-stale { background: #fef3c7; color: #92400e; }
.kt-notice { border-radius: 6px; padding: .45em .8em; margin: .3em 0; font-size: .92em; }
.kt-info { background: #eef2ff; color: #3730a3; }
.kt-ok { background: #dcfce7; color: #166534; }
.kt-error { background: #fee2e2; color: #991b1b; }
@media (max-width: 640px) {
  .kt-logo { font-size: 1.3em; }
  #kt-sources { max-height: none; }
}
"""
