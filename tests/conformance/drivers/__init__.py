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
from chanx.core.types import ASGIApp
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator, lifespan
from chanx.testing.base import BaseCommunicator


class Driver(ABC):
    """Mounts the behaviours on one framework and opens connections to them."""

    name: str
    needs: tuple[str, ...] = ()
    """Services the driver uses, as pytest markers (``"redis"``, ``"postgres"``)."""
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

    def app_with_layer(self, layer: GroupLayer) -> ASGIApp:
        """The behaviours on a fresh app bound to ``layer`` (core's Redis layer, say), for
        adapters whose apps take a chanx layer; the Redis suite runs on those."""
        raise NotImplementedError(f"{self.name} apps do not take a chanx layer")

    @abstractmethod
    def communicator(self, path: str, headers: Mapping[str, str] | None = None) -> BaseCommunicator:
        """A communicator for ``path`` on the running application."""

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
        tracker = communicator.tracker
        assert tracker is not None
        assert tracker.consumer is not None
        return tracker.consumer.channel_name


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
        self, path: str, headers: Mapping[str, str] | None = None
    ) -> WebsocketCommunicator:
        assert self.app is not None, "use the driver inside running()"
        return WebsocketCommunicator(self.app, path, headers=headers)


def all_drivers() -> list[Any]:
    """Every ``DRIVER`` defined in this package's modules, sorted by name."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        driver = getattr(module, "DRIVER", None)
        if driver is not None:
            found.append(driver)
    return sorted(found, key=lambda d: d.name)
