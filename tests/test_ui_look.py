"""What a person sees in the web chat: readable answers, source cards and refusals, links
between answers and their sources (an older answer's included), plain-text copy, contrast in
the light and dark themes, a phone's layout.

Real Gradio server and model, Debian's headless Chromium (see tests/test_browser.py).
Contrast is computed here from the browser's computed colours (WCAG 2 relative luminance),
not judged by eye. Screenshots at 1280x900 and 390x844 in both themes go to tests/artifacts/.
"""

from __future__ import annotations

import re

import pytest

from qa.ui import free_port, start

from .conftest import ARTIFACTS
from .test_browser import (
    ANSWER_WAIT,
    GPL_EVIDENCE,
    GPL_QUESTION,
    NEW_DOC,
    _ask,
    _open,
)

pytestmark = pytest.mark.slow

WCAG_AA = 4.5  # normal-size text
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The colour of an element's text and the background colours from it up to the first opaque
# one (transparent layers let the parent's show through).
COLOURS = """(el) => {
  const layers = [];
  for (let n = el; n; n = n.parentElement) {
    const bg = getComputedStyle(n).backgroundColor;
    layers.push(bg);
    const alpha = bg.startsWith('rgba') ? parseFloat(bg.split(',')[3]) : 1;
    if (alpha >= 1) break;
  }
  return { color: getComputedStyle(el).color, layers };
}"""
IN_VIEW = """(sel) => {
  const r = document.querySelector(sel).getBoundingClientRect();
  return r.top >= -2 && r.top < innerHeight * 0.25;
}"""


def _rgba(css: str) -> tuple[float, ...]:
    """A computed colour ("rgb(1, 2, 3)" or "rgba(1, 2, 3, 0.5)") as (r, g, b, alpha)."""
    assert css.startswith("rgb"), f"cannot read colour {css!r}"
    parts = [float(x) for x in re.findall(r"[\d.]+", css)]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def _over(top: tuple[float, ...], below: tuple[float, ...]) -> tuple[float, ...]:
    a = top[3]
    return (*(a * t + (1 - a) * b for t, b in zip(top[:3], below[:3], strict=True)), 1.0)


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(colours: dict) -> float:
    """WCAG contrast ratio of a text colour over its stacked backgrounds."""
    background: tuple[float, ...] = (255.0, 255.0, 255.0, 1.0)  # the canvas, if none is opaque
    for layer in reversed(colours["layers"]):
        background = _over(_rgba(layer), background)
    text = _over(_rgba(colours["color"]), background)
    lighter, darker = sorted((_luminance(text), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula() -> None:
    black, white = "rgb(0, 0, 0)", "rgb(255, 255, 255)"
    assert contrast({"color": black, "layers": [white]}) == pytest.approx(21.0)
    assert contrast({"color": "rgb(118, 118, 118)", "layers": [white]}) == pytest.approx(
        4.54, abs=0.01
    )
    half = {"color": black, "layers": ["rgba(0, 0, 0, 0)", "rgba(255, 255, 255, 0.5)", white]}
    assert contrast(half) == contrast({"color": black, "layers": [white]})


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_passages_are_readable_in_both_themes_and_on_a_phone(browser, seed_url, theme) -> None:
    page = _open(browser, seed_url, theme=theme)
    assert page.evaluate("document.body.classList.contains('dark')") == (theme == "dark")
    _ask(page, GPL_QUESTION)
    card, bot = page.locator("#kt-sources .kt-src").first, page.locator("#kt-chat .message.bot")
    measured = {
        name: contrast(where.locator(sel).first.evaluate(COLOURS))
        for name, where, sel in [
            ("passage", card, ".kt-ctx"), ("quoted", card, ".kt-quoted"),
            ("short in passage", card, ".kt-ctx mark"), ("title", card, ".kt-title"),
            ("location", card, ".kt-where"), ("answer", bot, "b.kt-short"),
            ("quote", bot, ".kt-quote"), ("short in quote", bot, ".kt-quote mark"),
        ]
    }  # fmt: skip
    print(f"contrast ({theme}):", {k: round(v, 2) for k, v in measured.items()})
    assert min(measured.values()) >= WCAG_AA, measured
    page.screenshot(path=ARTIFACTS / f"look-{theme}-1280.png", full_page=True)

    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.screenshot(path=ARTIFACTS / f"look-{theme}-390.png", full_page=True)
    page.evaluate("window.scrollTo(0, 0)")
    jump = page.locator("#kt-chat .message.bot").last.locator("a.kt-jump")
    assert "Sources" in jump.inner_text() and "出典" in jump.inner_text()
    jump.click()
    page.wait_for_function(IN_VIEW, arg="#kt-sources-col", timeout=5_000)
    page.screenshot(path=ARTIFACTS / f"look-{theme}-390-sources.png")
    page.context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_refusals_are_readable_in_both_themes_and_on_a_phone(browser, refusing_url, theme) -> None:
    page = _open(browser, refusing_url, theme=theme)
    _ask(page, "2007年の売上高は？")
    panel = page.locator("#kt-sources")
    measured = {
        name: contrast(panel.locator(sel).first.evaluate(COLOURS))
        for name, sel in [("refusal", ".kt-abstain b"), ("related", ".kt-rel .kt-ctx"),
                          ("tag", ".kt-rel-tag"), ("title", ".kt-rel .kt-title")]
    }  # fmt: skip
    measured["message"] = contrast(
        page.locator("#kt-chat .message.bot .message-content").last.evaluate(COLOURS)
    )
    print(f"contrast of a refusal ({theme}):", {k: round(v, 2) for k, v in measured.items()})
    assert min(measured.values()) >= WCAG_AA, measured
    page.screenshot(path=ARTIFACTS / f"refusal-{theme}-1280.png", full_page=True)

    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.screenshot(path=ARTIFACTS / f"refusal-{theme}-390.png", full_page=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#kt-chat .message.bot").last.locator("a.kt-jump", has_text="Related").click()
    page.wait_for_function(IN_VIEW, arg="#kt-sources-col", timeout=5_000)
    page.screenshot(path=ARTIFACTS / f"refusal-{theme}-390-related.png")
    page.context.close()


def test_markers_link_to_their_cards_and_back(browser, seed_url) -> None:
    page = _open(browser, seed_url)
    _ask(page, GPL_QUESTION)
    marker = page.locator("#kt-chat .message.bot").last.locator(".kt-cite a").first
    assert marker.get_attribute("href") == "#kt-src-1-1"
    marker.click()
    page.locator("#kt-src-1-1.kt-flash").wait_for(timeout=2_000)
    page.locator("#kt-src-1-1 a.kt-n").click()
    page.locator("#kt-chat .message.bot .kt-cite.kt-flash").wait_for(timeout=2_000)
    page.context.close()


def test_an_older_answers_marker_shows_its_own_quote_not_the_newer_card(browser, seed_url) -> None:
    page = _open(browser, seed_url)
    _ask(page, GPL_QUESTION)
    _ask(page, "講演したのは誰ですか？")
    older, newer = (
        page.locator("#kt-chat .message.bot").nth(0),
        page.locator("#kt-chat .message.bot").nth(1),
    )
    assert older.locator(".kt-cite a").get_attribute("href") == "#kt-src-1-1"
    assert newer.locator(".kt-cite a").get_attribute("href") == "#kt-src-2-1"
    assert page.locator("#kt-src-1-1").count() == 0  # the panel holds the newer reply's cards
    for link in (older.locator(".kt-cite a"), older.locator("a.kt-jump")):
        link.click()
        older.locator(".kt-quote.kt-flash").wait_for(timeout=2_000)
        page.wait_for_timeout(300)  # time for a wrong jump, were one coming
        assert page.locator("#kt-src-2-1.kt-flash").count() == 0
        assert page.evaluate("location.hash") == ""
    page.screenshot(path=ARTIFACTS / "chat-older-marker-1280.png")
    newer.locator(".kt-cite a").click()
    page.locator("#kt-src-2-1.kt-flash").wait_for(timeout=2_000)
    page.locator("#kt-src-2-1 a.kt-n").click()  # back to the newer marker, not the older one
    newer.locator(".kt-cite.kt-flash").wait_for(timeout=2_000)
    assert older.locator(".kt-cite.kt-flash").count() == 0
    page.context.close()


def test_copy_puts_plain_text_with_sources_on_the_clipboard(browser, seed_url) -> None:
    page = _open(browser, seed_url)
    _ask(page, GPL_QUESTION)
    bot = page.locator("#kt-chat .message.bot").last
    bot.locator("button.kt-copy").click()
    bot.locator("button.kt-copy", has_text="Copied").wait_for(timeout=2_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    answer, _, sources = copied.partition("\n\n出典 / Sources\n")
    assert "[1]" in answer and GPL_EVIDENCE in answer
    assert "<" not in copied and "&#" not in copied and "kt-cite" not in copied
    assert sources.startswith("[1] LinuxWorld") and "paragraph" in sources
    assert GPL_EVIDENCE in sources
    page.context.close()


def test_documents_tab_keeps_its_width_after_an_upload(browser, tiny_settings, tmp_path) -> None:
    app = start(tiny_settings.replace(port=free_port()))
    try:
        page = _open(browser, app.local_url)
        page.get_by_role("tab", name="資料 / Documents").click()
        page.locator("#kt-status").wait_for()
        row = page.locator("#kt-docs-row")
        full = DESKTOP["width"]
        before = row.bounding_box()["width"]
        doc = tmp_path / "library.md"
        doc.write_text(NEW_DOC, encoding="utf-8")
        page.locator("#kt-upload input[type=file]").set_input_files(str(doc))
        page.locator("#kt-notice", has_text="Index updated").wait_for(timeout=ANSWER_WAIT)
        after = row.bounding_box()["width"]
        assert abs(after - before) <= 2 and before >= 0.9 * full, (before, after, full)
        page.context.close()
    finally:
        app.close()
