"""Suite-wide fixtures: the shared Redis, unique channel prefixes, a private Redis.

Contract checking is on for the whole suite (``chanx_check_contract`` in pyproject.toml,
applied by chanx's pytest plugin): every communicator checks every frame against the
consumer's declared messages (chanx.testing.contract). A test that cannot be checked as
a whole says why with ``@pytest.mark.off_contract("reason")``; one that sends bad input
on purpose wraps those sends in ``comm.off_contract(reason)`` instead."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from chanx.core.layer import outages
from tests.servers import SHARED_REDIS, PrivateRedis


@pytest.fixture
def redis_url() -> str:
    """The shared Redis server; a test that needs it fails (never skips) when it is down."""
    import redis

    try:
        redis.Redis.from_url(SHARED_REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.fail(f"the shared Redis at {SHARED_REDIS} is not reachable: {exc}")
    return SHARED_REDIS


@pytest.fixture
def prefix() -> str:
    """A channel prefix of this test's own (the shared Redis serves parallel runs)."""
    return f"chanx-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, running; ``stop()`` kills it (``kill -9``)."""
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def fresh_outage_log() -> None:
    """Each test starts outside any outage's quiet period (the log is process-wide)."""
    outages.reset()
