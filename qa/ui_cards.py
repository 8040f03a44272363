"""The sources panel's cards (pure HTML, no Gradio here): a source card per citation, with
the short answer highlighted inside its quoted sentence, and "related" cards for passages
that were read and found not to answer.

Cards show whole sentences: a passage may start or end mid-sentence, so its context is
widened from the document's text (or trimmed to whole sentences when that is not known).
Everything from a document is escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from .text import sentence_spans
from .types import Citation, Document, Hit

CONTEXT_CHARS = 100  # context shown on each side of a quote before "more context"
RELATED_CHARS = 160  # of a related passage, shown before "more context"
LOOKAROUND = 300  # characters read beyond a passage to find where its sentences begin and end
_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n\s*")
_LINE_END = re.compile(r"\n\s*")
_BLANK_LINES = re.compile(r"\n\s*\n")


def location(c: Citation, doc: Document | None = None) -> str:
    """Where a citation is, for a person: its page in a PDF, else its paragraph in `doc`
    ("" when that is not known).

    Example: "3ページ / page 3", "第7段落 / paragraph 7"
    """
    if c.page is not None:
        return _page(c.page)
    if doc is None or doc.text[c.start : c.end] != c.quote:
        return ""
    return _paragraph(doc.text, c.start)


def paragraph_of(text: str, offset: int) -> int:
    """1-based number of the paragraph holding `offset`: paragraphs are separated by blank
    lines, or by line ends in a text without any blank line.

    Example: ("Title\\n\\nOne.\\n\\nTwo.", 13) -> 3
    """
    breaks = _BLANK_LINE if _BLANK_LINE.search(text) else _LINE_END
    first = len(text) - len(text.lstrip())  # breaks before the first text start nothing
    return 1 + sum(1 for m in breaks.finditer(text, first, offset) if m.end() <= offset)


def citation_html(c: Citation, doc: Document | None = None, turn: int = 1) -> str:
    """One source card: number (back to its marker), title, where in the document, the quote
    among whole sentences with the short answer highlighted in it; score, document id and
    span under "details". Its id, kt-src-<turn>-<n>, is what the answer's [n] links to.

    `doc` is the indexed document (None: the passage's own text is the context).
    """
    before, quote, after = _around(c, doc.text if doc else None)
    short = _context(before, after, CONTEXT_CHARS)
    marked = _marked_quote(quote, short_range(c))
    more = ""
    if short != (before, after):
        more = _more(_in_context((before, after), marked))
    anchor = f"kt-src-{turn}-{c.n}"
    back = f"回答の [{c.n}] へ / Back to [{c.n}] in the answer"
    return (
        f"<article class='kt-src' id='{anchor}' aria-label='出典 {c.n} / Source {c.n}'>"
        f"<header><a class='kt-n' href='#kt-chat' title='{back}' aria-label='{back}'>{c.n}</a>"
        f"<span class='kt-title'>{html.escape(c.title)}</span></header>"
        f"{_where_html(location(c, doc))}<p class='kt-ctx'>{_in_context(short, marked)}</p>"
        f"{more}{_details(c.score, c.doc_id, c.start, c.end)}</article>"
    )


def related_html(hit: Hit, i: int, doc: Document | None = None, turn: int = 1) -> str:
    """A card for a passage that was read and found not to answer: labelled "related" (not a
    numbered source), its title and place, its whole sentences with nothing highlighted."""
    text = doc.text if doc else None
    # Blank lines folded: a passage may run over several short paragraphs (links, bylines).
    passage = _BLANK_LINES.sub("\n", _whole_sentences(hit, text))
    shown = _head_sentences(passage, RELATED_CHARS)
    more = _more(html.escape(passage)) if shown != passage else ""
    title = doc.title if doc else hit.doc_id
    where = ""
    if doc is not None and text is not None and text[hit.start : hit.end] == hit.text:
        page = doc.page_of(hit.start)
        where = _page(page) if page is not None else _paragraph(text, hit.start)
    return (
        f"<article class='kt-rel' id='kt-rel-{turn}-{i}' aria-label='関連 {i} / Related {i}'>"
        "<header><span class='kt-rel-tag'>関連 / Related</span>"
        f"<span class='kt-title'>{html.escape(title)}</span></header>{_where_html(where)}"
        f"<p class='kt-ctx'>{html.escape(shown)}</p>{more}"
        f"{_details(hit.score, hit.doc_id, hit.start, hit.end)}</article>"
    )


def related_cards(
    hits: list[Hit], docs: Mapping[str, Document] | None, turn: int, limit: int
) -> list[str]:
    """Cards for the first `limit` related passages, a passage overlapping a shown one left out."""
    shown: list[Hit] = []
    for hit in hits:
        overlaps = any(h.doc_id == hit.doc_id and h.start < hit.end and hit.start < h.end
                       for h in shown)  # fmt: skip
        if not overlaps:
            shown.append(hit)
    docs = docs or {}
    return [related_html(h, i, docs.get(h.doc_id), turn) for i, h in enumerate(shown[:limit], 1)]


def _page(page: int) -> str:
    return f"{page}ページ / page {page}"


def _paragraph(text: str, offset: int) -> str:
    n = paragraph_of(text, offset)
    return f"第{n}段落 / paragraph {n}"


def _where_html(where: str) -> str:
    return f"<div class='kt-where'>{where}</div>" if where else ""


def _more(body: str) -> str:
    return (
        "<details class='kt-more'><summary>前後をもっと見る / More context</summary>"
        f"<p class='kt-ctx'>{body}</p></details>"
    )


def _details(score: float, doc_id: str, start: int, end: int) -> str:
    """Score, document id and character span, for developers, behind a toggle."""
    return (
        "<details class='kt-details'><summary>詳細 / Details</summary><dl>"
        f"<dt>retrieval score</dt><dd class='kt-score'>{score:.2f}</dd>"
        f"<dt>document</dt><dd>{html.escape(doc_id)}</dd>"
        f"<dt>characters</dt><dd>{start:,}–{end:,}</dd></dl></details>"
    )


def short_range(c: Citation) -> tuple[int, int] | None:
    """The short answer's place inside the quote (None when there is none or it falls outside)."""
    if c.highlight is None:
        return None
    a, b = c.highlight[0] - c.start, c.highlight[1] - c.start
    return (a, b) if 0 <= a < b <= len(c.quote) else None


def _marked_quote(quote: str, short: tuple[int, int] | None) -> str:
    """The quote, escaped: the short answer in <mark> inside the quoted sentence, or (without
    a short answer) the whole quote in <mark>."""
    if short is None:
        return f"<mark>{html.escape(quote)}</mark>"
    a, b = short
    return (
        f"<span class='kt-quoted'>{html.escape(quote[:a])}<mark>{html.escape(quote[a:b])}</mark>"
        f"{html.escape(quote[b:])}</span>"
    )


def _in_context(context: tuple[str, str], marked: str) -> str:
    before, after = context
    return f"{html.escape(before)}{marked}{html.escape(after)}"


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


def _whole_sentences(hit: Hit, text: str | None) -> str:
    """A passage from the start of its first whole sentence: widened to the sentences around
    it when the document's text is known, else with its partial first sentence left out."""
    if text is not None and text[hit.start : hit.end] == hit.text:
        return text[_start_before(text, hit.end, hit.start) : _end_after(text, hit.start, hit.end)]
    first = _start_before(hit.text, len(hit.text), 0, hit.start == 0)
    return hit.text[first:] or hit.text


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


def _context(before: str, after: str, limit: int) -> tuple[str, str]:
    """Whole sentences of context on each side, up to `limit` characters per side."""
    return _tail_sentences(before, limit), _head_sentences(after, limit)


def _tail_sentences(text: str, limit: int) -> str:
    """The last whole sentences of `text` (which starts a sentence) within `limit`."""
    if len(text) <= limit:
        return text
    starts = [s for s, _ in sentence_spans(text) if len(text) - s <= limit]
    return text[starts[0] :] if starts else ""


def _head_sentences(text: str, limit: int) -> str:
    """The first whole sentences of `text` within `limit` ("…" marks a cut)."""
    if len(text) <= limit:
        return text
    ends = [e for _, e in sentence_spans(text) if e <= limit]
    return (text[: ends[-1]] if ends else text[:limit]) + "…"
