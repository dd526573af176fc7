"""Real server processes for the Redis and end-to-end tests: free ports, start-up
detected from the server's own log line (no sleeps), always stopped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_REDIS = "redis://127.0.0.1:6379/0"
REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A child process whose output is collected as it comes (so it never blocks on a
    full pipe) and can be waited on for a given line."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        self.args = list(args)
        self.proc = subprocess.Popen(
            self.args,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._output = bytearray()
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            with self._changed:
                self._output += chunk
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return self._output.decode(errors="replace")

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while text.encode() not in self._output:
                left = deadline - time.monotonic()
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"{self.args!r} exited:\n{self.output}")
                if left <= 0:
                    raise AssertionError(
                        f"{text!r} not seen from {self.args!r} in {timeout}s:\n{self.output}"
                    )
                self._changed.wait(left)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@contextmanager
def server(
    args: Sequence[str], ready: str, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """Start ``args``, wait until its output shows ``ready``, stop it on exit."""
    started = Server(args, env)
    try:
        started.wait_for(ready)
        yield started
    finally:
        started.stop()


REDIS_READY = "Ready to accept connections"


def redis_args(port: int) -> list[str]:
    """A redis-server of the test's own (never the shared one), without persistence."""
    options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return [REDIS_SERVER, "--port", str(port), *options]


@contextmanager
def private_redis(port: int | None = None) -> Iterator[tuple[int, Server]]:
    port = port or free_port()
    with server(redis_args(port), REDIS_READY) as started:
        yield port, started


def python(*args: str) -> list[str]:
    return [sys.executable, *args]
