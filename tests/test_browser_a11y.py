"""Accessibility of the live chat page, checked by axe-core in headless Chromium: no serious
or critical violation on the chat before and after an answer (every toggle open), with a
refusal and its related passages, and on the Documents tab, in the light and dark themes;
the question box and the buttons have names a screen reader can say.

axe-core comes from npm: `make test` installs it into tests/.axe (git-ignored). Real Gradio
server and model, as in tests/test_browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qa.ui import free_port, start

from .conftest import ANSWERS, REFUSES, ROOT
from .optional import missing
from .test_browser import GPL_QUESTION, _ask, _open

pytestmark = pytest.mark.slow

AXE = ROOT / "tests" / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_HINT = "make test (npm install --prefix tests/.axe axe-core)"
BLOCKING = {"serious", "critical"}
# Runs axe on the whole page; each violation with its impact and a few of its elements.
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
  }));
}"""
OPEN_TOGGLES = "document.querySelectorAll('#kt-sources details').forEach((d) => (d.open = true))"


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script, as npm installed it."""
    if not AXE.is_file():
        missing(str(AXE), AXE_HINT)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def urls(seed_settings) -> Iterator[dict[str, str]]:
    """Chats over the seed article whose reader answers every question, or none."""
    apps = {
        name: start(seed_settings.replace(port=free_port(), **minimum))
        for name, minimum in (("answers", ANSWERS), ("refuses", REFUSES))
    }
    yield {name: app.local_url for name, app in apps.items()}
    for app in apps.values():
        app.close()


def _blocking(page, axe_source: str, state: str) -> list[dict]:
    """axe's serious and critical violations on the page as it is now (all are printed)."""
    page.add_script_tag(content=axe_source)
    found = page.evaluate(RUN_AXE)
    for v in found:
        print(f"axe [{state}] {v['impact']} {v['id']}: {v['help']}", *v["nodes"], sep="\n  ")
    return [v for v in found if v["impact"] in BLOCKING]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_accessibility_violations(browser, urls, axe_source, theme) -> None:
    page = _open(browser, urls["answers"], theme=theme)
    page.locator("#kt-doc-line", has_text="Answering from").wait_for()
    assert page.get_by_role("textbox", name="質問 / Question").is_visible()
    for name in ("質問する / Ask", "新しい会話 / New chat"):
        assert page.get_by_role("button", name=name).is_visible()
    blocking = {"chat": _blocking(page, axe_source, "chat")}

    _ask(page, GPL_QUESTION)
    page.evaluate(OPEN_TOGGLES)
    assert page.get_by_role("button", name="コピー / Copy").is_visible()
    assert page.get_by_role("link", name="[1]", exact=True).is_visible()
    blocking["answer"] = _blocking(page, axe_source, "answer")

    page.get_by_role("tab", name="資料 / Documents").click()
    page.locator("#kt-status").wait_for()
    page.wait_for_timeout(500)  # the page script renames the upload area within 0.4 s
    blocking["documents"] = _blocking(page, axe_source, "documents")
    page.context.close()

    page = _open(browser, urls["refuses"], theme=theme)
    _ask(page, "2007年の売上高は？")
    page.evaluate(OPEN_TOGGLES)
    blocking["refusal"] = _blocking(page, axe_source, "refusal")
    page.context.close()
    assert not any(blocking.values()), blocking
