"""A communicator over a real socket (the ``websockets`` client), for servers running in
other processes. Same assertions as the in-process one; it cannot follow the server-side
consumer, so wait on replies (a ``ping``'s ``complete``, the ``authentication`` message)
to know a connection has finished connecting."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chanx.messages.incoming import PingMessage
from chanx.testing.base import BaseCommunicator, Closed, Frame


class SocketCommunicator(BaseCommunicator):
    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        consumer: type[Any] | None = None,
    ) -> None:
        super().__init__(consumer=consumer)
        self.url = url
        self.headers = dict(headers or {})
        self.socket: ClientConnection | None = None

    async def _open(self, timeout: float) -> tuple[bool, Any]:
        try:
            self.socket = await connect(
                self.url, additional_headers=self.headers, open_timeout=timeout
            )
        except InvalidStatus as exc:
            return False, exc.response.status_code
        return True, self.socket.subprotocol

    async def _send_text(self, text: str) -> None:
        assert self.socket is not None
        await self.socket.send(text)

    async def _send_bytes(self, data: bytes) -> None:
        assert self.socket is not None
        await self.socket.send(data)

    async def _read(self, timeout: float) -> Frame:
        assert self.socket is not None
        try:
            message = await asyncio.wait_for(self.socket.recv(), timeout)
        except ConnectionClosed as exc:
            return Closed(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "")
        return message if isinstance(message, str) else message.decode()

    def _read_nowait(self) -> Frame | None:
        return None

    async def _close(self, code: int, timeout: float) -> None:
        if self.socket is not None:
            await asyncio.wait_for(self.socket.close(code), timeout)

    async def settled(self) -> None:
        """Returns once the server has finished connecting this client (groups joined):
        a ``ping`` is answered only after that."""
        await self.send_message(PingMessage())
        await self.receive_all_messages()
