"""Pure HTML rendering for the web chat: answers, sources and index status (no Gradio here).

Everything that comes from a document or a question is escaped: documents are untrusted,
and the chat renders Markdown, so text is written with HTML entities for every character
that Markdown or HTML could interpret.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from .errors import QAError
from .types import Answer, BuildStats, Citation

if TYPE_CHECKING:
    from .api import IndexStatus

log = logging.getLogger(__name__)

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
NO_DOCUMENTS = (
    "まだ資料がありません。「資料」タブで追加してください。"
    " No documents yet: add some on the Documents tab."
)
TITLES_SHOWN = 3  # the chat names this many documents at most; more are counted
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
        f"<dt>Size</dt><dd>{plural(counts.get('documents', 0), 'document')}, "
        f"{plural(counts.get('chunks', 0), 'chunk')}</dd>"
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


def plural(n: int, noun: str) -> str:
    """A count with its noun in English. Example: (1, "document") -> "1 document"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def documents_line_html(titles: Sequence[str] | None) -> str:
    """The chat tab's line naming the documents answers come from (None: no index yet).

    Example: ["A", "B"] -> "回答に使う資料 / Answering from: A · B"; more than TITLES_SHOWN
    titles -> "文書12件 / 12 documents" and a pointer to the Documents tab.
    """
    if not titles:
        return f"<div class='kt-docline kt-docline-none'>{html.escape(NO_DOCUMENTS)}</div>"
    if len(titles) <= TITLES_SHOWN:
        names = " · ".join(f"<b>{html.escape(t)}</b>" for t in titles)
        return f"<div class='kt-docline'>回答に使う資料 / Answering from: {names}</div>"
    n = len(titles)
    return (
        f"<div class='kt-docline'>回答に使う資料：文書{n:,}件（一覧は「資料」タブ）"
        f" / Answering from {plural(n, 'document')} (listed on the Documents tab)</div>"
    )


def build_html(stats: BuildStats, refused: Sequence[str] = ()) -> str:
    """What a build from the Documents tab did: the CLI's summary (in Japanese and English),
    then each refused upload and each file the build skipped or cut short, one per line."""
    done = (
        "<div class='kt-notice kt-ok'><b>索引を更新しました / Index updated</b>"
        f"<br>{html.escape(stats.summary('ja'))}<br>{html.escape(stats.summary())}</div>"
    )
    skipped = ["除外 / Skipped " + refusal(*line.partition(": ")[::2]) for line in stats.skipped]
    notes = [("error", r) for r in [*refused, *skipped]]
    notes += [("info", f"一部のみ索引 / Truncated {t}") for t in stats.truncated]
    return done + notices_html(notes)


def refusal(name: str, reason: str) -> str:
    """Why a file cannot be used and what to do, in Japanese and English.

    Example: ("shop.html", "no text") -> "shop.html: 文字がありません（…）。 shop.html: no
    text was found in it (…)."
    """
    if reason == "unsupported type":
        ja, en = "この形式には対応していません", "this file type is not supported"
    elif reason.startswith("larger than"):
        ja, en = f"ファイルが大きすぎます（{reason}）", f"the file is too large ({reason})"
    elif reason == "no text":
        ja, en = "文字が見つかりません", "no text was found in it"
    else:
        ja, en = f"読み取れませんでした（{reason}）", f"it could not be read ({reason})"
    todo_ja, todo_en = _REMEDIES.get(reason.split(" ", 1)[0], _REMEDIES[""])
    return f"{name}: {ja}。{todo_ja} / {name}: {en}. {todo_en}"


_REMEDIES = {  # first word of the reason -> what to do, in Japanese and English
    "unsupported": (
        ".txt・.md・.html・.pdf のファイルにしてください。",
        "Save it as .txt, .md, .html or .pdf.",
    ),
    "larger": ("分割するか、小さくしてから追加してください。", "Split or shorten it, then add it."),
    "no": (
        "文字を含むファイルを選んでください（スキャンしたPDFは先に文字認識（OCR）が必要です）。",
        "Add a file that contains text (a scanned PDF needs OCR first).",
    ),
    "": (
        "別の形式（.txt など）で保存し直してから追加してください。",
        "Save it again, e.g. as .txt, then add it.",
    ),
}


def friendly(exc: Exception) -> str:
    """The message a person sees for an error; unexpected ones are logged in full."""
    if isinstance(exc, QAError):
        return str(exc)
    log.exception("unexpected error in the web chat")
    return "Something went wrong on the server (details are in its log). Please try again."


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
.kt-docline { color: #374151; font-size: .9em; margin: 0 0 .2em; overflow-wrap: anywhere; }
.kt-docline-none { color: #92400e; }
.kt-count { text-align: right; color: var(--kt-muted); font-size: .85em;
  font-variant-numeric: tabular-nums; }
.kt-count.kt-over { color: #991b1b; font-weight: 600; }
#kt-confirm { border: 1px solid #fca5a5; border-radius: 8px; padding: .5em .8em; }
@media (max-width: 640px) {
  .kt-logo { font-size: 1.3em; }
  #kt-sources { max-height: none; }
}
"""


def page_js(limit: int, upload_bytes: int) -> str:
    """The page script. The question box: a character counter from 80% of `limit`, and
    sending refused in the browser when the box is blank (nothing happens) or over `limit`
    (the counter says why); the server ignores both too (see ui.respond). Uploads: a file
    over `upload_bytes` (which the server would refuse whole) is left out in the browser and
    named in #kt-upload-note, worded as `refusal` words it; the others are uploaded."""
    too_large = refusal("NAME", f"larger than {upload_bytes:,} bytes")
    return (
        _PAGE_JS.replace("LIMIT_CHARS", str(int(limit)))
        .replace("UPLOAD_BYTES", str(int(upload_bytes)))
        .replace("TOO_LARGE", json.dumps(too_large, ensure_ascii=False))
    )


_PAGE_JS = """() => {
  const LIMIT = LIMIT_CHARS, WARN = Math.floor(LIMIT * 0.8);
  const box = () => document.querySelector('#kt-question textarea');
  const fmt = (n) => n.toLocaleString('en-US');
  const update = () => {
    const b = box(), out = document.querySelector('#kt-count');
    if (!b || !out) return;
    const n = [...b.value].length, over = n > LIMIT;
    out.hidden = n < WARN;
    out.classList.toggle('kt-over', over);
    out.textContent = `${fmt(n)} / ${fmt(LIMIT)}` + (over
      ? ` — 長すぎます。${fmt(LIMIT)}文字以内にしてください。`
        + ` Too long: please shorten it to ${fmt(LIMIT)} characters.`
      : '');
  };
  const refuse = (e) => {
    const b = box();
    if (!b || (b.value.trim() && [...b.value].length <= LIMIT)) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    update();
  };
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing
        && e.target.closest && e.target.closest('#kt-question')) refuse(e);
  }, true);
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('#kt-ask')) refuse(e);
  }, true);
  document.addEventListener('input', update, true);
  setInterval(update, 400);

  const note = (big) => {
    const out = document.querySelector('#kt-upload-note');
    if (!out) return;
    out.replaceChildren(...big.map((f) => {
      const line = document.createElement('div');
      line.className = 'kt-notice kt-error';
      line.textContent = TOO_LARGE.replaceAll('NAME', f.name);
      return line;
    }));
  };
  const sizes = (files, e) => {
    const all = [...(files || [])], big = all.filter((f) => f.size > UPLOAD_BYTES);
    note(big);
    if (big.length && big.length === all.length) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
    return all.filter((f) => f.size <= UPLOAD_BYTES);
  };
  document.addEventListener('change', (e) => {
    const input = e.target;
    if (!(input.closest && input.closest('#kt-upload') && input.files)) return;
    const ok = sizes(input.files, e);
    if (ok.length && ok.length < input.files.length) {
      const keep = new DataTransfer();
      ok.forEach((f) => keep.items.add(f));
      input.files = keep.files;
    }
  }, true);
  document.addEventListener('drop', (e) => {
    if (!(e.target.closest && e.target.closest('#kt-upload') && e.dataTransfer)) return;
    const all = [...e.dataTransfer.files];
    if (sizes(all, e).length < all.length) {  // a drop cannot be edited: refuse it whole
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
}"""
