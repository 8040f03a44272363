"""How the chat shows generated answers (no server): the draft, the checked answer, the
removed sentences and the notice, all escaped."""

from __future__ import annotations

from qa.types import Answer, Citation, Hit
from qa.ui_render import answer_markup, copy_text, draft_html

HIT = Hit("a.txt", "c0", 0, 20, "琵琶湖は滋賀県にある日本最大の湖である。", 1.0, 0.5, 0.5)
QUOTE = "琵琶湖は滋賀県にある日本最大の湖である。"


def _generated(**more: object) -> Answer:
    c = Citation(1, "a.txt", "湖", 0, len(QUOTE), QUOTE, 1.0, HIT)
    fields = {"text": "日本最大の湖は琵琶湖です[1]。", "abstained": False, "citations": [c],
              "generator": "gemma3-270m", **more}  # fmt: skip
    return Answer("日本最大の湖は？", **fields)  # type: ignore[arg-type]


def test_a_draft_is_marked_unchecked_and_escaped() -> None:
    html = draft_html("<img src=x onerror=alert(1)> **太字**\n次")
    assert "kt-draft" in html and "not yet checked" in html
    assert "<img" not in html and "**" not in html and "&#10;" in html


def test_a_generated_answer_names_its_model_and_hides_removed_sentences() -> None:
    html = answer_markup(_generated(unsupported=["<b>CANARY</b> [2]"]), turn=3)
    assert "href='#kt-src-3-1'" in html and "gemma3&#45;270m" in html
    assert "<details class='kt-unsupported'>" in html and "<s>" in html
    assert "<b>CANARY" not in html  # escaped, struck through, behind a toggle
    assert "CANARY" not in copy_text(_generated(unsupported=["CANARY [2]"]))


def test_a_fallback_says_why_under_the_extractive_answer() -> None:
    a = _generated(generator="", notice="cannot reach the LLM server at http://127.0.0.1:9")
    html = answer_markup(a)
    assert "Extracted answer: cannot reach the LLM server" in html.replace("&#58;", ":").replace(
        "&#46;", "."
    )
    assert "Written by" not in html
