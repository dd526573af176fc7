"""The plain ASGI mount: core consumers' ``as_asgi()`` on a Starlette router."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.routing import Router, WebSocketRoute

from chanx.core.websocket import AsyncJsonWebsocketConsumer
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


class ASGIDriver(Driver):
    name = "asgi"
    echo = EchoConsumer
    room = RoomConsumer
    auth = AuthConsumer

    def __init__(self) -> None:
        self.app = Router(
            routes=[
                WebSocketRoute(ECHO_PATH, EchoConsumer.as_asgi()),
                WebSocketRoute(ROOM_PATH, RoomConsumer.as_asgi()),
                WebSocketRoute(AUTH_PATH, AuthConsumer.as_asgi()),
            ]
        )

    def communicator(
        self, path: str, headers: Mapping[str, str] | None = None
    ) -> WebsocketCommunicator:
        return WebsocketCommunicator(self.app, path, headers=headers)


DRIVER = ASGIDriver()
