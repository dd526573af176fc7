"""A live server in a process of its own: daphne, serving an application by its import
path (``"mysite.asgi:application"``). See :mod:`chanx.testing.live`.

The server process serves :mod:`chanx.testing.remote`, which wraps the application: a
connection carrying a user signed with this server's key is made as that user, and each
accepted connection is reported on the process's output (consumer class, channel name),
which this process reads.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import pickle
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from chanx.core.auth import KnownUser
from chanx.testing.live import CONNECTION_HEADER, USER_HEADER, LiveCommunicator, LiveServer


class DaphneLiveServer(LiveServer):
    """daphne serving a Django Channels ``application`` (``"mysite.asgi:application"``)
    in a process of its own, with this process's environment (``DJANGO_SETTINGS_MODULE``
    included) plus ``env``; a synchronous context manager, so a session-scoped fixture
    can keep one for many tests::

        with DaphneLiveServer("mysite.asgi:application") as server:
            ...  # in each test: async with server.communicator("/ws/chat/") as comm:

    Both processes must share the channel layer (channels_redis) for events sent from
    the test to reach the server's consumers, and the database for users and rows.
    """

    def __init__(
        self,
        application: str,
        *,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.application = application
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.url = ""
        self.output = ""
        """What the server printed so far (for failure messages)."""
        self._key = secrets.token_bytes(32)
        self._process: subprocess.Popen[bytes] | None = None
        self._changed = threading.Condition()
        self._reader: threading.Thread | None = None
        self._tokens: dict[int, str] = {}
        self._reports: dict[str, tuple[str | None, str | None]] = {}
        self._waiters: dict[
            str,
            tuple[asyncio.AbstractEventLoop, asyncio.Future[tuple[str | None, str | None]]],
        ] = {}
        self._partial = ""

    def start(self) -> None:
        """Start daphne and return once it listens; fails with its output otherwise."""
        env = {
            **os.environ,
            **self.env,
            "PYTHONUNBUFFERED": "1",
            REMOTE_APPLICATION_ENV: self.application,
            REMOTE_KEY_ENV: self._key.hex(),
        }
        command = [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            "0",
            "chanx.testing.remote:application",
        ]
        self._process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()
        port = self._wait_for_port()
        self.url = f"ws://127.0.0.1:{port}"

    def stop(self) -> None:
        """Terminate the server (kill after 10 s)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> DaphneLiveServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def ready(self) -> None:
        if self._process is None:
            await asyncio.to_thread(self.start)

    def connection_headers(self, communicator: LiveCommunicator) -> list[tuple[str, str]]:
        token = secrets.token_hex(16)
        self._tokens[id(communicator)] = token
        headers = [(CONNECTION_HEADER, token)]
        if communicator.known_user is not None:
            headers.append((USER_HEADER, sign(self._key, communicator.known_user)))
        return headers

    async def connected(
        self, communicator: LiveCommunicator, timeout: float
    ) -> tuple[str | None, str | None] | None:
        """The server process prints a report line for each accepted connection before
        accepting it, so the line is written by the time the client is in; this waits for
        the thread reading the output to get to it (``timeout``, at least 10 s, at
        most: only a stuck machine takes that long)."""
        timeout = max(timeout, 10.0)
        token = self._tokens.pop(id(communicator), None)
        if token is None:
            return None
        loop = asyncio.get_running_loop()
        with self._changed:
            report = self._reports.pop(token, None)
            if report is None:
                waiter: asyncio.Future[tuple[str | None, str | None]] = loop.create_future()
                self._waiters[token] = (loop, waiter)
        if report is not None:
            return report
        try:
            return await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(
                f"daphne did not report the connection within {timeout}s:\n{self.output}"
            ) from None
        finally:
            with self._changed:
                self._waiters.pop(token, None)

    def _collect(self) -> None:
        process = self._process
        assert process is not None
        assert process.stdout is not None
        fd = process.stdout.fileno()
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            with self._changed:
                text = chunk.decode(errors="replace")
                self.output += text
                self._note_reports(text)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _note_reports(self, text: str) -> None:
        """Take the report lines out of what the server printed (the lock is held)."""
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            if not line.startswith(REPORT_PREFIX):
                continue
            token, consumer, channel = [*line[len(REPORT_PREFIX) :].split(" "), "-", "-"][:3]
            report = (None if consumer == "-" else consumer, None if channel == "-" else channel)
            waiting = self._waiters.pop(token, None)
            if waiting is None:
                self._reports[token] = report
            else:
                loop, waiter = waiting
                loop.call_soon_threadsafe(_resolve, waiter, report)

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + self.startup_timeout
        pattern = re.compile(r"Listening on TCP address [\d.]+:(\d+)")
        with self._changed:
            while (found := pattern.search(self.output)) is None:
                process = self._process
                if process is None or (
                    process.poll() is not None
                    and not (self._reader is not None and self._reader.is_alive())
                ):
                    raise RuntimeError(f"daphne exited:\n{self.output}")
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stop()
                    raise RuntimeError(
                        f"daphne did not listen within {self.startup_timeout}s:\n{self.output}"
                    )
                self._changed.wait(left)
        return int(found.group(1))


REMOTE_APPLICATION_ENV = "CHANX_LIVE_APPLICATION"
REMOTE_KEY_ENV = "CHANX_LIVE_KEY"
REPORT_PREFIX = "chanx-live-report "
"""Starts the line a server process prints for each accepted connection:
``<prefix><token> <module:qualname or -> <channel name or ->``."""


def _resolve(waiter: asyncio.Future[Any], value: Any) -> None:
    if not waiter.done():
        waiter.set_result(value)


def sign(key: bytes, known: KnownUser) -> str:
    """``known`` pickled and signed with ``key``, as a header value."""
    payload = base64.urlsafe_b64encode(pickle.dumps(known)).decode()
    return f"{payload}.{_mac(key, payload)}"


def unsign(key: bytes, value: str) -> KnownUser | None:
    """The :class:`KnownUser` a header value signed with ``key`` carries; ``None`` when
    the signature does not hold (nothing is unpickled then)."""
    payload, _, mac = value.rpartition(".")
    if not payload or not hmac.compare_digest(mac, _mac(key, payload)):
        return None
    known = pickle.loads(base64.urlsafe_b64decode(payload))
    return known if isinstance(known, KnownUser) else None


def _mac(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
