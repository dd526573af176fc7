"""The whole conformance suite again, on core's Redis layer, for every adapter whose
apps take a chanx layer (plain ASGI, Starlette, FastAPI, Litestar): two apps share groups
through Redis, connections alternate between them, and events are sent from the first
app's side, so every group scenario crosses "processes" through Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest

from chanx.core.binding import bind_layer
from chanx.core.redis import RedisGroupLayer
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator, lifespan
from tests.conformance.drivers import Driver
from tests.conformance.drivers.asgi import DRIVER as ASGI
from tests.conformance.drivers.fastapi import DRIVER as FASTAPI
from tests.conformance.drivers.litestar import DRIVER as LITESTAR
from tests.conformance.drivers.starlette import DRIVER as STARLETTE
from tests.conformance.test_aliases import *  # noqa: F403
from tests.conformance.test_as_user import *  # noqa: F403
from tests.conformance.test_auth import *  # noqa: F403
from tests.conformance.test_bad_input import *  # noqa: F403
from tests.conformance.test_close_codes import *  # noqa: F403
from tests.conformance.test_events import *  # noqa: F403
from tests.conformance.test_groups import *  # noqa: F403
from tests.conformance.test_messages import *  # noqa: F403
from tests.conformance.test_origins import *  # noqa: F403
from tests.conformance.test_settle import *  # noqa: F403
from tests.conformance.test_slow_reader import *  # noqa: F403

pytestmark = pytest.mark.redis

ADAPTERS = [ASGI, FASTAPI, LITESTAR, STARLETTE]


class TwoAppsOnRedis(Driver):
    settles = False  # messages cross a real backend
    """Two apps of one adapter, each with its own Redis layer on one prefix."""

    def __init__(self, adapter: Driver, url: str, prefix: str) -> None:
        self.name = f"{adapter.name}-redis"
        self.adapter = adapter
        self.echo, self.room, self.auth = adapter.echo, adapter.room, adapter.auth
        self.broken = adapter.broken
        self.group_rule = adapter.group_rule
        self.url, self.prefix = url, prefix
        self.apps: list[Any] = []
        self.layers: list[RedisGroupLayer] = []
        self.opened = 0

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for _ in range(2):
                layer = RedisGroupLayer(self.url, prefix=self.prefix)
                app = self.adapter.app_with_layer(layer)
                await stack.enter_async_context(lifespan(app))
                self.apps.append(app)
                self.layers.append(layer)
            yield

    def communicator(
        self, path: str, headers: Mapping[str, str] | None = None, **options: Any
    ) -> WebsocketCommunicator:
        app = self.apps[self.opened % 2]
        self.opened += 1
        return WebsocketCommunicator(app, path, headers=headers, **options)

    async def broadcast_event(self, event: BaseMessage, groups: list[str]) -> None:
        with bind_layer(self.layers[0]):
            await self.room.broadcast_event(event, groups)

    def broadcast_event_sync(self, event: BaseMessage, groups: list[str]) -> None:
        with bind_layer(self.layers[0]):
            self.room.broadcast_event_sync(event, groups)

    async def send_event(self, event: BaseMessage, channel_name: str) -> None:
        with bind_layer(self.layers[0]):
            await self.echo.send_event(event, channel_name)


@pytest.fixture(params=ADAPTERS, ids=[adapter.name for adapter in ADAPTERS])
async def driver(
    request: pytest.FixtureRequest, redis_url: str, prefix: str
) -> AsyncIterator[TwoAppsOnRedis]:
    selected = TwoAppsOnRedis(request.param, redis_url, prefix)
    async with selected.running():
        yield selected
