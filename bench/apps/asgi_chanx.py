"""Core only: the consumer's ``as_asgi()`` on a Starlette router (no adapter)."""

from __future__ import annotations

from starlette.routing import Router, WebSocketRoute

from bench.apps.chanx_consumer import BenchBehaviour
from chanx.core.websocket import AsyncJsonWebsocketConsumer


class BenchConsumer(BenchBehaviour, AsyncJsonWebsocketConsumer):
    pass


app = Router(routes=[WebSocketRoute("/ws", BenchConsumer.as_asgi())])
