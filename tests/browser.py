"""A small headless-Chromium driver for browser tests, over the Chrome DevTools Protocol.

It starts Debian's ``chromium`` (no browser download), talks to it over one websocket
with the ``websockets`` package, and gives tests pages that navigate, run JavaScript,
type, click, wait for a condition and report the console errors they saw::

    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto("http://127.0.0.1:8000/")
        await page.type("#name", "ada")
        await page.click("button")
        await page.wait_for("document.querySelectorAll('li').length > 0")
        assert page.console_errors == []

Waiting polls the page against a deadline (a browser has no event for "this condition
became true"); a wait that runs out says what it waited for and what the page showed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

CHROMIUM = os.environ.get("CHANX_CHROMIUM", "chromium")
INSTALL_HINT = "install it with: sudo apt-get install chromium (Debian/Ubuntu)"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]
START_TIMEOUT = 30.0
COMMAND_TIMEOUT = 30.0
POLL_INTERVAL = 0.02


class BrowserError(AssertionError):
    """The browser could not be started, a command failed, or a wait ran out."""


def chromium_path() -> str:
    """The Chromium executable; fails, naming the install command, when there is none."""
    found = shutil.which(CHROMIUM)
    if found is None:
        raise BrowserError(f"no Chromium found ({CHROMIUM!r} is not on PATH); {INSTALL_HINT}")
    return found


class Browser:
    """A running headless Chromium and the one DevTools connection that drives it."""

    def __init__(self, process: subprocess.Popen[bytes], profile: Path, log: Path) -> None:
        self.process = process
        self.profile = profile
        self.log = log
        self.pages: list[Page] = []
        self._connection: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._sessions: dict[str, Page] = {}
        self._reader: asyncio.Task[None] | None = None

    async def _connect(self, url: str) -> None:
        self._connection = await connect(url, max_size=None, ping_interval=None)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._connection is not None
        try:
            async for raw in self._connection:
                message = json.loads(raw)
                if "id" in message:
                    future = self._pending.pop(message["id"], None)
                    if future is not None and not future.done():
                        future.set_result(message)
                elif (page := self._sessions.get(message.get("sessionId", ""))) is not None:
                    page._on_event(message["method"], message.get("params", {}))
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(BrowserError(f"Chromium went away:\n{self.output()}"))

    def output(self) -> str:
        """What Chromium printed (its own log), for failure messages."""
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """One DevTools command; its result, or ``BrowserError`` with the protocol's error."""
        if self._connection is None:
            raise BrowserError("the browser is closed")
        command: dict[str, Any] = {"id": next(self._ids), "method": method}
        command["params"] = params or {}
        if session is not None:
            command["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[command["id"]] = future
        await self._connection.send(json.dumps(command))
        try:
            reply = await asyncio.wait_for(future, COMMAND_TIMEOUT)
        except TimeoutError:
            raise BrowserError(f"{method} got no answer in {COMMAND_TIMEOUT}s") from None
        if "error" in reply:
            raise BrowserError(f"{method} failed: {reply['error']}")
        return reply.get("result", {})  # type: ignore[no-any-return]

    async def new_page(self, url: str = "about:blank") -> Page:
        """A new tab, attached and ready; at ``url`` when given."""
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, target["targetId"], attached["sessionId"])
        self._sessions[page.session] = page
        self.pages.append(page)
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            await page.send(domain)
        if url != "about:blank":
            await page.goto(url)
        return page

    async def close(self) -> None:
        """Close every page and the browser; the process is gone when this returns."""
        asked = False
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.send("Browser.close"), 5)
                asked = True
            await self._connection.close()
            self._connection = None
        if not asked and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await asyncio.to_thread(_stop, self.process)
        await asyncio.to_thread(shutil.rmtree, self.profile, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the browser's process group (its renderers and helpers with it)."""
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class Page:
    """One tab: navigate, evaluate JavaScript, type, click, wait for a condition."""

    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser = browser
        self.target = target
        self.session = session
        self.console_errors: list[str] = []
        self.closed = False
        self._loaded = asyncio.Event()

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Page.loadEventFired":
            self._loaded.set()
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.console_errors.append(
                " ".join(
                    str(arg.get("value", arg.get("description", ""))) for arg in params["args"]
                )
            )
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            exception = details.get("exception", {})
            self.console_errors.append(exception.get("description") or details.get("text", ""))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(f"{entry.get('text', '')} {entry.get('url', '')}".strip())

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A DevTools command for this tab."""
        return await self.browser.send(method, params, session=self.session)

    async def goto(self, url: str, timeout: float = 15.0) -> None:
        """Navigate and wait for the new document's load event."""
        self._loaded.clear()
        result = await self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"navigating to {url} failed: {result['errorText']}")
        if "loaderId" in result:  # a new document, not a jump within this one
            try:
                await asyncio.wait_for(self._loaded.wait(), timeout)
            except TimeoutError:
                raise BrowserError(f"{url} did not finish loading in {timeout}s") from None

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited); page errors raise."""
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            raise BrowserError(f"the page raised {text.splitlines()[0]} from {expression[:120]!r}")
        return result["result"].get("value")

    async def wait_for(self, condition: str, timeout: float = 10.0) -> None:
        """Poll the JavaScript expression ``condition`` until it is truthy (in
        JavaScript's sense: an element found counts)."""
        deadline = time.monotonic() + timeout
        while True:
            if await self.evaluate(f"Boolean({condition})"):
                return
            if time.monotonic() > deadline:
                body = await self.evaluate("document.body ? document.body.innerText : ''")
                raise BrowserError(
                    f"waited {timeout}s for {condition!r}; the page shows:\n{body}\n"
                    f"console errors: {self.console_errors}"
                )
            await asyncio.sleep(POLL_INTERVAL)

    async def text(self, selector: str) -> str:
        """The rendered text of the first element matching ``selector``."""
        return str(await self.evaluate(f"{_element(selector)}.innerText"))

    async def click(self, selector: str) -> None:
        """A real mouse click at the centre of the element (it must be visible)."""
        box = await self.evaluate(
            f"(() => {{ const el = {_element(selector)}; el.scrollIntoView({{block: 'center'}});"
            " const r = el.getBoundingClientRect();"
            " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1},
            )

    async def type(self, selector: str, text: str, clear: bool = True) -> None:
        """Focus the field and type ``text`` into it, as keyboard input would."""
        await self.evaluate(
            f"(() => {{ const el = {_element(selector)}; el.focus();"
            f" if ({json.dumps(clear)}) el.select(); }})()"
        )
        if clear:
            await self.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Backspace"})
            await self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Backspace"})
        await self.send("Input.insertText", {"text": text})

    async def press_enter(self) -> None:
        """Press Enter in the focused element (submits its form)."""
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                {
                    "type": kind,
                    "key": "Enter",
                    "code": "Enter",
                    "windowsVirtualKeyCode": 13,
                    "text": "\r" if kind == "keyDown" else "",
                },
            )

    async def screenshot(self, path: Path) -> Path:
        """Save a PNG of what the tab shows (handy when a test fails)."""
        data = await self.send("Page.captureScreenshot", {"format": "png"})
        await asyncio.to_thread(path.write_bytes, base64.b64decode(data["data"]))
        return path

    async def close(self) -> None:
        """Close the tab (its websockets close as in a real browser)."""
        if not self.closed:
            self.closed = True
            await self.browser.send("Target.closeTarget", {"targetId": self.target})


def _element(selector: str) -> str:
    quoted = json.dumps(selector)
    return (
        f"(document.querySelector({quoted}) ?? "
        f"(() => {{ throw new Error('no element matches ' + {quoted}); }})())"
    )


@contextlib.asynccontextmanager
async def chromium(*extra_flags: str) -> AsyncIterator[Browser]:
    """A headless Chromium for the block, with a fresh profile; stopped afterwards."""
    browser = _launch(chromium_path(), extra_flags)
    try:
        url = await _devtools_url(browser)
        await browser._connect(url)
        yield browser
    finally:
        await browser.close()


def _launch(executable: str, extra_flags: tuple[str, ...]) -> Browser:
    profile = Path(tempfile.mkdtemp(prefix="chanx-chromium-"))
    log = profile / "chromium.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", *extra_flags, "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: renderers are stopped with it
        )
    return Browser(process, profile, log)


async def _devtools_url(browser: Browser) -> str:
    """The browser's DevTools websocket, from the port file Chromium writes at start."""
    port_file = browser.profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        with contextlib.suppress(OSError, ValueError):
            port, path = port_file.read_text().split("\n")[:2]
            if port and path:
                return f"ws://127.0.0.1:{int(port)}{path}"
        if browser.process.poll() is not None:
            raise BrowserError(
                f"Chromium exited with {browser.process.returncode} before it listened:\n"
                f"{browser.output()}\n({INSTALL_HINT})"
            )
        if time.monotonic() > deadline:
            raise BrowserError(f"Chromium did not listen in {START_TIMEOUT}s:\n{browser.output()}")
        await asyncio.sleep(POLL_INTERVAL)
