"""The web chat driven as a person would: a real Gradio server, real model, headless Chromium.

Needs Debian's chromium and fonts-noto-cjk (`make test` installs both); screenshots go to
tests/artifacts/ for a human to look at. The page's two paths are driven with the real model
and reader whatever the reader's weights: a server whose reader answers every question
(ANSWERS) and one whose reader answers none (REFUSES).
"""

from __future__ import annotations

import re

import pytest

from qa.ui import EXAMPLES, free_port, start

from .conftest import ANSWERS, ARTIFACTS, SEED_ID

pytestmark = pytest.mark.slow

ANSWER_WAIT = 90_000  # ms: the first answer may load the model on a busy 2-core machine
GPL_QUESTION = "ノベルが開発中のXenの仮想化ドライバはどのライセンスで提供される見込みですか？"
GPL_EVIDENCE = "GPL(GNU General Public License)の下でライセンス"
# The lowest and highest minimums Settings allow: the best span always wins, or never.
NEW_DOC = """# 社内図書館の案内

社内図書館は毎週水曜日に休館します。
貸し出しの上限は一人あたり七冊です。
"""


def _open(browser, url: str, width: int = 1280, height: int = 900, theme: str = "light"):
    """A page of the chat in its own context (theme, clipboard allowed), its textbox ready."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme=theme,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#kt-question textarea").wait_for(state="visible")
    return page


def _ask(page, question: str) -> None:
    turn = page.locator("#kt-chat .message.bot").count() + 1  # the number of this reply
    box = page.locator("#kt-question textarea")
    box.fill(question)
    box.press("Enter")
    _wait_for_answer(page, turn)


def _wait_for_answer(page, turn: int = 1) -> None:
    """The answer is complete when the panel of reply `turn` (kt-answer-<turn>) shows."""
    page.locator(f"#kt-sources #kt-answer-{turn}").wait_for(state="visible", timeout=ANSWER_WAIT)


def _last_bot_text(page) -> str:
    return page.locator("#kt-chat .message.bot").last.inner_text()


def test_the_short_answer_comes_first_then_its_quote_and_a_readable_source(
    browser, seed_url
) -> None:
    page = _open(browser, seed_url)
    page.locator("#kt-doc-line", has_text="Answering from: LinuxWorld").wait_for()
    _ask(page, GPL_QUESTION)
    bot = page.locator("#kt-chat .message.bot").last
    short = bot.locator("b.kt-short").inner_text()
    assert "GPL" in short and _last_bot_text(page).startswith(short)
    marker = bot.locator(".kt-cite a")
    assert marker.inner_text() == "[1]" and marker.get_attribute("href") == "#kt-src-1-1"
    quote = bot.locator("blockquote.kt-quote")
    assert GPL_EVIDENCE in quote.inner_text() and quote.locator("mark").inner_text() == short
    sure = bot.locator(".kt-foot .kt-sure")  # the chat's sanitizer keeps it, and it shows
    assert sure.is_visible() and re.fullmatch(r"確信度 (\d+)% / Confidence \1%", sure.inner_text())
    card = page.locator("#kt-sources .kt-src").first
    assert "LinuxWorld" in card.locator(".kt-title").inner_text()
    assert "paragraph" in card.locator(".kt-where").inner_text()
    assert card.locator(".kt-score").is_hidden()  # behind "details"
    card.locator(".kt-details summary").click()
    assert card.locator(".kt-score").inner_text().replace(".", "").isdigit()
    assert GPL_EVIDENCE in card.locator(".kt-quoted").first.inner_text()
    assert card.locator(".kt-quoted mark").first.inner_text() == short
    page.screenshot(path=ARTIFACTS / "chat-1280.png", full_page=True)
    more = card.locator(".kt-more summary")
    if more.count():
        more.click()
        assert card.locator(".kt-more .kt-ctx").first.is_visible()
        page.screenshot(path=ARTIFACTS / "chat-1280-more-context.png", full_page=True)
    page.close()


def test_an_english_question_answered_from_japanese_says_so(browser, seed_url) -> None:
    page = _open(browser, seed_url)
    page.get_by_text(EXAMPLES[4][:40]).click()  # clicking an example asks it
    _wait_for_answer(page)
    bot = page.locator("#kt-chat .message.bot").last
    assert EXAMPLES[4] in page.locator("#kt-chat .message.user").last.inner_text()
    assert "[1]" in bot.inner_text() and page.locator("#kt-sources .kt-src").count() == 1
    short = bot.locator("b.kt-short").inner_text()
    if re.search("[\u3040-\u30ff\u4e00-\u9fff]", short):  # a Japanese short answer
        assert bot.locator(".kt-note").inner_text() == "(answer quoted in Japanese)"
        assert bot.locator(".kt-note").is_visible()
    page.screenshot(path=ARTIFACTS / "chat-example-en.png", full_page=True)
    page.close()


def test_a_refusal_speaks_the_questions_language_and_offers_related_passages(
    browser, refusing_url
) -> None:
    page = _open(browser, refusing_url)
    _ask(page, "2007年の売上高は？")
    text = _last_bot_text(page)
    assert text.startswith("ℹ️ 資料には2007年の売上高についての記述が見つかりませんでした。"), text
    assert "「関連」" in text and "[1]" not in text and "answer" not in text
    panel = page.locator("#kt-sources")
    assert "近い内容:" in panel.locator(".kt-abstain").inner_text()
    assert panel.locator(".kt-src").count() == 0  # related passages are not sources
    related = panel.locator("article.kt-rel")
    assert 1 <= related.count() <= 3
    for i in range(related.count()):
        assert related.nth(i).locator(".kt-rel-tag").inner_text() == "関連 / Related"
        assert related.nth(i).locator(".kt-ctx").first.inner_text().strip()
    shown = panel.inner_text()
    assert not re.search(r"\d\.\d", shown), shown  # no score or threshold in view
    assert "reader" not in shown and panel.locator(".kt-reason").is_hidden()
    page.screenshot(path=ARTIFACTS / "chat-refusal-1280.png", full_page=True)
    panel.locator(".kt-why summary").click()  # the developer's reason, on request
    assert "答えは見つかりませんでした" in panel.locator(".kt-reason").inner_text()

    _ask(page, "What were Microsoft's sales in 2007?")
    text = _last_bot_text(page)
    assert text.startswith("ℹ️ The documents say nothing that answers “What were"), text
    assert "資料" not in text.split("関連 ↓")[0]
    assert "Closest passages:" in panel.locator(".kt-abstain").inner_text()
    assert panel.locator("article.kt-rel").count() >= 1
    page.close()


def test_blank_and_overlong_questions_are_not_sent(browser, seed_url) -> None:
    page = _open(browser, seed_url)
    box, count = page.locator("#kt-question textarea"), page.locator("#kt-count")
    box.press("Enter")
    box.fill("   ")
    page.get_by_role("button", name="質問する / Ask").click()
    assert count.is_hidden()
    box.fill("長" * 850)
    assert count.inner_text() == "850 / 1,000"
    box.fill("長" * 1200)
    box.press("Enter")
    page.locator("#kt-count", has_text="Too long").wait_for()
    assert "長すぎます" in count.inner_text() and box.input_value() == "長" * 1200
    page.screenshot(path=ARTIFACTS / "chat-too-long.png")
    page.wait_for_timeout(1_000)  # time for a bubble, were one coming
    assert page.locator("#kt-chat .message").count() == 0
    _ask(page, GPL_QUESTION)  # still serving
    assert "[1]" in _last_bot_text(page) and count.is_hidden()
    page.close()


def test_follow_up_uses_the_history(browser, seed_url) -> None:
    page = _open(browser, seed_url)
    _ask(page, GPL_QUESTION)
    box = page.locator("#kt-question textarea")
    box.fill("それはなぜ？")
    box.press("Enter")
    page.locator("#kt-chat .message.user").nth(1).wait_for(timeout=ANSWER_WAIT)
    page.locator("#kt-chat .message.bot").nth(1).wait_for(timeout=ANSWER_WAIT)
    page.locator("#kt-sources .kt-busy").wait_for(state="detached", timeout=ANSWER_WAIT)
    assert "それはなぜ" in page.locator("#kt-chat .message.user").nth(1).inner_text()
    page.close()


def test_narrow_mobile_layout(browser, seed_url) -> None:
    page = _open(browser, seed_url, width=390, height=844)
    _ask(page, GPL_QUESTION)
    assert "[1]" in _last_bot_text(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, "the page must not scroll sideways on a phone"
    page.screenshot(path=ARTIFACTS / "chat-mobile.png", full_page=True)
    page.close()


def test_upload_rebuild_then_ask_about_the_new_document(browser, settings, tmp_path) -> None:
    app = start(settings.replace(port=free_port(), **ANSWERS))
    try:
        page = _open(browser, app.local_url)
        page.get_by_role("tab", name="資料 / Documents").click()
        page.locator("#kt-status").wait_for()
        new_doc, bad = tmp_path / "library.md", tmp_path / "slides.pdf"
        new_doc.write_text(NEW_DOC, encoding="utf-8")
        bad.write_bytes(b"%PDF-1.4")
        upload = page.locator("#kt-upload input[type=file]")
        upload.set_input_files(str(bad))
        page.locator("#kt-notice", has_text="unreadable PDF").wait_for(timeout=ANSWER_WAIT)
        upload.set_input_files(str(new_doc))
        page.locator("#kt-notice", has_text="Index updated").wait_for(timeout=ANSWER_WAIT)
        page.locator("#kt-rebuild").click()
        page.locator("#kt-notice", has_text="0 added").wait_for(timeout=ANSWER_WAIT)
        page.locator("#kt-docs", has_text="library.md").wait_for()
        assert SEED_ID in page.locator("#kt-docs").inner_text()
        assert "up to date" in page.locator("#kt-status").inner_text()
        page.screenshot(path=ARTIFACTS / "documents.png", full_page=True)
        page.get_by_role("tab", name="質問 / Chat").click()
        _ask(page, "社内図書館の休館日は何曜日ですか？")
        assert "水曜日" in _last_bot_text(page)
        card = page.locator("#kt-sources .kt-src").first
        assert "社内図書館の案内" in card.locator(".kt-title").inner_text()
        assert "library.md" in card.locator(".kt-details").text_content()  # behind "details"
        page.screenshot(path=ARTIFACTS / "chat-new-document.png", full_page=True)
        page.close()
    finally:
        app.close()
