"""The whole conformance suite again, on two FastAPI apps that share groups through the
Redis layer: connections alternate between the apps, so every group scenario crosses
"processes" through Redis, and events are sent from the first app's side."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from fastapi import FastAPI

from chanx.ext.fastapi import bind_layer, configure_layer
from chanx.ext.fastapi.redis import RedisGroupLayer
from chanx.ext.fastapi.testing import lifespan
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator
from tests.conformance.drivers.fastapi import FastAPIDriver, build_app
from tests.conformance.test_auth import *  # noqa: F403
from tests.conformance.test_bad_input import *  # noqa: F403
from tests.conformance.test_events import *  # noqa: F403
from tests.conformance.test_groups import *  # noqa: F403
from tests.conformance.test_messages import *  # noqa: F403
from tests.conformance.test_slow_reader import *  # noqa: F403

pytestmark = pytest.mark.redis


class TwoAppsOnRedis(FastAPIDriver):
    name = "fastapi-redis"

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__()
        self.url, self.prefix = url, prefix
        self.apps: list[FastAPI] = []
        self.opened = 0

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for _ in range(2):
                app = build_app(configure=False)
                configure_layer(app, RedisGroupLayer(self.url, prefix=self.prefix))
                await stack.enter_async_context(lifespan(app))
                self.apps.append(app)
            yield

    def communicator(
        self, path: str, headers: Mapping[str, str] | None = None
    ) -> WebsocketCommunicator:
        app = self.apps[self.opened % 2]
        self.opened += 1
        return WebsocketCommunicator(app, path, headers=headers)

    async def broadcast_event(self, event: BaseMessage, groups: list[str]) -> None:
        with bind_layer(self.apps[0]):
            await self.room.broadcast_event(event, groups)

    def broadcast_event_sync(self, event: BaseMessage, groups: list[str]) -> None:
        with bind_layer(self.apps[0]):
            self.room.broadcast_event_sync(event, groups)

    async def send_event(self, event: BaseMessage, channel_name: str) -> None:
        with bind_layer(self.apps[0]):
            await self.echo.send_event(event, channel_name)


@pytest.fixture
async def driver(redis_url: str, prefix: str) -> AsyncIterator[TwoAppsOnRedis]:
    selected = TwoAppsOnRedis(redis_url, prefix)
    async with selected.running():
        yield selected
