"""HTML and PDF documents: visible text only, titles, encodings, malformed pages, citations."""

import codecs
from pathlib import Path

import pytest

from qa import answer, build_index
from qa.documents import load_corpus, load_document
from qa.formats import Unextractable, extract, joined
from qa.text import sentence_spans

HTML = """<!doctype html><html><head><title>Company &amp; News</title>
<style>body { color: red }</style><script>alert("CANARY-SCRIPT")</script></head>
<body><nav>Home</nav><h1>Ignored h1</h1><p>First   paragraph
 continues.</p><div>Second<br>line</div><noscript>no js</noscript></body></html>"""


def test_html_keeps_visible_text_and_drops_scripts_and_styles() -> None:
    got = extract(".html", HTML.encode())
    assert got.title == "Company & News"
    assert "CANARY-SCRIPT" not in got.text and "color" not in got.text and "no js" not in got.text
    assert "First paragraph continues." in got.text
    assert "Second\nline" in got.text


def test_html_title_falls_back_to_the_first_h1() -> None:
    got = extract(".html", "<h1>見出し<b>です</b></h1><p>本文。</p><h1>二つ目</h1>".encode())
    assert got.title == "見出しです"


def _html(markup: str, encoding: str = "utf-8") -> tuple[str, str | None]:
    got = extract(".html", markup.encode(encoding))
    return got.text, got.title


def test_html_without_head_end_tag_keeps_title_and_body() -> None:
    # Valid HTML5: `</head>` and `</body>` may be omitted; the old parser lost the whole body.
    assert _html("<html><head><title>T</title><body><p>本文です。") == ("本文です。", "T")
    assert _html("<title>題名</title>本文だけ") == ("本文だけ", "題名")
    assert _html("<p>見出しなし") == ("見出しなし", None)


def test_html_unclosed_and_stray_tags_read_as_a_browser_reads_them() -> None:
    text, _ = _html("<div><p>一<p>二<ul><li>三<li>四</ul><table><tr><td>五<td>六</table>七")
    assert text.split() == ["一", "二", "三", "四", "五", "六", "七"]
    text, _ = _html("<p>前</p></body></html><p>閉じた後</p></html>末尾")
    assert text.split() == ["前", "閉じた後", "末尾"]
    assert _html("<b><i>太字</b>斜体</i>続き")[0] == "太字斜体続き"


def test_html_scripts_comments_and_cdata_never_reach_the_text() -> None:
    markup = (
        "<p>前</p><script>document.write('<script>x<\\/script>'); var s = '</p>CANARY1';"
        "</script><!-- <script>CANARY2</script> --><p>中<![CDATA[CANARY3]]>央</p>"
        "<style>p::after { content: 'CANARY4' }</style><template><p>CANARY5</p></template>"
        "<svg><title>CANARY6</title><![CDATA[CANARY7]]></svg><noscript>CANARY8</noscript>"
        "<iframe><p>CANARY9</p></iframe><div hidden>CANARY10</div><p>後</p><!-- unclosed CANARY11"
    )
    text, title = _html(markup)
    assert text.split() == ["前", "中央", "後"] and title is None


def test_html_entities_are_decoded() -> None:
    text, _ = _html("<p>A &amp; B &#x65E5;&#26412; &nbsp;&lt;tag&gt; &copy 2024</p>")
    assert text == "A & B 日本 \xa0<tag> © 2024"


def test_html_blocks_break_lines_and_spaces_collapse() -> None:
    text, _ = _html("<div>一行目<p>二\n  行目</p>続き</div><span>三</span>\t行目<br>四<hr>五")
    assert text == "一行目\n二 行目\n続き\n三 行目\n四\n五"


def test_html_of_two_megabytes_on_one_line_is_read_whole() -> None:
    para = "<div><p>東京で会議がありました &amp; 報告です。<b>太字</b></p><script>x</script></div>"
    markup = "<title>大きい</title>" + para * (2_000_000 // len(para.encode())) + "<p>最後の段落"
    got = extract(".html", markup.encode())
    assert "\n" not in markup and got.title == "大きい"
    assert got.text.count("東京で会議がありました & 報告です。太字") == markup.count("<div>")
    assert got.text.endswith("最後の段落") and "x" not in got.text


def test_html_nested_too_deeply_is_refused_rather_than_parsed_for_minutes() -> None:
    # The HTML standard's tree building is quadratic in nesting depth.
    with pytest.raises(Unextractable, match="nested too deeply"):
        extract(".html", ("<ul><li>" * 250_000 + "深い").encode())
    assert _html("<div>" * 1000 + "深いけれど読める")[0] == "深いけれど読める"


PAGE = "<html><head>{meta}<title>題名</title></head><body><p>本文です。①㈱</p></body></html>"


@pytest.mark.parametrize(
    "meta",
    [
        '<meta charset="Shift_JIS">',
        '<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">',
        "<meta charset=windows-31j>",
    ],
)
def test_html_in_its_declared_shift_jis_is_decoded(meta: str) -> None:
    assert _html(PAGE.format(meta=meta), "cp932") == ("本文です。①㈱", "題名")


def test_html_in_euc_jp_declared_by_an_xml_declaration_is_decoded() -> None:
    markup = '<?xml version="1.0" encoding="EUC-JP"?>' + PAGE.format(meta="").replace("①㈱", "")
    assert _html(markup, "euc_jp") == ("本文です。", "題名")


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (b"", "utf-16")],
)
def test_html_with_a_bom_is_decoded_by_it(bom: bytes, encoding: str) -> None:
    got = extract(".html", bom + PAGE.format(meta='<meta charset="shift_jis">').encode(encoding))
    assert (got.text, got.title) == ("本文です。①㈱", "題名")


def test_html_declared_shift_jis_but_written_in_utf8_is_read_as_utf8() -> None:
    assert _html(PAGE.format(meta='<meta charset="Shift_JIS">')) == ("本文です。①㈱", "題名")


@pytest.mark.parametrize(
    ("meta", "reason"),
    [
        ('<meta charset="utf-8">', "not UTF-8 .* though declared utf-8"),
        ("", "not UTF-8 .* no charset declared"),
        ('<meta charset="euc-jp">', "not UTF-8 .* nor euc-jp as declared"),
        ('<meta charset="klingon">', "declared charset 'klingon' is unknown"),
        ('<meta charset="base64">', "declared charset 'base64' is unknown"),
    ],
)
def test_html_in_shift_jis_declared_otherwise_is_refused_with_the_reason(
    meta: str, reason: str
) -> None:
    with pytest.raises(Unextractable, match=reason):
        extract(".html", PAGE.format(meta=meta).encode("cp932"))


def test_html_without_text_is_refused_by_the_loader(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>空</title></head><body><script>x()</script> </body>")
    with pytest.raises(Unextractable, match="no text"):
        load_document(path, "empty.html", 1_000_000)


def _pdf(pages: list[str], title: str = "Quarterly report") -> bytes:
    """A minimal valid PDF of Helvetica text, a page per item, a line per line of it."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        lines = " T* ".join(f"({line}) Tj" for line in text.split("\n"))
        content = f"BT /F1 12 Tf 14 TL 72 720 Td {lines} ET".encode()
        page_id, content_id = len(objects) + 1, len(objects) + 2
        kids.append(f"{page_id} 0 R")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
            "/BaseFont /Helvetica >> >> >> >>"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content.decode()}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    objects.append(f"<< /Title ({title}) >>")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def test_pdf_text_title_and_page_offsets() -> None:
    got = extract(".pdf", _pdf(["Revenue grew in spring.", "The new CEO is Alice Example."]))
    assert got.title == "Quarterly report"
    assert got.text == "Revenue grew in spring.\n\nThe new CEO is Alice Example."
    assert got.page_starts == (0, len("Revenue grew in spring.\n\n"))


def test_pdf_pages_lose_their_numbers_and_a_sentence_goes_on_over_a_page_break() -> None:
    pages = [
        "After a long search, the board named\nAlice Example the new chief\n- 1 -",
        "executive of Example Corp on Monday.\n- 2 -",
        "Revenue grew in\n2007\n- 3 -",
        "and fell in 2008.",
    ]
    got = extract(".pdf", _pdf(pages))
    first = (
        "After a long search, the board named\nAlice Example the new chief\n"
        "executive of Example Corp on Monday."
    )
    assert got.text == f"{first}\n\nRevenue grew in\n2007\nand fell in 2008."
    starts = [got.text[s : s + 9] for s in got.page_starts]
    assert starts == ["After a l", "executive", "Revenue g", "and fell "]
    a, b = sentence_spans(got.text)[0]
    assert got.text[a:b] == first
    # One page, or numbers that do not count up with the pages: the text keeps them.
    assert extract(".pdf", _pdf(["Founded in\n1999", "It grew.\n7"])).text == (
        "Founded in\n1999\nIt grew.\n7"
    )


def test_pdf_pages_lose_running_headers_and_footers_but_not_a_heading() -> None:
    pages = [
        "Quarterly Report 2007\n1\nAfter a long search, the board named\n"
        "Alice Example the new chief\nExample Corp, confidential",
        "Quarterly Report 2007\n2\nexecutive of Example Corp on Monday.\n"
        "Example Corp, confidential",
        "Chapter 2\nRevenue grew in spring.\nExample Corp, confidential",
    ]
    got = extract(".pdf", _pdf(pages))
    assert got.text == (
        "After a long search, the board named\nAlice Example the new chief\n"
        "executive of Example Corp on Monday.\n\nChapter 2\nRevenue grew in spring."
    )
    assert [got.text[s : s + 9] for s in got.page_starts] == ["After a l", "executive", "Chapter 2"]
    # A header that numbers its pages ("Report, page 3") is running too; a heading that opens
    # fewer than half the pages is the text's own.
    texts = ["Summary\nWe start.", "Summary\nWe grow.", "We hire.", "We sell.", "We rest."]
    pages = [f"{text}\nThe Plan, page {n}" for n, text in enumerate(texts, start=1)]
    assert extract(".pdf", _pdf(pages)).text == "\n\n".join(texts)


def test_words_a_typesetter_broke_at_a_line_end_are_whole_again() -> None:
    # "well-known" is written so elsewhere, so its hyphen stays; a range of years stays as it
    # is; a hyphen before a capital joins a compound.
    pages = [
        "The virtu-\nalization of Windows is a well-\nknown topic, well-known to all.\n"
        "It ran in 1990-\n2000 on the Verrazzano-\nNarrows hyper-\n1",
        "visor of Xen.\n2",
    ]
    got = extract(".pdf", _pdf(pages))
    first = (
        "The virtualization of Windows is a well-known topic, well-known to all.\n"
        "It ran in 1990-\n2000 on the Verrazzano-Narrows hyper"
    )
    assert got.text == f"{first}visor of Xen."
    assert got.page_starts == (0, len(first))  # page 2 starts inside the mended word
    # A soft hyphen always goes.
    assert joined(["co\u00ad\noperate"]) == ("cooperate", (0,))


def test_broken_pdf_and_bad_encoding_are_unextractable() -> None:
    with pytest.raises(Unextractable, match="PDF"):
        extract(".pdf", b"%PDF-1.4 this is not a pdf")
    with pytest.raises(Unextractable, match="UTF-8"):
        extract(".txt", "日本語".encode("shift_jis"))


def test_html_and_pdf_documents_are_indexed_and_cited_with_pages(settings) -> None:
    docs: Path = settings.docs_dir
    (docs / "page.html").write_text(HTML, encoding="utf-8")
    (docs / "report.pdf").write_bytes(
        _pdf(["Revenue grew in spring.", "The new CEO of Example Corp is Alice Example."])
    )
    corpus = load_corpus(docs, settings.max_document_bytes)
    assert {d.doc_id: d.title for d in corpus.documents}["page.html"] == "Company & News"
    build_index(settings=settings, progress=False)
    a = answer("Who is the new CEO of Example Corp?", settings=settings)
    assert not a.abstained
    cited = next(c for c in a.citations if c.doc_id == "report.pdf")
    assert "Alice Example" in cited.quote and cited.page == 2


def test_a_hard_wrapped_document_is_quoted_by_whole_sentences(settings) -> None:
    sentence = (
        "After a long search, the board named\nAlice Example the new chief executive of\n"
        "Example Corp on Monday."
    )
    (settings.docs_dir / "board.md").write_text(
        f"# Board news\n\n{sentence}\nShe starts in May.\n", encoding="utf-8"
    )
    build_index(settings=settings, progress=False)
    a = answer("Who did the board name chief executive of Example Corp?", settings=settings)
    assert not a.abstained and "Alice" in a.short
    assert a.citations[0].doc_id == "board.md" and a.citations[0].quote == sentence


def test_a_sentence_over_a_pdf_page_break_is_quoted_whole_and_cited_at_its_page(
    settings,
) -> None:
    # Each page carries a running header, which must not land inside the sentence; a word
    # broken at a line's end is quoted whole.
    pages = [
        "Example Corp Newsletter\nBoard news\n\nShares rose on Friday.\n"
        "After a long search, the board named\n1",
        "Example Corp Newsletter\nAlice Example the new chief execu-\ntive of\n"
        "Example Corp on Monday.\n2",
    ]
    (settings.docs_dir / "board.pdf").write_bytes(_pdf(pages))
    build_index(settings=settings, progress=False)
    a = answer("Who did the board name chief executive of Example Corp?", settings=settings)
    assert not a.abstained and "Alice" in a.short
    cited = a.citations[0]
    assert cited.doc_id == "board.pdf" and cited.page == 1
    assert cited.quote == (
        "After a long search, the board named\nAlice Example the new chief executive of\n"
        "Example Corp on Monday."
    )


def test_html_without_head_end_tag_is_indexed_and_cited(settings) -> None:
    docs: Path = settings.docs_dir
    (docs / "news.html").write_text(
        "<!doctype html><html><head><meta charset=utf-8><title>社内報</title>"
        "<body><h1>人事のお知らせ</h1><p>新しい経理部長には山田花子氏が就任しました。"
        "<p>就任は四月一日付です。",
        encoding="utf-8",
    )
    corpus = load_corpus(docs, settings.max_document_bytes)
    doc = next(d for d in corpus.documents if d.doc_id == "news.html")
    assert doc.title == "社内報" and "山田花子氏が就任しました。" in doc.text
    build_index(settings=settings, progress=False)
    a = answer("新しい経理部長には誰が就任しましたか？", settings=settings)
    assert not a.abstained and "山田花子" in a.text
    cited = [c for c in a.citations if c.doc_id == "news.html"]
    assert cited and all(c.quote == doc.text[c.start : c.end] for c in cited)
    assert any("山田花子" in c.quote for c in cited)
