"""What a real client sees of a real server: the HTTP status of a refused handshake, or
the frames and the close code of an accepted one."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

PING = {"action": "ping", "payload": None}


@dataclass
class Outcome:
    """A handshake refused with HTTP ``status``, or accepted (101): the frames received
    until the server closed with ``close_code``, or until it answered the final ping
    (``close_code`` ``None``: the connection works)."""

    status: int
    frames: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None

    @property
    def actions(self) -> list[str]:
        return [frame["action"] for frame in self.frames]


async def visit(
    url: str, headers: dict[str, str] | None = None, send: list[dict[str, Any]] | None = None
) -> Outcome:
    """Open ``url``, send ``send`` then a ping, and read until the pong or the close."""
    try:
        socket = await connect(url, additional_headers=headers or {}, open_timeout=10)
    except InvalidStatus as exc:
        return Outcome(exc.response.status_code)
    outcome = Outcome(101)
    async with socket:
        try:
            for message in [*(send or ()), PING]:
                await socket.send(json.dumps(message))
        except ConnectionClosed:
            pass  # closed already: what came before the close is still to be read
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
                outcome.frames.append(frame)
                if frame["action"] == "pong":
                    return outcome
        except ConnectionClosed as exc:
            outcome.close_code = exc.rcvd.code if exc.rcvd else None
            return outcome
