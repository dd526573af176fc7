"""The FastAPI mount: consumers on FastAPI routes (the app, and a prefixed APIRouter),
each test with a fresh app, its own in-memory layer, and its lifespan running."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from chanx.core.layer import GroupLayer
from chanx.ext.fastapi import AsyncJsonWebsocketConsumer, configure_layer
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


def build_app(layer: GroupLayer | None = None) -> FastAPI:
    """Echo mounted on the app; room and auth on an APIRouter included with a prefix;
    ``layer`` bound to the app (default: an in-memory layer of its own)."""
    app = FastAPI()
    configure_layer(app, layer)
    app.add_api_websocket_route(ECHO_PATH, EchoConsumer.as_endpoint())
    router = APIRouter()
    router.add_api_websocket_route(ROOM_PATH.removeprefix("/ws"), RoomConsumer.as_endpoint())
    router.add_api_websocket_route(AUTH_PATH.removeprefix("/ws"), AuthConsumer.as_endpoint())
    router.add_api_websocket_route(BROKEN_PATH.removeprefix("/ws"), BrokenConsumer.as_endpoint())
    app.include_router(router, prefix="/ws")
    return app


class FastAPIDriver(AppDriver):
    name = "fastapi"
    echo = EchoConsumer
    room = RoomConsumer
    auth = AuthConsumer
    broken = BrokenConsumer

    def build_app(self, layer: GroupLayer | None = None) -> FastAPI:
        return build_app(layer)


DRIVER = FastAPIDriver()
