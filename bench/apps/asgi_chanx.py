"""Core only: the consumer's ``as_asgi()`` on a Starlette router (no adapter). With
``BENCH_LAYER=redis`` the router is bound to core's Redis layer with ``LayerMiddleware``,
as docs/asgi.md shows."""

from __future__ import annotations

from typing import Any

from starlette.routing import Router, WebSocketRoute

from bench.apps.chanx_consumer import BenchBehaviour
from bench.apps.config import LAYER, PREFIX, REDIS_URL
from chanx.core.websocket import AsyncJsonWebsocketConsumer


class BenchConsumer(BenchBehaviour, AsyncJsonWebsocketConsumer):
    pass


router = Router(routes=[WebSocketRoute("/ws", BenchConsumer.as_asgi())])
app: Any = router
if LAYER == "redis":
    from chanx.core.binding import LayerMiddleware
    from chanx.core.redis import RedisGroupLayer

    app = LayerMiddleware(router, RedisGroupLayer(REDIS_URL, prefix=PREFIX))
