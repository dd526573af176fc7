"""Real channels backends for tests: the shared Redis and PostgreSQL servers.

Each test uses a channel prefix of its own, so runs sharing the servers never meet. A
backend whose server is down makes its test fail (never skip).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.psycopg import PsycoPgChannelsBackend
from litestar.channels.backends.redis import (
    RedisChannelsPubSubBackend,
    RedisChannelsStreamBackend,
)
from redis.asyncio import Redis

from tests.servers import SHARED_REDIS

REDIS_URL = SHARED_REDIS
POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"

REDIS_BACKENDS = ["redis", "redis-streams"]
POSTGRES_BACKENDS = ["asyncpg", "psycopg"]


def unique_prefix() -> str:
    """A channel prefix no other test run uses."""
    return f"t{uuid.uuid4().hex[:12]}."


@asynccontextmanager
async def backend(kind: str) -> AsyncIterator[ChannelsBackend]:
    """A fresh backend of ``kind`` (its Redis client closed at the end)."""
    if kind in REDIS_BACKENDS:
        redis = Redis.from_url(REDIS_URL)
        try:
            if kind == "redis":
                yield RedisChannelsPubSubBackend(redis=redis)
            else:
                yield RedisChannelsStreamBackend(history=10, redis=redis, key_prefix="CHANX_TEST")
        finally:
            await redis.aclose()
    elif kind == "asyncpg":
        yield AsyncPgChannelsBackend(POSTGRES_DSN)
    elif kind == "psycopg":
        yield PsycoPgChannelsBackend(POSTGRES_DSN)
    else:
        raise ValueError(kind)


def channels_plugin(backend: ChannelsBackend) -> ChannelsPlugin:
    return ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)


def marks_for(kind: str) -> list[object]:
    import pytest

    return [pytest.mark.redis] if kind in REDIS_BACKENDS else [pytest.mark.postgres]
