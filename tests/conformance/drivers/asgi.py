"""The plain ASGI mount: core consumers' ``as_asgi()`` on a Starlette router (the core's
default in-memory layer; bound to a layer with ``LayerMiddleware`` on Redis)."""

from __future__ import annotations

from starlette.routing import Router, WebSocketRoute

from chanx.core.binding import LayerMiddleware
from chanx.core.layer import GroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer
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


def build_router() -> Router:
    """The behaviours' ``as_asgi()`` apps on a Starlette router (no layer of its own: the
    core's default in-memory layer, unless wrapped in a ``LayerMiddleware``)."""
    return Router(
        routes=[
            WebSocketRoute(ECHO_PATH, EchoConsumer.as_asgi()),
            WebSocketRoute(ROOM_PATH, RoomConsumer.as_asgi()),
            WebSocketRoute(AUTH_PATH, AuthConsumer.as_asgi()),
            WebSocketRoute(BROKEN_PATH, BrokenConsumer.as_asgi()),
        ]
    )


class ASGIDriver(AppDriver):
    name = "asgi"
    echo = EchoConsumer
    room = RoomConsumer
    auth = AuthConsumer
    broken = BrokenConsumer

    def build_app(self, layer: GroupLayer | None = None) -> Router | LayerMiddleware:
        router = build_router()
        return router if layer is None else LayerMiddleware(router, layer)


DRIVER = ASGIDriver()
