"""Litestar: consumers as route handlers, groups over a ChannelsPlugin (memory backend)."""

from __future__ import annotations

from litestar import Litestar
from litestar.channels import ChannelsPlugin

from chanx.core.layer import GroupLayer
from chanx.ext.litestar import AsyncJsonWebsocketConsumer, ChanxPlugin
from chanx.ext.litestar.testing import memory_channels
from tests.conformance.behaviours import (
    AUTH_PATH,
    BROKEN_PATH,
    ECHO_PATH,
    ROOM_PATH,
    AuthBehaviour,
    BrokenBehaviour,
    EchoBehaviour,
    RoomBehaviour,
)
from tests.conformance.drivers import AppDriver


class EchoConsumer(EchoBehaviour, AsyncJsonWebsocketConsumer):
    pass


class RoomConsumer(RoomBehaviour, AsyncJsonWebsocketConsumer):
    pass


class AuthConsumer(AuthBehaviour, AsyncJsonWebsocketConsumer):
    pass


class BrokenConsumer(BrokenBehaviour, AsyncJsonWebsocketConsumer):
    pass


def create_app(
    channels: ChannelsPlugin | None = None, prefix: str = "chanx.", layer: GroupLayer | None = None
) -> Litestar:
    """The behaviours on one app: groups over ``channels`` (default: an in-memory
    backend), or over ``layer`` (another chanx layer, no ChannelsPlugin) when given."""
    return Litestar(
        route_handlers=[
            EchoConsumer.as_route_handler(ECHO_PATH),
            # Litestar path parameters carry their type.
            RoomConsumer.as_route_handler(ROOM_PATH.replace("{room}", "{room:str}")),
            AuthConsumer.as_route_handler(AUTH_PATH),
            BrokenConsumer.as_route_handler(BROKEN_PATH),
        ],
        plugins=[ChanxPlugin(layer=layer)]
        if layer is not None
        else [channels or memory_channels(), ChanxPlugin(prefix=prefix)],
    )


class LitestarDriver(AppDriver):
    name = "litestar"
    echo = EchoConsumer
    room = RoomConsumer
    auth = AuthConsumer
    broken = BrokenConsumer

    def build_app(self, layer: GroupLayer | None = None) -> Litestar:
        return create_app(layer=layer)


DRIVER = LitestarDriver()
