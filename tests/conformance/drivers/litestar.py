"""Litestar: consumers as route handlers, groups over a ChannelsPlugin (memory backend)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.channels import ChannelsPlugin

from chanx.ext.litestar import AsyncJsonWebsocketConsumer, ChanxPlugin
from chanx.ext.litestar.testing import lifespan, memory_channels
from chanx.testing import WebsocketCommunicator
from tests.conformance.behaviours import (
    AUTH_PATH,
    ECHO_PATH,
    ROOM_PATH,
    AuthBehaviour,
    EchoBehaviour,
    RoomBehaviour,
)
from tests.conformance.drivers import Driver


class EchoConsumer(EchoBehaviour, AsyncJsonWebsocketConsumer):
    pass


class RoomConsumer(RoomBehaviour, AsyncJsonWebsocketConsumer):
    pass


class AuthConsumer(AuthBehaviour, AsyncJsonWebsocketConsumer):
    pass


def create_app(channels: ChannelsPlugin | None = None, prefix: str = "chanx.") -> Litestar:
    """The behaviours on one app (``channels`` defaults to an in-memory backend)."""
    return Litestar(
        route_handlers=[
            EchoConsumer.as_route_handler(ECHO_PATH),
            # Litestar path parameters carry their type.
            RoomConsumer.as_route_handler(ROOM_PATH.replace("{room}", "{room:str}")),
            AuthConsumer.as_route_handler(AUTH_PATH),
        ],
        plugins=[channels or memory_channels(), ChanxPlugin(prefix=prefix)],
    )


class LitestarDriver(Driver):
    name = "litestar"
    echo = EchoConsumer
    room = RoomConsumer
    auth = AuthConsumer

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with lifespan(create_app()) as app:
            self.app = app
            yield

    def communicator(
        self, path: str, headers: Mapping[str, str] | None = None
    ) -> WebsocketCommunicator:
        return WebsocketCommunicator(self.app, path, headers=headers)


DRIVER = LitestarDriver()
