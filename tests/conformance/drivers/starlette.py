"""The Starlette mount: consumers' ``as_route()`` on the app and under a ``Mount``, each
test with a fresh app, its own in-memory layer, and its lifespan running."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from chanx.core.layer import GroupLayer
from chanx.ext.starlette import AsyncJsonWebsocketConsumer, configure_layer
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


def build_app(layer: GroupLayer | None = None) -> Starlette:
    """Echo and room on the app; auth and broken under ``Mount("/ws")``; ``layer`` bound
    to the app (default: an in-memory layer of its own). The room is not under the
    ``Mount``: Starlette matches a mount's remaining path with ``.*``, which stops at a
    newline, and the group-name scenarios put one in a room's name."""
    mounted = [
        AuthConsumer.as_route(AUTH_PATH.removeprefix("/ws")),
        BrokenConsumer.as_route(BROKEN_PATH.removeprefix("/ws")),
    ]
    app = Starlette(
        routes=[
            EchoConsumer.as_route(ECHO_PATH),
            RoomConsumer.as_route(ROOM_PATH),
            Mount("/ws", routes=mounted),
        ]
    )
    configure_layer(app, layer)
    return app


class StarletteDriver(AppDriver):
    name = "starlette"
    echo = EchoConsumer
    room = RoomConsumer
    auth = AuthConsumer
    broken = BrokenConsumer

    def build_app(self, layer: GroupLayer | None = None) -> Starlette:
        return build_app(layer)


DRIVER = StarletteDriver()
