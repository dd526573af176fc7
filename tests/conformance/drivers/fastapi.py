"""The FastAPI mount: consumers on FastAPI routes (the app, and a prefixed APIRouter),
each test with a fresh app, its own in-memory layer, and its lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from chanx.ext.fastapi import AsyncJsonWebsocketConsumer, configure_layer
from chanx.ext.fastapi.testing import lifespan
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


def build_app(configure: bool = True) -> FastAPI:
    """Echo mounted on the app; room and auth on an APIRouter included with a prefix;
    an in-memory layer of the app's own unless ``configure`` is false."""
    app = FastAPI()
    if configure:
        configure_layer(app)
    app.add_api_websocket_route(ECHO_PATH, EchoConsumer.as_endpoint())
    router = APIRouter()
    router.add_api_websocket_route(ROOM_PATH.removeprefix("/ws"), RoomConsumer.as_endpoint())
    router.add_api_websocket_route(AUTH_PATH.removeprefix("/ws"), AuthConsumer.as_endpoint())
    app.include_router(router, prefix="/ws")
    return app


class FastAPIDriver(Driver):
    name = "fastapi"
    echo = EchoConsumer
    room = RoomConsumer
    auth = AuthConsumer

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        app = build_app()
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


DRIVER = FastAPIDriver()
