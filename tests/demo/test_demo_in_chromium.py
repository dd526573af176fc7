"""The demo page in a real headless Chromium, served by the demo command (uvicorn)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.browser import Browser, Page, chromium
from tests.servers import free_port, running

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    port = free_port()
    with running([sys.executable, "-m", "examples.demo", "--port", str(port)], port):
        yield f"http://127.0.0.1:{port}/"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as started:
        yield started


async def log_shows(page: Page, text: str) -> None:
    await page.wait_for(f"document.getElementById('log').innerText.includes({json.dumps(text)})")


async def join(page: Page, room: str, name: str) -> None:
    await page.type("#room", room)
    await page.type("#name", name)
    await page.click("#join button")
    await page.wait_for("document.getElementById('status').innerText.startsWith('In room')")


async def say(page: Page, text: str) -> None:
    await page.type("#text", text)
    await page.click("#send")


async def test_two_tabs_join_a_room_talk_and_one_leaves(browser: Browser, page_url: str) -> None:
    room = f"room-{uuid.uuid4().hex[:8]}"
    ada = await browser.new_page(page_url)
    await join(ada, room, "ada")
    await log_shows(ada, "ada joined")

    bob = await browser.new_page(page_url)
    await join(bob, room, "bob")
    await log_shows(ada, "bob joined")

    await say(bob, "hello ada")
    await log_shows(ada, "bob: hello ada")
    await log_shows(bob, "bob: hello ada")
    await say(ada, "hi bob")
    await log_shows(bob, "ada: hi bob")

    await bob.close()
    await log_shows(ada, "bob left")
    assert ada.console_errors == []
    assert bob.console_errors == []
    await ada.close()


async def test_a_bad_room_name_is_caught_by_the_form(browser: Browser, page_url: str) -> None:
    page = await browser.new_page(page_url)
    # Chromium compiles `pattern` with the `v` flag; an invalid one is reported on the
    # console and ignored, which would let this room through.
    await page.type("#room", "no spaces!")
    await page.type("#name", "ada")
    await page.click("#join button")
    assert await page.evaluate("document.getElementById('room').validity.patternMismatch")
    assert (await page.text("#status")).startswith("Not connected")
    assert page.console_errors == []
    await page.close()


async def test_an_error_reply_is_shown_with_its_reason(browser: Browser, page_url: str) -> None:
    page = await browser.new_page(page_url)
    await join(page, f"room-{uuid.uuid4().hex[:8]}", "ada")
    await say(page, "x" * 501)  # the server accepts at most 500 characters
    await page.wait_for("document.querySelector('#log li.error')")
    error = await page.text("#log li.error")
    assert error.startswith("error: Invalid message (")
    assert "at most 500 characters" in error
    assert "xxx" not in error  # the reply never carries the client's input
    assert page.console_errors == []
    await page.close()


async def test_a_room_the_server_refuses_is_explained(browser: Browser, page_url: str) -> None:
    # Past the form's check (an old page, a hand-edited one): the server refuses the
    # handshake, which a browser reports as code 1006 without a reason.
    page = await browser.new_page(page_url)
    await page.evaluate("document.getElementById('room').removeAttribute('pattern')")
    await page.type("#room", "no spaces!")
    await page.type("#name", "ada")
    await page.click("#join button")
    await page.wait_for("document.getElementById('status').innerText.startsWith('Could not')")
    status = await page.text("#status")
    assert status.startswith('Could not join "no spaces!": the server refused it')
    assert await page.evaluate("document.getElementById('text').disabled")
    await page.close()


async def test_an_oversized_frame_gets_one_plain_error(browser: Browser, page_url: str) -> None:
    page = await browser.new_page(page_url)
    await join(page, f"room-{uuid.uuid4().hex[:8]}", "ada")
    # Over the consumer's max_message_size (1 MiB); the form would send it as well.
    big = json.dumps({"action": "say", "payload": {"text": "y" * 1_100_000}})
    await page.evaluate(f"socket.send({json.dumps(big)})")
    await page.wait_for("document.querySelector('#log li.error')")
    assert await page.text("#log li.error") == "error: Message too large (limit 1048576 bytes)"
    await say(page, "still here")  # the connection stays usable
    await log_shows(page, "ada: still here")
    assert page.console_errors == []
    await page.close()


async def test_joining_another_room_leaves_the_first(browser: Browser, page_url: str) -> None:
    first, second = (f"room-{uuid.uuid4().hex[:8]}" for _ in range(2))
    bob = await browser.new_page(page_url)
    await join(bob, first, "bob")
    ada = await browser.new_page(page_url)
    await join(ada, first, "ada")
    await log_shows(bob, "ada joined")
    await ada.type("#room", second)
    await ada.click("#join button")
    status = f"In room {json.dumps(second)} as ada."
    await ada.wait_for(f"document.getElementById('status').innerText === {json.dumps(status)}")
    await log_shows(bob, "ada left")  # the first socket has closed
    # Its close, after the second socket opened, must not mark the page disconnected.
    await say(ada, "in the second room")
    await log_shows(ada, "ada: in the second room")
    assert await ada.text("#status") == status
    assert ada.console_errors == []
    await ada.close()
    await bob.close()
