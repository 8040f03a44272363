"""The chat's HTML rendering: escaping, streaming pieces, source cards (pure functions)."""

from qa.types import Answer, BuildStats, Citation, Hit
from qa.ui_render import (
    answer_markup,
    answer_pieces,
    build_html,
    documents_line_html,
    escape_text,
    page_js,
    plural,
    refusal,
    sources_html,
)

PASSAGE = "前の文です。<b>太字</b>は効きません。最後の文です。"


def _answer(text: str = "<b>太字</b>は効きません。 [1]") -> Answer:
    hit = Hit("doc.md", "doc.md#0", 10, 10 + len(PASSAGE), PASSAGE, 1.5, 0.9, 3.0)
    quote = "<b>太字</b>は効きません。"
    start = 10 + PASSAGE.index(quote)
    cite = Citation(1, "doc.md", "<script>x</script>", start, start + len(quote), quote, 1.5, hit)
    return Answer("質問", text, False, [cite])


def test_escape_text_makes_markup_inert() -> None:
    assert escape_text("**hi** <b>") == "&#42;&#42;hi&#42;&#42; &#60;b&#62;"
    assert escape_text("日本語") == "日本語"


def test_streamed_pieces_join_to_the_message_and_keep_markers_whole() -> None:
    pieces = list(answer_pieces(_answer()))
    assert "".join(pieces) == answer_markup(_answer())
    assert "<sup class='kt-cite'>[1]</sup>" in pieces
    assert "<b>" not in answer_markup(_answer())


def test_sources_escape_document_text_and_highlight_the_quote() -> None:
    html = sources_html(_answer())
    assert "<script>" not in html and "<b>" not in html
    assert "<mark>&lt;b&gt;太字&lt;/b&gt;は効きません。</mark>" in html
    assert "前の文です。" in html and "score 1.50" in html


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
