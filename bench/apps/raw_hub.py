"""The hand-written broadcast of the raw FastAPI and Litestar apps.

This process's sockets in a set; a broadcast writes to each. With ``BENCH_LAYER=redis``
a broadcast is one ``PUBLISH``, and every process (the sender's included) delivers what
its one ``redis.asyncio`` pub/sub subscription brings to its own sockets: the usual
shape of a hand-rolled multi-worker broadcast.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

from redis.asyncio import Redis

from bench.apps.config import GROUP, LAYER, PREFIX, REDIS_URL


class TextSocket(Protocol):
    async def send_text(self, data: str) -> None: ...


class Hub:
    """The sockets of one process, and its Redis subscription when there is one."""

    def __init__(self) -> None:
        # By identity: some frameworks' connection objects compare equal to each other.
        self.members: dict[int, TextSocket] = {}
        self.channel = f"{PREFIX}:{GROUP}"
        self.redis: Redis | None = None
        self.reader: asyncio.Task[None] | None = None

    async def broadcast(self, text: str) -> None:
        if self.redis is not None:
            await self.redis.publish(self.channel, text)
        else:
            await self.deliver(text)

    def add(self, member: TextSocket) -> None:
        self.members[id(member)] = member

    def discard(self, member: TextSocket) -> None:
        self.members.pop(id(member), None)

    async def deliver(self, text: str) -> None:
        for member in tuple(self.members.values()):
            try:
                await member.send_text(text)
            except Exception:
                self.discard(member)

    async def _read(self, pubsub: Any) -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                await self.deliver(message["data"].decode())

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        """Subscribe at startup, unsubscribe at shutdown (redis only)."""
        if LAYER != "redis":
            yield
            return
        self.redis = Redis.from_url(REDIS_URL)
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        self.reader = asyncio.create_task(self._read(pubsub))
        try:
            yield
        finally:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
            await pubsub.aclose()
            await self.redis.aclose()
