"""The Litestar example app: ``create_app(channels)`` for tests, ``app_from_env()`` to serve.

Serve it (two processes sharing Redis, say)::

    CHANX_BACKEND=redis uvicorn --factory examples.litestar_chat.app:app_from_env --port 8001
    CHANX_BACKEND=redis uvicorn --factory examples.litestar_chat.app:app_from_env --port 8002
"""

from __future__ import annotations

import logging
import os

from litestar import Litestar, post
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.exceptions import ServiceUnavailableException
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath, JSONBody

from chanx.core.layer import LayerUnavailable
from chanx.ext.litestar import ChanxPlugin, asyncapi_docs, requires_user
from chanx.ext.litestar.asyncapi import SECURITY_OPT
from examples.litestar_chat.auth import TOKEN_SCHEMES, TokenAuthMiddleware, admin_only
from examples.litestar_chat.consumers import AIConsumer, ChatConsumer, RoomChatConsumer
from examples.litestar_chat.messages import NotificationEvent, NotificationPayload

REDIS_URL = "redis://127.0.0.1:6379/0"
POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"


logger = logging.getLogger("examples.litestar_chat")


def unavailable(exc: LayerUnavailable) -> ServiceUnavailableException:
    """503 for the client; what failed (the backend's server) only in the log."""
    logger.warning("delivery failed: %s", exc)
    return ServiceUnavailableException(
        "the group layer is unreachable: connections in other processes did not get it"
    )


@post("/notify", guards=[admin_only], status_code=202)
async def notify(data: JSONBody[NotificationPayload]) -> None:
    """Admins notify every ``/ws/chat`` connection, in every process."""
    try:
        await ChatConsumer.broadcast_event(NotificationEvent(payload=data), groups="users")
    except LayerUnavailable as exc:  # the backend (Redis, PostgreSQL) is unreachable
        raise unavailable(exc) from exc


@post("/notify-sync", guards=[admin_only], status_code=202, sync_to_thread=True)
def notify_sync(data: JSONBody[NotificationPayload]) -> None:
    """The same from a synchronous handler (Litestar runs it in a worker thread)."""
    try:
        ChatConsumer.broadcast_event_sync(NotificationEvent(payload=data), groups="users")
    except LayerUnavailable as exc:
        raise unavailable(exc) from exc


@post("/direct/{channel_name:str}", guards=[admin_only], status_code=202)
async def direct(channel_name: FromPath[str], data: JSONBody[NotificationPayload]) -> None:
    """Notify one connection, by channel name, whichever process serves it."""
    try:
        await ChatConsumer.send_event(NotificationEvent(payload=data), channel_name)
    except LayerUnavailable as exc:
        raise unavailable(exc) from exc


def create_app(channels: ChannelsPlugin | None = None, *, prefix: str = "chanx.") -> Litestar:
    """The app on ``channels`` (default: an in-memory backend, one process)."""
    if channels is None:
        channels = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    return Litestar(
        route_handlers=[
            ChatConsumer.as_route_handler("/ws/chat"),
            ChatConsumer.as_route_handler("/ws/members", guards=[requires_user]),
            RoomChatConsumer.as_route_handler("/ws/room/{room_name:str}"),
            AIConsumer.as_route_handler("/ws/ai-chat"),
            notify,
            notify_sync,
            direct,
            # The websocket API's AsyncAPI document: /asyncapi, /asyncapi/asyncapi.json
            asyncapi_docs(title="chanx Litestar example", version="1.0.0"),
        ],
        middleware=[DefineMiddleware(TokenAuthMiddleware)],
        # Where TokenAuthMiddleware reads tokens, for the AsyncAPI document.
        opt={SECURITY_OPT: TOKEN_SCHEMES},
        plugins=[channels, ChanxPlugin(prefix=prefix)],
    )


def backend_from_env() -> ChannelsBackend:
    """``CHANX_BACKEND``: ``memory`` (default), ``redis`` (pub/sub), ``redis-streams``,
    ``asyncpg`` or ``psycopg``; ``REDIS_URL`` and ``POSTGRES_DSN`` say where."""
    kind = os.environ.get("CHANX_BACKEND", "memory")
    if kind == "memory":
        return MemoryChannelsBackend()
    if kind in ("redis", "redis-streams"):
        from litestar.channels.backends.redis import (
            RedisChannelsPubSubBackend,
            RedisChannelsStreamBackend,
        )
        from redis.asyncio import Redis

        redis = Redis.from_url(os.environ.get("REDIS_URL", REDIS_URL))
        if kind == "redis":
            return RedisChannelsPubSubBackend(redis=redis)
        return RedisChannelsStreamBackend(history=100, redis=redis)
    dsn = os.environ.get("POSTGRES_DSN", POSTGRES_DSN)
    if kind == "asyncpg":
        from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend

        return AsyncPgChannelsBackend(dsn)
    if kind == "psycopg":
        from litestar.channels.backends.psycopg import PsycoPgChannelsBackend

        return PsycoPgChannelsBackend(dsn)
    raise ValueError(f"unknown CHANX_BACKEND {kind!r}")


def app_from_env() -> Litestar:
    """The app on the backend the environment names (``CHANX_PREFIX`` too)."""
    channels = ChannelsPlugin(backend=backend_from_env(), arbitrary_channels_allowed=True)
    return create_app(channels, prefix=os.environ.get("CHANX_PREFIX", "chanx."))
