"""An in-process client that can stop reading, for slow-consumer tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from chanx.core.types import Message
from chanx.testing import WebsocketCommunicator
from chanx.testing.base import ConnectionClosed


class PausableCommunicator(WebsocketCommunicator):
    """:class:`~chanx.testing.WebsocketCommunicator` with a client that can stop reading.

    While paused, every send of the application waits (its accept excepted), as a
    server's send does when the client's TCP window is full (uvicorn waits until the
    socket is writable again). The client's own frames still reach the application.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._reading = asyncio.Event()
        self._reading.set()
        self.blocked_sends = 0
        """Sends of the application waiting right now for the client to read."""

    def pause_reading(self) -> None:
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    async def _app_send(self, message: Message) -> None:
        if not self._reading.is_set() and message["type"] != "websocket.accept":
            self.blocked_sends += 1
            try:
                await self._reading.wait()
            finally:
                self.blocked_sends -= 1
        await super()._app_send(message)


async def eventually(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` is true (checked at every turn of the loop); fail after
    ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"still false after {timeout}s: {condition}")
        await asyncio.sleep(0.001)


async def closed_with(comm: WebsocketCommunicator) -> tuple[int | None, list[Any]]:
    """Read until the server closes; the close code and what came before it."""
    frames = []
    while True:
        try:
            frames.append(await comm.receive_json())
        except ConnectionClosed as closed:
            return closed.code, frames
