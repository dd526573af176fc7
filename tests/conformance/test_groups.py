"""Groups: room broadcast, exclude_current, isolation, leaving on disconnect, group names."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from chanx.constants import CLOSE_INVALID_GROUP, GROUP_ACTION_COMPLETE
from chanx.core.escape import for_log
from chanx.messages.incoming import PingMessage
from tests.conformance.behaviours import (
    EnterMessage,
    ShoutMessage,
    ShoutNotice,
    ShoutPayload,
    Text,
)
from tests.conformance.drivers import Driver


def shout(text: str, exclude_me: bool = False) -> ShoutMessage:
    return ShoutMessage(payload=ShoutPayload(text=text, exclude_me=exclude_me))


async def test_broadcast_reaches_every_member_including_sender(driver: Driver) -> None:
    path = "/ws/room/lobby"
    async with driver.communicator(path) as first, driver.communicator(path) as second:
        await first.send_message(shout("hello"))
        expected = [ShoutNotice(payload=Text(text="hello"))]
        assert await first.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
        assert await second.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
        assert await first.receive_all_messages() == []  # then the sender's own `complete`
        await second.receive_nothing()


async def test_exclude_current_skips_the_sender_only(driver: Driver) -> None:
    path = "/ws/room/quiet"
    async with (
        driver.communicator(path) as sender,
        driver.communicator(path) as other,
        driver.communicator(path) as third,
    ):
        await sender.send_message(shout("psst", exclude_me=True))
        assert await sender.receive_all_messages() == []
        await sender.receive_nothing()
        for receiver in (other, third):
            got = await receiver.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert got == [ShoutNotice(payload=Text(text="psst"))]


async def test_rooms_are_isolated(driver: Driver) -> None:
    async with (
        driver.communicator("/ws/room/red") as red,
        driver.communicator("/ws/room/blue") as blue,
    ):
        await red.send_message(shout("red only"))
        assert len(await red.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)) == 1
        await red.receive_all_messages()
        await blue.receive_nothing(timeout=0.2)


async def test_group_complete_follows_each_relayed_message(driver: Driver) -> None:
    path = "/ws/room/order"
    async with driver.communicator(path) as first, driver.communicator(path) as second:
        for text in ("a", "b"):
            await first.send_message(shout(text))
            await first.receive_all_messages()
        frames = [await second.receive_json() for _ in range(4)]
        assert [f["action"] for f in frames] == [
            "shout_notice",
            "group_complete",
            "shout_notice",
            "group_complete",
        ]
        assert [frames[0]["payload"]["text"], frames[2]["payload"]["text"]] == ["a", "b"]


async def test_disconnected_member_no_longer_receives(driver: Driver) -> None:
    path = "/ws/room/leaving"
    async with driver.communicator(path) as stays:
        leaver = driver.communicator(path)
        await leaver.connect()
        await leaver.disconnect()
        await stays.send_message(shout("after"))
        got = await stays.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        assert got == [ShoutNotice(payload=Text(text="after"))]
        await stays.receive_all_messages()
        await stays.send_message(PingMessage())
        assert len(await stays.receive_all_messages()) == 1


# Room names a client may put in the URL; the consumer makes ``room_<room>`` of them.
ODD_ROOMS = ["a b", "x" * 200, "café", "\U0001f389", "q'\"<>", "new\nline", "nul\x00"]


def room_path(room: str) -> str:
    return "/ws/room/" + quote(room, safe="")


async def test_a_group_name_from_the_url_works_or_is_refused_by_the_layer_rule(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    """Each layer either carries the name (members of one room hear each other, no one
    else does) or refuses the connection with 4400 and one line naming group and rule."""
    async with driver.communicator(room_path("x" * 201)) as elsewhere:
        for room in ODD_ROOMS:
            group, path = f"room_{room}", room_path(room)
            if driver.group_rule.accepts(group):
                async with driver.communicator(path) as first, driver.communicator(path) as second:
                    await first.send_message(shout("odd"))
                    expected = [ShoutNotice(payload=Text(text="odd"))]
                    got = await second.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
                    assert got == expected, room
                    await first.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
                    await first.receive_all_messages()
                continue
            caplog.clear()
            comm = driver.communicator(path)
            with caplog.at_level(logging.WARNING, logger="chanx"):
                assert (await comm.connect())[0], room
                await comm.receive_nothing()
            assert comm.close_code == CLOSE_INVALID_GROUP, room
            if driver.server_here:
                [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
                assert for_log(group) in record.getMessage()
                assert driver.group_rule.description in record.getMessage()
            await comm.disconnect()
        if elsewhere.connected:  # refused where the layer's rule refuses long names
            await elsewhere.receive_nothing()


async def test_group_name_makes_any_room_work_on_every_layer(driver: Driver) -> None:
    """Rooms named by the client go through ``group_name()``: every layer takes them, and
    rooms whose readable parts look alike stay apart."""
    for room, look_alike in [("a b", "a_b"), ("café", "cafe"), ("x" * 200, "x" * 201)]:
        async with (
            driver.communicator("/ws/room/lobby") as first,
            driver.communicator("/ws/room/lobby") as second,
            driver.communicator("/ws/room/lobby") as other,
        ):
            for comm, name in ((first, room), (second, room), (other, look_alike)):
                await comm.send_message(EnterMessage(payload=name))
                assert await comm.receive_all_messages() == []
            await first.send_message(ShoutMessage(payload=ShoutPayload(text="in", room=room)))
            expected = [ShoutNotice(payload=Text(text="in"))]
            got = await second.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert got == expected, room
            await first.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            await first.receive_all_messages()
            await other.receive_nothing()
