"""The docs page of every example app (and of the Starlette conformance app: Starlette
has no example app), served by a real server and rendered by real headless Chromium
with the AsyncAPI component installed from npm: every operation of the served document
shows on the page.

The page asks a CDN for the component; the browser gets the npm package's own bytes
instead (answered through DevTools), so the pinned integrity hashes are checked against
the real files: tampered bytes are refused.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chanx.asyncapi.page import CDN_BASE
from tests.asyncapi.tooling import assert_valid, component_file
from tests.browser import Browser, Page, chromium
from tests.servers import free_port, python, running

pytestmark = pytest.mark.e2e

SERVERS = {
    "fastapi": (["-m", "uvicorn", "examples.fastapi_chat.main:app"], "/asyncapi"),
    "litestar": (
        ["-m", "uvicorn", "--factory", "examples.litestar_chat.app:create_app"],
        "/asyncapi",
    ),
    "django": (["-m", "daphne", "examples.django_chat.asgi:application"], "/asyncapi/"),
    "starlette": (["-m", "uvicorn", "tests.asyncapi.starlette_app:app"], "/asyncapi"),
}
RENDER_TIMEOUT = 60.0
FALLBACK = "If this text stays, the component did not load"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as started:
        yield started


@pytest.fixture(scope="module", params=sorted(SERVERS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """``(base URL, page path)`` of one app under a real server."""
    args, page = SERVERS[request.param]
    port = free_port()
    if args[1] == "daphne":
        command = python(*args[:2], "-b", "127.0.0.1", "-p", str(port), *args[2:])
    else:
        command = python(*args, "--host", "127.0.0.1", "--port", str(port))
    with running(command, port, env={"PYTHONUNBUFFERED": "1"}):
        yield f"http://127.0.0.1:{port}", page


def answer_cdn_from_npm(page: Page, *, tamper: bool = False) -> None:
    """Requests to the CDN get the file from the installed npm package (changed by one
    byte when ``tamper``)."""
    loop = asyncio.get_running_loop()
    handle = page._on_event
    answering: set[asyncio.Task[None]] = set()

    async def fulfil(params: dict[str, Any]) -> None:
        relative = params["request"]["url"].removeprefix(CDN_BASE + "/")
        body = component_file(relative)
        if tamper:
            body = body.replace(b"AsyncApiStandalone", b"AsyncApiStandalonf", 1) + b" "
        kind = "text/css" if relative.endswith(".css") else "application/javascript"
        await page.send(
            "Fetch.fulfillRequest",
            {
                "requestId": params["requestId"],
                "responseCode": 200,
                "responseHeaders": [
                    {"name": "Content-Type", "value": kind},
                    {"name": "Access-Control-Allow-Origin", "value": "*"},
                ],
                "body": base64.b64encode(body).decode(),
            },
        )

    def on_event(method: str, params: dict[str, Any]) -> None:
        if method == "Fetch.requestPaused":
            task = loop.create_task(fulfil(params))
            answering.add(task)
            task.add_done_callback(answering.discard)
        else:
            handle(method, params)

    page._on_event = on_event  # type: ignore[method-assign]


async def open_page(browser: Browser, url: str, *, tamper: bool = False) -> Page:
    page = await browser.new_page()
    answer_cdn_from_npm(page, tamper=tamper)
    await page.send("Fetch.enable", {"patterns": [{"urlPattern": CDN_BASE + "/*"}]})
    await page.goto(url)
    return page


def rendered(operation_id: str) -> str:
    """The element the component renders for an operation (send, receive, or receive
    with a reply)."""
    ids = [f"operation-{kind}-{operation_id}" for kind in ("send", "receive", "reply")]
    return "!!(" + " || ".join(f"document.getElementById({i!r})" for i in ids) + ")"


@pytest.mark.asyncio(loop_scope="module")
async def test_the_page_renders_every_operation(browser: Browser, served: tuple[str, str]) -> None:
    base, path = served
    async with httpx.AsyncClient(base_url=base) as client:
        reply = await client.get(path.rstrip("/") + "/asyncapi.json")
    document = reply.json()
    assert_valid({"served.json": reply.text})
    assert document["servers"]["default"]["host"] == base.removeprefix("http://")
    page = await open_page(browser, base + path)
    operations = sorted(document["operations"])
    assert len(operations) > 10
    await page.wait_for(rendered(operations[0]), timeout=RENDER_TIMEOUT)
    missing = [op for op in operations if not await page.evaluate(rendered(op))]
    assert missing == []
    title = document["info"]["title"]
    assert title in await page.evaluate("document.body.innerText")
    for channel in document["channels"].values():
        assert channel["address"] in await page.evaluate("document.body.innerText")
    assert FALLBACK not in await page.evaluate("document.body.innerText")  # replaced
    assert page.console_errors == []
    await page.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_without_the_component_the_page_says_why(browser: Browser) -> None:
    # Offline (the CDN unreachable): not a blank page, but why and where the document is.
    port = free_port()
    command = python("-m", "uvicorn", "examples.fastapi_chat.main:app", "--port", str(port))
    with running(command, port):
        page = await browser.new_page()
        failing: set[asyncio.Task[dict[str, Any]]] = set()
        handle = page._on_event

        def on_event(method: str, params: dict[str, Any]) -> None:
            if method == "Fetch.requestPaused":
                reason = {"requestId": params["requestId"], "errorReason": "NameNotResolved"}
                task = asyncio.get_running_loop().create_task(
                    page.send("Fetch.failRequest", reason)
                )
                failing.add(task)
                task.add_done_callback(failing.discard)
            else:
                handle(method, params)

        page._on_event = on_event  # type: ignore[method-assign]
        await page.send("Fetch.enable", {"patterns": [{"urlPattern": CDN_BASE + "/*"}]})
        await page.goto(f"http://127.0.0.1:{port}/asyncapi")
        shown = await page.evaluate("document.body.innerText")
        assert FALLBACK in shown
        assert f"{CDN_BASE}/browser/standalone/index.js" in shown
        assert "/asyncapi.json" in shown
        await page.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_tampered_component_is_refused(browser: Browser) -> None:
    port = free_port()
    command = python("-m", "uvicorn", "examples.fastapi_chat.main:app", "--port", str(port))
    with running(command, port):
        # open_page returns after the load event, which waits for the script: by then
        # the browser has refused it (or run it), no time to sleep out.
        page = await open_page(browser, f"http://127.0.0.1:{port}/asyncapi", tamper=True)
        assert await page.evaluate("typeof AsyncApiStandalone") == "undefined"
        deadline = asyncio.get_running_loop().time() + 10
        while not any("integrity" in error for error in page.console_errors):
            # the console entry travels apart from the load event: wait for it, bounded
            assert asyncio.get_running_loop().time() < deadline, page.console_errors
            await asyncio.sleep(0.02)
        assert FALLBACK in await page.evaluate("document.body.innerText")
        await page.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_self_hosted_assets_under_a_strict_content_security_policy(
    browser: Browser,
) -> None:
    port = free_port()
    command = python("-m", "uvicorn", "tests.asyncapi.selfhosted:app", "--port", str(port))
    with running(command, port):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            served = (await client.get("/offline/asyncapi.json")).json()
        page = await browser.new_page(f"http://127.0.0.1:{port}/offline")
        operations = sorted(served["operations"])
        await page.wait_for(rendered(operations[-1]), timeout=RENDER_TIMEOUT)
        assert page.console_errors == []
        await page.close()
