"""Pure HTML rendering for the web chat: answers, refusals, the sources panel and the index
status (no Gradio here; the cards themselves are in qa/ui_cards.py).

An answer leads with its short answer in bold and its [1], then the quoted sentence with the
short answer marked in it. A refusal says so in the question's language, and the panel offers
the passages that were read as "related", never as sources. Each reply's markers and cards
share the reply's number (`turn`), so an older answer's [n] never points at a newer card.

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
from .types import Answer, BuildStats, Citation, Document
from .ui_cards import citation_html, location, short_range
from .ui_refusal import refusal_text, refused_html

if TYPE_CHECKING:
    from .api import IndexStatus

log = logging.getLogger(__name__)

_MARKER = re.compile(r"\[(\d+)\]")
_QUOTED = re.compile(r"“(.*)”", re.DOTALL)  # a quote line of Answer.text
_NOTE = re.compile(r"\s+(\([^()\n]+\))")  # a note after the markers: "(answer quoted in …)"
# Characters that Markdown (or HTML) would turn into markup; written as numeric entities.
_MARKUP_CHARS = frozenset("\\`*_{}[]()#+-.!|<>&~\"'=:$^")

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
CHECKING = (
    "<div class='kt-empty kt-busy'>生成した文を資料と照合中… / "
    "Checking each generated sentence against the documents…</div>"
)
DRAFT_NOTE = "下書き・未確認 / Draft, not yet checked against the documents"


def escape_text(text: str) -> str:
    """Text made inert for a Markdown-and-HTML renderer.

    Example: "**hi** <b>" -> "&#42;&#42;hi&#42;&#42; &#60;b&#62;"
    """
    return "".join(f"&#{ord(ch)};" if ch in _MARKUP_CHARS else ch for ch in text)


def answer_pieces(
    answer: Answer, size: int = 6, docs: Mapping[str, Document] | None = None, turn: int = 1
) -> Iterator[str]:
    """The chat message for an answer, in small pieces to stream (joined: the whole message).

    The short answer in bold leads, then its [n] markers (each a link to its card in reply
    `turn`), the cross-lingual note, and the quoted sentence with the short answer marked.
    Markers, the bold answer and the quote each come whole, so every prefix of the stream is
    valid markup. The last piece is the footer: a link to the sources and a copy button.
    Example: "GPL [1]" -> "<b class='kt-short'>GPL</b>", " ", "<sup class='kt-cite'>…", footer
    """
    if answer.abstained:
        yield "ℹ️ "
        yield from _text_pieces(refusal_text(answer), size)
    else:
        for i, line in enumerate(answer.text.split("\n")):
            if i:
                yield "\n\n"
            yield from _line_pieces(answer, line, size, turn, lead=i == 0)
    yield from _generation_notes(answer)
    yield answer_footer(answer, docs, turn)


def draft_html(text: str) -> str:
    """The model's text while it streams, marked as a draft not yet checked (escaped)."""
    body = escape_text(text).replace("\n", "&#10;")
    return f"<div class='kt-draft'><span class='kt-note'>{DRAFT_NOTE}</span><br>{body}</div>"


def _generation_notes(answer: Answer) -> Iterator[str]:
    """Under an answer of the generated mode: which model wrote it; the sentences dropped as
    unsupported, struck through behind a toggle; why the extractive answer stands instead."""
    if answer.generator:
        yield (
            f"\n\n<span class='kt-note kt-gen'>生成: {escape_text(answer.generator)}・各文を出典と"
            f"照合済み / Written by {escape_text(answer.generator)}; every sentence checked "
            "against its source</span>"
        )
    if answer.unsupported:
        n = len(answer.unsupported)
        struck = "".join(f"<li><s>{escape_text(u)}</s></li>" for u in answer.unsupported)
        yield (
            f"\n\n<details class='kt-unsupported'><summary>資料で裏付けられない文を{n}件除きました"
            f" / {plural(n, 'sentence')} not supported by the documents removed</summary>"
            f"<ul>{struck}</ul></details>"
        )
    if answer.notice:
        lead = "" if answer.generator else "資料から抜き出した答えです / Extracted answer: "
        yield f"\n\n<span class='kt-note kt-notice-line'>{lead}{escape_text(answer.notice)}</span>"


def answer_markup(answer: Answer, docs: Mapping[str, Document] | None = None, turn: int = 1) -> str:
    """The whole chat message for an answer."""
    return "".join(answer_pieces(answer, docs=docs, turn=turn))


def answer_footer(answer: Answer, docs: Mapping[str, Document] | None = None, turn: int = 1) -> str:
    """Under an answer: "Sources ↓" (or "Related ↓" under a refusal that offers passages),
    a link to the panel of reply `turn`, and a button that copies `copy_text`, kept in a
    hidden element beside it (the chat's sanitizer drops data-* attributes), newlines as
    entities so Markdown keeps the block whole."""
    label = ""
    if answer.abstained and answer.related:
        label = "関連 ↓ / Related"
    elif not answer.abstained and answer.citations:
        label = "出典 ↓ / Sources"
    jump = f"<a class='kt-jump' href='#kt-answer-{turn}'>{label}</a>" if label else ""
    plain = escape_text(copy_text(answer, docs)).replace("\n", "&#10;")
    return (
        f"\n\n<div class='kt-foot'>{jump}{_sureness(answer)}<button class='kt-copy' type='button'>"
        f"コピー / Copy</button><span class='kt-plain'>{plain}</span></div>"
    )


def _sureness(answer: Answer) -> str:
    """How likely the quote holds the answer, for an extractive answer (a generated one's
    sentences are the model's, not the quote the probability is about)."""
    if answer.abstained or answer.generator or answer.probability is None:
        return ""
    sure = f"{answer.probability:.0%}"
    return f"<span class='kt-sure'>確信度 {sure} / Confidence {sure}</span>"


def copy_text(answer: Answer, docs: Mapping[str, Document] | None = None) -> str:
    """The answer as plain text, its [n] markers kept, and below it its sources; a refusal
    as the chat words it.

    Example: "GPL [1]\\n“…”\\n\\n出典 / Sources\\n[1] Title (第7段落 / paragraph 7): 「quote」"
    """
    if answer.abstained:
        return refusal_text(answer)
    if not answer.citations:
        return answer.text
    lines = [answer.text, "", "出典 / Sources"]
    for c in answer.citations:
        where = location(c, (docs or {}).get(c.doc_id))
        lines.append(f"[{c.n}] {c.title}{f' ({where})' if where else ''}: 「{c.quote}」")
    return "\n".join(lines)


def error_message(message: str) -> str:
    """A friendly chat message for an error."""
    return "⚠️ " + escape_text(message[:1].upper() + message[1:])


def sources_html(answer: Answer, docs: Mapping[str, Document] | None = None, turn: int = 1) -> str:
    """The sources panel of reply `turn`: a card per citation; for a refusal, what was not
    found and the closest passages as "related" cards, the developer's reason behind a toggle.

    `docs` (document id -> the indexed document) gives each card its paragraph and context
    beyond the passage; without it the cards show what the passages hold.
    """
    searched = ""
    if answer.searched_query and answer.searched_query != answer.question:
        # A follow-up was searched together with earlier questions: say so.
        searched = (
            "<div class='kt-searched'>検索した内容 / Searched: "
            f"{html.escape(answer.searched_query)}</div>"
        )
    docs = docs or {}
    if answer.abstained or not answer.citations:
        body = refused_html(answer, docs, turn)
    else:
        cards = "".join(citation_html(c, docs.get(c.doc_id), turn) for c in answer.citations)
        body = f"<div class='kt-sources'>{cards}</div>"
    return f"<div class='kt-panel' id='kt-answer-{turn}'>{searched}{body}</div>"


def _line_pieces(answer: Answer, line: str, size: int, turn: int, lead: bool) -> Iterator[str]:
    """One line of Answer.text: a quote of a citation becomes its quote block; the lead's
    short answer goes bold; [n] markers become links to their cards."""
    quoted = _QUOTED.fullmatch(line)
    cited = next((c for c in answer.citations if quoted and c.quote == quoted.group(1)), None)
    if cited is not None:
        yield _quote_block(cited)
        return
    if lead and answer.short and line.startswith(answer.short):
        yield f"<b class='kt-short'>{escape_text(answer.short)}</b>"
        line = line[len(answer.short) :]
    pos = 0
    for m in _MARKER.finditer(line):
        yield from _text_pieces(line[pos : m.start()], size)
        yield f"<sup class='kt-cite'><a href='#kt-src-{turn}-{m.group(1)}'>[{m.group(1)}]</a></sup>"
        pos = m.end()
    note = _NOTE.fullmatch(line, pos)
    if note:
        yield f" <span class='kt-note'>{escape_text(note.group(1))}</span>"
    else:
        yield from _text_pieces(line[pos:], size)


def _quote_block(c: Citation) -> str:
    """The quoted sentence, the short answer marked in it (one piece: the block stays whole)."""
    q, short = c.quote, short_range(c)
    body = escape_text(q)
    if short is not None:
        a, b = short
        body = f"{escape_text(q[:a])}<mark>{escape_text(q[a:b])}</mark>{escape_text(q[b:])}"
    return f"<blockquote class='kt-quote'>“{body.replace(chr(10), '&#10;')}”</blockquote>"


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
        [status.title_of(d), d.doc_id, status.chunk_count(d), _when(d.indexed_at)]
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


def _when(iso: str) -> str:
    """An ISO timestamp shown to the minute.

    Example: "2026-11-26T05:51:34+00:00" -> "2026-11-26 05:51 UTC"
    """
    if len(iso) < 16:
        return iso
    zone = " UTC" if iso.endswith(("+00:00", "Z")) else ""
    return f"{iso[:10]} {iso[11:16]}{zone}"
