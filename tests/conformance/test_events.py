"""Server-side events: from outside any connection, to groups and to one connection."""

from __future__ import annotations

import asyncio

from chanx.constants import EVENT_ACTION_COMPLETE
from tests.conformance.behaviours import (
    ECHO_PATH,
    CountMessage,
    NoticeEvent,
    NoticeReply,
    SecretEvent,
    Text,
)
from tests.conformance.drivers import Driver


def notice(text: str) -> NoticeEvent:
    return NoticeEvent(payload=Text(text=text))


async def test_broadcast_event_reaches_each_member_then_event_complete(driver: Driver) -> None:
    path = "/ws/room/events"
    async with driver.communicator(path) as first, driver.communicator(path) as second:
        await driver.broadcast_event(notice("system"), ["room_events"])
        for comm in (first, second):
            frames = [await comm.receive_json() for _ in range(2)]
            assert frames == [
                {"action": "notice", "payload": {"text": "system"}},
                {"action": EVENT_ACTION_COMPLETE, "payload": None},
            ]


async def test_broadcast_event_parsed_with_receive_all_messages(driver: Driver) -> None:
    async with driver.communicator("/ws/room/parsed") as comm:
        await driver.broadcast_event(notice("typed"), ["room_parsed"])
        messages = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert messages == [NoticeReply(payload=Text(text="typed"))]


async def test_broadcast_event_sync_from_another_thread(driver: Driver) -> None:
    async with driver.communicator("/ws/room/threads") as comm:
        event = notice("from a thread")
        await asyncio.to_thread(driver.broadcast_event_sync, event, ["room_threads"])
        messages = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert messages == [NoticeReply(payload=Text(text="from a thread"))]


async def test_send_event_reaches_one_connection_only(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as target, driver.communicator(ECHO_PATH) as other:
        await driver.send_event(notice("just you"), driver.channel_name_of(target))
        messages = await target.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert messages == [NoticeReply(payload=Text(text="just you"))]
        await other.receive_nothing(timeout=0.2)


async def test_event_without_handler_is_ignored(driver: Driver) -> None:
    async with driver.communicator("/ws/room/secret") as comm:
        await driver.broadcast_event(SecretEvent(), ["room_secret"])
        await driver.broadcast_event(notice("after the secret"), ["room_secret"])
        messages = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert messages == [NoticeReply(payload=Text(text="after the secret"))]


async def test_event_to_an_empty_group_is_a_no_op(driver: Driver) -> None:
    await driver.broadcast_event(notice("nobody"), ["room_nobody_here"])


async def test_event_waits_for_a_running_handler(driver: Driver) -> None:
    """Handlers never run side by side on one connection: the event's reply comes after
    the whole streamed answer of the message being handled."""
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(CountMessage(payload=20))
        first = await comm.receive_json()
        assert first["action"] == "count_reply"
        await driver.send_event(notice("later"), driver.channel_name_of(comm))
        frames = [first]
        while not frames or frames[-1]["action"] != EVENT_ACTION_COMPLETE:
            frames.append(await comm.receive_json())
        actions = [f["action"] for f in frames]
        assert actions == ["count_reply"] * 20 + ["complete", "notice", EVENT_ACTION_COMPLETE]
