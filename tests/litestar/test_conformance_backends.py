"""The conformance group and event scenarios across two apps on one real backend.

Connections alternate between app A and app B (two chanx layers, as two server processes
would have), and events are sent from B: so every broadcast, ``exclude_current`` and
``send_event`` below crosses the backend (Redis pub/sub, Redis streams, PostgreSQL
LISTEN/NOTIFY through asyncpg and psycopg).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from litestar import Litestar

from chanx.ext.litestar import bind_layer
from chanx.ext.litestar.testing import lifespan
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator
from tests.conformance.drivers import Driver
from tests.conformance.drivers.litestar import (
    AuthConsumer,
    BrokenConsumer,
    EchoConsumer,
    RoomConsumer,
    create_app,
)
from tests.conformance.test_aliases import test_events_use_aliases, test_group_messages_use_aliases  # noqa: F401
from tests.conformance.test_auth import (  # noqa: F401
    test_refused_connection_never_joins_groups,
)
from tests.conformance.test_events import *  # noqa: F403
from tests.conformance.test_groups import *  # noqa: F403
from tests.conformance.test_settle import (  # noqa: F401
    test_settle_follows_a_broadcast_to_every_member,
    test_settle_follows_events_to_every_member,
    test_where_it_cannot_be_proven_settle_waits_out_its_timeout,
)
from tests.conformance.test_slow_reader import *  # noqa: F403
from tests.litestar.backends import (
    POSTGRES_BACKENDS,
    backend,
    channels_plugin,
    marks_for,
    unique_prefix,
)


class TwoAppsDriver(Driver):
    settles = False  # messages cross a real backend
    """Two apps sharing one backend; communicators alternate A, B, A, ..."""

    echo = EchoConsumer
    room = RoomConsumer
    auth = AuthConsumer
    broken = BrokenConsumer

    def __init__(self, kind: str) -> None:
        self.name = f"litestar-{kind}"
        self.kind = kind
        self.apps: list[Litestar] = []
        self._next = 0

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        prefix = unique_prefix()
        async with AsyncExitStack() as stack:
            for _ in range(2):
                chosen = await stack.enter_async_context(backend(self.kind))
                app = create_app(channels_plugin(chosen), prefix)
                self.apps.append(await stack.enter_async_context(lifespan(app)))
            yield

    def communicator(
        self, path: str, headers: Mapping[str, str] | None = None, **options: Any
    ) -> WebsocketCommunicator:
        app = self.apps[self._next % 2]
        self._next += 1
        return WebsocketCommunicator(app, path, headers=headers, **options)

    async def broadcast_event(self, event: BaseMessage, groups: list[str]) -> None:
        with bind_layer(self.apps[1]):
            await self.room.broadcast_event(event, groups)

    def broadcast_event_sync(self, event: BaseMessage, groups: list[str]) -> None:
        with bind_layer(self.apps[1]):
            self.room.broadcast_event_sync(event, groups)

    async def send_event(self, event: BaseMessage, channel_name: str) -> None:
        with bind_layer(self.apps[1]):
            await self.echo.send_event(event, channel_name)


@pytest.fixture(
    params=[pytest.param(kind, marks=marks_for(kind)) for kind in ["redis", *POSTGRES_BACKENDS]]
)
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[Driver]:
    selected = TwoAppsDriver(request.param)
    async with selected.running():
        yield selected
