"""The web chat driven as a person would: a real Gradio server, real model, headless Chromium.

Needs Debian's chromium and fonts-noto-cjk (`make test` installs both); screenshots go to
tests/artifacts/ for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qa.ui import EXAMPLES, free_port, start

from .conftest import ARTIFACTS, SEED_ID

pytestmark = pytest.mark.slow

ANSWER_WAIT = 90_000  # ms: the first answer may load the model on a busy 2-core machine
GPL_QUESTION = "ノベルが開発中のXenの仮想化ドライバはどのライセンスで提供される見込みですか？"
GPL_EVIDENCE = "GPL(GNU General Public License)の下でライセンス"
NEW_DOC = """# 社内図書館の案内

社内図書館は毎週水曜日に休館します。
貸し出しの上限は一人あたり七冊です。
"""


@pytest.fixture(scope="module")
def seed_url(seed_settings) -> Iterator[str]:
    app = start(seed_settings.replace(port=free_port()))
    yield app.local_url
    app.close()


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
    box = page.locator("#kt-question textarea")
    box.fill(question)
    box.press("Enter")
    _wait_for_answer(page)


def _wait_for_answer(page) -> None:
    """The answer is complete when the sources panel shows sources or says there are none."""
    page.locator("#kt-sources .kt-src, #kt-sources .kt-abstain").first.wait_for(
        state="visible", timeout=ANSWER_WAIT
    )


def _last_bot_text(page) -> str:
    return page.locator("#kt-chat .message.bot").last.inner_text()


def test_seed_question_gets_a_cited_answer_with_highlighted_evidence(browser, seed_url) -> None:
    page = _open(browser, seed_url)
    page.locator("#kt-doc-line", has_text="Answering from: LinuxWorld").wait_for()
    _ask(page, GPL_QUESTION)
    assert "[1]" in _last_bot_text(page)
    first = page.locator("#kt-sources .kt-src").first
    assert "LinuxWorld" in first.locator(".kt-title").inner_text()
    assert "paragraph" in first.locator(".kt-where").inner_text()
    assert first.locator(".kt-score").is_hidden()  # behind "details"
    first.locator(".kt-details summary").click()
    assert first.locator(".kt-score").inner_text().replace(".", "").isdigit()
    assert GPL_EVIDENCE in first.locator("mark").first.inner_text()
    page.screenshot(path=ARTIFACTS / "chat-1280.png", full_page=True)
    more = first.locator(".kt-more summary")
    if more.count():
        more.click()
        assert first.locator(".kt-more .kt-ctx").first.is_visible()
        page.screenshot(path=ARTIFACTS / "chat-1280-more-context.png", full_page=True)
    page.close()


def test_clicking_an_example_asks_it(browser, seed_url) -> None:
    page = _open(browser, seed_url)
    page.get_by_text(EXAMPLES[3][:40]).click()
    _wait_for_answer(page)
    assert "[1]" in _last_bot_text(page)
    assert "Vista" in page.locator("#kt-sources").inner_text()
    page.screenshot(path=ARTIFACTS / "chat-example-en.png", full_page=True)
    page.close()


def test_greeting_is_an_abstention_without_sources(browser, seed_url) -> None:
    page = _open(browser, seed_url)
    _ask(page, "こんにちは")
    assert page.locator("#kt-sources .kt-abstain").is_visible()
    assert page.locator("#kt-sources .kt-src").count() == 0
    assert "[1]" not in _last_bot_text(page)
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
    app = start(settings.replace(port=free_port()))
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
