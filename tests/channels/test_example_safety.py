"""The Django example against a client that probes it: room names from the URL all work
(they go through ``group_name``), and fuzzed frames never come back in an error."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from chanx.constants import GROUP_ACTION_COMPLETE
from chanx.ext.channels.testing import WebsocketTestCase
from chanx.testing import WebsocketCommunicator
from examples.django_chat.asgi import application as example_application
from examples.django_chat.chat.consumers import ChatConsumer, RoomConsumer
from examples.django_chat.chat.messages import RoomNotice, SayMessage, SayPayload
from tests.fuzz import check_schema_frame, for_each_example, frames_for

ORIGIN = {"origin": "http://testserver"}


@pytest.mark.parametrize("room", ["a b", "x" * 200, "café", "\U0001f389", "q'\"<>"])
async def test_any_room_name_from_the_url_is_a_room(room: str) -> None:
    path = f"/ws/rooms/{quote(room, safe='')}/"
    async with (
        WebsocketCommunicator(example_application, path, ORIGIN, consumer=RoomConsumer) as one,
        WebsocketCommunicator(example_application, path, ORIGIN, consumer=RoomConsumer) as two,
        WebsocketCommunicator(
            example_application, "/ws/rooms/a_b/", ORIGIN, consumer=RoomConsumer
        ) as look_alike,
    ):
        await one.send_message(SayMessage(payload=SayPayload(text="hi")))
        expected = [RoomNotice(payload=SayPayload(text="hi"))]
        assert await two.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
        await look_alike.receive_nothing()


async def test_errors_never_echo_fuzzed_room_frames() -> None:
    async def check(frame: str) -> None:
        async with WebsocketCommunicator(
            example_application, "/ws/rooms/fuzz/", ORIGIN, consumer=RoomConsumer
        ) as comm:
            await check_schema_frame(comm, frame)

    await for_each_example(frames_for(RoomConsumer.message_handlers.inputs()), check)


class TestChatFuzz(WebsocketTestCase):
    consumer = ChatConsumer
    ws_path = "/ws/chat/"

    async def test_errors_never_echo_fuzzed_chat_frames(self) -> None:
        _, headers = await self.acreate_user_and_ws_headers()

        async def check(frame: str) -> None:
            comm = self.create_communicator(headers=headers)
            await comm.connect()
            await comm.assert_authenticated_status_ok()
            await check_schema_frame(comm, frame)
            await comm.disconnect()

        await for_each_example(frames_for(ChatConsumer.message_handlers.inputs()), check)
