"""Drivers: one per adapter, each mounting the conformance behaviours its own way.

A driver module defines ``DRIVER`` (a :class:`Driver`); the conformance ``conftest``
finds every module in this package, so adding an adapter is adding one file.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from chanx.core.groups import ANY_STRING, GroupNameRule
from chanx.core.layer import GroupLayer
from chanx.core.origins import REFUSED_CLOSE_CODE
from chanx.core.types import ASGIApp
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator, lifespan
from chanx.testing.base import BaseCommunicator
from chanx.testing.live import LiveCommunicator, UvicornLiveServer


class Driver(ABC):
    """Mounts the behaviours on one framework and opens connections to them."""

    name: str
    needs: tuple[str, ...] = ()
    """Services the driver uses, as pytest markers (``"redis"``, ``"postgres"``)."""
    live: bool = False
    """The scenarios talk to a real server over real sockets (live-server mode)."""
    settles: bool = True
    """``settle()`` can prove the application idle: in-process, and no layer that
    carries messages between processes."""
    server_here: bool = True
    """The server runs in the test's process (scenarios may check its log records, or
    patch its consumer classes)."""
    group_rule: GroupNameRule = ANY_STRING
    """The group-name rule of the driver's layer (what it must accept and refuse)."""
    echo: type[AsyncJsonWebsocketConsumer]
    room: type[AsyncJsonWebsocketConsumer]
    auth: type[AsyncJsonWebsocketConsumer]
    broken: type[AsyncJsonWebsocketConsumer]

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Build a fresh application (and layer) for one test."""
        yield

    @property
    def own_origin(self) -> str:
        """The ``Origin`` of a page the application served (its ``Host``)."""
        return "http://testserver"  # the in-process communicator's Host

    refused_handshake: int = REFUSED_CLOSE_CODE
    """What ``connect()`` reports for a handshake the server refuses before accepting:
    the close code in-process; a real server answers HTTP 403 instead."""

    def app_with_layer(self, layer: GroupLayer) -> ASGIApp:
        """The behaviours on a fresh app bound to ``layer`` (core's Redis layer, say), for
        adapters whose apps take a chanx layer; the Redis suite runs on those."""
        raise NotImplementedError(f"{self.name} apps do not take a chanx layer")

    @abstractmethod
    def communicator(
        self, path: str, headers: Mapping[str, str] | None = None, **options: Any
    ) -> BaseCommunicator:
        """A communicator for ``path`` on the running application (``options``: the
        communicator's keyword arguments, such as ``user=``)."""

    async def broadcast_event(self, event: BaseMessage, groups: list[str]) -> None:
        """Send an event from outside any connection, the adapter's way."""
        await self.room.broadcast_event(event, groups)

    def broadcast_event_sync(self, event: BaseMessage, groups: list[str]) -> None:
        """The same from synchronous code in another thread."""
        self.room.broadcast_event_sync(event, groups)

    async def send_event(self, event: BaseMessage, channel_name: str) -> None:
        """Send an event to one connection."""
        await self.echo.send_event(event, channel_name)

    def channel_name_of(self, communicator: BaseCommunicator) -> str:
        """The channel name of the consumer serving ``communicator``."""
        name = communicator.channel_name
        assert name is not None, "the communicator cannot know its channel name"
        return name


class AppDriver(Driver):
    """A driver for an adapter whose apps take a chanx layer: each test gets a fresh app
    from :meth:`build_app`, its lifespan running."""

    app: Any = None

    @abstractmethod
    def build_app(self, layer: GroupLayer | None = None) -> ASGIApp:
        """The behaviours on a new app, bound to ``layer`` (default: the adapter's own)."""

    def app_with_layer(self, layer: GroupLayer) -> ASGIApp:
        return self.build_app(layer)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        app = self.build_app()
        async with lifespan(app):
            self.app = app
            try:
                yield
            finally:
                self.app = None

    def communicator(
        self, path: str, headers: Mapping[str, str] | None = None, **options: Any
    ) -> WebsocketCommunicator:
        assert self.app is not None, "use the driver inside running()"
        return WebsocketCommunicator(self.app, path, headers=headers, **options)


class LiveDriver(Driver):
    """An in-process driver's scenarios over real sockets: its application (a fresh one
    per test, lifespan running) served by uvicorn in the test's event loop."""

    live = True
    settles = False
    refused_handshake = 403

    def __init__(self, inner: AppDriver) -> None:
        self.inner = inner
        self.name = f"{inner.name}-live"
        self.needs = inner.needs
        self.group_rule = inner.group_rule
        self.echo, self.room, self.auth = inner.echo, inner.room, inner.auth
        self.broken = inner.broken
        self.server: UvicornLiveServer | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.inner.running(), UvicornLiveServer(self.inner.app) as server:
            self.server = server
            try:
                yield
            finally:
                self.server = None

    def communicator(
        self, path: str, headers: Mapping[str, str] | None = None, **options: Any
    ) -> LiveCommunicator:
        assert self.server is not None, "use the driver inside running()"
        return self.server.communicator(path, headers, **options)

    @property
    def own_origin(self) -> str:
        assert self.server is not None, "use the driver inside running()"
        return self.server.url.replace("ws://", "http://", 1)


def all_drivers() -> list[Any]:
    """Every ``DRIVER`` defined in this package's modules, and a live-server variant of
    each driver whose apps take a chanx layer, sorted by name."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        driver = getattr(module, "DRIVER", None)
        if driver is not None:
            found.append(driver)
    found += [LiveDriver(driver) for driver in found if isinstance(driver, AppDriver)]
    return sorted(found, key=lambda d: d.name)
