"""Which layer a consumer uses: per app, bound in context, started with the lifespan,
reachable from HTTP endpoints (async, sync, background tasks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from chanx.constants import EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.core.binding import running_bindings
from chanx.core.layer import Envelope
from chanx.core.memory import InMemoryGroupLayer, default_layer
from chanx.ext.fastapi import (
    app_layer,
    bind_layer,
    configure_layer,
    current_layer,
)
from chanx.ext.fastapi.testing import lifespan
from chanx.testing import WebsocketCommunicator
from examples.fastapi_chat.consumers import MembersConsumer, RoomChatConsumer, room_group
from examples.fastapi_chat.main import create_app
from examples.fastapi_chat.messages import (
    Announcement,
    AnnouncementEvent,
    AnnouncementPayload,
    ChatMessage,
    Notification,
    WhoAmIMessage,
)


def announcement(text: str) -> AnnouncementEvent:
    return AnnouncementEvent(payload=AnnouncementPayload(text=text))


def room(app: FastAPI, name: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(app, f"/ws/room/{name}", consumer=RoomChatConsumer)


def http(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture(autouse=True)
def nothing_left_running() -> Any:
    yield
    assert not running_bindings(), f"a test left an app running: {running_bindings()}"


async def test_two_apps_never_share_groups() -> None:
    first, second = create_app(), create_app()
    assert app_layer(first) is not app_layer(second)
    async with room(first, "same") as a1, room(first, "same") as a2, room(second, "same") as b:
        await a1.send_message(ChatMessage(payload={"message": "first app only"}))
        assert len(await a2.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)) == 1
        await b.receive_nothing(timeout=0.2)
        assert isinstance(app_layer(first), InMemoryGroupLayer)
        assert app_layer(first).members(room_group("same")) != []  # type: ignore[attr-defined]
        assert app_layer(second).members(room_group("same")) != []  # type: ignore[attr-defined]
        assert default_layer().members(room_group("same")) == []


async def test_class_level_sender_outside_the_app_needs_a_choice_when_two_run() -> None:
    first, second = create_app(), create_app()
    async with room(first, "pick") as on_first, room(second, "pick") as on_second:
        with pytest.raises(RuntimeError, match="bind_layer"):
            await RoomChatConsumer.broadcast_event(announcement("which?"), room_group("pick"))
        with bind_layer(second):
            await RoomChatConsumer.broadcast_event(announcement("second"), room_group("pick"))
        got = await on_second.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [Announcement(payload={"text": "second"})]
        await on_first.receive_nothing()


async def test_running_app_is_found_from_test_code_and_threads() -> None:
    app = create_app()
    async with lifespan(app), room(app, "found") as comm:
        assert current_layer() is app_layer(app)
        await asyncio.to_thread(
            RoomChatConsumer.broadcast_event_sync, announcement("thread"), room_group("found")
        )
        got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [Announcement(payload={"text": "thread"})]
    assert current_layer() is default_layer()


async def test_unconfigured_app_uses_the_core_default_layer() -> None:
    app = FastAPI()
    app.add_api_websocket_route("/ws/room/{room}", RoomChatConsumer.as_endpoint())
    async with room(app, "plain") as comm:
        assert default_layer().members(room_group("plain")) != []
        await RoomChatConsumer.broadcast_event(announcement("default"), room_group("plain"))
        assert len(await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)) == 1


async def test_class_attribute_layer_wins_over_the_app() -> None:
    own = InMemoryGroupLayer()

    class Pinned(RoomChatConsumer):
        layer = own

    app = create_app()
    app.add_api_websocket_route("/ws/pinned/{room}", Pinned.as_endpoint())
    async with WebsocketCommunicator(app, "/ws/pinned/p", consumer=Pinned):
        assert own.members(room_group("p")) != []
        assert app_layer(app).members(room_group("p")) == []  # type: ignore[attr-defined]


class RecordingLayer(InMemoryGroupLayer):
    """An in-memory layer that records its lifecycle."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    async def start(self) -> None:
        self.log.append("layer start")

    async def stop(self) -> None:
        self.log.append("layer stop")

    async def send_group(self, group: str, envelope: Envelope) -> None:
        self.log.append(f"send {group}")
        await super().send_group(group, envelope)


async def test_layer_starts_before_and_stops_after_the_apps_own_lifespan() -> None:
    log: list[str] = []
    seen_in_task: list[Any] = []

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.append("app startup")
        # Code in the lifespan, and tasks it starts, run with the app's layer bound.
        await RoomChatConsumer.broadcast_event(announcement("booting"), "room_boot")
        seen_in_task.append(await asyncio.create_task(_layer_seen()))
        yield
        log.append("app shutdown")

    app = FastAPI(lifespan=app_lifespan)
    layer = RecordingLayer(log)
    assert configure_layer(app, layer) is layer
    async with lifespan(app) as served:
        assert served is app
        log.append("serving")
    assert log == [
        "layer start",
        "app startup",
        "send room_boot",
        "serving",
        "app shutdown",
        "layer stop",
    ]
    assert seen_in_task == [layer]


async def _layer_seen() -> Any:
    return current_layer()


async def test_configuration_errors_are_clear() -> None:
    app = FastAPI()
    with pytest.raises(LookupError, match="configure_layer"):
        app_layer(app)
    configure_layer(app)
    with pytest.raises(RuntimeError, match="already"):
        configure_layer(app)
    with pytest.raises(TypeError, match="Redis URL"):
        configure_layer(FastAPI(), InMemoryGroupLayer(), prefix="x")


# ---------------------------------------------------------------------- HTTP endpoints


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/rooms/lobby/announce", 200),
        ("/rooms/lobby/announce-sync", 200),
        ("/rooms/lobby/announce-later", 202),
        ("/rooms/lobby/announce-later?sync=true", 202),
    ],
)
async def test_http_endpoints_broadcast_to_the_apps_connections(url: str, status: int) -> None:
    app, other_app = create_app(), create_app()
    async with (
        room(app, "lobby") as first,
        room(app, "lobby") as second,
        room(app, "kitchen") as elsewhere,
        room(other_app, "lobby") as other,
    ):
        async with http(app) as client:
            response = await client.post(url, json={"text": "doors open"})
        assert response.status_code == status
        for comm in (first, second):
            got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [Announcement(payload={"text": "doors open"})]
        await elsewhere.receive_nothing()
        await other.receive_nothing()


async def test_http_notify_a_user_and_one_connection() -> None:
    app = create_app()
    alice = {"authorization": "Bearer alice-token"}
    bob = {"authorization": "Bearer bob-token"}
    async with (
        WebsocketCommunicator(app, "/ws/members/a", headers=bob, consumer=MembersConsumer) as b1,
        WebsocketCommunicator(app, "/ws/members/b", headers=bob, consumer=MembersConsumer) as b2,
        http(app) as client,
    ):
        response = await client.post("/users/bob/notify", json={"text": "hi"}, headers=alice)
        assert response.status_code == 200
        for comm in (b1, b2):
            got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [Notification(payload={"text": "alice: hi"})]
        await b2.send_message(WhoAmIMessage())
        [identity] = await b2.receive_all_messages()
        channel_name = identity.payload.channel_name  # type: ignore[attr-defined]
        response = await client.post(
            f"/connections/{channel_name}/notify", json={"text": "you"}, headers=alice
        )
        assert response.status_code == 200
        got = await b2.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [Notification(payload={"text": "alice: you"})]
        await b1.receive_nothing()
        assert (await client.get("/me", headers=bob)).json() == {
            "username": "bob",
            "moderator": False,
        }
        assert (await client.post("/users/bob/notify", json={"text": "x"})).status_code == 401
