"""The transport an adapter supplies: accept, send text, close."""

from __future__ import annotations

import functools
import sys
from typing import Any, Protocol

from chanx.core.types import ASGISend


class ConnectionGone(Exception):
    """The client went away: nothing can be sent to it any more. The engine ends the
    connection quietly (close code 1006) instead of reporting a handler failure."""


class Transport(Protocol):
    """How the engine talks to one client connection. A send to a client that has gone
    raises :class:`ConnectionGone`.

    ``accept`` may hold the handshake's answer back until the first frame or the close
    goes out, or :meth:`answer_handshake` is called: the engine calls it once the
    connection is authenticated and in its groups, so that a client told its connection
    is open is in its groups already (a transport that answers in ``accept`` does
    nothing there)."""

    async def accept(self, subprotocol: str | None = None) -> None: ...

    async def answer_handshake(self) -> None: ...

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


def server_gone_errors() -> tuple[type[BaseException], ...]:
    """What an ASGI server's ``send`` raises once the client has gone: an ``OSError``, as
    the ASGI spec asks (uvicorn, hypercorn), and, when daphne serves the app, autobahn's
    ``Disconnected`` (a ``RuntimeError``, raised from the moment the client's close frame
    is read until the socket is gone)."""
    autobahn = sys.modules.get("autobahn.exception")  # imported by daphne when it serves
    disconnected = getattr(autobahn, "Disconnected", None)
    return (OSError,) if disconnected is None else (OSError, disconnected)


@functools.lru_cache(maxsize=32)
def _gone_errors(
    server: tuple[type[BaseException], ...], adapter: tuple[type[BaseException], ...]
) -> tuple[type[BaseException], ...]:
    """``server`` then ``adapter``: one tuple shared by every connection rather than one
    each (an object less for the garbage collector to scan per open connection)."""
    return (*server, *adapter)


class ASGITransport:
    """A transport over an ASGI ``send`` callable.

    ``accept`` holds the ``websocket.accept`` message until the first frame or the close
    goes out, or :meth:`answer_handshake` is called. A send to a client that has gone
    (:func:`server_gone_errors`) raises :class:`ConnectionGone`; adapters whose framework
    wraps ``send`` name their own exceptions for it in ``gone``.

    ``frames``: where text frames go, when not to ``send``. An adapter whose framework
    wraps ``send`` in its connection object (to track the connection's state) passes
    the ``send`` underneath: the accept and the close still go through the framework's,
    which sees the connection open and close, while each frame skips checks the engine
    makes redundant (it writes nothing before the accept or after the close).
    """

    __slots__ = ("_frames", "_gone", "_handshake", "_send")

    def __init__(
        self,
        send: ASGISend,
        gone: tuple[type[BaseException], ...] = (),
        frames: ASGISend | None = None,
    ) -> None:
        self._send = send
        self._frames = send if frames is None else frames
        self._gone = _gone_errors(server_gone_errors(), gone)
        self._handshake: dict[str, Any] | None = None

    async def accept(self, subprotocol: str | None = None) -> None:
        message: dict[str, Any] = {"type": "websocket.accept"}
        if subprotocol is not None:
            message["subprotocol"] = subprotocol
        self._handshake = message

    async def answer_handshake(self) -> None:
        """Send the accept now if it is still held back."""
        handshake, self._handshake = self._handshake, None
        if handshake is not None:
            await self._send(handshake)

    async def send_text(self, text: str) -> None:
        try:
            if self._handshake is not None:
                await self.answer_handshake()
            await self._frames({"type": "websocket.send", "text": text})
        except self._gone as exc:
            raise ConnectionGone from exc

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._handshake is not None:
            await self.answer_handshake()  # so the client sees the code
        await self._send({"type": "websocket.close", "code": code, "reason": reason})
