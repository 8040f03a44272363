"""Pure HTML rendering for the web chat: answers, sources and index status (no Gradio here).

Everything that comes from a document or a question is escaped: documents are untrusted,
and the chat renders Markdown, so text is written with HTML entities for every character
that Markdown or HTML could interpret.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from .errors import QAError
from .text import sentence_spans
from .types import Answer, BuildStats, Citation

if TYPE_CHECKING:
    from .api import IndexStatus

log = logging.getLogger(__name__)

_MARKER = re.compile(r"\[(\d+)\]")
# Characters that Markdown (or HTML) would turn into markup; written as numeric entities.
_MARKUP_CHARS = frozenset("\\`*_{}[]()#+-.!|<>&~\"'=:$^")
# Paragraphs: separated by blank lines, or by line ends in a text that has no blank line.
_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n\s*")
_LINE_END = re.compile(r"\n\s*")
CONTEXT_CHARS = 100  # context shown on each side of a quote before "more context"
LOOKAROUND = 300  # characters read beyond a passage to find where its sentences begin and end

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


def answer_pieces(
    answer: Answer, size: int = 6, texts: Mapping[str, str] | None = None
) -> Iterator[str]:
    """The chat message for an answer, in small pieces to stream (joined: the whole message).

    Markers stay whole, so every prefix of the stream is valid markup; each links to its
    source card. The last piece is the footer: a link to the sources and a copy button.
    Example: "A [1]" -> "A ", "<sup class='kt-cite'><a href='#kt-src-1'>[1]</a></sup>", footer
    """
    if answer.abstained:
        yield "ℹ️ "
    pos = 0
    for m in _MARKER.finditer(answer.text):
        yield from _text_pieces(answer.text[pos : m.start()], size)
        yield f"<sup class='kt-cite'><a href='#kt-src-{m.group(1)}'>[{m.group(1)}]</a></sup>"
        pos = m.end()
    yield from _text_pieces(answer.text[pos:], size)
    yield answer_footer(answer, texts)


def answer_markup(answer: Answer, texts: Mapping[str, str] | None = None) -> str:
    """The whole chat message for an answer."""
    return "".join(answer_pieces(answer, texts=texts))


def answer_footer(answer: Answer, texts: Mapping[str, str] | None = None) -> str:
    """Under an answer: "Sources ↓" (when it has sources) and a button that copies
    `copy_text`, kept in a hidden element beside it (the chat's sanitizer drops data-*
    attributes), newlines as entities so Markdown keeps the block whole."""
    jump = ""
    if answer.citations and not answer.abstained:
        jump = "<a class='kt-jump' href='#kt-sources-col'>出典 ↓ / Sources</a>"
    plain = escape_text(copy_text(answer, texts)).replace("\n", "&#10;")
    return (
        f"\n\n<div class='kt-foot'>{jump}<button class='kt-copy' type='button'>"
        f"コピー / Copy</button><span class='kt-plain'>{plain}</span></div>"
    )


def copy_text(answer: Answer, texts: Mapping[str, str] | None = None) -> str:
    """The answer as plain text, its [n] markers kept, and below it its sources.

    Example: "「…」 [1]\\n\\n出典 / Sources\\n[1] Title (第7段落 / paragraph 7): 「quote」"
    """
    if answer.abstained or not answer.citations:
        return answer.text
    lines = [answer.text, "", "出典 / Sources"]
    for c in answer.citations:
        where = location(c, (texts or {}).get(c.doc_id))
        lines.append(f"[{c.n}] {c.title}{f' ({where})' if where else ''}: 「{c.quote}」")
    return "\n".join(lines)


def location(c: Citation, text: str | None = None) -> str:
    """Where a citation is, for a person: its page in a PDF, else its paragraph in `text`
    (the document's text; "" when not known).

    Example: "3ページ / page 3", "第7段落 / paragraph 7"
    """
    if c.page is not None:
        return f"{c.page}ページ / page {c.page}"
    if text is None or text[c.start : c.end] != c.quote:
        return ""
    n = paragraph_of(text, c.start)
    return f"第{n}段落 / paragraph {n}"


def paragraph_of(text: str, offset: int) -> int:
    """1-based number of the paragraph holding `offset`: paragraphs are separated by blank
    lines, or by line ends in a text without any blank line.

    Example: ("Title\\n\\nOne.\\n\\nTwo.", 13) -> 3
    """
    breaks = _BLANK_LINE if _BLANK_LINE.search(text) else _LINE_END
    first = len(text) - len(text.lstrip())  # breaks before the first text start nothing
    return 1 + sum(1 for m in breaks.finditer(text, first, offset) if m.end() <= offset)


def error_message(message: str) -> str:
    """A friendly chat message for an error."""
    return "⚠️ " + escape_text(message[:1].upper() + message[1:])


def sources_html(answer: Answer, texts: Mapping[str, str] | None = None) -> str:
    """The sources panel: one card per citation, or a note that the answer has none.

    `texts` (document id -> the indexed text) gives each card its paragraph and context
    beyond the passage; without it the cards show what the passages hold.
    """
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
    cards = "".join(citation_html(c, (texts or {}).get(c.doc_id)) for c in answer.citations)
    return f"{searched}<div class='kt-sources'>{cards}</div>"


def citation_html(c: Citation, text: str | None = None) -> str:
    """One source card: number (back to its marker), title, where in the document, the quote
    highlighted among whole sentences; score, document id and span under "details".

    `text` is the document's indexed text (None: the passage's own text is the context).
    """
    before, quote, after = _around(c, text)
    short = _context(before, after, CONTEXT_CHARS)
    more = ""
    if short != (before, after):
        more = (
            "<details class='kt-more'><summary>前後をもっと見る / More context</summary>"
            f"<p class='kt-ctx'>{_highlight((before, after), quote)}</p></details>"
        )
    where = location(c, text)
    where_html = f"<div class='kt-where'>{where}</div>" if where else ""
    back = f"回答の [{c.n}] へ / Back to [{c.n}] in the answer"
    return (
        f"<article class='kt-src' id='kt-src-{c.n}'>"
        f"<header><a class='kt-n' href='#kt-chat' data-n='{c.n}' title='{back}' "
        f"aria-label='{back}'>{c.n}</a>"
        f"<span class='kt-title'>{html.escape(c.title)}</span></header>{where_html}"
        f"<p class='kt-ctx'>{_highlight(short, quote)}</p>{more}"
        "<details class='kt-details'><summary>詳細 / Details</summary><dl>"
        f"<dt>score</dt><dd class='kt-score'>{c.score:.2f}</dd>"
        f"<dt>document</dt><dd>{html.escape(c.doc_id)}</dd>"
        f"<dt>characters</dt><dd>{c.start:,}–{c.end:,}</dd></dl></details></article>"
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


def _around(c: Citation, text: str | None) -> tuple[str, str, str]:
    """Context before the quote (from a sentence start), the quote, context after it.

    From the document's text when it holds the quote: the passage widened to whole
    sentences. Else from the passage, its first sentence left out unless the passage
    starts the document (it may begin mid-sentence).
    """
    p = c.passage
    if text is not None and text[c.start : c.end] == c.quote:
        lo, hi = min(p.start, c.start), max(p.end, c.end)
        before = text[_start_before(text, c.start, lo) : c.start]
        return before, c.quote, text[c.end : _end_after(text, c.end, hi)]
    start = min(max(c.start - p.start, 0), len(p.text))
    end = min(max(c.end - p.start, start), len(p.text))
    if p.text[start:end] != c.quote:  # quote outside this passage: show the quote alone
        return "", c.quote, ""
    whole = p.start == 0  # a passage that starts the document starts a sentence
    first = _start_before(p.text, start, 0, whole)
    return p.text[first:start], c.quote, p.text[end:]


def _start_before(text: str, pos: int, lo: int, whole: bool | None = None) -> int:
    """The earliest sentence start in text[lo:pos] that is surely one (pos when none).

    Sentences are found from up to LOOKAROUND characters before `lo`; the first one found
    counts only when the search began at the text's start (or `whole` says it is whole).
    """
    begin = max(0, lo - LOOKAROUND)
    starts = [begin + s for s, _ in sentence_spans(text[begin:pos])]
    if not (begin == 0 if whole is None else whole):
        starts = starts[1:]
    before_lo = [s for s in starts if s <= lo]
    at_or_after = [s for s in starts if s >= lo]
    if before_lo:
        return before_lo[-1]
    return at_or_after[0] if at_or_after else pos


def _end_after(text: str, pos: int, hi: int) -> int:
    """The end of the sentence holding `hi` (read from `pos`), or `hi` when none ends soon."""
    ends = [pos + e for _, e in sentence_spans(text[pos : hi + LOOKAROUND])]
    if hi + LOOKAROUND < len(text):
        ends = ends[:-1]  # the last one may be cut off
    return next((e for e in ends if e >= hi), hi)


def _context(before: str, after: str, limit: int | None) -> tuple[str, str]:
    """Whole sentences of context on each side, up to `limit` characters per side."""
    if limit is None:
        return before, after
    return _tail_sentences(before, limit), _head_sentences(after, limit)


def _tail_sentences(text: str, limit: int) -> str:
    """The last whole sentences of `text` (which starts a sentence) within `limit`."""
    if len(text) <= limit:
        return text
    starts = [s for s, _ in sentence_spans(text) if len(text) - s <= limit]
    return text[starts[0] :] if starts else ""


def _head_sentences(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    ends = [e for _, e in sentence_spans(text) if e <= limit]
    return (text[: ends[-1]] if ends else text[:limit]) + "…"


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
