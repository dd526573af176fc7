"""The conformance behaviours served over Redis by each adapter, for real server processes:

    CHANX_ADAPTER=fastapi CHANX_REDIS_URL=redis://... CHANX_PREFIX=... \
        uvicorn --factory tests.redis.apps:app_from_env

``CHANX_ADAPTER`` is one of :data:`ADAPTERS`: the adapters on core's Redis layer, and
Litestar on its own ``ChannelsPlugin`` with Litestar's Redis pub/sub backend
(``litestar-channels``). Besides the behaviours' websocket routes (``/ws/echo``,
``/ws/room/{room}``, ``/ws/auth``), every app serves ``POST /announce/{room}`` (an event
to the room from an HTTP handler: 200, or 503 when the layer is unavailable) and
``GET /health`` (``{"ready": ...}``: subscribed to everything it needs).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chanx.core.layer import GroupLayer, LayerUnavailable
from chanx.core.redis import RedisGroupLayer
from tests.conformance.behaviours import NoticeEvent, Text

if TYPE_CHECKING:
    from litestar import Litestar

# Each server imports only its own framework (the module is imported by every server).
ADAPTERS = ["asgi", "starlette", "fastapi", "litestar", "litestar-channels"]


async def announce(consumer: Any, room: str, text: str) -> tuple[int, dict[str, str]]:
    """An event to ``room_<room>`` from an HTTP handler; 503 when the layer is down."""
    try:
        await consumer.broadcast_event(NoticeEvent(payload=Text(text=text)), f"room_{room}")
    except LayerUnavailable:
        return 503, {"error": "layer unavailable"}
    return 200, {"sent": room}


def ready(layer: GroupLayer) -> bool:
    failure = getattr(layer, "failure", None)  # Litestar's ChannelsPluginLayer
    return failure is None and bool(getattr(layer, "ready", True))


def starlette_routes(consumer: Any, layer: GroupLayer) -> list[Route]:
    async def announce_view(request: Request) -> JSONResponse:
        body = await request.json()
        status, reply = await announce(consumer, request.path_params["room"], body["text"])
        return JSONResponse(reply, status)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ready": ready(layer)})

    return [
        Route("/announce/{room}", announce_view, methods=["POST"]),
        Route("/health", health),
    ]


def build(adapter: str, url: str, prefix: str) -> Any:
    """The app of ``adapter`` on the Redis server at ``url``."""
    if adapter.startswith("litestar"):
        return litestar_app(adapter, url, prefix)
    layer = RedisGroupLayer(url, prefix=prefix, reconnect_max_delay=0.2)
    if adapter == "asgi":
        from chanx.core.binding import LayerMiddleware
        from tests.conformance.drivers import asgi

        router = asgi.build_router()
        router.routes.extend(starlette_routes(asgi.RoomConsumer, layer))
        return LayerMiddleware(router, layer)
    if adapter == "starlette":
        from tests.conformance.drivers import starlette as module
    elif adapter == "fastapi":
        from tests.conformance.drivers import fastapi as module  # type: ignore[no-redef]
    else:
        raise ValueError(f"unknown adapter {adapter!r}; one of {ADAPTERS}")
    app = module.build_app(layer)
    app.router.routes.extend(starlette_routes(module.RoomConsumer, layer))
    return app


def litestar_app(adapter: str, url: str, prefix: str) -> Litestar:
    from litestar import Response, get, post
    from litestar.channels import ChannelsPlugin
    from litestar.channels.backends.redis import RedisChannelsPubSubBackend
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    from chanx.ext.litestar import app_layer
    from tests.conformance.drivers import litestar

    if adapter == "litestar":
        app = litestar.create_app(
            layer=RedisGroupLayer(url, prefix=prefix, reconnect_max_delay=0.2)
        )
    else:
        # redis-py's default retries would hold the plugin's reader for seconds before
        # it gives up; one immediate retry shows the outage as soon as it happens.
        redis = Redis.from_url(url, retry=Retry(NoBackoff(), 1))
        backend = RedisChannelsPubSubBackend(redis=redis)
        channels = ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)
        app = litestar.create_app(channels, prefix=f"{prefix}.")

    @post("/announce/{room:str}")
    async def announce_handler(room: str, data: dict[str, str]) -> Any:
        status, reply = await announce(litestar.RoomConsumer, room, data["text"])
        return Response(reply, status_code=status)

    @get("/health")
    async def health() -> dict[str, bool]:
        return {"ready": ready(app_layer(app))}

    app.register(announce_handler)
    app.register(health)
    return app


def app_from_env() -> Any:
    """``uvicorn --factory`` entry point (see the module docstring)."""
    env = os.environ
    return build(env["CHANX_ADAPTER"], env["CHANX_REDIS_URL"], env["CHANX_PREFIX"])
