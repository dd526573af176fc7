"""An in-process driver: runs any ASGI application and talks to it through ASGI messages."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from chanx.core.auth import KNOWN_USER_KEY, KnownUser
from chanx.core.observe import current_observer
from chanx.core.types import ASGIApp, Message, Scope
from chanx.testing.base import (
    DEFAULT_TIMEOUT,
    BaseCommunicator,
    Closed,
    CommunicatorError,
    ConsumerTracker,
    Frame,
)
from chanx.testing.settle import UNPROVABLE, Pending

if TYPE_CHECKING:
    from chanx.core.websocket import AsyncJsonWebsocketConsumer

HeadersInput = Mapping[str, str] | Iterable[tuple[bytes | str, bytes | str]] | None


class WebsocketCommunicator(BaseCommunicator):
    """Drives an ASGI application (FastAPI, Starlette, Litestar, Channels, a bare
    ``Consumer.as_asgi()``) in-process, as one websocket client.

    The application runs as its own task; waiting for a message never cancels it, and an
    exception it raises is re-raised by the next receive. ``headers`` may be a mapping or
    ``(name, value)`` pairs of ``str`` or ``bytes``; ``path`` may carry a query string.

    ``user`` connects as that user without credentials (see
    :class:`~chanx.core.auth.KnownUser`): the framework's authentication is skipped and
    the consumer's authorization runs for ``user`` (Django: a user object, no session
    cookie; FastAPI: the user dependency answers it for this connection only; Litestar:
    it becomes ``connection.user`` and guards run; Starlette: ``scope["user"]``).
    ``auth`` is the framework's credentials object to go with it (Starlette's
    ``AuthCredentials``, Litestar's ``connection.auth``).
    """

    _immediate = True

    def __init__(
        self,
        application: ASGIApp,
        path: str,
        headers: HeadersInput = None,
        subprotocols: Iterable[str] | None = None,
        *,
        consumer: type[AsyncJsonWebsocketConsumer] | None = None,
        user: Any = None,
        auth: Any = None,
    ) -> None:
        super().__init__(consumer=consumer)
        self.application = application
        self.scope = build_scope(path, headers, subprotocols)
        if user is not None:
            self.scope[KNOWN_USER_KEY] = KnownUser(user, auth)
        self._input: asyncio.Queue[Message] = asyncio.Queue()
        self._output: deque[Message] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._receiving = False
        self._input_taken: asyncio.Future[None] | None = None

    # ------------------------------------------------------------------ ASGI side

    async def _app_receive(self) -> Message:
        if not self._input.empty():
            return self._input.get_nowait()
        # The application asks for more with nothing left: whatever it took before is
        # handled (frame loops take the next frame once done with the last).
        self._receiving = True
        self._resolve_input_taken()
        try:
            return await self._input.get()
        finally:
            self._receiving = False

    async def _app_send(self, message: Message) -> None:
        self._output.append(message)
        self._wake()

    def _wake(self, *_: object) -> None:
        waiter = self._wakeup
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _resolve_input_taken(self, *_: object) -> None:
        waiter, self._input_taken = self._input_taken, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _pending(self) -> Pending:
        """Idle when the application waits for a frame with none left to take and its
        consumer has nothing going on (see
        :meth:`~chanx.testing.base.BaseCommunicator.settle`)."""
        task = self._task
        if task is None or task.done():
            return None
        if not self._receiving or not self._input.empty():
            if self._input_taken is None:
                self._input_taken = asyncio.get_running_loop().create_future()
            return self._input_taken
        consumer = self.tracker.consumer if self.tracker is not None else None
        if consumer is None or not consumer._layer_in_process():
            return UNPROVABLE  # not a chanx consumer, or its layer reaches other processes
        return consumer._activity()

    async def _next_output(self, timeout: float) -> Message | None:
        """The next ASGI message the application sent, or ``None`` once it has ended."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._output:
            task = self._task
            assert task is not None, "connect() first"
            if task.done():
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
                return None
            self._wakeup = loop.create_future()
            try:
                await asyncio.wait_for(self._wakeup, max(deadline - loop.time(), 0.0))
            finally:
                self._wakeup = None
        return self._output.popleft()

    # ------------------------------------------------------------------ driver primitives

    async def _open(self, timeout: float) -> tuple[bool, Any]:
        if self._task is not None:
            raise RuntimeError("this communicator has already connected once")
        self.tracker = ConsumerTracker()
        token = current_observer.set(self.tracker)
        try:
            self._task = asyncio.ensure_future(
                self.application(self.scope, self._app_receive, self._app_send)
            )
        finally:
            current_observer.reset(token)
        self._task.add_done_callback(self._wake)
        self._task.add_done_callback(self._resolve_input_taken)
        self._input.put_nowait({"type": "websocket.connect"})
        message = await self._next_output(timeout)
        if message is None:
            return False, None
        kind = message["type"]
        if kind == "websocket.accept":
            return True, message.get("subprotocol")
        if kind == "websocket.close":
            return False, message.get("code", 1000)
        if kind == "websocket.http.response.start":
            return False, message["status"]
        raise AssertionError(f"unexpected first message from the application: {message!r}")

    async def _send_text(self, text: str) -> None:
        self._input.put_nowait({"type": "websocket.receive", "text": text})

    async def _send_bytes(self, data: bytes) -> None:
        self._input.put_nowait({"type": "websocket.receive", "bytes": data})

    async def _read(self, timeout: float) -> Frame:
        message = await self._next_output(timeout)
        return self._frame(message)

    def _read_nowait(self) -> Frame | None:
        if not self._output:
            return None
        return self._frame(self._output.popleft())

    @staticmethod
    def _frame(message: Message | None) -> Frame:
        if message is None:
            return Closed(None)
        kind = message["type"]
        if kind == "websocket.send":
            text = message.get("text")
            return text if text is not None else bytes(message["bytes"])
        if kind == "websocket.close":
            return Closed(message.get("code", 1000), message.get("reason") or "")
        raise AssertionError(f"unexpected message from the application: {message!r}")

    async def _close(self, code: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        task = self._task
        if task is None:
            return
        if not task.done():
            self._input.put_nowait({"type": "websocket.disconnect", "code": code})
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                task.cancel()
                raise AssertionError(
                    f"the application did not finish within {timeout}s of the disconnect"
                )
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


class AuthenticatedCommunicator(WebsocketCommunicator):
    """A communicator for a connection that must be admitted: :meth:`connect` (and
    ``async with``) fails, saying why, unless the connection was accepted and
    authenticated with a 2xx status. The credentials go where the app reads them
    (``headers``, a cookie, the query string); adapters may offer more (FastAPI's connects
    as a given user)."""

    async def connect(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, Any]:
        """Connect, then fail (:class:`~chanx.testing.CommunicatorError`, saying why)
        unless the connection was accepted and authenticated with a 2xx status."""
        accepted, detail = await super().connect(timeout)
        if not accepted:
            raise CommunicatorError(f"the connection was not accepted (close code {detail})")
        await self.assert_authenticated_status_ok(timeout)
        return accepted, detail


def build_scope(
    path: str, headers: HeadersInput = None, subprotocols: Iterable[str] | None = None
) -> Scope:
    """An ASGI websocket scope for ``path`` (with its query string) and ``headers``."""
    parts = urlsplit(path)
    raw_headers = _header_pairs(headers)
    if not any(name == b"host" for name, _ in raw_headers):
        raw_headers.insert(0, (b"host", b"testserver"))
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": unquote(parts.path),
        "raw_path": parts.path.encode("latin-1"),
        "query_string": parts.query.encode("latin-1"),
        "headers": raw_headers,
        "subprotocols": list(subprotocols or ()),
        "extensions": {"websocket.http.response": {}},
    }


def _header_pairs(headers: HeadersInput) -> list[tuple[bytes, bytes]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(_bytes(name).lower(), _bytes(value)) for name, value in items]


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")
