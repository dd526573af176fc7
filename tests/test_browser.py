"""tests/browser.py, the headless-Chromium driver the browser tests use, does what it says."""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests import browser as driver
from tests.browser import Browser, BrowserError, chromium

PAGE = """<!doctype html><title>driver check</title>
<form id="f"><input id="who" required><button id="go">Go</button></form><ul id="out"></ul>
<script>
document.getElementById("f").addEventListener("submit", (event) => {
  event.preventDefault();
  const item = document.createElement("li");
  item.textContent = "hello " + document.getElementById("who").value;
  document.getElementById("out").append(item);
});
console.error("logged on purpose");
</script>"""
URL = "data:text/html," + urllib.parse.quote(PAGE)

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as started:
        yield started


@pytest.mark.asyncio(loop_scope="module")
async def test_pages_type_click_wait_and_collect_console_errors(browser: Browser) -> None:
    page = await browser.new_page(URL)
    assert await page.evaluate("document.title") == "driver check"
    await page.type("#who", "ada")
    await page.click("#go")
    await page.wait_for("document.querySelectorAll('#out li').length === 1")
    await page.type("#who", "bob")
    await page.press_enter()
    await page.wait_for("document.querySelectorAll('#out li').length === 2")
    assert await page.text("#out") == "hello ada\nhello bob"
    assert page.console_errors == ["logged on purpose"]
    await page.evaluate("setTimeout(() => { throw new Error('thrown on purpose'); })")
    await page.evaluate("new Promise((resolve) => setTimeout(resolve))")  # after the throw
    assert "Error: thrown on purpose" in page.console_errors[-1]
    await page.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_a_wait_that_runs_out_says_what_the_page_shows(browser: Browser) -> None:
    page = await browser.new_page(URL)
    with pytest.raises(BrowserError, match=r"(?s)waited 0.2s for .*Go"):
        await page.wait_for("document.querySelector('#out li')", timeout=0.2)
    with pytest.raises(BrowserError, match="no element matches #missing"):
        await page.click("#missing")
    with pytest.raises(BrowserError, match="ReferenceError"):
        await page.evaluate("notDefined()")
    await page.close()


async def test_the_browser_process_is_gone_after_the_block(tmp_path: Path) -> None:
    async with chromium() as started:
        page = await started.new_page(URL)
        await page.screenshot(tmp_path / "page.png")
    assert started.process.poll() is not None
    assert not started.profile.exists()
    assert (tmp_path / "page.png").read_bytes()[:4] == b"\x89PNG"


async def test_a_missing_chromium_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(driver, "CHROMIUM", "no-such-chromium-here")
    with pytest.raises(BrowserError, match="apt-get install chromium"):
        async with chromium():
            pass
