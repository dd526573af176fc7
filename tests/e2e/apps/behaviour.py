"""The consumers every slow-reader server runs, whatever the framework: members of one
group at ``/ws/crowd`` (an event handler, and ``stats``: the connection's outbox
figures), and at ``/ws/burster`` a connection outside the group whose ``burst``
broadcasts many messages or events to it. The members' bounds and policy come from the
environment (``SLOW_MAX_MESSAGES``, ``SLOW_MAX_BYTES``, ``SLOW_OVERFLOW``)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel

from chanx.core.decorators import event_handler, ws_handler
from chanx.messages.base import BaseMessage

GROUP = "crowd"
CROWD_PATH = "/ws/crowd"
BURSTER_PATH = "/ws/burster"


class BurstPayload(BaseModel):
    count: int
    size: int
    kind: Literal["message", "event"]


class Burst(BaseMessage):
    """Broadcast ``count`` chunks of ``size`` bytes to the group, yielding to the loop
    after each (a steady stream, not one block)."""

    action: Literal["burst"] = "burst"
    payload: BurstPayload


class ChunkPayload(BaseModel):
    n: int
    pad: str


class Chunk(BaseMessage):
    action: Literal["chunk"] = "chunk"
    payload: ChunkPayload


class ChunkEvent(BaseMessage):
    action: Literal["chunk_event"] = "chunk_event"
    payload: ChunkPayload


class BurstDone(BaseMessage):
    action: Literal["burst_done"] = "burst_done"
    payload: int


class Stats(BaseMessage):
    action: Literal["stats"] = "stats"
    payload: None = None


class StatsReply(BaseMessage):
    action: Literal["stats_reply"] = "stats_reply"
    payload: dict[str, Any]


def _bound(name: str, default: str) -> int | None:
    value = os.environ.get(name, default)
    return None if value == "none" else int(value)


class CrowdBehaviour:
    """A member of the crowd."""

    send_completion = False
    log_websocket_message = False
    outbox_max_messages = _bound("SLOW_MAX_MESSAGES", "200")
    outbox_max_bytes = _bound("SLOW_MAX_BYTES", str(256 * 1024))
    outbox_overflow = os.environ.get("SLOW_OVERFLOW", "close")

    async def get_groups(self) -> Iterable[str]:
        return [GROUP]

    @event_handler
    async def handle_chunk_event(self, event: ChunkEvent) -> Chunk:
        return Chunk(payload=event.payload)

    @ws_handler
    async def handle_stats(self, message: Stats) -> StatsReply:
        outbox = self.outbox  # type: ignore[attr-defined]
        return StatsReply(
            payload={
                "queued_messages": outbox.queued_messages,
                "queued_bytes": outbox.queued_bytes,
                "dropped": outbox.dropped,
                "overflowed": outbox.overflowed,
            }
        )


class BursterBehaviour:
    """Outside the crowd: broadcasts to it (its own handler's turn never delays the
    members' events)."""

    send_completion = False
    log_websocket_message = False

    @ws_handler(output_type=Chunk)
    async def handle_burst(self, message: Burst) -> BurstDone:
        burst = message.payload
        pad = "x" * burst.size
        for n in range(burst.count):
            chunk = ChunkPayload(n=n, pad=pad)
            if burst.kind == "message":
                await self.broadcast_message(Chunk(payload=chunk), GROUP)  # type: ignore[attr-defined]
            else:
                await type(self).broadcast_event(ChunkEvent(payload=chunk), GROUP)  # type: ignore[attr-defined]
            await asyncio.sleep(0)
        return BurstDone(payload=burst.count)
