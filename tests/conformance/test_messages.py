"""Request/response: routing, replies, streaming, completion timing."""

from __future__ import annotations

from chanx.constants import MESSAGE_ACTION_COMPLETE
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from tests.conformance.behaviours import (
    ECHO_PATH,
    CountMessage,
    CountReply,
    EchoMessage,
    EchoReply,
    Text,
)
from tests.conformance.drivers import Driver


async def test_ping_gets_pong_then_complete(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(PingMessage())
        assert await comm.receive_json() == {"action": "pong", "payload": None}
        assert await comm.receive_json() == {"action": MESSAGE_ACTION_COMPLETE, "payload": None}
        await comm.receive_nothing()


async def test_ping_through_receive_all_messages(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(PingMessage())
        messages = await comm.receive_all_messages()
        assert messages == [PongMessage()]


async def test_echo_returns_typed_reply(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(EchoMessage(payload=Text(text="hello")))
        messages = await comm.receive_all_messages()
        assert messages == [EchoReply(payload=Text(text="hello"))]


async def test_streaming_handler_sends_each_item_before_complete(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(CountMessage(payload=3))
        frames = [await comm.receive_json() for _ in range(4)]
        assert [f["action"] for f in frames] == ["count_reply"] * 3 + ["complete"]
        assert [f["payload"] for f in frames[:3]] == [0, 1, 2]


async def test_zero_item_stream_still_completes(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(CountMessage(payload=0))
        assert await comm.receive_all_messages() == []


async def test_messages_are_answered_in_order(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        for word in ("one", "two", "three"):
            await comm.send_message(EchoMessage(payload=Text(text=word)))
        replies = []
        for _ in range(3):
            replies += await comm.receive_all_messages()
        assert [r.payload.text for r in replies] == ["one", "two", "three"]  # type: ignore[attr-defined]


async def test_custom_stop_action_includes_that_message(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(CountMessage(payload=5))
        head = await comm.receive_all_messages(stop_action="count_reply")
        assert head == [CountReply(payload=0)]
        rest = await comm.receive_all_messages()
        assert [m.payload for m in rest] == [1, 2, 3, 4]


async def test_two_connections_do_not_share_replies(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as first, driver.communicator(ECHO_PATH) as second:
        await first.send_message(EchoMessage(payload=Text(text="mine")))
        assert await first.receive_all_messages() == [EchoReply(payload=Text(text="mine"))]
        await second.receive_nothing()
