"""The transport an adapter supplies: accept, send text, close."""

from __future__ import annotations

from typing import Any, Protocol

from chanx.core.types import ASGISend


class ConnectionGone(Exception):
    """The client went away: nothing can be sent to it any more. The engine ends the
    connection quietly (close code 1006) instead of reporting a handler failure."""


class Transport(Protocol):
    """How the engine talks to one client connection. A send to a client that has gone
    raises :class:`ConnectionGone`."""

    async def accept(self, subprotocol: str | None = None) -> None: ...

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class ASGITransport:
    """A transport over an ASGI ``send`` callable.

    ASGI servers raise an ``OSError`` when sending to a closed connection; adapters whose
    framework wraps ``send`` name their own exceptions in ``gone``.
    """

    __slots__ = ("_gone", "_send")

    def __init__(self, send: ASGISend, gone: tuple[type[BaseException], ...] = (OSError,)) -> None:
        self._send = send
        self._gone = gone

    async def accept(self, subprotocol: str | None = None) -> None:
        message: dict[str, Any] = {"type": "websocket.accept"}
        if subprotocol is not None:
            message["subprotocol"] = subprotocol
        await self._send(message)

    async def send_text(self, text: str) -> None:
        try:
            await self._send({"type": "websocket.send", "text": text})
        except self._gone as exc:
            raise ConnectionGone from exc

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._send({"type": "websocket.close", "code": code, "reason": reason})
