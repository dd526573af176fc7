"""Fixtures for the FastAPI adapter's tests: the shared Redis, private Redis servers,
unique channel prefixes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.servers import REDIS_READY, SHARED_REDIS, Server, free_port, redis_args

SHARED_REDIS_URL = SHARED_REDIS


@pytest.fixture
def redis_url() -> str:
    """The shared Redis server; a test that needs it fails (never skips) when it is down."""
    import redis

    try:
        redis.Redis.from_url(SHARED_REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.fail(f"the shared Redis at {SHARED_REDIS_URL} is not reachable: {exc}")
    return SHARED_REDIS_URL


@pytest.fixture
def prefix() -> str:
    """A channel prefix of this test's own (the shared Redis serves parallel runs)."""
    return f"chanx-test-{uuid.uuid4().hex[:12]}"


class PrivateRedis:
    """A redis-server of this test's own, to stop and restart at will."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server: Server | None = None

    def start(self) -> None:
        assert self.server is None
        self.server = Server(redis_args(self.port))
        self.server.wait_for(REDIS_READY)

    def stop(self) -> None:
        """Kill the server at once (no goodbye to its clients)."""
        server, self.server = self.server, None
        if server is not None:
            server.kill()
            server.stop()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
