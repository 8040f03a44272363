"""The chat's HTML rendering: escaping, streaming pieces, the short answer first, refusals in
the question's language with related passages, source cards (pure functions)."""

import dataclasses
import math
import re

from qa.types import Answer, BuildStats, Citation, Document, Hit
from qa.ui_cards import citation_html, paragraph_of, related_cards
from qa.ui_page import page_js
from qa.ui_render import (
    answer_markup,
    answer_pieces,
    build_html,
    copy_text,
    documents_line_html,
    escape_text,
    plural,
    refusal,
    sources_html,
)

HEAD = "題名\n\n"
PASSAGE = "前の文です。<b>太字</b>は効きません。最後の文です。"
DOC = HEAD + PASSAGE  # the document: a title paragraph, then the passage's paragraph
QUOTE = "<b>太字</b>は効きません。"
SHORT = "<b>太字</b>"  # the short answer, at the quote's start
TITLE = "<script>x</script>"
DOCS = {"doc.md": Document("doc.md", TITLE, DOC, "0" * 64)}
AT = len(HEAD)
HIT = Hit("doc.md", "doc.md#0", AT, AT + len(PASSAGE), PASSAGE, 1.5, 0.9, 3.0)


def _answer(question: str = "質問", page: int | None = None, note: str = "") -> Answer:
    """An answer as the reader composes one: short answer, [1], note, then the quote."""
    start = AT + PASSAGE.index(QUOTE)
    highlight = (start, start + len(SHORT))
    cite = Citation(1, "doc.md", TITLE, start, start + len(QUOTE), QUOTE, 1.5, HIT, page, highlight)
    text = f"{SHORT} [1]{note}\n“{QUOTE}”"
    return Answer(question, text, False, [cite], short=SHORT)


def _refusal(question: str, related: list[Hit] | None = None) -> Answer:
    reason = "the reader found no answer: its best guess scores -0.9 (an answer needs +0.0)"
    return Answer(question, "not found", True, [], reason=reason, related=related or [])


def _visible(html: str) -> str:
    """What shows before any toggle is opened: the markup without its <details> blocks."""
    return re.sub(r"<details.*?</details>", "", html, flags=re.DOTALL)


def test_escape_text_makes_markup_inert() -> None:
    assert escape_text("**hi** <b>") == "&#42;&#42;hi&#42;&#42; &#60;b&#62;"
    assert escape_text("日本語") == "日本語"


def test_the_short_answer_leads_in_bold_then_the_quote_with_it_marked() -> None:
    message = answer_markup(_answer())
    short = escape_text(SHORT)
    lead, quote = message.split("\n\n")[:2]
    assert lead == (
        f"<b class='kt-short'>{short}</b> <sup class='kt-cite'><a href='#kt-src-1-1'>[1]</a></sup>"
    )
    rest = escape_text(QUOTE[len(SHORT) :])
    assert quote == f"<blockquote class='kt-quote'>“<mark>{short}</mark>{rest}”</blockquote>"
    assert "<b>" not in message and "<script>" not in message


def test_a_short_answer_that_is_the_whole_quote_stands_alone() -> None:
    whole = _answer()
    c = whole.citations[0]
    cite = Citation(1, c.doc_id, c.title, c.start, c.end, QUOTE, 1.5, HIT, None, (c.start, c.end))
    alone = Answer("質問", f"{QUOTE} [1]", False, [cite], short=QUOTE)
    message = answer_markup(alone)
    assert message.startswith(f"<b class='kt-short'>{escape_text(QUOTE)}</b> <sup")
    assert "blockquote" not in message
    card = citation_html(cite, DOCS["doc.md"])
    assert (
        f"<span class='kt-quoted'><mark>{QUOTE.replace('<', '&lt;').replace('>', '&gt;')}" in card
    )


def test_streamed_pieces_join_to_the_message_and_keep_markup_whole() -> None:
    pieces = list(answer_pieces(_answer()))
    assert "".join(pieces) == answer_markup(_answer())
    assert "<sup class='kt-cite'><a href='#kt-src-1-1'>[1]</a></sup>" in pieces
    assert any(p.startswith("<b class='kt-short'>") and p.endswith("</b>") for p in pieces)
    assert any(p.startswith("<blockquote") and p.endswith("</blockquote>") for p in pieces)
    assert pieces[-1].startswith("\n\n<div class='kt-foot'>") and "kt-jump" in pieces[-1]


def test_an_answer_says_how_likely_its_quote_holds_the_answer() -> None:
    sure = dataclasses.replace(_answer(), confidence=math.log(87 / 13))  # a probability of 0.87
    assert sure.probability is not None and abs(sure.probability - 0.87) < 1e-9
    footer = answer_markup(sure).split("<div class='kt-foot'>")[1]
    assert "<span class='kt-sure'>確信度 87% / Confidence 87%</span>" in footer
    # Nothing said without a reading, for a refusal, or for a model's generated sentences.
    assert "kt-sure" not in answer_markup(_answer())
    refused = dataclasses.replace(_refusal("質問"), confidence=-3.0)
    assert "kt-sure" not in answer_markup(refused)
    assert "kt-sure" not in answer_markup(dataclasses.replace(sure, generator="gemma"))
    # Far-off log-odds give 0 and 1, not an overflow.
    assert dataclasses.replace(sure, confidence=-1000.0).probability == 0.0
    assert dataclasses.replace(sure, confidence=1000.0).probability == 1.0


def test_the_cross_lingual_note_stays_visible() -> None:
    message = answer_markup(_answer("What is bold?", note=" (answer quoted in Japanese)"))
    assert "</sup> <span class='kt-note'>&#40;answer quoted in Japanese&#41;</span>" in message


def test_each_reply_links_to_its_own_cards() -> None:
    """Reply 2's markers and cards are kt-src-2-<n>: reply 1's [1] cannot reach them."""
    message, panel = answer_markup(_answer(), turn=2), sources_html(_answer(), DOCS, turn=2)
    assert "href='#kt-src-2-1'" in message and "kt-src-1-" not in message
    assert "href='#kt-answer-2'" in message  # "Sources ↓" goes to this reply's panel
    assert "<div class='kt-panel' id='kt-answer-2'>" in panel and "id='kt-src-2-1'" in panel


def test_a_card_marks_the_short_answer_inside_the_quoted_sentence() -> None:
    html = sources_html(_answer(), DOCS)
    assert "<script>" not in html and "<b>" not in html
    assert (
        "前の文です。<span class='kt-quoted'><mark>&lt;b&gt;太字&lt;/b&gt;</mark>"
        "は効きません。</span>最後の文です。" in html
    )
    assert "<dd class='kt-score'>1.50</dd>" in html


def test_a_card_names_the_title_and_paragraph_and_hides_the_details() -> None:
    card = citation_html(_answer().citations[0], DOCS["doc.md"])
    assert "<span class='kt-title'>&lt;script&gt;x&lt;/script&gt;</span>" in card
    assert "第2段落 / paragraph 2" in card and "id='kt-src-1-1'" in card
    details = card[card.index("<details class='kt-details'>") :]
    assert "1.50" in details and "doc.md" in details and "10–26" in details
    assert "doc.md" not in card[: card.index("<details class='kt-details'>")]
    pdf = citation_html(_answer(page=3).citations[0], DOCS["doc.md"])
    assert "3ページ / page 3" in pdf and "段落" not in pdf


def test_paragraphs_are_counted_by_blank_lines_or_else_by_lines() -> None:
    text = "Title\n\nOne.\nstill one.\n\n\nTwo."
    assert [paragraph_of(text, text.index(w)) for w in ("Title", "One", "still", "Two")] == [
        1, 2, 2, 3
    ]  # fmt: skip
    lines = "\nA.\nB.\nC."
    assert [paragraph_of(lines, lines.index(w)) for w in "ABC"] == [1, 2, 3]


def test_a_passage_that_starts_mid_sentence_is_shown_from_a_sentence_start() -> None:
    text = "最初の文は長く続いて、途中で切れます。次の文です。引用する文です。後の文です。"
    quote = "引用する文です。"
    cut = text.index("途中")  # the passage begins mid-sentence
    hit = Hit("d", "d#1", cut, len(text), text[cut:], 1.0, 0.5, 0.5)
    q = text.index(quote)
    cite = Citation(1, "d", "T", q, q + len(quote), quote, 1.0, hit)
    alone = citation_html(cite)  # from the passage: its partial first sentence left out
    assert "<p class='kt-ctx'>次の文です。<mark>" in alone and "途中" not in alone
    whole = citation_html(cite, Document("d", "T", text, "0" * 64))  # widened to the start
    assert "<p class='kt-ctx'>最初の文は" in whole and "第1段落 / paragraph 1" in whole


def test_copy_is_plain_text_with_the_markers_and_the_sources() -> None:
    answer = _answer()
    assert copy_text(answer, DOCS) == (
        f"{SHORT} [1]\n“{QUOTE}”\n\n出典 / Sources\n"
        f"[1] {TITLE} (第2段落 / paragraph 2): 「{QUOTE}」"
    )
    footer = answer_markup(answer, DOCS).split("<div class='kt-foot'>")[1]
    assert "<span class='kt-plain'>&#60;b&#62;太字&#60;/b&#62; &#91;1&#93;&#10;“" in footer
    assert "<b>" not in footer and "<script>" not in footer and "\n" not in footer


def test_a_refusal_says_what_was_not_found_in_the_questions_language() -> None:
    ja, en = _refusal("2007年の売上高は？", [HIT]), _refusal("What were 2007 sales?", [HIT])
    said = "資料には2007年の売上高についての記述が見つかりませんでした。"
    assert answer_markup(ja).startswith(f"ℹ️ {said}")
    assert "近い内容の箇所を出典欄に「関連」として示します。" in answer_markup(ja)
    assert answer_markup(en).startswith(
        "ℹ️ The documents say nothing that answers “What were 2007 sales”&#46;"
    )
    assert "資料" not in answer_markup(en).split("<div class='kt-foot'>")[0]
    assert f"<b>{said}</b> 近い内容:" in sources_html(ja)
    assert "answers “What were 2007 sales”.</b> Closest passages:" in sources_html(en)
    assert copy_text(ja).startswith(said)
    alone = _refusal("こんにちは")  # no topic to name: the question is quoted back
    assert copy_text(alone) == "資料には「こんにちは」への答えが見つかりませんでした。"
    assert "kt-jump" not in answer_markup(alone) and "近い内容" not in sources_html(alone)


def test_a_refusal_quotes_a_hostile_or_long_question_safely() -> None:
    hostile = _refusal("<img src=x onerror=alert(1)>は何？", [HIT])
    assert "<img" not in sources_html(hostile) and "<img" not in answer_markup(hostile)
    long = _refusal("「" + "あ" * 200 + "」って何を言っているの")
    assert len(copy_text(long)) < 100 and "…" in copy_text(long)


def test_a_refusal_offers_related_passages_not_sources_and_hides_the_numbers() -> None:
    panel = sources_html(_refusal("売上高は？", [HIT]), DOCS, turn=3)
    assert "kt-src" not in panel and "<article class='kt-rel' id='kt-rel-3-1'" in panel
    assert "<span class='kt-rel-tag'>関連 / Related</span>" in panel
    assert "&lt;script&gt;x&lt;/script&gt;" in panel and "<script>" not in panel
    assert "第2段落 / paragraph 2" in panel and "&lt;b&gt;太字&lt;/b&gt;は効きません。" in panel
    visible = _visible(panel)
    assert not re.search(r"\d\.\d", visible), visible  # no score or threshold in view
    assert "best guess" not in visible
    why = panel[panel.index("<details class='kt-why'>") :]
    assert "best guess scores -0.9" in why and "詳細 / Details" in why
    message = answer_markup(_refusal("売上高は？", [HIT]), turn=3)
    assert "<a class='kt-jump' href='#kt-answer-3'>関連 ↓ / Related</a>" in message


def test_related_cards_leave_out_overlaps_and_stop_at_the_limit() -> None:
    overlapping = Hit("doc.md", "doc.md#1", AT + 3, AT + 20, DOC[AT + 3 : AT + 20], 1, 0, 0)
    other = Hit("other.md", "other.md#0", 0, 9, "別の資料の文です。", 1.0, 0.5, 0.5)
    cards = related_cards([HIT, overlapping, other], DOCS, 1, 5)
    assert len(cards) == 2 and "別の資料の文です。" in cards[1]
    assert "<span class='kt-title'>other.md</span>" in cards[1]  # unknown document: its id
    assert len(related_cards([HIT, other], DOCS, 1, 1)) == 1


def test_a_follow_up_shows_what_was_searched() -> None:
    follow_up = Answer(
        "それは？", "x [1]", False, _answer().citations, searched_query="GPL？ それは？"
    )
    assert "Searched: GPL？ それは？" in sources_html(follow_up)
    plain = Answer("質問", "x [1]", False, _answer().citations, searched_query="質問")
    assert "Searched" not in sources_html(plain)


STATS = BuildStats(1, 0, 0, 1, 9, 4, 0, ["shop.html: no text"], [], "g0002")


def test_build_summary_is_one_line_in_english_or_japanese() -> None:
    assert STATS.summary() == (
        "g0002: documents 2 (1 added, 0 updated, 1 unchanged; 0 removed, 1 skipped, "
        "0 truncated); chunks 9 (4 embedded, 0 removed)"
    )
    assert STATS.summary("ja").startswith("g0002: 文書2件（追加1件、")


def test_build_notice_shows_the_summary_and_why_each_file_was_refused() -> None:
    notice = build_html(STATS, [refusal("notes.docx", "unsupported type")])
    assert STATS.summary() in notice and STATS.summary("ja") in notice
    assert "notes.docx: この形式には対応していません" in notice and "not supported" in notice
    assert "Skipped shop.html: 文字が見つかりません" in notice and "no text was found" in notice
    big = refusal("big.txt", "larger than 2,000 bytes (3,000)")
    assert "大きすぎます" in big and "too large" in big and "Split or shorten" in big


def test_counts_are_pluralised() -> None:
    assert [plural(n, "document") for n in (0, 1, 2, 1500)] == [
        "0 documents", "1 document", "2 documents", "1,500 documents"
    ]  # fmt: skip


def test_documents_line_names_few_documents_and_counts_many() -> None:
    assert "<b>A &amp; B</b> · <b>C</b>" in documents_line_html(["A & B", "C"])
    many = documents_line_html([f"doc {i}" for i in range(12)])
    assert "文書12件" in many and "12 documents" in many and "Documents tab" in many
    assert "doc 1" not in many
    assert "No documents yet" in documents_line_html(None)


def test_page_script_knows_the_limits_and_words_a_too_large_file_as_refusals_do() -> None:
    script = page_js(1000, 2_000_000)
    assert "const LIMIT = 1000," in script and "> 2000000" in script
    assert "大きすぎます（larger than 2,000,000 bytes）" in script
