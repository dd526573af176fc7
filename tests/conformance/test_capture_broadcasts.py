"""``capture_broadcasts``: what a consumer class sends to groups and connections,
recorded with or without delivering it, with or without any connection."""

from __future__ import annotations

import pytest

from chanx.constants import EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.testing import CommunicatorError
from chanx.testing.broadcasts import Broadcast, capture_broadcasts
from tests.conformance.behaviours import (
    ECHO_PATH,
    NoticeEvent,
    NoticeReply,
    ShoutMessage,
    ShoutNotice,
    ShoutPayload,
    Text,
)
from tests.conformance.drivers import Driver


def shout(text: str, **options: bool) -> ShoutMessage:
    return ShoutMessage(payload=ShoutPayload(text=text, **options))


SAME_PROCESS = pytest.mark.same_process(
    "a consumer's broadcasts are recorded where it runs: not in a server of another process"
)


@SAME_PROCESS
async def test_broadcasts_are_recorded_and_delivered(driver: Driver) -> None:
    path = "/ws/room/capture"
    async with driver.communicator(path) as sender, driver.communicator(path) as member:
        async with capture_broadcasts(driver.room) as sent:
            await sender.send_message(shout("recorded", exclude_me=True))
            await member.assert_receives(ShoutNotice, text="recorded")
        assert sent == [
            Broadcast(
                "broadcast_message",
                ShoutNotice(payload=Text(text="recorded")),
                group="room_capture",
                exclude_current=True,
            )
        ]
        assert sent.to("room_capture") == [ShoutNotice(payload=Text(text="recorded"))]
        assert sent.assert_sent(ShoutNotice, group="room_capture", text="recorded")
        await member.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)


@SAME_PROCESS
async def test_without_delivery_nothing_reaches_the_members(driver: Driver) -> None:
    path = "/ws/room/muted"
    async with driver.communicator(path) as sender, driver.communicator(path) as member:
        async with capture_broadcasts(driver.room, deliver=False) as sent:
            await sender.send_message(shout("kept back"))
            assert await sender.receive_all_messages() == []  # only its `complete`
        sent.assert_sent(ShoutNotice, text="kept back")
        await member.refute_receives(ShoutNotice)
        # Restored afterwards: broadcasts go out again.
        await sender.send_message(shout("heard"))
        await member.assert_receives(ShoutNotice, text="heard")


async def test_events_from_outside_any_connection(driver: Driver) -> None:
    notice = NoticeEvent(payload=Text(text="to nobody"))
    async with capture_broadcasts(driver.room, deliver=False) as sent:
        await driver.broadcast_event(notice, ["room_a", "room_b"])
    assert [(b.method, b.group) for b in sent] == [
        ("broadcast_event", "room_a"),
        ("broadcast_event", "room_b"),
    ]
    assert sent.groups() == ["room_a", "room_b"]
    with pytest.raises(CommunicatorError, match="no NoticeEvent was sent to 'room_c'"):
        sent.assert_sent(NoticeEvent, group="room_c")
    sent.refute_sent(NoticeEvent, text="something else")


async def test_a_delivered_event_is_recorded_once_and_handled(driver: Driver) -> None:
    path = "/ws/room/recorded_event"
    async with driver.communicator(path) as member:
        async with capture_broadcasts(driver.room) as sent:
            await driver.broadcast_event(
                NoticeEvent(payload=Text(text="both")), ["room_recorded_event"]
            )
        assert len(sent) == 1
        got = await member.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [NoticeReply(payload=Text(text="both"))]


async def test_send_event_is_recorded_by_channel_name(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as target:
        channel = driver.channel_name_of(target)
        async with capture_broadcasts(driver.echo) as sent:
            await driver.send_event(NoticeEvent(payload=Text(text="direct")), channel)
        assert sent == [
            Broadcast("send_event", NoticeEvent(payload=Text(text="direct")), None, channel)
        ]
        got = await target.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [NoticeReply(payload=Text(text="direct"))]
