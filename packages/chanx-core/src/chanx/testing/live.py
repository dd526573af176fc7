"""Live-server mode: the communicator's API over a real socket, to a real server.

A :class:`LiveCommunicator` speaks to a server through the ``websockets`` client; every
method of the in-process communicator works the same, so one test body runs either
way. The servers:

* :class:`UvicornLiveServer`: uvicorn serving any ASGI app (Starlette, FastAPI,
  Litestar, a bare ``Consumer.as_asgi()``) in this process and event loop, on a port of
  its own. Communicators follow the server-side consumer as in-process ones do (its
  class, its channel name, the end of its connect and disconnect), connect as a user
  (``user=``) and see the exceptions the app raises;
* :class:`~chanx.testing.daphne.DaphneLiveServer`: daphne serving an application (a
  Django Channels project, typically) in a process of its own, as Django projects are
  served. Communicators connect as a user (the user object travels pickled, signed with
  a key of this server's) and learn the consumer's class and channel name from the
  server. Events sent from the test reach it through a channel layer the two processes
  share (channels_redis).

What a live server cannot give: proof that the application is idle (the frames may be
in a socket buffer), so ``settle()`` and what uses it (``receive_nothing()``,
``refute_receives()``) wait out their timeout, returning at once when a frame arrives
that answers them.

Needs uvicorn (and daphne for Django) and websockets: ``pip install
"chanx-core[testing]"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import secrets
import socket
import sys
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chanx.core.auth import KNOWN_USER_KEY, KnownUser
from chanx.core.observe import current_observer
from chanx.core.types import ASGIApp, ASGIReceive, ASGISend, Scope
from chanx.testing.base import (
    DEFAULT_TIMEOUT,
    BaseCommunicator,
    Closed,
    ConsumerTracker,
    Frame,
)

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from chanx.core.websocket import AsyncJsonWebsocketConsumer

CONNECTION_HEADER = "x-chanx-live-connection"
"""Names a communicator to the in-process server (taken out of the scope)."""
USER_HEADER = "x-chanx-live-user"
"""Carries a signed :class:`~chanx.core.auth.KnownUser` to a server in another process."""

HeaderItems = Mapping[str, str] | Iterable[tuple[str, str]] | None

LIVE_MODE_NEEDS = 'live mode needs uvicorn and websockets: pip install "chanx-core[testing]"'
"""What a missing live-mode dependency's error says to install."""


def require(module: str) -> None:
    """Fail at once, saying what to install, when ``module`` (a live-mode dependency:
    ``websockets``, ``uvicorn``) is not installed, rather than with a bare import error
    from deep inside a test."""
    if module not in sys.modules and importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(f"{module} is not installed; {LIVE_MODE_NEEDS}", name=module)


class LiveCommunicator(BaseCommunicator):
    """The communicator over a real socket to ``url`` (``ws://host:port/path``, or a
    path on ``server``).

    Made by a live server's :meth:`~LiveServer.communicator` (which lets it follow the
    server-side consumer and connect as ``user``; the server starts, if need be, when it
    connects), or by hand for any server (then give ``consumer=`` for typed parsing and
    contract checks). ``settle()`` cannot be proven here: it waits out its timeout (see
    :mod:`chanx.testing.live`).
    """

    def __init__(
        self,
        url: str,
        headers: HeaderItems = None,
        subprotocols: Iterable[str] | None = None,
        *,
        consumer: type[AsyncJsonWebsocketConsumer] | None = None,
        user: Any = None,
        auth: Any = None,
        server: LiveServer | None = None,
    ) -> None:
        super().__init__(consumer=consumer)
        self.url = url
        items = headers.items() if isinstance(headers, Mapping) else headers or ()
        self.headers = [(str(name), str(value)) for name, value in items]
        self.subprotocols = list(subprotocols or ())
        self.known_user = KnownUser(user, auth) if user is not None else None
        self.server = server
        self.socket: ClientConnection | None = None
        self.app_error: BaseException | None = None
        """An exception the application raised serving this connection (in-process
        servers); raised again by the next receive once the connection is over, and by
        :meth:`disconnect`."""
        self._reported_channel: str | None = None
        self._inbox: deque[Frame] = deque()
        self._arrived: asyncio.Future[None] | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def channel_name(self) -> str | None:
        """The server-side connection's channel name, when it can be known (the
        communicator follows the consumer, or the server tells)."""
        return super().channel_name or self._reported_channel

    # ------------------------------------------------------------------ driver primitives

    async def _open(self, timeout: float) -> tuple[bool, Any]:
        require("websockets")
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus
        from websockets.typing import Subprotocol

        if self.socket is not None:
            raise RuntimeError("this communicator has already connected once")
        headers = list(self.headers)
        if self.server is not None:
            await self.server.ready()
            if not self.url.startswith(("ws://", "wss://")):
                self.url = self.server.url + self.url
            headers += self.server.connection_headers(self)
        try:
            self.socket = await connect(
                self.url,
                additional_headers=headers,
                subprotocols=[Subprotocol(p) for p in self.subprotocols] or None,
                open_timeout=timeout,
                max_size=None,
                ping_interval=None,
            )
        except InvalidStatus as exc:
            return False, exc.response.status_code
        self._reader = asyncio.get_running_loop().create_task(self._read_socket())
        if self.server is not None:
            report = await self.server.connected(self, timeout)
            if report is not None:
                consumer_path, self._reported_channel = report
                if consumer_path and self.consumer is None:
                    self.consumer = _import_consumer(consumer_path)
        return True, self.socket.subprotocol

    async def _read_socket(self) -> None:
        from websockets.exceptions import ConnectionClosed

        assert self.socket is not None
        try:
            while True:
                message = await self.socket.recv()
                self._arrive(message)
        except ConnectionClosed as exc:
            received = exc.rcvd
            self._arrive(Closed(received.code, received.reason) if received else Closed(None))

    def _arrive(self, frame: Frame) -> None:
        self._inbox.append(frame)
        waiter, self._arrived = self._arrived, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _send_text(self, text: str) -> None:
        await self._send(text)

    async def _send_bytes(self, data: bytes) -> None:
        await self._send(data)

    async def _send(self, frame: str | bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        assert self.socket is not None, "connect() first"
        with contextlib.suppress(ConnectionClosed):  # the server closed: it goes nowhere
            await self.socket.send(frame)

    async def _read(self, timeout: float) -> Frame:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._inbox:
            if self._reader is None or self._reader.done():
                self._raise_app_error()
                return Closed(self.close_code)  # read again after the end
            if self._arrived is None:
                self._arrived = loop.create_future()
            await asyncio.wait_for(asyncio.shield(self._arrived), max(deadline - loop.time(), 0))
        frame = self._inbox.popleft()
        if isinstance(frame, Closed):
            self._raise_app_error()  # the connection ended because the app failed
        return frame

    def _read_nowait(self) -> Frame | None:
        return self._inbox.popleft() if self._inbox else None

    async def _close(self, code: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        socket = self.socket
        if socket is None:
            return
        try:
            await asyncio.wait_for(socket.close(code), timeout)
            if self._reader is not None:
                await asyncio.wait_for(asyncio.shield(self._reader), timeout)
            tracker = self.tracker
            if tracker is not None and tracker.consumer is not None:
                await asyncio.wait_for(tracker.finished.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"the server did not finish the connection within {timeout}s of the close"
            ) from None
        finally:
            if self.server is not None:
                self.server.forget(self)
        self._raise_app_error()

    def _raise_app_error(self) -> None:
        error, self.app_error = self.app_error, None
        if error is not None:
            raise error


class LiveServer:
    """What live servers share: a base URL, and communicators to it."""

    url: str
    """``ws://127.0.0.1:<port>``."""

    def communicator(
        self,
        path: str,
        headers: HeaderItems = None,
        subprotocols: Iterable[str] | None = None,
        *,
        consumer: type[AsyncJsonWebsocketConsumer] | None = None,
        user: Any = None,
        auth: Any = None,
    ) -> LiveCommunicator:
        """A communicator to ``path`` on this server (the in-process communicator's
        arguments)."""
        return LiveCommunicator(
            path,
            headers,
            subprotocols,
            consumer=consumer,
            user=user,
            auth=auth,
            server=self,
        )

    async def ready(self) -> None:
        """Start the server unless it runs."""

    def connection_headers(self, communicator: LiveCommunicator) -> list[tuple[str, str]]:
        """Headers that tell this server about ``communicator`` (its user, ...)."""
        return []

    async def connected(
        self, communicator: LiveCommunicator, timeout: float
    ) -> tuple[str | None, str | None] | None:
        """What the server reports of ``communicator``'s connection once accepted: the
        consumer class (``module:qualname``) and channel name, or ``None`` (nothing to
        report: the communicator follows the consumer itself)."""
        return None

    def forget(self, communicator: LiveCommunicator) -> None:
        """``communicator`` has closed."""


class UvicornLiveServer(LiveServer):
    """uvicorn serving ``app`` in this process and event loop, on 127.0.0.1 and a free
    port::

        async with UvicornLiveServer(app) as server:
            async with server.communicator("/ws/chat") as comm:
                ...

    ``app`` may be replaced between connections (one server for several apps in turn).
    ``lifespan=True`` lets uvicorn run the app's lifespan (leave it off when the test
    runs it itself, e.g. with :func:`chanx.testing.lifespan`).
    """

    def __init__(self, app: ASGIApp, *, lifespan: bool = False) -> None:
        self.app = app
        self.lifespan = lifespan
        self.url = ""
        self._connections: dict[str, LiveCommunicator] = {}
        self._server: Any = None
        self._socket: socket.socket | None = None

    async def ready(self) -> None:
        if self._server is None:
            await self.start()

    async def start(self) -> None:
        """Listen (and run the app's startup, with ``lifespan=True``)."""
        require("uvicorn")
        import uvicorn

        config = uvicorn.Config(
            self._serve,
            interface="asgi3",
            lifespan="on" if self.lifespan else "off",
            log_level="warning",
            ws_max_size=1 << 31,
            ws_ping_interval=None,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listener.setblocking(False)
        await server.startup(sockets=[listener])
        if server.should_exit:
            listener.close()
            raise RuntimeError("the app's startup failed (see the log)")
        self._server, self._socket = server, listener
        self.url = f"ws://127.0.0.1:{listener.getsockname()[1]}"

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop listening, close the connections left, wait for their tasks (cancelled
        after ``timeout`` seconds), run the app's shutdown (with ``lifespan=True``)."""
        server, self._server = self._server, None
        if server is None:
            return
        for listening in server.servers:
            listening.close()
        if self._socket is not None:
            self._socket.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()
        tasks = set(server.server_state.tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
        for listening in server.servers:
            await listening.wait_closed()
        if self.lifespan:
            await server.lifespan.shutdown()

    async def __aenter__(self) -> UvicornLiveServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def connection_headers(self, communicator: LiveCommunicator) -> list[tuple[str, str]]:
        token = secrets.token_hex(16)
        self._connections[token] = communicator
        communicator.tracker = ConsumerTracker()
        return [(CONNECTION_HEADER, token)]

    def forget(self, communicator: LiveCommunicator) -> None:
        for token, known in list(self._connections.items()):
            if known is communicator:
                del self._connections[token]

    async def _serve(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        communicator = None
        if scope["type"] == "websocket":
            token = _take_header(scope, CONNECTION_HEADER)
            communicator = self._connections.get(token or "")
        if communicator is None:
            await self.app(scope, receive, send)
            return
        if communicator.known_user is not None:
            scope[KNOWN_USER_KEY] = communicator.known_user
        reset = current_observer.set(communicator.tracker)
        try:
            await self.app(scope, receive, send)
        except BaseException as exc:
            communicator.app_error = exc
            raise
        finally:
            current_observer.reset(reset)


def _take_header(scope: Scope, name: str) -> str | None:
    """Remove header ``name`` from ``scope`` (the app never sees it); its value."""
    wanted = name.encode("latin-1")
    found: str | None = None
    kept: list[Sequence[bytes]] = []
    for header in scope.get("headers", ()):
        if header[0].lower() == wanted:
            found = header[1].decode("latin-1")
        else:
            kept.append(header)
    if found is not None:
        scope["headers"] = kept
    return found


def _import_consumer(path: str) -> Any:
    """The class ``module:qualname`` names, or ``None`` when this process cannot import
    it."""
    module_name, _, qualname = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found
