"""HTML and PDF documents: visible text only, titles, page numbers in citations."""

from pathlib import Path

import pytest

from qa import answer, build_index
from qa.documents import load_corpus
from qa.formats import Unextractable, extract

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


def _pdf(pages: list[str], title: str = "Quarterly report") -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
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
