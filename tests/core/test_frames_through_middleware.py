"""A consumer's text frames skip the framework's own ``send`` wrappers (Starlette's
``WebSocket.send``, Litestar's ``WebSocket`` and exception-handler wrappers) but never
the app's middleware: ASGI middleware wrapping ``send``, on the app or on the route, sees
every frame, in order, and the framework's connection object still sees the close."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from litestar import Litestar
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.websockets import WebSocketState

from chanx.core.types import ASGIReceive, ASGISend, Scope
from chanx.ext import fastapi as chanx_fastapi
from chanx.ext import litestar as chanx_litestar
from chanx.ext import starlette as chanx_starlette
from chanx.ext.litestar.testing import lifespan as litestar_lifespan
from chanx.ext.litestar.testing import memory_channels
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import WebsocketCommunicator

SEEN: dict[str, list[str]] = {}
"""Text frames each recording middleware passed on, by its name."""


class Recording:
    """ASGI middleware that records the text of every ``websocket.send`` it passes on."""

    def __init__(self, app: Any, name: str) -> None:
        self.app = app
        self.seen = SEEN.setdefault(name, [])

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        async def recording(message: Any) -> None:
            if message["type"] == "websocket.send":
                self.seen.append(message["text"])
            await send(message)

        await self.app(scope, receive, recording)


def recording(name: str) -> Any:
    """A Litestar middleware factory for :class:`Recording`."""
    return lambda app: Recording(app, name)


class StarletteConsumer(chanx_starlette.AsyncJsonWebsocketConsumer):
    send_completion = True


class FastAPIConsumer(chanx_fastapi.AsyncJsonWebsocketConsumer):
    send_completion = True


class LitestarConsumer(chanx_litestar.AsyncJsonWebsocketConsumer):
    send_completion = True


@pytest.fixture(autouse=True)
def fresh_records() -> None:
    SEEN.clear()


async def ping_twice(app: Any) -> None:
    """Connect, have two pings answered, disconnect."""
    comm = WebsocketCommunicator(app, "/ws")
    await comm.connect()
    for _ in range(2):
        await comm.send_message(PingMessage())
        assert await comm.receive_all_messages() == [PongMessage()]
    await comm.disconnect()


def pongs_and_completions(seen: list[str]) -> list[str]:
    return [text for text in seen if '"pong"' in text or '"complete"' in text]


async def test_starlette_app_middleware_sees_every_frame() -> None:
    app = Starlette(
        routes=[StarletteConsumer.as_route("/ws")],
        middleware=[Middleware(Recording, name="app")],
    )
    await ping_twice(app)
    assert len(pongs_and_completions(SEEN["app"])) == 4  # pong, complete, twice


async def test_starlette_websocket_sees_the_close() -> None:
    sockets: list[Any] = []

    class Closing(StarletteConsumer):
        async def post_authentication(self) -> None:
            sockets.append(self.websocket)
            await self.close(4000)

    app = Starlette(routes=[Closing.as_route("/ws")])
    comm = WebsocketCommunicator(app, "/ws")
    await comm.connect()
    await comm.assert_closed(4000)
    assert sockets[0].application_state is WebSocketState.DISCONNECTED


async def test_fastapi_app_middleware_sees_every_frame() -> None:
    app = FastAPI()
    app.add_middleware(Recording, name="app")  # type: ignore[arg-type]
    app.add_api_websocket_route("/ws", FastAPIConsumer.as_endpoint())
    await ping_twice(app)
    assert len(pongs_and_completions(SEEN["app"])) == 4


@pytest.fixture
async def litestar_app() -> AsyncIterator[Litestar]:
    app = Litestar(
        route_handlers=[LitestarConsumer.as_route_handler("/ws", middleware=[recording("route")])],
        middleware=[recording("app")],
        plugins=[memory_channels(), chanx_litestar.ChanxPlugin()],
    )
    async with litestar_lifespan(app):
        yield app


async def test_litestar_app_and_route_middleware_see_every_frame(litestar_app: Litestar) -> None:
    await ping_twice(litestar_app)
    assert len(pongs_and_completions(SEEN["app"])) == 4
    assert SEEN["route"] == SEEN["app"]
