"""The crowd consumer as a plain ASGI app (the core consumer's ``as_asgi()``)."""

from __future__ import annotations

from starlette.routing import Router, WebSocketRoute

from chanx.core.websocket import AsyncJsonWebsocketConsumer
from tests.e2e.apps.behaviour import BURSTER_PATH, CROWD_PATH, BursterBehaviour, CrowdBehaviour


class Crowd(CrowdBehaviour, AsyncJsonWebsocketConsumer):
    pass


class Burster(BursterBehaviour, AsyncJsonWebsocketConsumer):
    pass


app = Router(
    routes=[
        WebSocketRoute(CROWD_PATH, Crowd.as_asgi()),
        WebSocketRoute(BURSTER_PATH, Burster.as_asgi()),
    ]
)
