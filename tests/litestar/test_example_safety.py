"""The Litestar example against a client that probes it: room names from the URL all work
(they go through ``group_name``), and fuzzed frames never come back in an error."""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx
import pytest
from litestar import Litestar

from chanx.constants import GROUP_ACTION_COMPLETE
from chanx.core.layer import Envelope
from chanx.core.memory import InMemoryGroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.ext.litestar import BackendUnavailable
from chanx.testing import WebsocketCommunicator
from examples.litestar_chat.consumers import AIConsumer, ChatConsumer, RoomChatConsumer
from examples.litestar_chat.messages import ChatMessage, ChatPayload
from tests.fuzz import check_schema_frame, for_each_example, frames_for


@pytest.mark.parametrize("room", ["a b", "x" * 200, "café", "\U0001f389", "nul\x00"])
async def test_any_room_name_from_the_url_is_a_room(app: Litestar, room: str) -> None:
    path = "/ws/room/" + quote(room, safe="")
    async with (
        WebsocketCommunicator(app, path, consumer=RoomChatConsumer) as one,
        WebsocketCommunicator(app, path, consumer=RoomChatConsumer) as two,
        WebsocketCommunicator(app, "/ws/room/a_b", consumer=RoomChatConsumer) as look_alike,
    ):
        await one.send_message(ChatMessage(payload=ChatPayload(message="hi")))
        [got] = await two.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        assert got.payload.message == "hi"  # type: ignore[attr-defined]
        await look_alike.receive_nothing()


@pytest.mark.parametrize(
    ("path", "consumer"),
    [("/ws/chat", ChatConsumer), ("/ws/room/fuzz", RoomChatConsumer), ("/ws/ai-chat", AIConsumer)],
)
async def test_errors_never_echo_fuzzed_frames(
    app: Litestar, path: str, consumer: type[AsyncJsonWebsocketConsumer]
) -> None:
    async def check(frame: str) -> None:
        async with WebsocketCommunicator(app, path, consumer=consumer) as comm:
            await check_schema_frame(comm, frame)

    await for_each_example(frames_for(consumer.message_handlers.inputs()), check)


class Unreachable(InMemoryGroupLayer):
    """Every send fails as a layer's do while its service is down."""

    async def send_group(self, group: str, envelope: Envelope) -> None:
        raise BackendUnavailable("redis://10.1.2.3:6379/0 refused the connection")

    async def send_to(self, channel_name: str, envelope: Envelope) -> None:
        await self.send_group(channel_name, envelope)


@pytest.mark.parametrize("path", ["/notify", "/notify-sync", "/direct/x"])
async def test_http_senders_answer_503_while_the_layer_is_unreachable(
    app: Litestar, path: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ChatConsumer, "layer", Unreachable())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://testserver"
    ) as client:
        with caplog.at_level(logging.WARNING):
            reply = await client.post(
                path, json={"message": "hi"}, headers={"authorization": "Bearer alice-token"}
            )
    assert reply.status_code == 503
    assert (
        reply.json()["detail"]
        == "the group layer is unreachable: connections in other processes did not get it"
    )
    assert "10.1.2.3" not in reply.text
    assert "10.1.2.3" in caplog.text  # for the operator, in the log
