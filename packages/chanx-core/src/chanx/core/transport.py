"""The transport an adapter supplies: accept, send text, close."""

from __future__ import annotations

from typing import Any, Protocol

from chanx.core.types import ASGISend


class Transport(Protocol):
    """How the engine talks to one client connection."""

    async def accept(self, subprotocol: str | None = None) -> None: ...

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class ASGITransport:
    """A transport over a raw ASGI ``send`` callable."""

    __slots__ = ("_send",)

    def __init__(self, send: ASGISend) -> None:
        self._send = send

    async def accept(self, subprotocol: str | None = None) -> None:
        message: dict[str, Any] = {"type": "websocket.accept"}
        if subprotocol is not None:
            message["subprotocol"] = subprotocol
        await self._send(message)

    async def send_text(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._send({"type": "websocket.close", "code": code, "reason": reason})
