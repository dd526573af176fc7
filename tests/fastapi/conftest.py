"""Fixtures for the FastAPI adapter's tests: the shared Redis, private Redis servers,
unique channel prefixes."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

SHARED_REDIS_URL = os.environ.get("CHANX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_SERVER = os.environ.get("CHANX_REDIS_SERVER", "/usr/bin/redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    port: int, timeout: float = 10.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Until something accepts TCP connections on ``port`` (a server's readiness)."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on port {port} after {timeout}s") from None
            time.sleep(0.02)


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
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, process=self.process)

    def stop(self) -> None:
        """Kill the server at once (no goodbye to its clients)."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
