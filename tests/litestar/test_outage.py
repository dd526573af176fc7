"""The ChannelsPlugin layer when its backend goes away, in-process with a backend that
fails on demand (the same with a real Redis killed under two servers:
tests/redis/test_outage.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable
from typing import Any

import httpx
import pytest
from litestar import Litestar, post
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from chanx.constants import CLOSE_LAYER_UNAVAILABLE, GROUP_ACTION_COMPLETE
from chanx.core.layer import LayerUnavailable
from chanx.ext.litestar import BackendUnavailable, ChannelsPluginLayer, ChanxPlugin, app_layer
from chanx.ext.litestar.testing import lifespan
from chanx.testing import ConnectionClosed, WebsocketCommunicator
from tests.conformance.behaviours import NoticeEvent, ShoutMessage, ShoutPayload, Text
from tests.conformance.drivers.litestar import EchoConsumer, RoomConsumer


class FlakyBackend(MemoryChannelsBackend):
    """In memory; ``down`` makes publishing fail as a lost Redis does, ``lose()`` ends the
    event stream. (The Redis backend's stream ends with the connection error, which the
    plugin raises again when the app shuts down: tests/redis/test_outage.py has that.)"""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self._lost: asyncio.Future[None] | None = None

    def lose(self) -> None:
        assert self._lost is not None
        self._lost.set_result(None)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        if self.down:
            raise ConnectionRefusedError("Connection refused")
        await super().publish(data, channels)

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        self._lost = asyncio.get_running_loop().create_future()
        events = super().stream_events()
        while True:
            event = asyncio.ensure_future(anext(events))
            await asyncio.wait({event, self._lost}, return_when=asyncio.FIRST_COMPLETED)
            if self._lost.done():
                event.cancel()
                return
            yield event.result()


@post("/announce/{room:str}", status_code=200)
async def announce(room: FromPath[str]) -> None:
    try:
        await RoomConsumer.broadcast_event(NoticeEvent(payload=Text(text="hi")), f"room_{room}")
    except LayerUnavailable as exc:
        raise HTTPException(status_code=503, detail="layer unavailable") from exc


def build(backend: FlakyBackend) -> Litestar:
    return Litestar(
        route_handlers=[
            RoomConsumer.as_route_handler("/ws/room/{room:str}"),
            EchoConsumer.as_route_handler("/ws/echo"),
            announce,
        ],
        plugins=[
            ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True),
            ChanxPlugin(),
        ],
    )


def shout(text: str) -> ShoutMessage:
    return ShoutMessage(payload=ShoutPayload(text=text))


async def test_a_failed_publish_reaches_local_members_and_tells_the_handler() -> None:
    backend = FlakyBackend()
    async with lifespan(build(backend)) as app:
        path = "/ws/room/r"
        async with (
            WebsocketCommunicator(app, path) as sender,
            WebsocketCommunicator(app, path) as other,
        ):
            backend.down = True
            await sender.send_message(shout("during"))
            frames = await sender.receive_all_json()
            assert [f["action"] for f in frames] == ["shout_notice", "error"]
            assert frames[1]["payload"]["errors"][0]["type"] == "layer_unavailable"
            assert await other.receive_all_json(GROUP_ACTION_COMPLETE) == [frames[0]]
            backend.down = False
            await sender.send_message(shout("after"))
            assert [f["action"] for f in await sender.receive_all_json()] == ["shout_notice"]
        assert app_layer(app).failure is None  # type: ignore[attr-defined]


@pytest.fixture
def flaky() -> tuple[FlakyBackend, Litestar]:
    # Built in a fixture: Litestar configures logging when an app is created, which
    # would drop the handler pytest's caplog installs for the test itself.
    backend = FlakyBackend()
    return backend, build(backend)


async def test_when_the_plugin_stops_reading_every_connection_is_closed_and_new_ones_refused(
    flaky: tuple[FlakyBackend, Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    backend, unstarted = flaky
    async with lifespan(unstarted) as app:
        layer = app_layer(app)
        assert isinstance(layer, ChannelsPluginLayer)
        async with WebsocketCommunicator(app, "/ws/room/r") as member:
            backend.lose()
            with pytest.raises(ConnectionClosed) as closed:
                await member.receive_json()
            assert closed.value.code == CLOSE_LAYER_UNAVAILABLE
        assert layer.failure is not None
        assert (
            layer.failure
            == "the ChannelsPlugin stopped reading its backend (its event stream ended)"
        )
        assert "restart the process" in caplog.text

        late = WebsocketCommunicator(app, "/ws/echo")
        assert (await late.connect())[0]
        await late.receive_nothing()
        assert late.close_code == CLOSE_LAYER_UNAVAILABLE
        await late.disconnect()

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.post("/announce/r")).status_code == 503
        with pytest.raises(BackendUnavailable, match="restart the process"):
            await RoomConsumer.broadcast_event(NoticeEvent(payload=Text(text="x")), "room_r")
