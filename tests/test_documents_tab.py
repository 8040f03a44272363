"""The Documents tab driven in headless Chromium: delete and replace documents, each after a
confirmation, uploads refused one by one with the reason, and the chat's line naming the
documents in use. The tiny model: these test the page's mechanics, not answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qa import api
from qa.ui import free_port, start

from .conftest import ARTIFACTS
from .test_browser import _open

pytestmark = pytest.mark.slow

WAIT = 60_000  # ms: an index change on a busy 2-core machine


@pytest.fixture
def page(browser, tiny_settings) -> Iterator[object]:
    """The Documents tab of a server over the seed article, already indexed."""
    api.build_index(settings=tiny_settings, progress=False)
    app = start(tiny_settings.replace(port=free_port()))
    try:
        page = _open(browser, app.local_url)
        page.locator("#kt-doc-line", has_text="Answering from").wait_for()
        page.get_by_role("tab", name="資料 / Documents").click()
        page.locator("#kt-status").wait_for()
        yield page
        page.close()
    finally:
        app.close()


def _write(folder: Path, name: str, text: str) -> str:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return str(folder / name)


def _notice(page, text: str) -> None:
    page.locator("#kt-notice", has_text=text).wait_for(timeout=WAIT)


def test_delete_asks_first_then_reindexes(page, tmp_path) -> None:
    upload = page.locator("#kt-upload input[type=file]")
    upload.set_input_files(_write(tmp_path, "library.md", "# 図書館の案内\n\n水曜日は休館。\n"))
    _notice(page, "documents 2 (1 added")
    assert "図書館の案内" in page.locator("#kt-doc-line").inner_text()
    for confirm in ("#kt-confirm-no", "#kt-confirm-yes"):
        page.locator("#kt-delete-pick input").click()
        page.get_by_role("option", name="図書館の案内 (library.md)").click()
        page.locator("#kt-delete").click()
        page.locator("#kt-confirm-text", has_text="Delete library.md").wait_for()
        page.screenshot(path=ARTIFACTS / "documents-delete-confirm.png", full_page=True)
        page.locator(confirm).click()
        page.locator("#kt-confirm").wait_for(state="hidden")
    _notice(page, "documents 1 (0 added, 0 updated, 1 unchanged; 1 removed")
    assert "文書1件" in page.locator("#kt-notice").inner_text()
    assert "library.md" not in page.locator("#kt-docs").inner_text()
    assert "図書館" not in page.locator("#kt-doc-line").inner_text()


def test_replace_asks_first_and_refusals_say_why(page, tiny_settings, tmp_path) -> None:
    upload = page.locator("#kt-upload input[type=file]")
    upload.set_input_files(_write(tmp_path / "v1", "memo.md", "# メモ\n\n初版の内容。\n"))
    _notice(page, "1 added")
    v2 = _write(tmp_path / "v2", "memo.md", "# メモ\n\n改訂版の内容。\n")
    empty = _write(tmp_path / "v2", "shop.html", "<html><script>var x = 1;</script></html>")
    docx = _write(tmp_path / "v2", "notes.docx", "PK")
    big = _write(tmp_path / "v2", "big.txt", "a" * (tiny_settings.max_upload_bytes + 1))
    upload.set_input_files([v2, empty, docx, big])
    page.locator("#kt-confirm-text", has_text="memo.md").wait_for(timeout=WAIT)
    assert "置き換えますか" in page.locator("#kt-confirm-text").inner_text()
    refused = page.locator("#kt-notice").inner_text()
    assert "shop.html: 文字が見つかりません" in refused and "no text was found" in refused
    assert "notes.docx: この形式には対応していません" in refused and "not supported" in refused
    large = page.locator("#kt-upload-note").inner_text()
    assert "big.txt: ファイルが大きすぎます" in large and "too large" in large
    page.screenshot(path=ARTIFACTS / "documents-replace-confirm.png", full_page=True)
    page.locator("#kt-confirm-yes").click()
    _notice(page, "1 updated")
    assert "改訂版" in (tiny_settings.docs_dir / "memo.md").read_text(encoding="utf-8")
