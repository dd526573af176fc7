"""The application a :class:`~chanx.testing.daphne.DaphneLiveServer` serves: the one its
environment names, wrapped so that test communicators can connect as a user and learn
which consumer serves them.

Only for the server processes the live server starts (it reads the application's path
and the signing key from their environment); nothing else imports it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from chanx.core.auth import KNOWN_USER_KEY
from chanx.core.observe import current_observer
from chanx.core.types import ASGIApp, ASGIReceive, ASGISend, Message, Scope
from chanx.testing.daphne import REMOTE_APPLICATION_ENV, REMOTE_KEY_ENV, REPORT_PREFIX, unsign
from chanx.testing.live import CONNECTION_HEADER, USER_HEADER, _import_consumer, _take_header


class Reporter:
    """Notes the consumer serving one connection (a connection observer)."""

    def __init__(self) -> None:
        self.consumer: Any = None

    def consumer_started(self, consumer: Any) -> None:
        if self.consumer is None:
            self.consumer = consumer

    def consumer_ready(self, consumer: Any) -> None:
        pass

    def consumer_finished(self, consumer: Any) -> None:
        pass


class RemoteLiveApp:
    """Serves ``app``; a connection carrying a user signed with ``key`` is made as that
    user, and every accepted connection is reported (consumer class, channel name) on
    this process's output, which the live server reads."""

    def __init__(self, app: ASGIApp, key: bytes) -> None:
        self.app = app
        self.key = key

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        signed = _take_header(scope, USER_HEADER)
        if signed is not None:
            known = unsign(self.key, signed)
            if known is None:
                raise PermissionError("a live-server user header with a bad signature")
            scope[KNOWN_USER_KEY] = known
        reporter = Reporter()
        connection = _take_header(scope, CONNECTION_HEADER)

        async def reporting_send(message: Message) -> None:
            if message["type"] == "websocket.accept" and connection is not None:
                report(connection, reporter.consumer)
            await send(message)

        token = current_observer.set(reporter)
        try:
            await self.app(scope, receive, reporting_send)
        finally:
            current_observer.reset(token)


def report(connection: str, consumer: Any) -> None:
    """Tell the live server (reading this process's output) which consumer serves
    ``connection``, before the client learns it was accepted."""
    if consumer is None:
        path, channel = "-", "-"
    else:
        cls = type(consumer)
        path = f"{cls.__module__}:{cls.__qualname__}"
        channel = getattr(consumer, "channel_name", None) or "-"
    sys.stdout.write(f"\n{REPORT_PREFIX}{connection} {path} {channel}\n")
    sys.stdout.flush()


def _load() -> RemoteLiveApp:
    path = os.environ.get(REMOTE_APPLICATION_ENV)
    key = os.environ.get(REMOTE_KEY_ENV)
    if not path or not key:
        raise RuntimeError(
            f"chanx.testing.remote is served by DaphneLiveServer only ({REMOTE_APPLICATION_ENV} "
            f"and {REMOTE_KEY_ENV} are not set)"
        )
    app = _import_consumer(path)
    if app is None:
        raise RuntimeError(f"cannot import the application {path!r}")
    return RemoteLiveApp(app, bytes.fromhex(key))


application = _load()
