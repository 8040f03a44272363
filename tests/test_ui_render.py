"""The chat's HTML rendering: escaping, streaming pieces, source cards (pure functions)."""

from qa.types import Answer, BuildStats, Citation, Hit
from qa.ui_page import page_js
from qa.ui_render import (
    answer_markup,
    answer_pieces,
    build_html,
    citation_html,
    copy_text,
    documents_line_html,
    escape_text,
    paragraph_of,
    plural,
    refusal,
    sources_html,
)

HEAD = "題名\n\n"
PASSAGE = "前の文です。<b>太字</b>は効きません。最後の文です。"
DOC = HEAD + PASSAGE  # the document: a title paragraph, then the passage's paragraph
QUOTE = "<b>太字</b>は効きません。"


def _answer(text: str = "<b>太字</b>は効きません。 [1]", page: int | None = None) -> Answer:
    at = len(HEAD)
    hit = Hit("doc.md", "doc.md#0", at, at + len(PASSAGE), PASSAGE, 1.5, 0.9, 3.0)
    start = at + PASSAGE.index(QUOTE)
    cite = Citation(
        1, "doc.md", "<script>x</script>", start, start + len(QUOTE), QUOTE, 1.5, hit, page
    )
    return Answer("質問", text, False, [cite])


def test_escape_text_makes_markup_inert() -> None:
    assert escape_text("**hi** <b>") == "&#42;&#42;hi&#42;&#42; &#60;b&#62;"
    assert escape_text("日本語") == "日本語"


def test_streamed_pieces_join_to_the_message_and_keep_markers_whole() -> None:
    pieces = list(answer_pieces(_answer()))
    assert "".join(pieces) == answer_markup(_answer())
    assert "<sup class='kt-cite'><a href='#kt-src-1'>[1]</a></sup>" in pieces
    assert "<b>" not in answer_markup(_answer())
    assert pieces[-1].startswith("\n\n<div class='kt-foot'>") and "kt-jump" in pieces[-1]


def test_sources_escape_document_text_and_highlight_the_quote() -> None:
    html = sources_html(_answer(), {"doc.md": DOC})
    assert "<script>" not in html and "<b>" not in html
    assert "<mark>&lt;b&gt;太字&lt;/b&gt;は効きません。</mark>" in html
    assert "前の文です。" in html and "<dd class='kt-score'>1.50</dd>" in html


def test_a_card_names_the_title_and_paragraph_and_hides_the_details() -> None:
    card = citation_html(_answer().citations[0], DOC)
    assert "<span class='kt-title'>&lt;script&gt;x&lt;/script&gt;</span>" in card
    assert "第2段落 / paragraph 2" in card and "id='kt-src-1'" in card
    details = card[card.index("<details class='kt-details'>") :]
    assert "1.50" in details and "doc.md" in details and "10–26" in details
    assert "doc.md" not in card[: card.index("<details class='kt-details'>")]
    pdf = citation_html(_answer(page=3).citations[0], DOC)
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
    whole = citation_html(cite, text)  # from the document: widened to the sentence start
    assert "<p class='kt-ctx'>最初の文は" in whole and "第1段落 / paragraph 1" in whole


def test_copy_is_plain_text_with_the_markers_and_the_sources() -> None:
    answer = _answer()
    assert copy_text(answer, {"doc.md": DOC}) == (
        "<b>太字</b>は効きません。 [1]\n\n出典 / Sources\n"
        "[1] <script>x</script> (第2段落 / paragraph 2): 「<b>太字</b>は効きません。」"
    )
    footer = answer_markup(answer, {"doc.md": DOC}).split("<div class='kt-foot'>")[1]
    assert (
        "<span class='kt-plain'>&#60;b&#62;太字&#60;/b&#62;は効きません。 &#91;1&#93;&#10;&#10;出典"
        in footer
    )
    assert "<b>" not in footer and "<script>" not in footer and "\n" not in footer
    abstained = Answer("こんにちは", "not found", True, [], reason="no match")
    assert copy_text(abstained) == "not found" and "kt-jump" not in answer_markup(abstained)


def test_abstention_has_no_source_cards() -> None:
    html = sources_html(Answer("こんにちは", "not found", True, [], reason="no match"))
    assert "kt-src" not in html and "No sources" in html


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
