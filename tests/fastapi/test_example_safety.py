"""The FastAPI example against a client that probes it: members-only rooms stay private,
room names from the URL all work, and fuzzed frames never come back in an error."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from chanx.constants import EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.core.layer import Envelope, LayerUnavailable
from chanx.core.memory import InMemoryGroupLayer
from chanx.ext.fastapi.testing import lifespan
from chanx.testing import WebsocketCommunicator
from examples.fastapi_chat.consumers import (
    AIConsumer,
    ChatConsumer,
    MembersConsumer,
    RoomChatConsumer,
)
from examples.fastapi_chat.main import create_app
from examples.fastapi_chat.messages import ChatMessage, ClearRoomMessage, WhoAmIMessage
from tests.fuzz import check_schema_frame, for_each_example, frames_for

BOB = {"authorization": "Bearer bob-token"}
ALICE = {"authorization": "Bearer alice-token"}  # a moderator


@pytest.fixture
async def app() -> AsyncIterator[FastAPI]:
    async with lifespan(create_app()) as running:
        yield running


async def test_an_anonymous_client_cannot_read_a_members_room_of_the_same_name(
    app: FastAPI,
) -> None:
    async with (
        WebsocketCommunicator(app, "/ws/room/boardroom", consumer=RoomChatConsumer) as anon,
        WebsocketCommunicator(
            app, "/ws/members/boardroom", headers=BOB, consumer=MembersConsumer
        ) as bob,
        WebsocketCommunicator(
            app, "/ws/members/boardroom", headers=ALICE, consumer=MembersConsumer
        ) as alice,
    ):
        await bob.send_message(ChatMessage(payload={"message": "members only"}))
        for member in (alice, bob):
            [relayed] = await member.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert relayed.payload.message == "members only"  # type: ignore[attr-defined]
        await bob.receive_all_messages()  # its `complete`
        await alice.send_message(ClearRoomMessage())
        for member in (bob, alice):
            [cleared] = await member.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert cleared.action == "room_cleared"
        await alice.receive_all_messages()
        # ... and the public room of the same name heard none of it, nor the other way.
        await anon.receive_nothing()
        await anon.send_message(ChatMessage(payload={"message": "public"}))
        await anon.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        await bob.receive_nothing()
        await alice.receive_nothing()


@pytest.mark.parametrize("room", ["a b", "x" * 200, "café", "\U0001f389", "new\nline"])
async def test_any_room_name_from_the_url_is_a_room(app: FastAPI, room: str) -> None:
    path = "/ws/room/" + quote(room, safe="")
    async with (
        WebsocketCommunicator(app, path, consumer=RoomChatConsumer) as first,
        WebsocketCommunicator(app, path, consumer=RoomChatConsumer) as second,
        WebsocketCommunicator(app, "/ws/room/a_b", consumer=RoomChatConsumer) as look_alike,
    ):
        await first.send_message(ChatMessage(payload={"message": "hi"}))
        [relayed] = await second.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        assert relayed.payload.message == "hi"  # type: ignore[attr-defined]
        await look_alike.receive_nothing()


@pytest.mark.parametrize(
    ("path", "consumer", "headers"),
    [
        ("/ws/chat", ChatConsumer, {}),
        ("/ws/room/fuzz", RoomChatConsumer, {}),
        ("/ws/ai-chat", AIConsumer, {}),
        ("/ws/members/fuzz", MembersConsumer, ALICE),
    ],
)
async def test_errors_never_echo_fuzzed_frames(
    app: FastAPI, path: str, consumer: type[RoomChatConsumer], headers: dict[str, str]
) -> None:
    async def check(frame: str) -> None:
        async with WebsocketCommunicator(app, path, headers=headers, consumer=consumer) as comm:
            await check_schema_frame(comm, frame)

    await for_each_example(frames_for(consumer.message_handlers.inputs()), check)


SECRET_HOST = "redis://10.1.2.3:6379/0"


class Unreachable(InMemoryGroupLayer):
    """Every send fails as the Redis layer's do while Redis is down (the error names
    the server)."""

    async def send_group(self, group: str, envelope: Envelope) -> None:
        raise LayerUnavailable(f"chanx could not publish to Redis at {SECRET_HOST}: refused")

    async def send_to(self, channel_name: str, envelope: Envelope) -> None:
        await self.send_group(channel_name, envelope)


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch) -> None:
    layer = Unreachable()
    for consumer in (RoomChatConsumer, MembersConsumer):
        monkeypatch.setattr(consumer, "layer", layer)


@pytest.mark.parametrize(
    "path",
    [
        "/rooms/lobby/announce",
        "/rooms/lobby/announce-sync",
        "/users/bob/notify",
        "/connections/x/notify",
    ],
)
@pytest.mark.usefixtures("outage")
async def test_http_senders_answer_503_without_naming_the_layer_s_server(
    app: FastAPI, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://testserver"
    ) as client:
        with caplog.at_level(logging.WARNING):
            reply = await client.post(path, json={"text": "hi"}, headers=ALICE)
    assert reply.status_code == 503
    assert reply.json() == {
        "detail": "the group layer is unreachable: connections in other processes did not get it"
    }
    assert SECRET_HOST in caplog.text  # for the operator, in the log


@pytest.mark.parametrize("query", ["", "?sync=true"])
@pytest.mark.usefixtures("outage")
async def test_background_announcements_during_an_outage_are_logged_not_raised(
    app: FastAPI, query: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://testserver"
    ) as client:
        with caplog.at_level(logging.WARNING):
            reply = await client.post(f"/rooms/lobby/announce-later{query}", json={"text": "hi"})
    assert reply.status_code == 202
    [line] = [r for r in caplog.records if "not delivered" in r.getMessage()]
    assert line.getMessage().startswith("announcement to room 'lobby' not delivered")
    assert line.exc_info is None


async def test_only_a_logged_in_user_notifies_a_connection_and_is_named(app: FastAPI) -> None:
    """``/connections/{channel_name}/notify`` reaches any connection whose channel name
    the caller knows: anonymous callers are refused, and the text says who sent it."""
    async with (
        WebsocketCommunicator(
            app, "/ws/members/board", headers=ALICE, consumer=MembersConsumer
        ) as alice,
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as http,
    ):
        await alice.send_message(WhoAmIMessage())
        [me] = await alice.receive_all_messages()
        target = f"/connections/{me.payload.channel_name}/notify"  # type: ignore[attr-defined]
        anonymous = await http.post(target, json={"text": "reset your password"})
        assert anonymous.status_code == 401
        await alice.receive_nothing()
        signed = await http.post(target, json={"text": "hi"}, headers=BOB)
        assert signed.status_code == 200
        [notice] = await alice.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert notice.payload.text == "bob: hi"  # type: ignore[attr-defined]
