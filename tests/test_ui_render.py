"""The chat's HTML rendering: escaping, streaming pieces, source cards (pure functions)."""

from qa.types import Answer, Citation, Hit
from qa.ui_render import answer_markup, answer_pieces, escape_text, sources_html

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
