"""Real server processes for end-to-end and Redis tests: free ports, start-up detected
from a log line or an open port (no sleeps as synchronisation), always stopped afterwards.
Every test that starts a process goes through here."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_REDIS = os.environ.get("CHANX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_SERVER = os.environ.get("CHANX_REDIS_SERVER", "/usr/bin/redis-server")
REDIS_READY = "Ready to accept connections"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def python(*args: str) -> list[str]:
    """A command line running this test environment's Python."""
    return [sys.executable, *args]


class Server:
    """A child process whose output is collected as it comes (so it never blocks on a
    full pipe) and can be waited on, for a line or for a listening port."""

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
        *,
        group: bool = False,
    ) -> None:
        self.args = list(args)
        # group: the command starts the server as a grandchild (``dev.py demo`` is hatch,
        # which runs the server through a shell) and a signal to the command alone would
        # leave the server running: it gets a process group of its own, stopped whole.
        self.group = group
        self.proc = subprocess.Popen(
            self.args,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=group,
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

    def _exited(self) -> bool:
        return self.proc.poll() is not None and not self._reader.is_alive()

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        """Until ``text`` appears in the output; fails with the output otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while text.encode() not in self._output:
                left = deadline - time.monotonic()
                if self._exited():
                    raise AssertionError(f"{self.args!r} exited:\n{self.output}")
                if left <= 0:
                    raise AssertionError(
                        f"{text!r} not seen from {self.args!r} in {timeout}s:\n{self.output}"
                    )
                self._changed.wait(left)

    def wait_for_port(self, port: int, timeout: float = 20.0) -> None:
        """Until something accepts connections on ``port``; fails with the output if the
        process exits first or the port stays closed."""
        deadline = time.monotonic() + timeout
        while not port_open(port):
            if self._exited():
                raise AssertionError(f"{self.args!r} exited:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listened on {port} in {timeout}s:\n{self.output}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Terminate (kill after 10 s) and collect the output; with ``group``, every
        process of the group (what is left once the command has exited is killed)."""
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait()
        if self.group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def _signal(self, number: signal.Signals) -> None:
        if self.group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, number)
        else:
            self.proc.send_signal(number)

    def kill(self) -> None:
        """Kill at once: no goodbye to its clients."""
        self.proc.kill()
        self.proc.wait()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


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


@contextmanager
def running(
    command: Sequence[str],
    port: int,
    env: Mapping[str, str] | None = None,
    *,
    group: bool = False,
) -> Iterator[Server]:
    """Run ``command`` (which serves on ``port``) for the duration of the block
    (``group``: see :class:`Server`)."""
    started = Server(command, env, group=group)
    try:
        started.wait_for_port(port)
        yield started
    finally:
        started.stop()


def redis_args(port: int) -> list[str]:
    """A redis-server of the test's own (never the shared one), without persistence."""
    options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return [REDIS_SERVER, "--port", str(port), *options]


@contextmanager
def private_redis(port: int | None = None) -> Iterator[tuple[int, Server]]:
    """A private Redis for outage and restart tests; yields ``(port, server)``."""
    port = port or free_port()
    with server(redis_args(port), REDIS_READY) as started:
        yield port, started


class PrivateRedis:
    """A redis-server of one test's own (never the shared one), to kill and restart on
    the same port at will."""

    def __init__(self, *extra_args: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.extra_args = list(extra_args)
        self.server: Server | None = None

    def start(self) -> None:
        """Start it and return once it accepts connections."""
        assert self.server is None
        self.server = Server([*redis_args(self.port), *self.extra_args])
        self.server.wait_for(REDIS_READY)

    def stop(self) -> None:
        """``kill -9``: no goodbye to its clients, nothing flushed."""
        server, self.server = self.server, None
        if server is not None:
            server.kill()
            server.stop()
